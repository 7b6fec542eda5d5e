# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The hourly poll of many companies is staggered: not every company in the same minute."""

import datetime
import itertools

from odoo.tests import TransactionCase, tagged

from ..lib.schedule import DEFAULT_POLL_SPREAD, MAX_POLL_SPREAD, POLL_SPREAD_PARAM, poll_offsets


@tagged("post_install", "-at_install")
class TestPollStagger(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["wave.api"].search([]).write({"sync_inbound": False})
        cls.connections = cls.env["wave.api"]
        for index in range(6):
            company = cls.env["res.company"].create({"name": f"Stagger company {index}"})
            cls.connections |= cls.env["wave.api"].create(
                {
                    "name": f"Wave {index}",
                    "company_id": company.id,
                    "auth_method": "token",
                    "full_access_token": f"token-{index}",
                    "business_id": f"QnVzaW5lc3M6{index}",
                    "state": "connected",
                }
            )
        # One company not connected: it is not polled and takes no slot.
        cls.connections[2].state = "disconnected"

    def _poll_jobs(self):
        return self.env["queue.job"].search(
            [("method_name", "=", "_job_poll"), ("model_name", "=", "wave.api")]
        )

    def test_cron_spreads_the_companies_over_the_spread(self):
        self.env["ir.config_parameter"].set_param(POLL_SPREAD_PARAM, "600")
        before = datetime.datetime.now().replace(microsecond=0)
        self.env["wave.api"]._cron_poll_inbound()
        starts = {}
        for job in self._poll_jobs():
            connection_id = job.records.id
            starts.setdefault(connection_id, set()).add(job.eta or before)
        ready = self.connections - self.connections[2]
        self.assertEqual(set(starts), set(ready.ids))
        # Every entity of one company starts together; the companies 120 s apart.
        self.assertTrue(all(len(etas) == 1 for etas in starts.values()), starts)
        ordered = sorted(next(iter(etas)) for etas in starts.values())
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ordered)]
        self.assertEqual(len(ordered), 5)
        for gap in gaps:
            self.assertAlmostEqual(gap, 120, delta=1.5)
        self.assertLessEqual((ordered[0] - before).total_seconds(), 1.5)

    def test_offsets(self):
        self.assertEqual(poll_offsets(0, "60"), [])
        self.assertEqual(poll_offsets(4, "60"), [0, 15, 30, 45])
        self.assertEqual(poll_offsets(2, None), [0, DEFAULT_POLL_SPREAD / 2])
        self.assertEqual(poll_offsets(2, "nonsense"), [0, DEFAULT_POLL_SPREAD / 2])
        self.assertEqual(poll_offsets(2, "999999"), [0, MAX_POLL_SPREAD / 2])
        self.assertEqual(poll_offsets(3, "0"), [0, 0, 0])
