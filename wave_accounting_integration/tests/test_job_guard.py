# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every queue job goes through the one job guard, and they all retry alike.

For each job function declared in ``data/queue_job_data.xml`` (and for a replay
clicked in the quarantine), the sandbox answers every GraphQL request with a 429
(``Retry-After: 30``), then with a 503. The job must ask queue_job to retry
later exactly as the guard's table says: after ``Retry-After`` without using up
a retry for the 429, after ``SERVER_RETRY_SECONDS`` using one for the 503. The
sandbox's own fault counters prove the fault hit Wave's side; the database
shows nothing was booked.
"""

import ast
import inspect
import textwrap
from pathlib import Path

from lxml import etree

from odoo import fields
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.wave_accounting_integration.services.job_guard import (
    CONCURRENT_RETRY_SECONDS,
    SERVER_RETRY_SECONDS,
    job_guard,
)
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_outbound import OutboundCommon

QUEUE_JOB_DATA = Path(__file__).resolve().parents[1] / "data" / "queue_job_data.xml"
RETRY_AFTER = 30
FAULTS = {
    "429": {"kind": "rate_limit", "retry_after": RETRY_AFTER},
    "5xx": {"kind": "http_error", "status": 503},
}
# What queue_job must be told: (ignore_retry, seconds).
EXPECTED = {"429": (True, RETRY_AFTER), "5xx": (False, SERVER_RETRY_SECONDS)}


def declared_job_functions():
    """``{(model, method)}`` of every ``queue.job.function`` record of the addon."""
    tree = etree.parse(str(QUEUE_JOB_DATA))
    found = set()
    for record in tree.iterfind("record[@model='queue.job.function']"):
        model_ref = record.find("field[@name='model_id']").get("ref")
        method = record.find("field[@name='method']").text.strip()
        found.add((model_ref.removeprefix("model_").replace("_", "."), method))
    return found


@tagged("post_install", "-at_install")
class TestJobGuard(OutboundCommon):
    sandbox_invoices = 3

    # One row per job function: how to run it against a failing Wave, and what
    # must not have happened. A job function without a row fails the test below.
    JOBS = {
        ("wave.api", "_job_poll"): "_run_poll",
        ("wave.sync.job", "_job_import_chunk"): "_run_import_chunk",
        ("wave.webhook.event", "_job_process_webhook"): "_run_webhook",
        ("wave.api", "_job_export"): "_run_export",
        ("wave.api", "_job_reset_invoices"): "_run_reset_invoices",
        ("wave.api", "_job_undo_payments"): "_run_undo_payments",
    }
    # Jobs that send no request to Wave (so no guard): checked to stay so.
    WITHOUT_WAVE = {("wave.api", "_job_drain_webhook_events"): "_run_drain"}

    # ------------------------------------------------------------------
    # The table is complete, and every job body is inside job_guard
    # ------------------------------------------------------------------
    def test_every_declared_job_has_a_row_and_uses_the_guard(self):
        declared = declared_job_functions()
        self.assertEqual(
            set(self.JOBS) | set(self.WITHOUT_WAVE), declared, "a queue job without a row in JOBS"
        )
        for model, method in declared - set(self.WITHOUT_WAVE):
            function = getattr(type(self.env[model]), method)
            source = textwrap.dedent(inspect.getsource(function))
            calls = {
                node.func.id
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            }
            self.assertTrue(
                {"job_guard", "run_export_job"} & calls,
                f"{model}.{method} does not run its work inside job_guard",
            )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _fault_everything(self, name):
        self._add_fault(operation="*", rate=1.0, **FAULTS[name])

    def _fired(self):
        faults = self.sandbox_admin("GET", "/sandbox/faults")["faults"]
        return sum(fault.get("fired", 0) for fault in faults)

    def _assert_retry_later(self, name, run):
        self.sandbox_admin("DELETE", "/sandbox/faults")
        self._fault_everything(name)
        with self.assertRaises(RetryableJobError) as caught:
            run()
        self.assertGreater(self._fired(), 0, "the sandbox saw no faulty request")
        error = caught.exception
        self.assertEqual((bool(error.ignore_retry), error.seconds), EXPECTED[name], name)
        self.sandbox_admin("DELETE", "/sandbox/faults")

    def _moves_from_wave(self):
        return self.env["account.move"].search_count([("wave_origin", "=", "wave")])

    # ------------------------------------------------------------------
    # One runner per job function
    # ------------------------------------------------------------------
    def _run_poll(self):
        before = self._moves_from_wave()
        self.connection._job_poll("invoices", trigger="manual")
        self.assertEqual(self._moves_from_wave(), before)

    def _run_import_chunk(self):
        dates = [inv.invoice_date for inv in self.wave_us.invoices]
        parent = (
            self.env["wave.sync.job"]
            .sudo()
            .create(  # runs are written by the sync
                {
                    "name": "History",
                    "connection_id": self.connection.id,
                    "kind": "historical_import",
                    "direction": "inbound",
                    "trigger": "wizard",
                }
            )
        )
        chunk = (
            self.env["wave.sync.job"]
            .sudo()
            .create(
                {
                    "name": "Chunk",
                    "connection_id": self.connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                    "trigger": "wizard",
                    "parent_id": parent.id,
                    "date_from": min(dates),
                    "date_to": max(dates),
                }
            )
        )
        before = self._moves_from_wave()
        chunk._job_import_chunk()
        self.assertEqual(self._moves_from_wave(), before)

    def _run_webhook(self):
        invoice = self.wave_us.invoices[0]
        # sudo: the webhook route records events as the system does.
        event = (
            self.env["wave.webhook.event"]
            .sudo()
            .create(
                {
                    "connection_id": self.connection.id,
                    "event_id": f"evt-guard-{fields.Datetime.now().timestamp()}",
                    "event_type": "invoice.updated",
                    "wave_invoice_id": invoice.id,
                    "state": "queued",
                }
            )
        )
        event.with_env(self.env)._job_process_webhook()

    def _run_export(self):
        move = self._invoice()
        self.connection._job_export("account.move", move.ids)
        self.assertFalse(move.wave_id)

    def _exported_invoice(self):
        self.sandbox_admin("DELETE", "/sandbox/faults")
        move = self._invoice()
        self.connection._job_export("account.move", move.ids)
        self.assertTrue(move.wave_id)
        return move

    def _run_reset_invoices(self):
        move = self.env["account.move"].browse(self._reset_target)
        self.connection._job_reset_invoices("account.move", move.ids)

    def _run_undo_payments(self):
        payment = self.env["account.payment"].browse(self._undo_target)
        self.connection._job_undo_payments("account.payment", payment.ids)

    # ------------------------------------------------------------------
    # The tests: each job, each fault
    # ------------------------------------------------------------------
    def _check_job(self, key):
        for name in FAULTS:
            with self.subTest(job=key, fault=name):
                self._assert_retry_later(name, getattr(self, self.JOBS[key]))

    def test_poll_retries_later(self):
        self._check_job(("wave.api", "_job_poll"))

    def test_import_chunk_retries_later(self):
        self._check_job(("wave.sync.job", "_job_import_chunk"))

    def test_webhook_job_retries_later(self):
        self._check_job(("wave.webhook.event", "_job_process_webhook"))

    def _run_drain(self):
        # sudo: the webhook route records events as the system does.
        event = (
            self.env["wave.webhook.event"]
            .sudo()
            .create(
                {
                    "connection_id": self.connection.id,
                    "event_id": "evt-guard-drain",
                    "event_type": "invoice.updated",
                    "wave_invoice_id": self.wave_us.invoices[0].id,
                }
            )
        )
        self.connection._job_drain_webhook_events()
        self.assertEqual(event.state, "queued")

    def test_webhook_drain_sends_nothing_to_wave(self):
        """The drain job only enqueues: while Wave fails every request, it still ends
        well and the sandbox saw no request of it."""
        for key, runner in self.WITHOUT_WAVE.items():
            for name in FAULTS:
                with self.subTest(job=key, fault=name):
                    self.sandbox_admin("DELETE", "/sandbox/faults")
                    self._fault_everything(name)
                    getattr(self, runner)()
                    self.assertEqual(self._fired(), 0, "a request reached Wave")
                    self.sandbox_admin("DELETE", "/sandbox/faults")
                    self.env["wave.webhook.event"].sudo().search([]).unlink()

    def test_export_retries_later(self):
        self._check_job(("wave.api", "_job_export"))

    def test_reset_invoices_retries_later(self):
        move = self._exported_invoice()
        move.button_draft()
        self._reset_target = move.id
        self._check_job(("wave.api", "_job_reset_invoices"))

    def test_undo_payments_retries_later(self):
        move = self._exported_invoice()
        payment = self._pay(move, move.amount_total)
        self.connection._job_export("account.payment", payment.ids)
        self.assertTrue(payment.wave_id)
        payment.action_draft()
        self._undo_target = payment.id
        self._check_job(("wave.api", "_job_undo_payments"))

    def _check_replay(self, name):
        """A replay clicked while Wave fails: a plain message, nothing booked, entry open."""
        invoice = self.wave_us.invoices[0]
        entry = self.env["wave.quarantine"]._open_or_bump(
            self.connection, "inbound", "Invoice", "test", wave_id=invoice.id, payload={}
        )
        self.sandbox_admin("DELETE", "/sandbox/faults")
        self._fault_everything(name)
        before = self._moves_from_wave()
        with self.assertRaisesRegex(UserError, "Try again in"):
            entry.action_replay()
        self.assertGreater(self._fired(), 0, "the sandbox saw no faulty request")
        self.assertEqual((entry.state, entry.attempts), ("open", 1))
        self.assertEqual(self._moves_from_wave(), before)
        self.sandbox_admin("DELETE", "/sandbox/faults")

    # One test per fault: a 429 also pauses the connection's shared budget, which
    # would answer the next request without asking Wave.
    def test_quarantine_replay_on_429_says_try_later(self):
        self._check_replay("429")

    def test_quarantine_replay_on_5xx_says_try_later(self):
        self._check_replay("5xx")

    def test_database_conflict_retries_without_writing_in_the_aborted_transaction(self):
        """A unique violation (another job wrote the same Wave record) aborts the
        transaction: the job is retried, and ``on_retry`` is not asked to write."""
        written = []
        with self.assertRaises(RetryableJobError) as caught:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                with job_guard(self.connection, on_retry=written.append):
                    # Raw SQL: two rows with one key, as two concurrent jobs would write.
                    self.env.cr.execute(
                        "INSERT INTO wave_rate_bucket (key, tokens, updated_at, paused_until) "
                        "VALUES ('guard-test', 1, 0, 0), ('guard-test', 1, 0, 0)"
                    )
        self.assertEqual(caught.exception.seconds, CONCURRENT_RETRY_SECONDS)
        self.assertFalse(written)
