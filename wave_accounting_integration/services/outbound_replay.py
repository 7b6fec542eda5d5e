# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Replay of a quarantined outbound record: the accountant fixed Odoo, export again."""

from odoo import _, api, models
from odoo.exceptions import UserError

from .job_guard import replay_guard


class WaveOutboundReplay(models.AbstractModel):
    _name = "wave.outbound.replay"
    _description = "Wave Export Replay"

    @api.model
    def _blocked_records(self, target):
        """The record and the customer, products and taxes it needs in Wave."""
        if target._name != "account.move":
            return [target]
        lines = target.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        return [
            target,
            target.commercial_partner_id,
            lines.product_id,
            lines.tax_ids.flatten_taxes_hierarchy(),
        ]

    @api.model
    def _replay(self, connection, quarantine):
        """Release the failed ledger entries ``quarantine`` blocked and export its record."""
        quarantine.ensure_one()
        if quarantine.res_model not in self.env:
            raise UserError(_("The record of %s no longer exists.", quarantine.name))
        target = self.env[quarantine.res_model].browse(quarantine.res_id).exists()
        if not target:
            raise UserError(_("The record of %s no longer exists.", quarantine.name))
        Ledger = self.env["wave.outbound.ledger"]
        for records in self._blocked_records(target):
            if records:
                Ledger.search(
                    [
                        ("connection_id", "=", connection.id),
                        ("res_model", "=", records._name),
                        ("res_id", "in", records.ids),
                        ("state", "=", "failed"),
                    ]
                )._wave_sync_write({"state": "pending", "attempts": 0, "error_message": False})
        attempts = quarantine.attempts
        self.env["wave.audit.log"]._log_many(quarantine, "replay", {"direction": "outbound"})
        with replay_guard(quarantine):
            self.env["wave.outbound.runner"]._export(connection, target)
        if quarantine.state == "open" and quarantine.attempts == attempts:
            # Nothing failed again and nothing resolved it: mark it handled.
            quarantine.state = "resolved"
        return True
