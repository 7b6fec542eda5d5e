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
        _give_pages_time_to_load()


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


# What a browser test waits for its first page: the first page of a fresh database
# builds the asset bundles, which took over Odoo's 60 s on the loaded 2-core machine
# (a tour failed with "The ready code was always falsy" before any step ran).
PAGE_READY_TIMEOUT = 240


def _give_pages_time_to_load():
    """Raise the time Odoo's ChromeBrowser gives a page to become ready (60 s) to
    ``PAGE_READY_TIMEOUT``; what must be ready and every tour step's own timeout are
    unchanged."""
    from odoo.tests import common as odoo_test_common

    browser = odoo_test_common.ChromeBrowser
    wait_ready = browser._wait_ready

    def _wait_ready(self, ready_code=None, timeout=60):
        return wait_ready(self, ready_code, timeout=max(timeout, PAGE_READY_TIMEOUT))

    browser._wait_ready = _wait_ready


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
