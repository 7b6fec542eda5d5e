"""Project-wide pytest rules.

A skipped test is a failed test here: the suite must exercise everything it
claims, so any skip turns the run red with the reasons listed.
"""

import os
import sys

TESTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests")
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # the Wave sandbox package (wave_sandbox) lives there


def pytest_sessionstart(session):
    if session.config.pluginmanager.hasplugin("odoo"):  # pytest-odoo: Odoo in test mode
        _give_chrome_time_to_start()


def _give_chrome_time_to_start():
    """Odoo *skips* a browser test when Chrome has not opened its DevTools port within
    10 s (``CHECK_BROWSER_ITERATIONS`` x 0.1 s). On a loaded 2-core machine Chrome can
    take longer, and a skip fails the run: wait up to 60 s instead (read at each start)."""
    # imported here, once pytest-odoo has put Odoo in test mode
    from odoo.tests import common as odoo_test_common

    odoo_test_common.CHECK_BROWSER_ITERATIONS = 600
    odoo_test_common.BROWSER_WAIT = (
        odoo_test_common.CHECK_BROWSER_SLEEP * odoo_test_common.CHECK_BROWSER_ITERATIONS
    )


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
