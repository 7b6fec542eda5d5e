# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tours of the historical import: live progress over the bus; cancel and resume;
starting an import from the connection shows the run alone (no breadcrumb pile-up).

The progress tour opens a running import; while the browser shows it, the
import's job runs in a thread of the test (the queue job's method, on a cursor
of its own) and the server tells the browser over the bus (a real websocket).
The bus cannot hear PostgreSQL's NOTIFY inside a test transaction, so the test
relays it to the websockets, as Odoo's own bus tests do, and dates the
notifications as a real commit would (a test transaction dates its rows when it
started, before the last minute that the bus's first poll reads).
"""

import datetime
import threading
import time
from unittest.mock import patch

from odoo import api
from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable
from odoo.addons.bus.websocket import WebsocketConnectionHandler
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

    def test_import_progress_updates_without_reload(self):
        run = self._start_import()
        chunks = run.child_ids.sorted("date_from")
        self.assertTrue(chunks, "the import has parts to run")
        partner = self.wave_accountant.partner_id
        channel = hashable(channel_with_db(self.env.cr.dbname, partner))
        Run = type(self.env["wave.sync.job"])
        original_web_read = Run.web_read
        reads = []
        read_again = [threading.Event(), threading.Event(), threading.Event()]

        def web_read(records, *args, **kwargs):
            result = original_web_read(records, *args, **kwargs)
            if records.ids == run.ids and len(reads) < len(read_again):
                reads.append(time.monotonic())
                read_again[len(reads) - 1].set()
            return result

        outcome = {"steps": []}

        def run_pages(max_pages):
            # the queue job's method, on a cursor of its own (as a worker would)
            with self.registry.cursor() as cr:
                env = api.Environment(cr, self.env.uid, {})
                for chunk in env["wave.sync.job"].browse(chunks.ids).sorted("date_from"):
                    if chunk.state in ("pending", "running"):
                        chunk._job_import_chunk(max_pages=max_pages)
                        if max_pages:
                            break
            # what PostgreSQL's NOTIFY would wake: the websockets of this channel
            websockets = list(dispatch._channels_to_ws.get(channel, ()))
            with self.registry.cursor() as cr:
                # A test transaction stamps its rows with its own start time; a real
                # commit stamps them now (the bus's first poll reads the last minute).
                # Raw SQL: create_date is a magic field the ORM does not let one write.
                cr.execute(
                    "UPDATE bus_bus SET create_date = %s WHERE create_date < %s",
                    [datetime.datetime.utcnow(), datetime.datetime.utcnow()],
                )
            outcome["steps"].append(f"pages {max_pages}: {len(websockets)} websockets told")
            for websocket in websockets:
                websocket.trigger_notification_dispatching()

        def worker():
            try:
                # the browser shows the run (first read) and is subscribed
                if not read_again[0].wait(120):
                    outcome["error"] = "the browser never showed the run"
                    return
                deadline = time.monotonic() + 30
                while channel not in dispatch._channels_to_ws and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(2)  # the tour checks the figure before anything is imported
                run_pages(max_pages=1)
                # the browser reads the run again, told by the bus, then the rest runs
                if not read_again[1].wait(30):
                    outcome["error"] = "the browser was not told of the first page"
                    return
                run_pages(max_pages=None)
            except Exception as error:  # reported by the test below
                outcome["error"] = repr(error)

        thread = threading.Thread(target=worker, name="wave-import-job", daemon=True)
        with (
            patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True),
            patch.object(Run, "web_read", web_read),
        ):
            thread.start()
            try:
                self.start_tour(
                    self._url(run),
                    "wave_import_progress_tour",
                    login="wave_accountant",
                    timeout=180,
                )
            finally:
                thread.join(60)
                outcome["reads"] = len(reads)
        self.assertFalse(outcome.get("error"), outcome)
        self.assertGreaterEqual(len(reads), 3, "read when shown, after a page, at the end")
        self.assertIn(run.state, ("done", "partial"))
        imported = self.env["account.move"].search_count(
            [("company_id", "=", self.connection.company_id.id), ("wave_id", "!=", False)]
        )
        self.assertGreater(imported, PAGE_SIZE)

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

    def test_started_import_replaces_the_breadcrumbs(self):
        self.env.ref("base.EUR").active = True
        self.env.ref("base.CAD").active = True
        self.start_tour(
            f"/odoo/action-wave_accounting_integration.wave_api_action/{self.connection.id}",
            "wave_import_start_tour",
            login="wave_admin",
            timeout=180,
        )
        runs = self.env["wave.sync.job"].search(
            [("connection_id", "=", self.connection.id), ("kind", "=", "historical_import")]
        )
        self.assertEqual(len(runs), 1, "the tour started one import")
