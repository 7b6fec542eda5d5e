# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Replay of quarantined inbound entries: the button, the work is ``wave.inbound.replay``.

Loaded before ``wave_quarantine_outbound``, whose ``action_replay`` hands the
inbound entries to this one.
"""

from odoo import _, models
from odoo.exceptions import UserError

from ..services.inbound_replay import SUCCESS as REPLAY_SUCCESS
from ..services.job_guard import replay_guard


class WaveQuarantine(models.Model):
    _inherit = "wave.quarantine"

    def action_replay(self):
        """Import each inbound record again (``wave.inbound.replay``); outbound entries
        are handled by the outbound extension of this method.

        Success resolves the entry; a new failure increments ``attempts`` and
        updates the reasons.
        """
        Replay = self.env["wave.inbound.replay"]
        for record in self:
            if record.state != "open" or record.direction != "inbound":
                raise UserError(_("Only open inbound entries can be replayed (%s).", record.name))
            connection = record.connection_id.with_context(wave_force_wave=True)
            with replay_guard(record):
                outcome = Replay.with_env(connection.env)._replay(connection, record)
            record.invalidate_recordset(["state", "attempts"])
            if outcome in REPLAY_SUCCESS:
                if record.state == "open":
                    record.state = "resolved"
                self.env["wave.audit.log"]._log_many(record, "replay", {"outcome": outcome})
            elif record.state == "open" and outcome not in ("quarantined", "conflict"):
                record.attempts += 1
        return True
