"""Worker memory and cost growth of the historical import (a script, not a test).

For each of two sizes (default 1,000 and 8,000 invoices per Wave business, a ratio
of 8, as issue 10 asks; ``--full``: 5,000 and 50,000) it runs, one after the other:

  * a fresh copy of an upgraded throwaway database;
  * the Wave sandbox in its own process (``python3 -m wave_sandbox --demo
    --rate-limit 0``), so that its memory stays out of the measurement;
  * a fresh Python process, the "worker", that loads the registry, sets up a
    company with the generic chart of accounts and a connection to the sandbox
    (full-access token, loopback HTTP), then runs the historical import through
    the real engine: the wizard's ``action_import`` and then every chunk's
    queue job method ``_job_import_chunk`` (page by page, committed per page;
    the wizard decides how many chunks: months merged by invoice count),
    each chunk in its own cursor and environment as the queue job runner does.

The worker reports its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``)
before and after the import, the tracemalloc peak of Python objects during the
import and the top allocations at its end (``snapshot.statistics('lineno')``).
Target: peak RSS at the large size <= 1.3 x peak RSS at the small size.

Cost growth (same run, no extra import): after each chunk job the worker notes
the elapsed time and the number of invoices committed so far. The large worker's
import therefore also gives the time at which 1/8, 1/4, 1/2 and all of its
invoices were in the database (1k, 2k, 4k, 8k by default; linear interpolation
between the two chunk ends around each mark, the raw chunk ends are in the JSON)
and the milliseconds per invoice of each segment: a per-invoice cost that rises
with the size of the tables would show as rising ms/invoice in later segments.
Check: last segment <= 1.5 x the lowest earlier segment (our threshold; the issue asks for
the growth to be visible).

tracemalloc is off by default (it slows the import, which would distort the cost
growth figures, and its bookkeeping adds to the RSS); ``--tracemalloc`` turns it on
(1 frame) and adds the top allocations still live at the end.

Time: the import itself dominates (about 9,000 invoices at the default sizes);
see tests/bench/README.md for the measured rate.

Writes the figures as JSON to ``bench-results-memory.json`` (repository root).

Run:  cd /work/main && python3 tests/bench/bench_memory.py [--sizes 1000 8000 | --full]
The databases are created from ``wave_dev`` (upgraded with -u unless ``--no-upgrade``)
and dropped at the end, also on failure.
"""

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests folder

from bench_common import add_database_args, bench_connection, machine, open_registry
from harness import (
    ROOT,
    SandboxProcess,
    copy_database,
    drop_database,
    pg_env,
    prepare_database,
)

RESULT_MARK = "BENCH_MEMORY_RESULT "
TARGET_RATIO = 1.3
GROWTH_LIMIT = 1.5  # last segment ms/invoice vs the lowest earlier one (our threshold)


