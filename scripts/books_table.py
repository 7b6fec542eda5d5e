#!/usr/bin/env python3
"""Issue 16's before/after table: do the books match Wave on realistic data?

Runs the acceptance test (``tests/acceptance``, through ``scripts/test.sh``: fresh
databases, default settings, realistic sandbox, real Odoo with its job runner), then
writes a summary JSON (commit, date, machine, sizes: Wave invoices, booked,
quarantined by reason, parity differences by kind, the acceptance tests' verdicts)
and prints the markdown table against the "before" figures.

    python3 scripts/books_table.py --run                  # -> docs/results/books-match.json
    python3 scripts/books_table.py --run --out docs/results/books-match-before.json
    python3 scripts/books_table.py --table                # before vs after, no run
    python3 scripts/books_table.py --from artifacts/books-match.json  # summarise a run
    python3 scripts/books_table.py --run --branches books1,books2  # record merged fix heads

``WAVE_HTTP_PORT`` is passed on to the test run.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
BEFORE = RESULTS / "books-match-before.json"
AFTER = RESULTS / "books-match.json"
TEST_PATH = "tests/acceptance"
STAGES = (("after_sync", "after import + changes"), ("after_fixes", "after the quarantine's fixes"))


def git(*args):
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine():
    try:
        import odoo.release

        odoo_version = odoo.release.version
    except Exception:  # Odoo not importable here: the figure is only informative
        odoo_version = None
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "odoo": odoo_version,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def run_acceptance(artifact):
    """``make test ARGS=tests/acceptance``; returns (exit code, {test: outcome}, seconds)."""
    env = dict(os.environ, WAVE_BOOKS_ARTIFACT=str(artifact))
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "scripts/test.sh", TEST_PATH, "-q", "-rA", "-p", "no:warnings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    outcomes = {}
    for line in done.stdout.splitlines():
        found = re.match(r"(PASSED|FAILED|ERROR) \S+::(\w+)", line)
        if found:
            outcomes[found[2]] = found[1].lower()
    if not outcomes:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return done.returncode, outcomes, round(time.monotonic() - started, 1)


def merged_branches(names):
    """``{branch: {head, merged}}``: which heads of the fix branches this run contains."""
    found = {}
    for name in names:
        head = git("rev-parse", "--verify", "-q", name)
        if head:
            merged = subprocess.run(
                ["git", "merge-base", "--is-ancestor", head, "HEAD"], cwd=ROOT, check=False
            ).returncode
            found[name] = {"head": head, "merged": merged == 0}
    return found


def summarise(raw, tests=None, exit_code=None, seconds=None, branches=()):
    """The figures of one run, from the acceptance test's artefact."""
    summary = {
        "fix_branches": merged_branches(branches),
        "commit": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scenario": {
            "company_currency": raw.get("company_currency"),
            "realistic_cases": raw.get("cases"),
            "changes_in_wave": raw.get("changes"),
            "fixes_applied": raw.get("fixes"),
            "replay_errors": raw.get("replay_errors"),
            "steps_seconds": dict(raw.get("steps") or []),
            "run_seconds": raw.get("seconds"),
            "error": raw.get("error"),
        },
        "acceptance_tests": tests,
        "acceptance_exit_code": exit_code,
        "wall_seconds": seconds,
    }
    for stage, _label in STAGES:
        data = raw.get(stage)
        if not data:
            summary[stage] = None
            continue
        summary[stage] = {
            "wave_invoices": data["wave_invoices"],
            "wave_invoices_not_draft": data["wave_posted"],
            "booked": data["booked"],
            "quarantined_invoices": data["quarantined_invoices"],
            "quarantine_open_entries": data["quarantine_open"],
            "quarantined_by_reason": data["quarantined_by_reason"],
            "parity_differences": len(data["differences"]),
            "parity_differences_by_kind": data["differences_by_kind"],
            "quarantine": [
                {k: e[k] for k in ("number", "currency", "kind", "reasons")}
                for e in data["quarantine"]
            ],
            "differences": data["differences"],
        }
    return summary


def _cell(summary, stage, key, sub=None):
    data = (summary or {}).get(stage)
    if not data:
        return "-"
    value = data.get(key)
    if sub is not None:
        value = (value or {}).get(sub, 0)
    return str(value)


def table(before, after):
    """Markdown: one row per figure, a column per run and stage."""
    reasons = sorted(
        {
            reason
            for summary in (before, after)
            for stage, _ in STAGES
            for reason in ((summary or {}).get(stage) or {}).get("quarantined_by_reason", {})
        }
    )
    kinds = sorted(
        {
            kind
            for summary in (before, after)
            for stage, _ in STAGES
            for kind in ((summary or {}).get(stage) or {}).get("parity_differences_by_kind", {})
        }
    )
    columns = [
        (summary, stage, f"{name}, {label}")
        for summary, name in ((before, "before"), (after, "after"))
        for stage, label in STAGES
    ]
    lines = [
        "| figure | " + " | ".join(c[2] for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]

    def row(label, key, sub=None):
        cells = [_cell(s, stage, key, sub) for s, stage, _ in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("Wave invoices (not drafts)", "wave_invoices_not_draft")
    row("booked in Odoo", "booked")
    row("quarantined invoices", "quarantined_invoices")
    for reason in reasons:
        row(f"&nbsp;&nbsp;quarantined: {reason}", "quarantined_by_reason", reason)
    row("parity differences", "parity_differences")
    for kind in kinds:
        row(f"&nbsp;&nbsp;{kind}", "parity_differences_by_kind", kind)
    tests = [
        f"{s['commit'][:10]}: "
        + (
            ", ".join(f"{t} {o}" for t, o in sorted((s.get("acceptance_tests") or {}).items()))
            or "no verdicts"
        )
        for s in (before, after)
        if s
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {t}" for t in tests)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the acceptance test first")
    parser.add_argument("--from", dest="source", help="summarise this artefact (no run)")
    parser.add_argument("--out", default=str(AFTER), help="summary JSON to write")
    parser.add_argument("--table", action="store_true", help="only print the table")
    parser.add_argument(
        "--branches", default="", help="comma-separated fix branches: record their merged heads"
    )
    parser.add_argument("--before", default=str(BEFORE))
    parser.add_argument("--after", default=str(AFTER))
    args = parser.parse_args()
    if args.run or args.source:
        if args.run:
            artifact = Path(tempfile.mkdtemp(prefix="books-")) / "books-match.json"
            exit_code, tests, seconds = run_acceptance(artifact)
        else:
            artifact, exit_code, tests, seconds = Path(args.source), None, None, None
        if not artifact.exists():
            sys.exit(f"no artefact at {artifact}: the acceptance test did not run")
        branches = [b for b in args.branches.split(",") if b]
        raw = json.loads(artifact.read_text())
        summary = summarise(raw, tests, exit_code, seconds, branches)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"written {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
        if out.resolve() != Path(args.before).resolve():
            args.after = str(out)
    load = {}
    for name in ("before", "after"):
        path = Path(getattr(args, name))
        load[name] = json.loads(path.read_text()) if path.exists() else None
    if Path(args.before).resolve() == Path(args.after).resolve():
        load["after"] = None
    print(table(load["before"], load["after"]))


if __name__ == "__main__":
    main()
