# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The checks in front of every replay of a quarantined record (loaded last).

Whatever the direction, a replay is checked here first: the person's role and
company, then the direction's switch (``wave.quarantine._check_replay_allowed``).
The replay itself then does the sync's work, as the sync does it (superuser).
"""

from odoo import models


class WaveQuarantine(models.Model):
    _inherit = "wave.quarantine"

    def action_replay(self):
        self._check_replay_allowed()
        # sudo: the replay writes the entry's server-owned state and attempts and
        # the sync's records, as the sync does; checked above: a Wave user of the
        # entries' companies, with the direction switched on.
        return super(WaveQuarantine, self.sudo()).action_replay()
