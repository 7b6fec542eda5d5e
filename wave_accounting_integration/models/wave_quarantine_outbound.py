# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The outbound branch of the quarantine's replay button (the work: ``wave.outbound.replay``).

Loaded after the inbound replay: outbound entries are exported again here, the
others go on to the inbound replay.
"""

from odoo import _, models
from odoo.exceptions import UserError


class WaveQuarantine(models.Model):
    _inherit = "wave.quarantine"

    def action_replay(self):
        """Outbound entries are exported again; the others go to the inbound replay."""
        outbound = self.filtered(lambda q: q.direction == "outbound")
        others = self - outbound
        for record in outbound:
            if record.state != "open":
                raise UserError(_("Only open entries can be replayed (%s).", record.name))
            self.env["wave.outbound.replay"]._replay(record.connection_id, record)
        if others:
            return super(WaveQuarantine, others).action_replay()
        return True
