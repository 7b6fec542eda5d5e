# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Historical import cancelled while a part's job is working, then resumed.

Each queue job is run as queue_job's runner does it: marked started, its method
called in the test's transaction (jobs that commit run in a cursor of their own,
which would not see this test's data), then done when the method returns and
failed if it raises. The user's Cancel comes between two pages of the working
part. Judged from outside: the queue jobs' states, the invoices in
Odoo's tables (SQL) and, at the end, the independent parity check (plain
GraphQL against the sandbox + SQL).
"""

from unittest.mock import patch

from odoo.tests import tagged

from .common import WaveSandboxCommon

PAGE_SIZE = 3


@tagged("post_install", "-at_install")
class TestImportCancelResume(WaveSandboxCommon):
    sandbox_invoices = 30
    sandbox_customers = 6
    sandbox_vendors = 1

    def _run_queue_job(self, chunk):
        """Run the chunk's queue job as the job runner does; returns its queue.job record."""
        # sudo: queue jobs are technical records of this test's company
        queue_job = self.env["queue.job"].sudo().search([("uuid", "=", chunk.queue_job_uuid)])
        self.assertEqual(queue_job.state, "pending")
        self.assertEqual(
            (queue_job.model_name, queue_job.method_name), ("wave.sync.job", "_job_import_chunk")
        )
        queue_job.write({"state": "started"})
        try:
            with self.env.cr.savepoint():
                result = chunk._job_import_chunk(*queue_job.args, **queue_job.kwargs)
        except Exception as error:
            queue_job.write({"state": "failed", "exc_info": repr(error)})
        else:
            queue_job.write({"state": "done", "result": str(result)})
        return queue_job

    def _wave_invoices_in_odoo(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*), count(DISTINCT wave_id) FROM account_move "
            "WHERE company_id = %s AND wave_id IS NOT NULL AND move_type = 'out_invoice'",
            [self.connection.company_id.id],
        )
        return self.env.cr.fetchone()

    def test_cancelled_mid_run_then_resumed_matches_wave(self):
        from independent_parity import OdooReader, WaveReader, assert_parity, check_parity

        self.env.ref("base.EUR").active = True
        self.env.ref("base.CAD").active = True
        self.env["ir.config_parameter"].set_param(
            "wave_accounting_integration.import_page_size", PAGE_SIZE
        )
        self.connection.import_draft_invoices = True
        wave_invoices = [inv for inv in self.wave_us.invoices if not inv.deleted]
        dates = [inv.invoice_date for inv in wave_invoices]
        wizard = self.env["wave.historical.import"].create(
            {"connection_id": self.connection.id, "date_from": min(dates), "date_to": max(dates)}
        )
        action = wizard.with_context(queue_job__no_delay=False).action_import()
        run = self.env["wave.sync.job"].browse(action["res_id"])
        chunks = run.child_ids.sorted("date_from")
        first = chunks[0]
        in_first = [i for i in wave_invoices if first.date_from <= i.invoice_date <= first.date_to]
        self.assertGreater(len(in_first), 2 * PAGE_SIZE, "the first part has several pages")
        self.assertEqual(self._wave_invoices_in_odoo(), (0, 0))

        # The first part's job is working; after its first page the user clicks Cancel.
        Importer = type(self.env["wave.historical.importer"])
        original_page_done = Importer._page_done
        answers = []

        def page_done(importer, connection, chunk, last):
            original_page_done(importer, connection, chunk, last)
            if not answers:
                answers.append(run.with_user(self.wave_accountant).action_cancel())

        with patch.object(Importer, "_page_done", page_done):
            first_job = self._run_queue_job(first)

        self.assertEqual(first_job.state, "done", first_job.exc_info)
        self.assertEqual((run.state, first.state), ("cancelled", "cancelled"))
        message = answers[0]["params"]["message"]
        self.assertIn("stay in Odoo", message)
        self.assertIn("stops after its current page", message)  # the part was working
        # the page done before the click stays; nothing after it
        count, distinct = self._wave_invoices_in_odoo()
        self.assertEqual(count, distinct)
        self.assertGreater(count, 0)
        self.assertLessEqual(count, PAGE_SIZE)
        # the other parts' jobs were waiting: cancelled, not run
        # sudo: queue jobs are technical records, read to see how they ended
        others = (
            self.env["queue.job"]
            .sudo()
            .search([("uuid", "in", (chunks - first).mapped("queue_job_uuid"))])
        )
        self.assertEqual(set(others.mapped("state")), {"cancelled"})
        self.assertEqual(run.records_done, first.records_done)
        self.assertEqual(run.records_done, PAGE_SIZE)

        # Resume: a new job per unfinished part, from its last committed page.
        answer = run.with_user(self.wave_admin).action_resume()
        self.assertIn("from where it stopped", answer["params"]["message"])
        self.assertEqual(run.state, "running")
        self.assertEqual((first.state, first.resume_page), ("running", 2))
        resumed = chunks.mapped("queue_job_uuid")
        self.assertNotIn(first_job.uuid, resumed)
        for chunk in chunks:
            queue_job = self._run_queue_job(chunk)
            self.assertEqual(queue_job.state, "done", queue_job.exc_info)
        self.assertTrue(all(c.state in ("done", "partial") for c in chunks), chunks.mapped("state"))
        self.assertIn(run.state, ("done", "partial"))
        self.assertEqual(run.records_done, len(wave_invoices))
        # sudo: as above
        jobs = self.env["queue.job"].sudo().search([("model_name", "=", "wave.sync.job")])
        self.assertNotIn("failed", jobs.mapped("state"))

        count, distinct = self._wave_invoices_in_odoo()
        self.assertEqual(count, distinct)  # nothing doubled
        wave = WaveReader(self.sandbox.graphql_url, self.wave_token, self.wave_us.id)
        odoo = OdooReader(env=self.env, company_id=self.connection.company_id.id)
        report = check_parity(wave, odoo, min(dates), max(dates), wave_drafts=True)
        assert_parity(report)  # nothing skipped, nothing doubled, same figures
