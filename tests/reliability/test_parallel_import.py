"""Historical import chunks running at the same time on two job workers (issue 18).

A real multi-worker Odoo (3 HTTP workers) with queue_job's runner and the import
channel at capacity 2 (``root.wave.import:2``), the Wave sandbox in its own process.
The history is cut into several chunks (page size 5, so chunks of 20 invoices) and the
customers are created by the import itself, so two chunks starting together look up
and create the same Wave customers: the unique Wave-id index keeps one copy and the
other job is retried (``job_guard``'s concurrency errors). Checked from outside:

* the chunk jobs overlapped in time (``queue.job`` start and end times);
* books equal Wave's (``tests/independent_parity``: GraphQL against SQL) on the
  realistic workload of the fault matrix, whose expected review list (a currency Odoo
  lacks, look-alike customers) waits in the quarantine with its reasons and nothing
  else does;
* one Odoo record per Wave id (invoices, payments, customer mappings), every Wave
  invoice present but drafts (left in Wave by default) and the expected review list;
* invoice and payment numbers without gaps per sequence (``sequence_prefix``);
* no job failed, the run finished and its counters add up.
"""

import os
import time

import psycopg2
from harness import pg_env, psql

from .e2e import OdooServer, job_counts, wait_for_jobs
from .fault_matrix import Fault, Scenario, Size, assert_expected_review

# Import chunks on two workers at once; a third worker answers the RPC of the test.
CHANNELS = (
    "root:3,root.wave:3,root.wave.webhook:1,root.wave.inbound:1,"
    "root.wave.outbound:1,root.wave.import:2"
)
SIZE = Size(
    invoices=int(os.environ.get("WAVE_PARALLEL_INVOICES", "80")),
    export_invoices=0,
    bills=0,
    page_size=5,
    customers=8,
    years=1,
    token_expiry_every=0,
    burst_every=0,
    webhook_changes=0,
    job_timeout=900,
)


class ParallelServer(OdooServer):
    """Three workers; the import channel at capacity 2 (the environment overrides
    the configuration's ``[queue_job] channels``)."""

    def __init__(self, db, conf, log_dir=None):
        super().__init__(db, conf, log_dir=log_dir, workers=3, channels=CHANNELS)


class ParallelImport(Scenario):
    def run(self):
        import harness
        from harness import ScratchDatabase

        from .e2e import Sandbox

        started = time.monotonic()
        with (
            Sandbox(seed=self.seed, log_dir=self.workdir) as sandbox,
            ScratchDatabase(self.template) as db,
            ParallelServer(db, self.conf, log_dir=self.workdir) as odoo,
        ):
            self.sandbox, self.db, self.odoo = sandbox, db, odoo
            assert harness  # the processes above are stopped on exit
            self._setup()
            self._import()
            # Jobs postponed by a concurrency retry run now (their eta may be 5 s away).
            wait_for_jobs(self.rpc, self.size.job_timeout, include_postponed=True)
            self._observe()
        self.result["seconds"] = round(time.monotonic() - started, 1)
        return self.result

    def _observe(self):
        db, result = self.db, self.result
        result["jobs"] = job_counts(self.rpc)
        rows = psql(
            db,
            "SELECT extract(epoch FROM date_started), extract(epoch FROM date_done), retry, "
            "coalesce(exc_info, '') <> '' FROM queue_job WHERE method_name = '_job_import_chunk' "
            "ORDER BY date_started",
        )
        spans = []
        for line in filter(None, rows.splitlines()):
            start, done, retry, _exc = line.split("|")
            spans.append((float(start or 0), float(done or 0), int(retry)))
        result["retry_reasons"] = psql(
            db,
            "SELECT coalesce(left(result, 120), ''), exc_name FROM queue_job "
            "WHERE method_name = '_job_import_chunk' AND retry > 1",
        )
        # Pages of two chunks committed in between each other: the moves of each chunk
        # (by invoice date) were created over overlapping spans of time.
        result["interleaved_chunks"] = int(
            psql(
                db,
                "WITH c AS (SELECT j.id, min(m.create_date) a, max(m.create_date) b "
                "FROM wave_sync_job j JOIN account_move m ON m.invoice_date BETWEEN "
                "j.date_from AND j.date_to AND m.wave_id IS NOT NULL "
                "AND m.move_type = 'out_invoice' WHERE j.parent_id IS NOT NULL GROUP BY j.id) "
                "SELECT count(*) FROM c x JOIN c y ON x.id < y.id AND x.a < y.b AND y.a < x.b",
            )
        )
        result["chunk_jobs"] = len(spans)
        # queue_job counts the attempt itself: retry = 1 for a job that ran once
        result["chunk_retries"] = sum(retry - 1 for *_rest, retry in spans)
        # Two chunk jobs overlapped when one started before another one ended.
        result["overlaps"] = sum(
            1
            for i, (start_a, done_a, _r) in enumerate(spans)
            for start_b, done_b, _r2 in spans[i + 1 :]
            if start_b < done_a and start_a < done_b
        )
        result["parity"] = self._independent_parity()
        result["parity_left"] = self._parity_left(result["parity"], self.wave_invoices_before)
        self._review_quarantine()
        dup = 0
        for table, group in (
            ("account_move", "wave_id, company_id"),
            ("account_payment", "wave_id, company_id"),
            ("wave_partner_map", "wave_id, wave_type, connection_id"),
        ):
            dup += int(
                psql(
                    db,
                    f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE wave_id IS NOT NULL "
                    f"GROUP BY {group} "
                    "HAVING count(*) > 1) d",
                )
            )
        result["duplicates"] = dup
        odoo_ids = set(
            filter(
                None,
                psql(
                    db,
                    "SELECT wave_id FROM account_move WHERE wave_id IS NOT NULL "
                    "AND move_type = 'out_invoice'",
                ).splitlines(),
            )
        )
        result["lost"] = sorted(self._unbooked(self.wave_invoices_before, odoo_ids))
        # Gaps: per sequence (journal and year prefix), the numbers are 1..count.
        result["sequence_gaps"] = psql(
            db,
            "SELECT sequence_prefix, count(*), min(sequence_number), max(sequence_number), "
            "count(DISTINCT sequence_number) FROM account_move WHERE state = 'posted' "
            "AND sequence_prefix IS NOT NULL GROUP BY sequence_prefix "
            "HAVING max(sequence_number) <> count(*) OR min(sequence_number) <> 1 "
            "OR count(DISTINCT sequence_number) <> count(*)",
        ).strip()
        run = self.rpc.search_read(
            "wave.sync.job",
            [("id", "=", self.import_job_id)],
            ["state", "records_done", "records_total", "records_failed"],
        )[0]
        result["run"] = run


