# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tour of the historical import: Cancel asks, says what it did, then Resume."""

from odoo.tests import HttpCase, tagged

from .common import WaveSandboxCommon

PAGE_SIZE = 4


@tagged("post_install", "-at_install")
class TestImportTours(WaveSandboxCommon, HttpCase):
    sandbox_invoices = 16
    sandbox_customers = 4
    sandbox_vendors = 1

    def _start_import(self):
        self.env.ref("base.EUR").active = True
        self.env.ref("base.CAD").active = True
        self.env["ir.config_parameter"].set_param(
            "wave_accounting_integration.import_page_size", PAGE_SIZE
        )
        self.connection.import_draft_invoices = True
        dates = [inv.invoice_date for inv in self.wave_us.invoices if not inv.deleted]
        wizard = self.env["wave.historical.import"].create(
            {"connection_id": self.connection.id, "date_from": min(dates), "date_to": max(dates)}
        )
        action = wizard.with_context(queue_job__no_delay=False).action_import()
        return self.env["wave.sync.job"].browse(action["res_id"])

    def _url(self, run):
        return f"/odoo/action-wave_accounting_integration.wave_sync_job_action/{run.id}"

    def test_cancel_asks_then_resume(self):
        run = self._start_import()
        self.start_tour(
            self._url(run), "wave_import_cancel_resume_tour", login="wave_admin", timeout=180
        )
        self.assertEqual(run.state, "running")
        self.assertFalse(run.cancel_requested)
        # sudo: queue jobs are technical records, read to see what Resume queued
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("uuid", "in", run.child_ids.mapped("queue_job_uuid"))])
        )
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        self.assertEqual(len(jobs), len(run.child_ids))
