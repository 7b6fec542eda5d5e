# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Replay of quarantined outbound records: the accountant fixed Odoo, export again."""

from odoo import _, models
from odoo.exceptions import UserError

from ..services.job_guard import replay_guard


class WaveQuarantine(models.Model):
    _inherit = "wave.quarantine"

    def action_replay(self):
        """Outbound entries are exported again; the others go to the inbound replay."""
        outbound = self.filtered(lambda q: q.direction == "outbound")
        others = self - outbound
        for record in outbound:
            if record.state != "open":
                raise UserError(_("Only open entries can be replayed (%s).", record.name))
            record._replay_outbound()
        if others:
            parent = getattr(super(), "action_replay", None)
            if parent is None:
                raise UserError(_("Inbound entries cannot be replayed here."))
            return super(WaveQuarantine, others).action_replay()
        return True

    def _replay_outbound(self):
        self.ensure_one()
        connection = self.connection_id
        if self.res_model not in self.env:
            raise UserError(_("The record of %s no longer exists.", self.name))
        target = self.env[self.res_model].browse(self.res_id).exists()
        if not target:
            raise UserError(_("The record of %s no longer exists.", self.name))
        # The ledger entries the quarantine blocked (the record's own and those of
        # the customer, products and taxes it needs) are released for a new try.
        blocked = target
        if target._name == "account.move":
            lines = target.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            blocked = [
                target,
                target.commercial_partner_id,
                lines.product_id,
                lines.tax_ids.flatten_taxes_hierarchy(),
            ]
        else:
            blocked = [target]
        Ledger = self.env["wave.outbound.ledger"]
        for records in blocked:
            if records:
                Ledger.search(
                    [
                        ("connection_id", "=", connection.id),
                        ("res_model", "=", records._name),
                        ("res_id", "in", records.ids),
                        ("state", "=", "failed"),
                    ]
                ).write({"state": "pending", "attempts": 0, "error_message": False})
        attempts = self.attempts
        self.env["wave.audit.log"]._log_many(self, "replay", {"direction": "outbound"})
        with replay_guard(self):
            connection._outbound_export(target)
        if self.state == "open" and self.attempts == attempts:
            # Nothing failed again and nothing resolved it: mark it handled.
            self.state = "resolved"
        return True