def test_parallel_chunks_keep_the_books(tmp_path, capsys):
    scenario = ParallelImport(Fault("none", "parallel chunks"), SIZE, tmp_path)
    result = scenario.run()
    parity = result.pop("parity")
    with capsys.disabled():
        print(f"\nparallel import: {result}\n")
    assert result["chunk_jobs"] >= 3, result
    assert result["jobs"].get("failed", 0) == 0, result["jobs"]
    assert result["lost"] == [], result
    assert result["parity_left"] == [], str(parity)[:4000]
    assert_expected_review(result)
    assert result["duplicates"] == 0, result
    assert result["interleaved_chunks"] >= 1, "the chunks never ran at the same time"
    assert result["sequence_gaps"] == "", result["sequence_gaps"]
    run = result["run"]
    # The expected review list's invoices failed into the quarantine: a partial run.
    assert run["state"] == "partial" and run["records_failed"] > 0, run
    assert run["records_done"] == run["records_total"] == len(scenario.wave_invoices_before), run


class WatchedParallelImport(ParallelImport):
    """The parallel import with the run's row written from outside every 0.2 s (other
    chunks' progress and a screen's Cancel write it too; here psql makes sure it
    happens during every chunk's last page), watched in the database until every chunk
    job has ended: the run must then be done, with its totals."""

    def _import(self):
        run_id = self._start_import()
        env = pg_env()
        conn = psycopg2.connect(
            dbname=self.db,
            host=env["PGHOST"],
            port=env["PGPORT"],
            user=env["PGUSER"],
            password=env.get("PGPASSWORD"),
        )
        conn.autocommit = True
        deadline = time.monotonic() + WATCH_SECONDS
        watched = {"jobs_ended": False}
        try:
            with conn.cursor() as cr:
                while time.monotonic() < deadline:
                    cr.execute(
                        "UPDATE wave_sync_job SET write_date = write_date WHERE id = %s", [run_id]
                    )
                    # the jobs first, then the run: a later look at the run
                    cr.execute(
                        "SELECT count(*), count(*) FILTER (WHERE state NOT IN "
                        "('done', 'failed', 'cancelled')) FROM queue_job "
                        "WHERE method_name = '_job_import_chunk'"
                    )
                    jobs, running = cr.fetchone()
                    cr.execute(
                        "SELECT state, records_done, records_total FROM wave_sync_job "
                        "WHERE id = %s",
                        [run_id],
                    )
                    watched["run"] = cr.fetchone()
                    if jobs and not running:
                        watched["jobs_ended"] = True
                        break
                    time.sleep(0.2)
        finally:
            conn.close()
        self.result["watched"] = watched


# Long enough for the import at its size here; a run left open shows before it.
WATCH_SECONDS = 300


def test_run_done_when_its_last_chunk_job_ends(tmp_path, capsys):
    scenario = WatchedParallelImport(Fault("none", "run closed at once"), SIZE, tmp_path)
    result = scenario.run()
    result.pop("parity")
    with capsys.disabled():
        print(f"\nwatched parallel import: {result}\n")
    watched = result["watched"]
    assert watched["jobs_ended"], watched
    assert result["jobs"].get("failed", 0) == 0, result["jobs"]
    total = len(scenario.wave_invoices_before)
    assert_expected_review(result)
    # Closed (partial: the expected review list waits in the quarantine), with its totals.
    assert watched["run"] == ("partial", total, total), watched
