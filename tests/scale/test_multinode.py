"""Multi-node (issue 21): two HTTP nodes and one job node on one database.

Everything is checked from outside the addon: the sandbox's journal (requests per
token per window, 429s, token grants), the database (one event row each, no
duplicate records) and the independent parity check (plain GraphQL + SQL).
"""

from harness import ROOT
from reliability.e2e import json_dump
from reliability.fault_matrix import assert_expected_review

from .multinode import BUDGET, BUDGET_PERIOD, REFRESH_LEEWAY, TOKEN_TTL, MultiNodeScenario


def test_two_http_nodes_and_a_job_node(tmp_path, capsys):
    result = MultiNodeScenario(tmp_path).run()
    json_dump(ROOT / "artifacts" / "scale-multinode.json", result)
    with capsys.disabled():
        print(f"\n\nMulti-node: {result}\n")
    load, events, sandbox = result["load"], result["events"], result["sandbox"]
    # The roles: queue_job's runner on the job node only.
    runner = result["runner"]
    assert runner["job node"]["ready"] and runner["job node"]["jobs_dispatched"] > 0, runner
    for node in ("node A", "node B"):
        assert runner[node] == {"ready": False, "jobs_dispatched": 0}, runner
    assert len(result["kills"]) == 2, result["kills"]
    # Every delivery answered (202 new, 200 already received), by both nodes.
    assert set(load["statuses"]) <= {"200", "202"}, load
    assert sum(load["statuses"].values()) == load["deliveries"], load
    assert load["answered_by"].get("A") and load["answered_by"].get("B"), load
    assert result["import_running_during_load"], "the import finished before the load"
    # Every event recorded once and processed (done), whatever node took it.
    assert events["distinct"] == load["distinct_events"], events
    assert events["rows_per_event_max"] == 1, events
    assert events["states"] == {"done": load["distinct_events"]}, events
    assert events["deliveries_recorded"] == load["deliveries"], events
    # Nothing lost or doubled, books equal to Wave (independent check).
    assert result["parity_differences"] == 0, result.get("parity_lines")
    assert result["duplicates"] == 0 and result["lost"] == 0, result
    assert_expected_review(result)
    assert result["jobs"].get("failed", 0) == 0, result["jobs"]
    # One budget across the nodes: Wave never had to refuse a request, and in no
    # window did all nodes together send more than the budget lets through.
    assert sandbox["status_429"] == 0, sandbox
    for window, seen in sandbox["windows"].items():
        assert seen["peak"] <= seen["bound"], (window, sandbox)
    # The load was large enough for the budget to matter (the check could fail): in
    # some window the nodes sent more than a full bucket, so they ran on its refill.
    assert sandbox["windows"][str(BUDGET_PERIOD)]["peak"] > BUDGET, sandbox
    # One refresh per expiry across the nodes: never refused (a second refresh of a
    # rotated token would be), never two for one token's life.
    assert sandbox["refreshes"] >= 1, sandbox
    assert sandbox["refreshes_refused"] == 0, sandbox
    lifetime = TOKEN_TTL - REFRESH_LEEWAY
    assert all(gap >= lifetime - 2 for gap in sandbox["refresh_gaps_s"]), sandbox
    assert sandbox["refreshes"] <= sandbox["run_s"] / (lifetime - 2) + 1, sandbox
