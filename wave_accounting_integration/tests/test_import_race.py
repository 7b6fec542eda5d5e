# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Two jobs discover the same Wave accounts at once: real cursors, committed rows.

The accounts poll creates the maps of new Wave accounts while an import chunk,
whose transaction began before, meets the same accounts on its invoice lines.
Neither may fail on the unique index, and each Wave account is mapped once.
"""

import threading
import time
import traceback
import uuid

from odoo import SUPERUSER_ID, api, sql_db
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.tests import TransactionCase, tagged

from ..services.job_guard import CONCURRENT_RETRY_SECONDS, job_guard


@tagged("post_install", "-at_install")
class TestImportRace(TransactionCase):
    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        tag = uuid.uuid4().hex[:8]
        self.nodes = [
            {
                "id": f"QWNjb3VudDpyYWNl-{tag}-{i}",
                "name": f"Race expense {tag} {i}",
                "type": {"value": "EXPENSE"},
                "subtype": {"value": "EXPENSE"},
                "sequence": 1,
            }
            for i in range(4)
        ]
        with self._cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            connection = env["wave.api"].create(
                {
                    "name": f"Import race {tag}",
                    "active": False,  # the committed company may have its own connection
                    "company_id": env.ref("base.main_company").id,
                    "business_id": "QnVzaW5lc3M6cmFjZQ==",
                }
            )
            # The first listing is done: new accounts wait for review (no auto-mapping).
            env["wave.import.cursor"].create(
                {"connection_id": connection.id, "entity": "accounts", "last_poll": "2026-01-01"}
            )
            self.connection_id = connection.id
        self.addCleanup(self._cleanup)

    def _cursor(self):
        return sql_db.db_connect(self.dbname).cursor()

    def _cleanup(self):
        with self._cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["wave.api"].with_context(active_test=False).browse(self.connection_id).unlink()

    def _env(self, cr):
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        return env, env["wave.api"].with_context(active_test=False).browse(self.connection_id)

    def _committed_maps(self):
        with self._cursor() as cr:
            cr.execute(
                "SELECT wave_account_id, count(*) FROM wave_account_map"
                " WHERE connection_id = %s GROUP BY wave_account_id",
                (self.connection_id,),
            )
            return dict(cr.fetchall())

    def _wait_for_lock_wait(self, pids, who):
        """Return once the backend ``pids[0]`` waits for a lock (PostgreSQL's own view)."""
        deadline = time.monotonic() + 20
        while True:
            if pids:
                with self._cursor() as cr:
                    cr.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pids[0],)
                    )
                    row = cr.fetchone()
                if row and row[0] == "Lock":
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{who} never waited for the rows being created")
            time.sleep(0.05)

    def test_accounts_poll_and_import_chunk_create_the_same_maps(self):
        began, poll_created = threading.Barrier(2), threading.Event()
        chunk_pid, outcome, errors = [], {}, []

        def accounts_poll():
            try:
                with self._cursor() as cr:
                    env, connection = self._env(cr)
                    env["wave.account.map"].search_count([])  # the snapshot begins
                    began.wait(timeout=20)
                    Refs = env["wave.reference.importer"]
                    outcome["poll"] = Refs._upsert_account_maps(connection, self.nodes)
                    poll_created.set()
                    # Commit only once the chunk waits for these rows (a lock wait).
                    self._wait_for_lock_wait(chunk_pid, "the import chunk")
            except Exception as error:  # reported below
                errors.append(("poll", error, traceback.format_exc()))
                poll_created.set()

        def import_chunk():
            try:
                with self._cursor() as cr:
                    env, connection = self._env(cr)
                    env["wave.account.map"].search_count([])  # began before the poll's commit
                    cr.execute("SELECT pg_backend_pid()")
                    chunk_pid.append(cr.fetchone()[0])
                    began.wait(timeout=20)
                    poll_created.wait(timeout=20)
                    Refs = env["wave.reference.importer"]
                    try:
                        with job_guard(connection):  # as the import job runs it
                            Refs._resolve_accounts(connection, self.nodes)
                        outcome["chunk"] = "resolved"
                    except RetryableJobError as retry:
                        # queue_job runs the job again soon (the transaction is dropped);
                        # because rows appeared meanwhile, not on the unique index.
                        outcome["chunk"] = (
                            "run again",
                            retry.seconds,
                            type(retry.__cause__).__name__,
                        )
                        cr.rollback()
            except Exception as error:  # reported below
                errors.append(("chunk", error, traceback.format_exc()))

        threads = [threading.Thread(target=accounts_poll), threading.Thread(target=import_chunk)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(
            outcome,
            {"poll": 4, "chunk": ("run again", CONCURRENT_RETRY_SECONDS, "ConcurrentRowsError")},
        )
        # The chunk's next run finds the poll's maps and creates none.
        with self._cursor() as cr:
            env, connection = self._env(cr)
            accounts = env["wave.reference.importer"]._resolve_accounts(connection, self.nodes)
            self.assertEqual(set(accounts), {n["id"] for n in self.nodes})
        self.assertEqual(self._committed_maps(), {n["id"]: 1 for n in self.nodes})

    def test_two_accounts_polls_create_each_map_once(self):
        began, first_created = threading.Barrier(2), threading.Event()
        second_pid, outcome, errors = [], {}, []

        def poll(name, first):
            try:
                with self._cursor() as cr:
                    env, connection = self._env(cr)
                    env["wave.account.map"].search_count([])
                    if not first:
                        cr.execute("SELECT pg_backend_pid()")
                        second_pid.append(cr.fetchone()[0])
                    began.wait(timeout=20)
                    if not first:
                        first_created.wait(timeout=20)
                    Refs = env["wave.reference.importer"]
                    outcome[name] = Refs._upsert_account_maps(connection, self.nodes)
                    if first:
                        first_created.set()
                        self._wait_for_lock_wait(second_pid, "the second poll")
            except Exception as error:  # reported below
                errors.append((name, error, traceback.format_exc()))
                first_created.set()

        threads = [
            threading.Thread(target=poll, args=("first", True)),
            threading.Thread(target=poll, args=("second", False)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(outcome, {"first": 4, "second": 0})
        self.assertEqual(self._committed_maps(), {n["id"]: 1 for n in self.nodes})

    def test_import_leaves_to_the_export_what_it_committed_after_the_import_began(self):
        """An invoice poll whose transaction began before an export committed its
        ledger still sees that export's Wave invoices as the export's (not new ones)."""
        with self._cursor() as cr:
            env, connection = self._env(cr)
            env["wave.outbound.ledger"].search_count([])  # the poll's snapshot begins
            ledger_rows = []
            with self._cursor() as export_cr:  # the export commits meanwhile
                export_env, export_connection = self._env(export_cr)
                Ledger = export_env["wave.outbound.ledger"]
                common = {
                    "connection_id": export_connection.id,
                    "kind": "invoice",
                    "res_model": "account.move",
                    "external_id": f"race-{uuid.uuid4().hex}",
                }
                ledger_rows += Ledger.create(
                    [
                        {
                            **common,
                            "res_id": 1,
                            "external_id": common["external_id"] + "-sent",
                            "state": "sent",
                            "request_summary": {"invoiceNumber": "R-1", "customerId": "C1"},
                        },
                        {
                            **common,
                            "res_id": 2,
                            "state": "confirmed",
                            "wave_id": "SW52b2ljZTpjb25maXJtZWQ=",
                            "request_summary": {"invoiceNumber": "R-2", "customerId": "C1"},
                        },
                    ]
                ).ids
            self.assertFalse(env["wave.outbound.ledger"].browse(ledger_rows).exists())
            nodes = [
                {"id": "SW52b2ljZTpzZW50", "invoiceNumber": "R-1", "customer": {"id": "C1"}},
                {
                    "id": "SW52b2ljZTpjb25maXJtZWQ=",
                    "invoiceNumber": "R-2",
                    "customer": {"id": "C1"},
                },
                # A Wave invoice made in Wave with the confirmed export's number and
                # customer: the confirmed entry claims its own id only.
                {
                    "id": "SW52b2ljZTpsb29rYWxpa2U=",
                    "invoiceNumber": "R-2",
                    "customer": {"id": "C1"},
                },
                # Same number, another customer; another number: Wave's own invoices.
                {"id": "SW52b2ljZTpvdGhlcg==", "invoiceNumber": "R-1", "customer": {"id": "C2"}},
                {"id": "SW52b2ljZTpuZXc=", "invoiceNumber": "R-3", "customer": {"id": "C1"}},
            ]
            left = env["wave.outbound.ledger.service"]._left_to_export(
                connection, "invoice", nodes, "invoiceNumber"
            )
            cr.rollback()
        self.assertEqual(left, {"SW52b2ljZTpzZW50", "SW52b2ljZTpjb25maXJtZWQ="})
