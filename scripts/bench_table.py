#!/usr/bin/env python3
"""Write README.md's benchmark table from ``docs/results/bench-*.json`` (never paste figures).

The block between ``<!-- bench-table -->`` and ``<!-- /bench-table -->`` in README.md is
replaced by one row per target of every ``docs/results/bench-*.json`` (written by
``make bench``): file, sizes, figure, value, target, verdict, and the date, commit and
load of the run. ``--check``: change nothing, exit 1 when the block differs from the files
(``tests/foundation/test_bench_table.py`` does the same).

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


def render_readme(text, results):
    start, end = text.index(START) + len(START), text.index(END)
    return text[:start] + "\n" + render_table(results) + "\n" + text[end:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    args = ap.parse_args()
    text = README.read_text()
    rendered = render_readme(text, load_results())
    if args.check:
        if rendered != text:
            print(
                "README.md's benchmark table differs from docs/results: run scripts/bench_table.py"
            )
            return 1
        return 0
    if rendered != text:
        README.write_text(rendered)
        print("README.md: benchmark table rewritten from docs/results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
