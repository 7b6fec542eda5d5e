#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The attack table of the security tests: ``artifacts/security.json`` -> Markdown.

The security tests count every attempt themselves, from what they observed (HTTP
statuses, ORM exceptions, rows compared with SQL before and after), and write
``artifacts/security.json`` during ``make test``
(``wave_accounting_integration/tests/security_tally.py``). This script prints the
closing note's table and, with ``--publish``, writes ``docs/results/security.json``
with the commit, date and machine of the run.

    python3 scripts/security_table.py [artifacts/security.json ...] [--publish]

Several files (runs) are added up; each run is listed in the published file.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commit(ref="HEAD"):
    """The full hash of ``ref`` in this checkout (``unknown`` outside git)."""
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", ref],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def rows(data):
    """``[(attack, tried, refused, accepted, server errors, leaks)]``, sorted."""
    result = []
    for attack, counts in sorted(data["attacks"].items()):
        tried = sum(counts.values())
        result.append(
            (
                attack,
                tried,
                counts.get("refused", 0),
                counts.get("accepted", 0),
                counts.get("server_error", 0),
                counts.get("leak", 0),
            )
        )
    return result


def markdown(data):
    lines = [
        "| Attack class | Tried | Refused cleanly | Allowed (own company/role) | 5xx | Leaks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    total = [0] * 5
    for attack, *numbers in rows(data):
        total = [a + b for a, b in zip(total, numbers, strict=True)]
        lines.append(f"| {attack} | " + " | ".join(str(n) for n in numbers) + " |")
    lines.append("| **Total** | " + " | ".join(f"**{n}**" for n in total) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=[str(ROOT / "artifacts" / "security.json")])
    parser.add_argument("--publish", action="store_true", help="write docs/results/security.json")
    parser.add_argument("--note", default="", help="a note kept in the published file")
    args = parser.parse_args(argv)
    data = {"runs": [], "attacks": {}}
    for name in args.sources:
        source = Path(name)
        if not source.exists():
            print(f"{source} not found: run the security tests first (make test).", file=sys.stderr)
            return 1
        part = json.loads(source.read_text())
        data["runs"].append(part.get("run"))
        for attack, counts in part["attacks"].items():
            merged = data["attacks"].setdefault(attack, {})
            for outcome, value in counts.items():
                merged[outcome] = merged.get(outcome, 0) + value
    print(markdown(data))
    if args.publish:
        published = {
            "commit": _commit(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": {
                "node": platform.node(),
                "system": f"{platform.system()} {platform.release()}",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
            "runs": data["runs"],
            "note": args.note,
            "outcomes": {
                "refused": "an access/user/validation error or a 4xx, database unchanged",
                "accepted": "allowed for that role and company (own records), and worked",
                "server_error": "a 5xx or an unexpected exception",
                "leak": "database changed after a refusal, or another company's data or a "
                "secret in the answer",
            },
            "attacks": data["attacks"],
            "table": [
                dict(
                    zip(
                        ("attack", "tried", "refused", "accepted", "server_errors", "leaks"),
                        row,
                        strict=True,
                    )
                )
                for row in rows(data)
            ],
        }
        target = ROOT / "docs" / "results" / "security.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(published, indent=2, sort_keys=True) + "\n")
        print(f"\nwritten: {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
