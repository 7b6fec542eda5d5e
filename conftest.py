"""Project-wide pytest rules.

A skipped test is a failed test here: the suite must exercise everything it
claims, so any skip turns the run red with the reasons listed.
"""

import os
import sys

TESTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests")
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # the Wave sandbox package (wave_sandbox) lives there


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(
            f"FAILING THE RUN: {len(skipped)} test(s) were skipped; skips are not allowed.",
            red=True,
            bold=True,
        )
        session.exitstatus = 1
