# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import WaveCommon


@tagged("post_install", "-at_install")
class TestNotifications(WaveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().write({"state": "connected", "failure_notify_threshold": 3})

    def _activities(self, summary=None):
        domain = [("res_model", "=", "wave.api"), ("res_id", "=", self.connection.id)]
        if summary:
            domain.append(("summary", "=", summary))
        return self.env["mail.activity"].sudo().search(domain)

    def _job(self, kind="invoices", state="pending"):
        return (
            self.env["wave.sync.job"]
            .sudo()
            .create(  # runs are written by the sync
                {
                    "name": f"{kind} run",
                    "connection_id": self.connection.id,
                    "kind": kind,
                    "direction": "inbound",
                    "state": state,
                }
            )
        )

    def test_notify_admins_dedupes_open_activities(self):
        created = self.env["wave.notifier"]._notify_admins(
            self.connection, "Check Wave", "Something happened"
        )
        self.assertIn(self.wave_admin, created.user_id)
        self.assertNotIn(self.wave_accountant, created.user_id)
        messages = self.connection.message_ids.filtered(lambda m: m.subject == "Check Wave")
        self.assertEqual(len(messages), 1)
        self.assertIn(self.wave_admin.partner_id, messages.partner_ids)
        again = self.env["wave.notifier"]._notify_admins(
            self.connection, "Check Wave", "Something happened"
        )
        self.assertFalse(again, "an open activity with the same summary is not duplicated")
        self.assertEqual(len(self._activities("Check Wave")), len(created))
        # Once done, a new occurrence notifies again.
        created.action_feedback(feedback="fixed")
        self.assertTrue(self.env["wave.notifier"]._notify_admins(self.connection, "Check Wave"))

    def test_consecutive_failures_reach_threshold(self):
        summary = "Wave sync failing: Invoices"
        for _i in range(2):
            self._job().write({"state": "failed", "error_message": "boom"})
        self.assertFalse(self._activities(summary), "2 failures < threshold 3")
        self._job(kind="customers").write({"state": "failed"})
        self.assertFalse(self._activities(summary), "other kinds do not count")
        self._job().write({"state": "failed", "error_message": "Wave said no"})
        activities = self._activities(summary)
        self.assertIn(self.wave_admin, activities.user_id)
        self.assertIn("Wave said no", activities[0].note)
        # A fourth failure does not pile up activities.
        self._job().write({"state": "failed"})
        self.assertEqual(len(self._activities(summary)), len(activities))

    def test_success_breaks_the_failure_streak(self):
        summary = "Wave sync failing: Invoices"
        self._job().write({"state": "failed"})
        self._job().write({"state": "failed"})
        self._job()._mark_finished()
        self._job().write({"state": "failed"})
        self.assertFalse(self._activities(summary))

    def test_daily_digest(self):
        Quarantine = self.env["wave.quarantine"].sudo()  # entries are written by the sync
        Quarantine.create(
            [
                {
                    "name": f"INV-{i}",
                    "connection_id": self.connection.id,
                    "direction": "inbound",
                    "record_type": "Invoice",
                    "reasons": f"Account {i} is not mapped\nsecond line",
                }
                for i in range(3)
            ]
        )
        before = self.connection.message_ids
        self.env["wave.quarantine.digest"]._cron_send_digests()
        digest = self.connection.message_ids - before
        self.assertEqual(len(digest), 1)
        self.assertIn("3 records in quarantine", digest.subject)
        self.assertIn("INV-2", digest.body)
        self.assertIn("Account 1 is not mapped", digest.body)
        self.assertIn(self.wave_admin.partner_id, digest.partner_ids)
        # Nothing open: no digest.
        Quarantine.search([]).write({"state": "resolved"})
        before = self.connection.message_ids
        self.env["wave.quarantine.digest"]._cron_send_digests()
        self.assertFalse(self.connection.message_ids - before)


@tagged("post_install", "-at_install")
class TestSecretRotation(WaveCommon):
    def _wizard(self, **vals):
        return (
            self.env["wave.secret.rotation"]
            .with_user(self.wave_admin)
            .with_context(active_model="wave.api", active_id=self.connection.id)
            .create(vals)
        )

    def test_webhook_rotation_with_overlap_then_retire(self):
        connection = self.connection.sudo()
        wizard = self._wizard(overlap_hours=12)
        wizard.action_apply()
        new = wizard.generated_secret
        self.assertTrue(new and len(new) >= 32)
        self.assertEqual(connection.webhook_secret, new)
        self.assertEqual(connection.webhook_secret_previous, "webhook-secret-SECRET")
        self.assertEqual(connection._webhook_secrets_accepted(), [new, "webhook-secret-SECRET"])
        self.assertTrue(connection.webhook_secret_rotated_at)
        # Nothing retired before the end of the overlap.
        self.assertEqual(self.env["wave.secret.rotator"]._cron_retire_webhook_secrets(), 0)
        later = fields.Datetime.now() + timedelta(hours=13)
        self.assertEqual(connection._webhook_secrets_accepted(now=later), [new])
        connection.webhook_secret_previous_until = fields.Datetime.now() - timedelta(minutes=1)
        self.assertEqual(self.env["wave.secret.rotator"]._cron_retire_webhook_secrets(), 1)
        self.assertFalse(connection.webhook_secret_previous)
        self.assertEqual(connection._webhook_secrets_accepted(), [new])

    def test_reminder_in_90_days_and_no_secret_in_logs(self):
        wizard = self._wizard(
            new_webhook_secret="brand-new-webhook-SECRET",
            replace_client_secret=True,
            new_client_secret="brand-new-client-SECRET",
        )
        wizard.action_apply()
        connection = self.connection.sudo()
        self.assertEqual(connection.client_secret, "brand-new-client-SECRET")
        self.assertEqual(connection.webhook_secret, "brand-new-webhook-SECRET")
        self.assertFalse(wizard.generated_secret, "a secret typed by the user is not echoed")
        reminders = self.env["mail.activity"].search(
            [
                ("res_model", "=", "wave.api"),
                ("res_id", "=", self.connection.id),
                ("summary", "=", "Rotate the Wave secrets"),
            ]
        )
        self.assertIn(self.wave_admin, reminders.user_id)
        self.assertEqual(
            set(reminders.mapped("date_deadline")),
            {fields.Date.today() + timedelta(days=90)},
        )
        # A second rotation replaces the reminder instead of adding one.
        self._wizard(new_webhook_secret="third-webhook-SECRET").action_apply()
        self.assertEqual(
            len(
                self.env["mail.activity"].search(
                    [
                        ("res_id", "=", self.connection.id),
                        ("res_model", "=", "wave.api"),
                        ("summary", "=", "Rotate the Wave secrets"),
                    ]
                )
            ),
            len(reminders),
        )
        texts = " ".join(self.connection.message_ids.mapped(lambda m: str(m.body)))
        audit = self.env["wave.audit.log"].search([("action", "=", "secret_rotation")])
        self.assertTrue(audit)
        texts += " ".join(str(a.values_after) for a in audit)
        self.assertNotIn("SECRET", texts)

    def test_accountant_cannot_rotate(self):
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            self.env["wave.secret.rotation"].with_user(self.wave_accountant).create(
                {"connection_id": self.connection.id}
            )
