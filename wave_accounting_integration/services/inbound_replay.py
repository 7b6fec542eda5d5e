# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Replay of a quarantined inbound record once an accountant fixed the cause.

Fresh data is read from Wave when the connection is ready; otherwise the payload
stored in the entry is imported again. When Wave is busy or unreachable the replay
stops with a message to try again (the job guard's table), never from a stale payload. A
replay applies Wave's version, conflicts included (context ``wave_force_wave``).
"""

import logging

from odoo import _, api, models
from odoo.exceptions import UserError

from ..lib import WaveError
from .job_guard import policy_for

_logger = logging.getLogger(__name__)

# Outcomes of a replay that settle the entry.
SUCCESS = {"created", "updated", "unchanged", "deleted", "skipped"}


class WaveInboundReplay(models.AbstractModel):
    _name = "wave.inbound.replay"
    _description = "Wave Replay of Quarantined Imports"

    @api.model
    def _replay(self, connection, entry):
        """Import the record of quarantine ``entry`` again; returns its outcome."""
        if entry.record_type in ("Invoice", "InvoicePayments"):
            return self._replay_invoice(connection, entry)
        if entry.record_type == "Estimate":
            return self._replay_estimate(connection, entry)
        if entry.record_type in ("Customer", "Vendor"):
            maps = self.env["wave.partner.matcher"]._match_contacts(
                connection, entry.record_type.lower(), [entry.payload or {}]
            )
            mapping = maps.get(entry.wave_id)
            return "updated" if mapping and mapping.partner_id else "quarantined"
        raise UserError(_("Records of type %s cannot be replayed.", entry.record_type))

    @api.model
    def _replay_estimate(self, connection, entry):
        """As an invoice: Wave's current version when reachable, else the payload."""
        Importer = self.env["wave.estimate.importer"]
        if connection._is_ready():
            try:
                return Importer._import_by_ids(connection, [entry.wave_id], source="replay").get(
                    entry.wave_id
                )
            except WaveError as error:
                if policy_for(error)[0]:
                    raise
                _logger.info(
                    "Replay of %s: Wave refused it (%s), using the payload.", entry.wave_id, error
                )
        node = entry.payload or {}
        return Importer._import_nodes(connection, [node], source="replay").get(entry.wave_id)

    @api.model
    def _replay_invoice(self, connection, entry):
        wave_id = entry.wave_id
        if connection._is_ready():
            try:
                results = self.env["wave.invoice.importer"]._import_by_ids(
                    connection, [wave_id], source="replay"
                )
                return results.get(wave_id)
            except WaveError as error:
                if policy_for(error)[0]:
                    # Busy, unreachable or refused: the person is told to try again
                    # (replay_guard); an old payload must not overwrite Wave's data.
                    raise
                _logger.info(
                    "Replay of %s: Wave refused it (%s), using the payload.", wave_id, error
                )
        payload = entry.payload or {}
        node = payload.get("wave") if "wave" in payload else payload
        if node.get("deleted"):
            results = self.env["wave.invoice.updater"]._apply_deletions(connection, [wave_id])
            return results.get(wave_id)
        return self.env["wave.invoice.importer"]._import_node(connection, node, source="replay")
