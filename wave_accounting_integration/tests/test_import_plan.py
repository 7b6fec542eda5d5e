# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The plan of a historical import: whole months, chunks of even size, as many as the
job runner takes at once (or a multiple), covering the range without a gap."""

import datetime
import itertools
import os
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import config

from .common import WaveCommon

PARAM = "wave_accounting_integration."


@tagged("post_install", "-at_install")
class TestImportPlan(WaveCommon):
    def _plan(self, counts, page_size=100, parallel="2"):
        """The wizard's chunks for a range of ``len(counts)`` months (December 2023 on)
        holding ``counts`` Wave invoices each: ``[(first day, last day, invoices)]``."""
        params = self.env["ir.config_parameter"]
        params.set_param(PARAM + "import_page_size", str(page_size))
        params.set_param(PARAM + "import_parallel_chunks", parallel)
        start = datetime.date(2023, 12, 1)
        end = start + datetime.timedelta(days=31 * len(counts) - 1)
        wizard = self.env["wave.historical.import"].create(
            {"connection_id": self.connection.id, "date_from": start, "date_to": end}
        )
        months = wizard._chunks()[: len(counts)]
        self.assertEqual(len(months), len(counts))
        wizard.date_to = months[-1][1]
        chunks = wizard._plan_chunks(months, counts)
        # the whole range, whole months, no gap
        self.assertEqual((chunks[0][0], chunks[-1][1]), (months[0][0], months[-1][1]))
        for before, after in itertools.pairwise(chunks):
            self.assertEqual((after[0] - before[1]).days, 1)
        ends = {end for _start, end in months}
        self.assertTrue(all(end in ends for _start, end in chunks), chunks)
        return [
            (
                first,
                last,
                sum(c for (s, _e), c in zip(months, counts, strict=True) if first <= s <= last),
            )
            for first, last in chunks
        ]

    def test_chunks_share_the_invoices_evenly_among_the_job_workers(self):
        # 37 months of 54 invoices, pages of 100, chunks of about 4 pages, 2 jobs at once:
        # in chunks filled up to 4 pages one by one, the last would hold 2 months only
        # and run alone on one worker while the other one waits.
        plan = self._plan([54] * 37)
        sizes = [size for _first, _last, size in plan]
        self.assertEqual(sum(sizes), 54 * 37)
        self.assertEqual(len(sizes) % 2, 0, sizes)
        self.assertLessEqual(max(sizes) - min(sizes), 54, sizes)
        self.assertLessEqual(max(sizes), 4 * 100, sizes)

    def test_as_many_chunks_as_jobs_run_at_once(self):
        # 1,000 invoices: 3 chunks of 4 pages would do; with 4 jobs at once, 4 chunks
        plan = self._plan([100] * 10, parallel="4")
        self.assertEqual([size for *_dates, size in plan], [200, 300, 200, 300])

    def test_a_small_history_is_not_cut_for_the_workers(self):
        # fewer invoices than a page per worker: one chunk, one request per page
        plan = self._plan([10, 0, 5, 30], page_size=200)
        self.assertEqual(len(plan), 1)
        self.assertEqual(plan[0][2], 45)

    def test_empty_months_join_a_chunk_and_an_empty_range_is_one_chunk(self):
        plan = self._plan([0, 0, 120, 0, 0, 0, 150, 130, 0], page_size=50, parallel="1")
        sizes = [size for *_dates, size in plan]
        self.assertEqual(sum(sizes), 400)
        self.assertNotIn(0, sizes)  # no chunk of empty months only
        self.assertEqual(len(self._plan([0, 0, 0])), 1)

    def test_jobs_at_once_from_the_job_runner_configuration(self):
        Importer = self.env["wave.historical.importer"]
        self.env["ir.config_parameter"].set_param(PARAM + "import_parallel_chunks", False)
        channels = "root:4,root.wave:4,root.wave.webhook:1,root.wave.import:3"
        with patch.dict(os.environ, {"ODOO_QUEUE_JOB_CHANNELS": channels}):
            self.assertEqual(Importer._parallel_chunks(), 3)
        with (
            patch.dict(os.environ, {"ODOO_QUEUE_JOB_CHANNELS": ""}),
            patch.dict(config.misc, {"queue_job": {"channels": "root:2\nwave.import:2"}}),
        ):
            self.assertEqual(Importer._parallel_chunks(), 2)
        with (
            patch.dict(os.environ, {"ODOO_QUEUE_JOB_CHANNELS": ""}),
            patch.dict(config.misc, {"queue_job": {"channels": "root:2"}}),
        ):
            self.assertEqual(Importer._parallel_chunks(), 1)
            # a job runner configured on another server: the system parameter says it
            self.env["ir.config_parameter"].set_param(PARAM + "import_parallel_chunks", "2")
            self.assertEqual(Importer._parallel_chunks(), 2)