# ---------------------------------------------------------------------------
# The worker process (``--worker``): everything measured happens here.
# ---------------------------------------------------------------------------
def current_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker(args):
    import resource
    import tracemalloc

    odoo, registry = open_registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company, connection = bench_connection(
            env,
            f"Bench memory {args.worker}",
            sandbox_url=args.sandbox_url,
            business_id=args.business_id,
            token=os.environ["BENCH_WAVE_TOKEN"],
        )
        company_id, connection_id = company.id, connection.id
    rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.tracemalloc:
        tracemalloc.start(1)
    context = {"allowed_company_ids": [company_id]}
    today = datetime.date.today()
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
        wizard = env["wave.historical.import"].create(
            {
                "connection_id": connection_id,
                "date_from": today - datetime.timedelta(days=365 * 3 + 7),
                "date_to": today + datetime.timedelta(days=1),
            }
        )
        action = wizard.action_import()
        parent = env["wave.sync.job"].browse(action["res_id"])
        parent_id = parent.id
        chunk_ids = parent.child_ids.sorted("date_from").ids
    rss_chunks, checkpoints = [], [(0.0, 0)]
    for chunk_id in chunk_ids:
        # one cursor and environment per job, as the queue job runner does
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
            env["wave.sync.job"].browse(chunk_id)._job_import_chunk()
        paused = time.perf_counter()
        rss_chunks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        with registry.cursor() as cr:  # invoices committed so far
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
            done = env["account.move"].search_count(
                [("wave_id", "!=", False), ("company_id", "=", company_id)]
            )
        checkpoints.append((round(paused - start, 2), done))
        start += time.perf_counter() - paused  # the count is not import time
    elapsed = checkpoints[-1][0]
    traced_peak = top = None
    if args.tracemalloc:
        traced_current, traced_peak = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        top = [
            {
                "where": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
                "size_kib": round(stat.size / 1024, 1),
                "count": stat.count,
            }
            for stat in snapshot.statistics("lineno")[:10]
        ]
        tracemalloc.stop()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
        parent = env["wave.sync.job"].browse(parent_id)
        moves = env["account.move"].search_count(
            [("wave_id", "!=", False), ("company_id", "=", company_id)]
        )
        payments = env["account.payment"].search_count(
            [("wave_invoice_id", "!=", False), ("company_id", "=", company_id)]
        )
        quarantined = env["wave.quarantine"].search_count([("connection_id", "=", connection_id)])
        state, progress = parent.state, parent.progress
    result = {
        "size": args.worker,
        "chunks": len(chunk_ids),
        "import_s": round(elapsed, 1),
        "invoices_per_s": round(moves / elapsed, 2) if elapsed else None,
        "moves": moves,
        "payments": payments,
        "quarantined": quarantined,
        "parent_state": state,
        "parent_progress": progress,
        "rss_before_import_mib": round(rss_before_kib / 1024, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_at_end_mib": round(current_rss_kib() / 1024, 1),
        "peak_rss_after_chunk_mib": [round(kib / 1024, 1) for kib in rss_chunks],
        "progress_s_invoices": checkpoints,
        "tracemalloc": bool(args.tracemalloc),
        "traced_peak_mib": round(traced_peak / 2**20, 1) if traced_peak is not None else None,
        "traced_at_end_mib": round(traced_current / 2**20, 1) if args.tracemalloc else None,
        "top_allocations_at_end": top,
    }
    print(RESULT_MARK + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------
# The driver: databases, sandbox process, one worker process per size.
# ---------------------------------------------------------------------------
def measure(args, size, template):
    db = f"{args.db}_{size}"
    env = pg_env()
    copy_database(template, db)
    try:
        # the sandbox in its own process: its memory stays out of the measurement
        sandbox = SandboxProcess(seed=args.seed, invoices=size, demo=True, start_timeout=900)
        with sandbox:
            env["BENCH_WAVE_TOKEN"] = sandbox.token  # not on the command line
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                str(size),
                "--db",
                db,
                "--sandbox-url",
                sandbox.url,
                "--business-id",
                sandbox.business("USD"),
            ]
            if args.tracemalloc:
                cmd.append("--tracemalloc")
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
        lines = [x for x in out.stdout.splitlines() if x.startswith(RESULT_MARK)]
        if not lines:
            raise RuntimeError(
                f"worker printed no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
            )
        return json.loads(lines[-1][len(RESULT_MARK) :])
    finally:
        drop_database(db)


def cost_growth(run):
    """Time at 1/8, 1/4, 1/2 and all of a run's invoices, and ms/invoice per segment.

    The ratio (last segment / lowest earlier one) is None when two marks fall in
    the same chunk job: the segments are then interpolated, not measured.
    """
    progress = run["progress_s_invoices"]
    total = progress[-1][1]
    marks = [run["size"] // 8, run["size"] // 4, run["size"] // 2, total]
    rows, prev_t, prev_n, chunks_used = [], 0.0, 0, []
    for mark in marks:
        if mark <= prev_n:
            continue
        i = next((i for i, (_t, n) in enumerate(progress) if n >= mark), len(progress) - 1)
        (t0, n0), (t1, n1) = progress[max(i - 1, 0)], progress[i]
        at = t1 if n1 == n0 else t0 + (t1 - t0) * (min(mark, n1) - n0) / (n1 - n0)
        chunks_used.append(i)
        rows.append(
            {
                "invoices": mark,
                "elapsed_s": round(at, 1),
                "segment": f"{prev_n}-{mark}",
                "segment_ms_per_invoice": round(1000 * (at - prev_t) / (mark - prev_n), 1),
                "cumulative_ms_per_invoice": round(1000 * at / mark, 1),
                "chunk_jobs_done": i,
            }
        )
        prev_t, prev_n = at, mark
    resolved = len(set(chunks_used)) == len(chunks_used) > 1
    segments = [r["segment_ms_per_invoice"] for r in rows]
    ratio = round(segments[-1] / min(segments[:-1]), 2) if resolved else None
    return rows, ratio


def report(args, rows):
    small, large = rows
    growth, growth_ratio = cost_growth(large)
    ratio = round(large["peak_rss_mib"] / small["peak_rss_mib"], 3)
    growth_small = small["peak_rss_mib"] - small["rss_before_import_mib"]
    growth_large = large["peak_rss_mib"] - large["rss_before_import_mib"]
    traced_ratio = (
        round(large["traced_peak_mib"] / small["traced_peak_mib"], 2)
        if small.get("traced_peak_mib")
        else None
    )
    result = {
        "machine": machine(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "sizes": [small["size"], large["size"]],
        "runs": rows,
        "targets": {
            "peak_rss_ratio": {
                "value": ratio,
                "target": f"<= {TARGET_RATIO}",
                "ok": ratio <= TARGET_RATIO,
            },
            "cost_growth_ratio": {
                "value": growth_ratio if growth_ratio is not None else "n/a: too few chunks",
                "target": f"<= {GROWTH_LIMIT} (ours)",
                "ok": growth_ratio is not None and growth_ratio <= GROWTH_LIMIT,
            },
        },
        "cost_growth": growth,
        "traced_peak_ratio": traced_ratio,
    }
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(
        f"\nWorker memory during the historical import, sizes {small['size']} and "
        f"{large['size']} invoices per business, on {result['machine']}"
    )
    print(f"{'':34}{small['size']:>12}{large['size']:>12}")
    for key, label in (
        ("moves", "invoices imported"),
        ("payments", "payments imported"),
        ("chunks", "chunk jobs"),
        ("import_s", "import time (s)"),
        ("invoices_per_s", "invoices/s"),
        ("rss_before_import_mib", "peak RSS before import (MiB)"),
        ("peak_rss_mib", "peak RSS (MiB)"),
        ("rss_at_end_mib", "RSS at end (MiB)"),
        ("traced_peak_mib", "tracemalloc peak (MiB)"),
        ("traced_at_end_mib", "tracemalloc at end (MiB)"),
    ):
        print(f"{label:34}{small[key]!s:>12}{large[key]!s:>12}")
    print(f"{'RSS growth during import (MiB)':34}{growth_small:>12.1f}{growth_large:>12.1f}")
    print(f"\ncost growth of the {large['size']}-invoice import (one worker, growing tables):")
    print(
        f"{'invoices':>10}{'elapsed (s)':>13}{'segment':>14}{'ms/invoice':>12}"
        f"{'cumulative':>12}{'chunk jobs':>12}"
    )
    for row in growth:
        print(
            f"{row['invoices']:>10}{row['elapsed_s']:>13}{row['segment']:>14}"
            f"{row['segment_ms_per_invoice']:>12}{row['cumulative_ms_per_invoice']:>12}"
            f"{row['chunk_jobs_done']:>12}"
        )
    print(f"\n{'target':20}{'value':>20}  {'goal':<16}verdict")
    for name, target in result["targets"].items():
        verdict = "PASS" if target["ok"] else "FAIL"
        print(f"{name:20}{target['value']!s:>20}  {target['target']:<16}{verdict}")
    if traced_ratio is not None:
        print(f"{'tracemalloc peak ratio':22}{traced_ratio:>8}  (information)")
    if large.get("top_allocations_at_end"):
        print(f"\ntop allocations still live at the end of the {large['size']}-invoice import:")
        for stat in large["top_allocations_at_end"]:
            where = stat["where"].replace(str(ROOT) + "/", "")
            print(f"  {stat['size_kib']:>10.1f} KiB {stat['count']:>8} blocks  {where}")
    print(f"\nwritten: {args.output}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes",
        type=int,
        nargs=2,
        default=[1000, 8000],
        metavar=("SMALL", "LARGE"),
        help="invoices per business",
    )
    ap.add_argument("--full", action="store_true", help="5,000 and 50,000 (hours)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slower)"
    )
    ap.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false")
    ap.set_defaults(tracemalloc=False)
    add_database_args(ap, "memory")
    ap.add_argument("--output", default=str(ROOT / "bench-results-memory.json"))
    # internal: the measured worker process
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-url", help=argparse.SUPPRESS)
    ap.add_argument("--business-id", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.full:
        args.sizes = [5000, 50000]
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C: servers stopped, databases dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = f"{args.db}_base"
    try:
        prepare_database(base, args.template, upgrade=not args.no_upgrade)
        rows = []
        for size in sorted(args.sizes):
            rows.append(measure(args, size, base))
            # kept as it goes: a long run interrupted later still leaves its figures
            Path(args.output).write_text(json.dumps({"partial": True, "runs": rows}, indent=2))
        report(args, rows)
    finally:
        if not args.keep:
            drop_database(base)


if __name__ == "__main__":
    main()
