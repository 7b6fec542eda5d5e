"""One table of every issue-10 figure from the benchmarks' JSON files (a script, not a test).

Reads ``docs/results/bench-sync.json``, ``bench-results-memory.json`` and
``bench-results-webhook.json`` (repository root, or ``--dir``), prints each
target with its value, goal and verdict, and exits 1 when one is missing or
failed. ``--since`` (epoch seconds) ignores files written before it (a script
that failed leaves no stale figures in the table); ``--elapsed`` adds the total
run time. ``scripts/bench.sh`` passes both.

Run:  cd /work/main && python3 tests/bench/summary.py
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (file, target key, label); the order of the items
ROWS = (
    ("import", "import_vs_fair_baseline", "1. import / fair baseline, invoices per s"),
    ("import", "books_identical_no_duplicates_no_gaps", "1. books = Wave, no double, no gap"),
    ("sync", "requests_per_imported_invoice", "2. requests per imported invoice"),
    ("sync", "requests_per_exported_invoice", "2. requests per exported invoice"),
    (
        "sync",
        "requests_per_exported_invoice_with_echoes",
        "2. per exported invoice, echoes included",
    ),
    ("sync", "poll_requests_max", "2. poll, nothing changed, per entity"),
    ("sync", "api_minutes_10000_invoices", "2. 10,000 invoices at 60 req/min (min)"),
    ("webhook", "p99_ratio", "3. webhook p99 / trivial route p99"),
    ("webhook", "errors", "3. webhook and trivial route errors"),
    ("webhook", "events_committed", "3. deliveries committed by the acknowledgement"),
    ("webhook", "queue_jobs", "3. deliveries with their job (after the drain jobs)"),
    ("large", "wall_minutes", "6. large history through the job runner (min)"),
    ("large", "requests_per_invoice", "6. large history: requests per invoice"),
    ("large", "rss_growth_end_vs_first_segment", "6. job worker RSS growth, end / 1st seg."),
    ("large", "cost_last_vs_first_segment", "6. ms/invoice, last segment / first"),
    ("large", "books_clean", "6. large history: no double, no gap"),
    ("sync", "wave_id_lookup_uses_index", "5. wave_id look-up uses the index"),
)


# issue 18's results are kept in docs/results (the README table is made from them)
RESULT_FILES = {
    "webhook": "docs/results/bench-webhook.json",
    "import": "docs/results/bench-import.json",
    "large": "docs/results/bench-large-history.json",
    "sync": "docs/results/bench-sync.json",
}


def load(directory, name, since=None):
    path = Path(directory) / f"bench-results-{name}.json"
    if name in RESULT_FILES:
        path = ROOT / RESULT_FILES[name]
    if not path.exists() or (since and path.stat().st_mtime < since):
        return None
    data = json.loads(path.read_text())
    return None if data.get("partial") else data


def sizes(results):
    """One line saying what was measured, from the JSON files."""
    parts = []
    if results["sync"]:
        sync = results["sync"]
        parts.append(
            f"import {sync['invoices']} invoices vs ORM baseline, "
            f"export {sync['import'].get('export', {}).get('invoices', '?')}"
        )
    if results["webhook"]:
        hook = results["webhook"]
        parts.append(
            f"webhook {hook['deliveries']} deliveries at concurrency {hook['concurrency']}"
        )
    if results["import"]:
        size = results["import"]["sizes"]
        parts.append(
            f"import {size['invoices']} invoices vs fair baseline, {size['reps']} repetitions"
        )
    if results["large"]:
        parts.append(f"large history {results['large']['sizes']['invoices']} invoices")
    if results["memory"]:
        small, large = results["memory"]["sizes"]
        parts.append(f"memory {small} vs {large} invoices")
    return "; ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=str(ROOT), help="where the JSON files are")
    ap.add_argument("--since", type=float, help="ignore files older than this (epoch s)")
    ap.add_argument("--elapsed", type=float, help="total run time in seconds")
    args = ap.parse_args()
    names = ("sync", "memory", "webhook", "import", "large")
    results = {name: load(args.dir, name, args.since) for name in names}
    machines = {r["machine"].split(", load")[0] for r in results.values() if r}
    print("\nIssue 10 and 18 benchmark summary")
    print(f"machine: {', '.join(sorted(machines)) or '?'}")
    print(f"sizes: {sizes(results)}")
    print(f"\n{'figure':42}{'value':>20}  {'target':<16}verdict")
    all_ok = True
    for name, key, label in ROWS:
        data = results[name]
        item = (data or {}).get("targets", {}).get(key)
        if item is None:
            all_ok = False
            print(f"{label:42}{'-':>20}  {'':<16}MISSING (bench-results-{name}.json)")
            continue
        verdict = "PASS" if item["ok"] else "FAIL"
        all_ok &= bool(item["ok"])
        print(f"{label:42}{item['value']!s:>20}  {item['target']:<16}{verdict}")
    if results["memory"] and results["memory"].get("cost_growth"):
        print("\ncost growth (one worker importing the large size):")
        for row in results["memory"]["cost_growth"]:
            print(
                f"  {row['invoices']:>7} invoices at {row['elapsed_s']:>8} s"
                f"   segment {row['segment']:>11}: {row['segment_ms_per_invoice']:>7} ms/invoice"
            )
    if args.elapsed is not None:
        minutes, seconds = divmod(int(args.elapsed), 60)
        print(f"\ntotal elapsed: {minutes} min {seconds:02d} s")
    print(f"\nall targets met: {'yes' if all_ok else 'NO'}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
