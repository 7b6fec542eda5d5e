# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rotating the webhook and OAuth client secrets of a connection without a restart.

A new webhook secret replaces the current one at once; the previous one stays
accepted until ``webhook_secret_previous_until`` (the overlap window during which
Wave may still sign with it), then a cron forgets it. Which secrets are accepted
at a given moment is decided in one place only,
``wave.api._webhook_secrets_accepted()``, which the webhook signature check uses.
Secrets are read from the database at every request, so nothing needs a restart.
Secret values never reach the chatter, the audit log or the server log.
"""

import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib.text import by_count

REMINDER_DAYS = 90
ROTATION_SUMMARY = "Rotate the Wave secrets"


class WaveSecretRotator(models.AbstractModel):
    _name = "wave.secret.rotator"
    _description = "Wave Secret Rotation"

    @api.model
    def _generate_secret(self):
        return secrets.token_urlsafe(32)

    @api.model
    def _rotate_webhook_secret(self, connection, new_secret=None, overlap_hours=24):
        """Install ``new_secret`` (generated when empty) on ``connection``; returns it.

        The old secret stays accepted for ``overlap_hours``.
        """
        connection.ensure_one()
        if overlap_hours < 0:
            raise UserError(self.env._("The overlap window cannot be negative."))
        new_secret = new_secret or self._generate_secret()
        now = fields.Datetime.now()
        # sudo: secret fields; callers are Wave administrators of this connection.
        privileged = connection.sudo()
        if new_secret == privileged.webhook_secret:
            raise UserError(self.env._("The new webhook secret must differ from the current one."))
        vals = {"webhook_secret": new_secret, "webhook_secret_rotated_at": now}
        if privileged.webhook_secret and overlap_hours:
            vals.update(
                webhook_secret_previous=privileged.webhook_secret,
                webhook_secret_previous_until=now + timedelta(hours=overlap_hours),
            )
        else:
            vals.update(webhook_secret_previous=False, webhook_secret_previous_until=False)
        privileged.write(vals)
        self._after_rotation(
            connection,
            by_count(
                overlap_hours,
                self.env._("Webhook secret rotated; the previous one is accepted for 1 more hour."),
                self.env._(
                    "Webhook secret rotated; the previous one is accepted for %(count)s more hours."
                ),
            ),
        )
        return new_secret

    @api.model
    def _replace_client_secret(self, connection, new_secret):
        """Replace the OAuth client secret in place (tokens stay valid)."""
        connection.ensure_one()
        if not new_secret:
            raise UserError(self.env._("Enter the new client secret shown by Wave."))
        # sudo: secret fields; callers are Wave administrators of this connection.
        connection.sudo().write({"client_secret": new_secret})
        self._after_rotation(connection, self.env._("OAuth client secret replaced."))

    @api.model
    def _after_rotation(self, connection, message):
        """Log the rotation (without values) and plan the next one in 90 days."""
        now = fields.Datetime.now()
        # sudo: the rotation date is an administrator-only field of this connection.
        connection.sudo().webhook_secret_rotated_at = now
        connection.message_post(body=message)
        self.env["wave.audit.log"]._log_many(
            connection, "secret_rotation", {"note": message}, source="user"
        )
        # sudo: reminders of earlier rotations on this connection are obsolete,
        # whoever they were assigned to.
        self.env["mail.activity"].sudo().search(
            [
                ("res_model", "=", connection._name),
                ("res_id", "=", connection.id),
                ("summary", "=", self.env._(ROTATION_SUMMARY)),
            ]
        ).unlink()
        self.env["wave.notifier"]._notify_admins(
            connection,
            self.env._(ROTATION_SUMMARY),
            self.env._(
                "The Wave secrets were last rotated %(days)s days ago. Use "
                "Configuration > Rotate secrets.",
                days=REMINDER_DAYS,
            ),
            date_deadline=(now + timedelta(days=REMINDER_DAYS)).date(),
            send_mail=False,
        )

    @api.model
    def _cron_retire_webhook_secrets(self):
        """Forget previous webhook secrets whose overlap window is over; returns how many."""
        # sudo: cron over every company's connection (each keeps its own secrets), secret fields.
        expired = (
            self.env["wave.api"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("webhook_secret_previous_until", "!=", False),
                    ("webhook_secret_previous_until", "<=", fields.Datetime.now()),
                ]
            )
        )
        expired.write({"webhook_secret_previous": False, "webhook_secret_previous_until": False})
        return len(expired)
