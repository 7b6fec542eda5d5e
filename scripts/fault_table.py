#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The fault matrix's table: ``artifacts/fault-matrix.json`` -> docs/results -> README.md.

``tests/reliability/test_fault_matrix.py`` writes ``artifacts/fault-matrix.json`` (one
row per scenario, with what the sandbox's logs and the database showed). ``--publish``
writes it to ``docs/results/fault-matrix-<size>.json`` with the commit, date and
machine of the run (``--commit`` / ``--date`` name a run made from another checkout;
the date defaults to the file's time). Then, and by default, the block between
``<!-- fault-matrix-table -->`` and ``<!-- /fault-matrix-table -->`` in README.md is
written from the published files; ``--check`` changes nothing and exits 1 when README.md
differs from them (``tests/foundation/test_fault_table.py`` does the same).

The webhook load test of the same run (``artifacts/webhook-load.json``, found beside the
matrix's file) is published with it as ``docs/results/webhook-load-<size>.json`` and
written between ``<!-- webhook-load -->`` and ``<!-- /webhook-load -->``.

    python3 scripts/fault_table.py [--publish [artifacts/fault-matrix.json] [--commit C]]
    python3 scripts/fault_table.py --check
"""

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from security_table import _commit  # a sibling script, not a package

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "results"
START, END = "<!-- fault-matrix-table -->", "<!-- /fault-matrix-table -->"
LOAD_START, LOAD_END = "<!-- webhook-load -->", "<!-- /webhook-load -->"
SIZES = ("ci", "full")


def load_results(folder=RESULTS, name="fault-matrix"):
    """``{size: data}`` of the published ``<name>-<size>.json`` files."""
    found = {}
    for size in SIZES:
        path = folder / f"{name}-{size}.json"
        if path.exists():
            found[size] = json.loads(path.read_text())
    return found


def load_load_results(folder=RESULTS):
    """``{size: data}`` of the published ``webhook-load-<size>.json`` files."""
    return load_results(folder, "webhook-load")


def cell(value):
    return str(value).replace("|", "\\|")


def counts(mapping):
    """``{"a": 2, "b": 1}`` -> ``a 2, b 1``; ``-`` when empty."""
    return ", ".join(f"{key} {value}" for key, value in sorted((mapping or {}).items())) or "-"


def evidence(row):
    """What the sandbox's logs and the database showed besides the fired faults."""
    parts = [f"error: {row['error']}"] if row.get("error") else []
    if "revoke" in row:
        revoke = row["revoke"]
        parts.append(
            f"revoked with {revoke['chunks_started_at_revoke']} chunk started; refresh "
            f"refused {revoke['refresh_refused']}, granted {revoke['refresh_granted']}; "
            f"{revoke['requests_refused']} requests refused"
        )
    if "webhooks" in row:
        hooks = row["webhooks"]
        parts.append(
            f"{hooks['posts']} webhook posts ({counts(hooks['answers'])}); "
            f"{hooks['duplicated']} duplicated, {hooks['duplicated_one_row_counted']} kept once; "
            f"{hooks['reordered']} out of order, {hooks['reordered_done']} done"
        )
    if "kill" in row:
        kill = row["kill"]
        parts.append(
            f"{kill['started_at_kill']} jobs started at the kill, "
            f"{kill['rerun_after_runner_requeue']} re-run after queue_job's requeue"
        )
    if row.get("refreshes_seen_by_wave"):
        parts.append(f"{row['refreshes_seen_by_wave']} refreshes seen by Wave")
    drops = (row.get("fired_on_mutations") or {}).get("drop_after")
    if drops:
        parts.append(f"drops on {counts(drops)}")
    errors = (row.get("fired_on_mutations") or {}).get("http_error")
    if errors:
        parts.append(f"5xx on {counts(errors)}")
    if "retry_after" in row:
        waited = row["retry_after"]
        early = len(waited["sent_again_before_retry_after"]) + len(
            waited["others_before_retry_after"]
        )
        parts.append(
            f"{waited['rate_limited']} answered 429 (Retry-After "
            f"{'/'.join(f'{s:g}' for s in waited['retry_after'])} s), {early} requests before "
            f"it elapsed, sent again after {waited['shortest_wait_before_sent_again']} s at least"
        )
    if not parts:
        parts = row.get("notes") or []
    return "; ".join(parts) or "-"


def quarantined(row):
    """Open quarantine entries, and how many the expected review list named (realistic
    workload: the records that by design cannot be booked without a person)."""
    count = row.get("quarantined", "?")
    if "expected_review" not in row:
        return count
    return f"{count} ({len(row['expected_review'])} expected)"


def render_table(data):
    """One scenario a row."""
    lines = [
        "| fault | passed | records | fired (sandbox) | retries | quarantined | duplicates "
        "| lost | parity differences | s | evidence |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in data["runs"]:
        records = row.get("records") or {}
        fired = row.get("faults_fired", "?")
        if "fired_by_kind" in row:
            fired = counts(row["fired_by_kind"])
        values = (
            row["label"],
            "yes" if row.get("passed") else "**no**",
            "{}+{}+{}".format(
                records.get("imported", "?"),
                records.get("exported_invoices", "?"),
                records.get("bills_paid", "?"),
            ),
            fired,
            row.get("retries", "?"),
            quarantined(row),
            row.get("duplicates", "?"),
            row.get("lost", "?"),
            row.get("parity_differences", "?"),
            row.get("seconds", "?"),
            evidence(row),
        )
        lines.append("| " + " | ".join(cell(value) for value in values) + " |")
    return "\n".join(lines)


def render_run(size, data):
    machine = data.get("machine") or {}
    intro = (
        f"Size `{size}` (`{data['source']}`), commit {data['commit'][:10]}, {data['date']}, "
        f"{machine.get('cpus', '?')} cores ({machine.get('system', '?')}); records = "
        "invoices imported + invoices exported + bills paid; parity = the independent "
        "parity check's differences; fired = the sandbox's fault log per kind."
    )
    matrix = data.get("matrix") or {}
    if matrix.get("wall_s"):
        busy = matrix.get("processors_busy")
        intro += (
            f" The whole run took {matrix['wall_s'] / 60:.1f} min, {matrix.get('parallel')} "
            "scenarios side by side"
            + (f", the processors {busy:.0%} busy" if busy is not None else "")
            + (
                f", after {matrix['drafts_template_s']:.0f} s typing in the accountant's drafts"
                if matrix.get("drafts_template_s") is not None
                else ""
            )
            + "."
        )
    if data.get("note"):
        intro += f" {data['note']}"
    return intro + "\n\n" + render_table(data)


def render_load(size, data):
    """The webhook load test of a run, in words, from its published file."""
    load, events, machine = data["load"], data["events"], data.get("machine") or {}
    twice = load["deliveries"] - load["distinct_events"]
    attempts = ", ".join(
        f"{count} after {runs} job run{'s' if str(runs) != '1' else ''}"
        for runs, count in sorted((events.get("attempts") or {}).items())
    )
    during = (
        "during the historical import"
        if data.get("import_running_during_load")
        else "after the historical import had ended"
    )
    return (
        f"Webhook load, size `{size}` (`{data['source']}`), commit {data['commit'][:10]}, "
        f"{data['date']}, {machine.get('cpus', '?')} cores: {load['deliveries']} signed "
        f"deliveries ({load['distinct_events']} events, {twice} sent twice) at concurrency "
        f"{load['concurrency']} {during}, in {load['wall_s']} s "
        f"({load['per_s']} a second); answers {counts(load.get('statuses'))}; sender retries "
        f"{counts(load.get('sender_retries'))}. Odoo's database: {events['rows']} event rows "
        f"for {events['distinct']} distinct events (at most {events['rows_per_event_max']} per "
        f"event), {events['deliveries_recorded']} deliveries recorded, states "
        f"{counts(events.get('states'))}, processed {attempts}; independent parity "
        f"differences {data['parity_differences']}, duplicates {data['duplicates']}, lost "
        f"{data['lost']}." + (f" {data['note']}" if data.get("note") else "")
    )


def _replace_block(text, start_mark, end_mark, body):
    start, end = text.index(start_mark) + len(start_mark), text.index(end_mark)
    return text[:start] + "\n" + body + "\n" + text[end:]


def render_readme(text, results, load_results=None):
    body = "\n\n".join(render_run(size, data) for size, data in results.items())
    text = _replace_block(text, START, END, body)
    if load_results is None:
        load_results = load_load_results()
    if load_results:
        body = "\n\n".join(render_load(size, data) for size, data in load_results.items())
        text = _replace_block(text, LOAD_START, LOAD_END, body)
    return text


def publish(source, commit, date, note, name="fault-matrix", keys=("sizes", "runs", "matrix")):
    """Write ``docs/results/<name>-<size>.json``: ``keys`` of the run's file, with the
    commit, date and machine of the run."""
    data = json.loads(source.read_text())
    size = data.get("size", "ci")
    if date is None:
        mtime = datetime.datetime.fromtimestamp(source.stat().st_mtime, datetime.UTC)
        date = mtime.isoformat(timespec="seconds")
    published = {
        "commit": _commit(commit),
        "date": date,
        "machine": {
            "node": platform.node(),
            "system": f"{platform.system()} {platform.release()} {platform.machine()}",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "source": "tests/reliability/test_fault_matrix.py",
        "size": size,
        "note": note,
        **{key: data.get(key) for key in keys},
    }
    target = RESULTS / f"{name}-{size}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(published, indent=2, sort_keys=True) + "\n")
    print(f"written: {target.relative_to(ROOT)}")


LOAD_KEYS = (
    "load",
    "events",
    "import_running_during_load",
    "parity_differences",
    "duplicates",
    "lost",
    "jobs",
    "failed_jobs",
    "seconds",
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    parser.add_argument(
        "--publish",
        nargs="?",
        const=str(ROOT / "artifacts" / "fault-matrix.json"),
        help="write docs/results/fault-matrix-<size>.json from this run's file",
    )
    parser.add_argument("--commit", default="HEAD", help="the commit the run was made on")
    parser.add_argument("--date", help="when the run ended (default: the file's time)")
    parser.add_argument("--note", default="", help="a note kept in the published file")
    args = parser.parse_args(argv)
    if args.publish:
        source = Path(args.publish)
        if not source.exists():
            print(f"{source} not found: run the fault matrix first (make test).", file=sys.stderr)
            return 1
        publish(source, args.commit, args.date, args.note)
        load = source.parent / "webhook-load.json"
        if load.exists():
            publish(load, args.commit, args.date, args.note, "webhook-load", LOAD_KEYS)
    results = load_results()
    if not results:
        print("no docs/results/fault-matrix-*.json: publish a run first", file=sys.stderr)
        return 1
    text = README.read_text()
    rendered = render_readme(text, results)
    if args.check:
        if rendered != text:
            print(
                "README.md's fault matrix or webhook load differs from docs/results: "
                "run scripts/fault_table.py"
            )
            return 1
        return 0
    if rendered != text:
        README.write_text(rendered)
        print("README.md: fault matrix rewritten from docs/results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
