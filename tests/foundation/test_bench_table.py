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
