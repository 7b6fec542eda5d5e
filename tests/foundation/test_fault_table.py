"""README.md's fault matrix table is the one generated from docs/results/fault-matrix-*.json."""

import importlib.util

from harness import ROOT

spec = importlib.util.spec_from_file_location("fault_table", ROOT / "scripts" / "fault_table.py")
fault_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fault_table)


def test_readme_fault_table_equals_the_result_files():
    text = (ROOT / "README.md").read_text()
    results = fault_table.load_results()
    assert "ci" in results, "no docs/results/fault-matrix-ci.json"
    assert fault_table.render_readme(text, results) == text, (
        "README.md's fault matrix differs from docs/results: run scripts/fault_table.py"
    )


def test_every_result_file_names_its_run_and_each_scenario():
    for size, data in fault_table.load_results().items():
        for key in ("commit", "date", "machine", "size", "runs"):
            assert data.get(key), (size, key)
        assert data["size"] == size
        assert len(data["commit"]) == 40, data["commit"]  # a commit, not a branch name
        # one row per scenario, each in the table
        table = fault_table.render_table(data)
        assert len(table.splitlines()) == 2 + len(data["runs"]), size
        for row in data["runs"]:
            assert f"| {row['label']} |" in table


def test_a_hand_edited_figure_fails(tmp_path):
    text = (ROOT / "README.md").read_text()
    results = fault_table.load_results()
    block = text[text.index(fault_table.START) : text.index(fault_table.END)]
    row = next(line for line in block.splitlines() if line.startswith("| no fault"))
    edited = text.replace(row, row.replace("| yes |", "| no |", 1))
    assert edited != text
    assert fault_table.render_readme(edited, results) != edited


def test_webhook_load_is_the_published_run():
    text = (ROOT / "README.md").read_text()
    loads = fault_table.load_load_results()
    assert "ci" in loads, "no docs/results/webhook-load-ci.json"
    data = loads["ci"]
    for key in ("commit", "date", "machine", "load", "events"):
        assert data.get(key), key
    assert len(data["commit"]) == 40, data["commit"]
    block = text[text.index(fault_table.LOAD_START) : text.index(fault_table.LOAD_END)]
    assert fault_table.render_load("ci", data) in block
    # A hand-edited figure of the load is found.
    sentence = f"{data['load']['deliveries']} signed deliveries"
    assert sentence in block
    edited = text.replace(sentence, f"{data['load']['deliveries'] + 1} signed deliveries", 1)
    assert fault_table.render_readme(edited, fault_table.load_results()) != edited
    assert fault_table.render_readme(text, fault_table.load_results()) == text


def test_quarantine_cell_says_how_many_were_expected():
    row = {"quarantined": 7, "expected_review": {"INV-1": ["currency"], "INV-2": ["contact"]}}
    assert fault_table.quarantined(row) == "7 (2 expected)"
    assert fault_table.quarantined({"quarantined": 0}) == 0
