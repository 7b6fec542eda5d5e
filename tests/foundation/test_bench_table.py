"""README.md's benchmark table is the one generated from docs/results/bench-*.json."""

import importlib.util
import json

from harness import ROOT

spec = importlib.util.spec_from_file_location("bench_table", ROOT / "scripts" / "bench_table.py")
bench_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_table)


def test_readme_bench_table_equals_the_result_files():
    text = (ROOT / "README.md").read_text()
    results = bench_table.load_results()
    assert results, "no docs/results/bench-*.json"
    assert bench_table.render_readme(text, results) == text, (
        "README.md's benchmark table differs from docs/results: run scripts/bench_table.py"
    )


def test_every_result_file_names_its_run_and_targets():
    for path in sorted((ROOT / "docs" / "results").glob("bench-*.json")):
        data = json.loads(path.read_text())
        for key in ("commit", "date", "machine", "load_start", "load_end", "sizes", "targets"):
            assert key in data, (path.name, key)
        for name, target in data["targets"].items():
            assert {"value", "target", "ok"} <= set(target), (path.name, name)
        # the table shows each target of the file
        table = bench_table.render_table({path.stem: data})
        assert len(table.splitlines()) == 2 + len(data["targets"]), path.name


def test_readme_scale_limits_are_generated_from_the_scale_result_file():
    """ "Limits, on paper" holds only the block written from scale-companies.json."""
    text = (ROOT / "README.md").read_text()
    data = json.loads(bench_table.SCALE.read_text())
    section = text[text.index("### Limits, on paper") :]
    heading_end = section.index("\n") + 1
    start = section.index(bench_table.SCALE_START)
    end = section.index(bench_table.SCALE_END) + len(bench_table.SCALE_END)
    # nothing hand-written between the heading, the block and what follows from it
    assert section[heading_end:start].strip() == ""
    assert section[end : section.index("What follows from it:")].strip() == ""
    block = section[start + len(bench_table.SCALE_START) : end - len(bench_table.SCALE_END)]
    assert block.strip() == bench_table.render_scale(data), (
        "README.md's scale figures differ from docs/results: run scripts/bench_table.py"
    )
    # the figures, with the run's provenance
    summary = data["summary"]
    for key in (
        "total_time_s",
        "invoices_per_hour",
        "requests_per_minute",
        "max_requests_per_company_per_window",
        "slowest_start_delay_s",
        "slowest_done_after_scheduled_s",
    ):
        assert bench_table.cell(summary[key]) in block, key
    date, commit, _cpus, _load = bench_table.provenance(data)
    assert f"({date}, commit {commit}," in block


def test_requests_per_exported_invoice_with_echoes_is_published():
    """Issue 17: the echo figure comes from a committed bench_sync run, in the README."""
    data = json.loads((ROOT / "docs" / "results" / "bench-sync.json").read_text())
    echo = data["targets"]["requests_per_exported_invoice_with_echoes"]
    # echoes were processed in that run, and the figure counts them
    assert data["sizes"]["echo_events"] > 0, data["sizes"]
    assert echo["value"] >= data["targets"]["requests_per_exported_invoice"]["value"]
    row = bench_table.render_table({"bench-sync": data}).splitlines()
    assert any("requests_per_exported_invoice_with_echoes" in line for line in row)
    text = (ROOT / "README.md").read_text()
    block = text[text.index(bench_table.START) : text.index(bench_table.END)]
    assert f"| requests_per_exported_invoice_with_echoes | {bench_table.cell(echo['value'])} |" in (
        block
    )
