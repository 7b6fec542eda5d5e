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
SIZES = ("ci", "full")


def load_results(folder=RESULTS):
    """``{size: data}`` of the published ``fault-matrix-<size>.json`` files."""
    found = {}
    for size in SIZES:
        path = folder / f"fault-matrix-{size}.json"
        if path.exists():
            found[size] = json.loads(path.read_text())
    return found


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
            row.get("quarantined", "?"),
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
    if data.get("note"):
        intro += f" {data['note']}"
    return intro + "\n\n" + render_table(data)


def render_readme(text, results):
    start, end = text.index(START) + len(START), text.index(END)
    body = "\n\n".join(render_run(size, data) for size, data in results.items())
    return text[:start] + "\n" + body + "\n" + text[end:]


def publish(source, commit, date, note):
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
        "sizes": data.get("sizes"),
        "note": note,
        "runs": data["runs"],
    }
    target = RESULTS / f"fault-matrix-{size}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(published, indent=2, sort_keys=True) + "\n")
    print(f"written: {target.relative_to(ROOT)}")


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
    results = load_results()
    if not results:
        print("no docs/results/fault-matrix-*.json: publish a run first", file=sys.stderr)
        return 1
    text = README.read_text()
    rendered = render_readme(text, results)
    if args.check:
        if rendered != text:
            print("README.md's fault matrix differs from docs/results: run scripts/fault_table.py")
            return 1
        return 0
    if rendered != text:
        README.write_text(rendered)
        print("README.md: fault matrix rewritten from docs/results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
