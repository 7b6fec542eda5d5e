# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from decimal import Decimal

from odoo import Command, fields
from odoo.tests import tagged

from .common import WaveSandboxCommon


@tagged("post_install", "-at_install")
class TestGoLiveChecklist(WaveSandboxCommon):
    sandbox_invoices = 60
    sandbox_customers = 4
    sandbox_vendors = 2

    def _run(self):
        checklist = self.env["wave.golive.checklist"].create({"connection_id": self.connection.id})
        checklist._run_checks()
        return checklist, {line.code: line for line in checklist.line_ids}

    def _wave_last_month(self, checklist):
        """Oracle: count and total of last month's invoices, read from the sandbox store."""
        start, end = checklist._dry_run_period()
        invoices = self.wave_us.invoices
        invoices = invoices.values() if isinstance(invoices, dict) else invoices
        chosen = [
            inv for inv in invoices if start <= inv.invoice_date <= end and inv.status != "DRAFT"
        ]
        total = sum(Decimal(inv.total_minor) / 100 for inv in chosen)
        return chosen, total

    def test_checks_and_fix_buttons(self):
        checklist, lines = self._run()
        self.assertEqual(
            list(lines),
            [
                "oauth",
                "scopes",
                "webhook",
                "recipients",
                "crons",
                "mappings",
                "precision",
                "currencies",
                "dry_run",
            ],
        )
        # Full-access token: works, but not for production; it has every permission.
        self.assertEqual(lines["oauth"].state, "warning")
        self.assertEqual(lines["scopes"].state, "ok")
        self.assertEqual(lines["recipients"].state, "ok")
        self.assertEqual(lines["crons"].state, "ok")
        self.assertEqual(lines["mappings"].state, "warning")  # nothing imported yet
        self.assertEqual(lines["precision"].state, "ok")  # raised at install
        self.assertEqual(lines["currencies"].state, "ok")  # activated as they come
        self.assertEqual(checklist.overall_state, "warning")
        action = lines["oauth"].action_fix()
        self.assertEqual((action["res_model"], action["res_id"]), ("wave.api", self.connection.id))

        # OAuth with too few scopes, an unmapped account, an inactive cron.
        self.connection.sudo().write(
            {"auth_method": "oauth", "granted_scopes": "business:read invoice:read user:read"}
        )
        self.env["wave.account.map"].create(
            {
                "connection_id": self.connection.id,
                "wave_account_id": "QWNjb3VudDox",
                "wave_account_name": "Sales",
                "wave_account_type": "INCOME",
            }
        )
        self.env.ref("wave_accounting_integration.ir_cron_wave_quarantine_digest").active = False
        checklist, lines = self._run()
        self.assertEqual(lines["oauth"].state, "ok")
        self.assertEqual(lines["scopes"].state, "fail")
        self.assertIn("customer:read", lines["scopes"].message)
        self.assertEqual(lines["mappings"].state, "fail")
        self.assertEqual(lines["crons"].state, "fail")
        self.assertEqual(checklist.overall_state, "fail")
        action = lines["mappings"].action_fix()
        self.assertEqual(action["res_model"], "wave.account.map")

        # Everything granted (resource:* covers the operations) and mapped.
        self.connection.sudo().granted_scopes = " ".join(
            f"{r}:*"
            for r in (
                "account",
                "business",
                "customer",
                "invoice",
                "product",
                "sales_tax",
                "user",
                "vendor",
            )
        )
        self.env["wave.account.map"].search([]).account_id = self.company_data[
            "default_account_revenue"
        ]
        _checklist, lines = self._run()
        # estimates are imported by default: without estimate:read they are not (warning)
        self.assertEqual(lines["scopes"].state, "warning")
        self.assertIn("estimate:read", lines["scopes"].message)
        self.assertEqual(lines["mappings"].state, "ok")
        self.connection.sudo().granted_scopes += " estimate:read"
        _checklist, lines = self._run()
        self.assertEqual(lines["scopes"].state, "ok")
        self.connection.sudo().granted_scopes = self.connection.sudo().granted_scopes.replace(
            " estimate:read", ""
        )
        self.connection.sync_estimates = False
        _checklist, lines = self._run()
        self.assertEqual(lines["scopes"].state, "ok")

    def test_dry_run_compares_last_month_with_wave(self):
        checklist, lines = self._run()
        chosen, total = self._wave_last_month(checklist)
        self.assertTrue(chosen, "the seeded sandbox has invoices last month")
        self.assertEqual(lines["dry_run"].state, "warning")
        invoices = "1 invoice" if len(chosen) == 1 else f"{len(chosen)} invoices"
        self.assertIn(f"Wave {invoices} for {total:.2f}", lines["dry_run"].message)
        self.assertIn("Odoo 0 for 0.00", lines["dry_run"].message)

        # Import them "by hand": same ids, dates and totals (no taxes).
        start, _end = checklist._dry_run_period()
        partner = self.partner_a
        moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": inv.invoice_date,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Wave",
                                "quantity": 1,
                                "price_unit": float(Decimal(inv.total_minor) / 100),
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for inv in chosen
            ]
        )
        for move, inv in zip(moves, chosen, strict=True):
            move.wave_id = inv.id
        _checklist, lines = self._run()
        self.assertEqual(lines["dry_run"].state, "ok", lines["dry_run"].message)
        self.assertTrue(start)

    def test_webhook_check(self):
        _checklist, lines = self._run()
        self.assertEqual(lines["webhook"].state, "warning")
        # one delivery reads in the singular, two in the plural
        for number, shown in (
            (1, "1 verified delivery in the"),
            (2, "2 verified deliveries in the"),
        ):
            self.env["wave.webhook.event"].sudo().create(
                {
                    "connection_id": self.connection.id,
                    "event_id": f"evt-golive-{number}",
                    "event_type": "invoice.viewed",
                    "state": "done",
                    "received_at": fields.Datetime.now() - timedelta(days=1),
                }
            )
            _checklist, lines = self._run()
            self.assertEqual(lines["webhook"].state, "ok")
            self.assertIn(shown, lines["webhook"].message)

    def test_action_open_as_accountant(self):
        action = self.env["wave.golive.checklist"].with_user(self.wave_accountant).action_open()
        checklist = self.env["wave.golive.checklist"].browse(action["res_id"])
        self.assertEqual(len(checklist.line_ids), 9)
        self.assertNotIn(False, checklist.line_ids.mapped("state"))
