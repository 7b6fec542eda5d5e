#!/usr/bin/env python3
"""Write README.md's benchmark figures from ``docs/results`` (never paste figures).

The block between ``<!-- bench-table -->`` and ``<!-- /bench-table -->`` in README.md is
replaced by one row per target of every ``docs/results/bench-*.json`` (written by
``make bench``): file, sizes, figure, value, target, verdict, and the date, commit and
load of the run. The block between ``<!-- scale-limits -->`` and ``<!-- /scale-limits -->``
("Limits, on paper") is written from ``docs/results/scale-companies.json`` (written by
``tests/bench/bench_companies.py``): the run's provenance, its figures, and the invoices
a minute one company's budget would carry. ``--check``: change nothing, exit 1 when a
block differs from the files (``tests/foundation/test_bench_table.py`` does the same).

Run:  python3 scripts/bench_table.py [--check]
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "results"
START, END = "<!-- bench-table -->", "<!-- /bench-table -->"
SCALE = RESULTS / "scale-companies.json"
SCALE_START, SCALE_END = "<!-- scale-limits -->", "<!-- /scale-limits -->"


def load_results(folder=RESULTS):
    """``{name: data}`` of every ``bench-*.json`` of ``folder``, by name."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("bench-*.json"))}


def cell(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def render_table(results):
    lines = [
        "| Result file | Sizes | Figure | Value | Target | Verdict "
        "| Run (UTC, commit, load 1 min start→end) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, data in results.items():
        load_start = (data.get("load_start") or ["?"])[0]
        load_end = (data.get("load_end") or ["?"])[0]
        run = f"{data.get('date', '?')}, {data.get('commit', '?')}, {load_start}→{load_end}"
        sizes = ", ".join(f"{key} {cell(value)}" for key, value in data.get("sizes", {}).items())
        for figure, target in data.get("targets", {}).items():
            verdict = "PASS" if target.get("ok") else "FAIL"
            lines.append(
                f"| `{name}.json` | {sizes} | {cell(figure)} | {cell(target.get('value'))} | "
                f"{cell(target.get('target'))} | {verdict} | {run} |"
            )
    return "\n".join(lines)


def provenance(data):
    """``(date, commit, cpus, load start→end)`` of a scale run (older files: ``machine``
    holds the date, CPUs and the load at the end, and no commit)."""
    machine = data.get("machine")
    if isinstance(machine, dict):
        load_end = (machine.get("load") or ["?"])[0]
        return (
            machine.get("when", "?")[:10],
            "not recorded",
            machine.get("cpus", "?"),
            f"{load_end:.1f} at the end" if isinstance(load_end, float) else "?",
        )
    load_start = (data.get("load_start") or ["?"])[0]
    load_end = (data.get("load_end") or ["?"])[0]
    cpus = (machine or "").split(" cpu")[0].rsplit(" ", 1)[-1] or "?"
    return data.get("date", "?")[:10], data.get("commit", "?"), cpus, f"{load_start}→{load_end}"


def render_scale(data):
    """The "Limits, on paper" text: provenance, sizes, the table of figures, and what one
    company's budget would carry against what the job node imported."""
    size, summary = data["size"], data["summary"]
    date, commit, cpus, load = provenance(data)
    workers = f" (`--workers={data['job_workers']}`)" if data.get("job_workers") else ""
    intro = (
        f"Measured by `tests/bench/bench_companies.py` ({date}, commit {commit}, {cpus} "
        f"cores, 1-minute load {load}; other work shared the machine): one job node"
        f"{workers} with the job role's channels, {size['companies']} companies × "
        f"{size['invoices']} invoices, each connection's budget {size['budget']} per "
        f"{size['period']} s, the cron's polls spread over {size['spread']} s; company 0 "
        "revoked, company 1 facing a 503 storm."
    )
    if not summary.get("full_size"):
        intro += (
            " **Reduced size** (the issue's size is 20 × 200: "
            "`python3 tests/bench/bench_companies.py --template <db>`)."
        )
    postgres = summary.get("postgres_per_invoice") or {}
    # companies 0 and 1 are the revoked and the 503 storm: the others are healthy
    healthy = len(data["companies"]) - 2
    per_invoice = summary["requests_per_invoice"]
    rows = [
        (
            "total time, cron to the last healthy company fully imported",
            f"{cell(summary['total_time_s'])} s",
        ),
        (f"invoices imported ({healthy} healthy companies)", cell(summary["invoices_imported"])),
        (
            "one job node sustained",
            f"{cell(summary['invoices_per_hour'])} invoices/hour, "
            f"{cell(summary['requests_per_minute'])} Wave requests/minute "
            f"({cell(per_invoice)} requests per invoice)",
        ),
        (
            f"most requests of one company in any {size['period']} s window",
            f"{cell(summary['max_requests_per_company_per_window'])} (the budget's bound: "
            f"{cell(summary['budget_bound_per_window'])}); 429 answers: "
            f"{cell(summary['status_429'])}",
        ),
        ("first requests of the companies spread over", f"{cell(summary['start_span_s'])} s"),
        (
            "slowest company: first request after its scheduled start",
            f"{cell(summary['slowest_start_delay_s'])} s",
        ),
        (
            "slowest company: fully imported after its scheduled start",
            f"{cell(summary['slowest_done_after_scheduled_s'])} s",
        ),
        (
            "revoked company / 503 storm",
            f"connection {summary['revoked_state']} / {cell(summary['storm_503'])} answers "
            "503, retried by its own jobs",
        ),
        (
            "PostgreSQL per imported invoice (`pg_stat_database`, all nodes)",
            ", ".join(
                f"{cell(postgres[key])} {label}"
                for key, label in (
                    ("xact_commit", "commits"),
                    ("tup_inserted", "rows inserted"),
                    ("tup_updated", "updated"),
                    ("blks_hit", "blocks hit"),
                    ("blks_read", "read"),
                )
                if key in postgres
            ),
        ),
    ]
    table = ["| figure | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    budget_per_minute = size["budget"] * 60 / size["period"]
    carried = round(budget_per_minute / per_invoice) if per_invoice else None
    imported_per_minute = round(summary["invoices_per_hour"] / 60)
    side = "above" if carried is not None and carried > imported_per_minute else "not above"
    capacity = (
        f"At {cell(per_invoice)} requests per invoice, one company's budget "
        f"({size['budget']} per {size['period']} s) would carry about {carried} invoices a "
        f"minute, {side} the {imported_per_minute} a minute the job node imported for all "
        "companies together."
    )
    return "\n\n".join([intro, "\n".join(table), capacity])


def render_block(text, start_mark, end_mark, body):
    start, end = text.index(start_mark) + len(start_mark), text.index(end_mark)
    return text[:start] + "\n" + body + "\n" + text[end:]


def render_readme(text, results, scale=None):
    """README.md's text with both blocks written (``scale``: the scale-companies data,
    read from its file when not given)."""
    text = render_block(text, START, END, render_table(results))
    scale = scale if scale is not None else json.loads(SCALE.read_text())
    return render_block(text, SCALE_START, SCALE_END, render_scale(scale))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    args = ap.parse_args()
    text = README.read_text()
    rendered = render_readme(text, load_results())
    if args.check:
        if rendered != text:
            print(
                "README.md's benchmark figures differ from docs/results: run scripts/bench_table.py"
            )
            return 1
        return 0
    if rendered != text:
        README.write_text(rendered)
        print("README.md: benchmark figures rewritten from docs/results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
