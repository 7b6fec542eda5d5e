# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Replay of quarantined inbound records once an accountant fixed the cause."""

import logging

from odoo import _, models
from odoo.exceptions import UserError

from ..lib import WaveError
from ..services.job_guard import replay_guard

_logger = logging.getLogger(__name__)

SUCCESS = {"created", "updated", "unchanged", "deleted", "skipped"}


class WaveQuarantine(models.Model):
    _inherit = "wave.quarantine"

    def action_replay(self):
        """Re-run the import of each record (fresh data from Wave when reachable).

        A replay applies Wave's version (conflicts included). Success resolves
        the entry; a new failure increments ``attempts`` and updates the reasons.
        """
        for record in self:
            if record.state != "open" or record.direction != "inbound":
                raise UserError(_("Only open inbound entries can be replayed (%s).", record.name))
            connection = record.connection_id.with_context(wave_force_wave=True)
            with replay_guard(record):
                outcome = record._replay_inbound(connection)
            record.invalidate_recordset(["state", "attempts"])
            if outcome in SUCCESS:
                if record.state == "open":
                    record.state = "resolved"
                self.env["wave.audit.log"]._log_many(record, "replay", {"outcome": outcome})
            elif record.state == "open" and outcome not in ("quarantined", "conflict"):
                record.attempts += 1
        return True

    def _replay_inbound(self, connection):
        payload = self.payload or {}
        if self.record_type in ("Invoice", "InvoicePayments"):
            wave_id = self.wave_id
            if connection._is_ready():
                try:
                    result = connection._import_invoices_by_ids([wave_id], source="replay")
                    return result.get(wave_id)
                except WaveError as error:
                    _logger.info(
                        "Replay of %s: Wave unreachable (%s), using the payload.", wave_id, error
                    )
            node = payload.get("wave") if "wave" in payload else payload
            if node.get("deleted"):
                return (
                    self.env["wave.invoice.updater"]
                    ._apply_deletions(connection, [wave_id])
                    .get(wave_id)
                )
            return self.env["wave.invoice.importer"]._import_node(connection, node, source="replay")
        if self.record_type in ("Customer", "Vendor"):
            maps = self.env["wave.partner.matcher"]._match_contacts(
                connection, self.record_type.lower(), [payload]
            )
            mapping = maps.get(self.wave_id)
            return "updated" if mapping and mapping.partner_id else "quarantined"
        raise UserError(_("Records of type %s cannot be replayed.", self.record_type))
