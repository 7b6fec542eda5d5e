# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every Wave menu opened in headless Chromium by the administrator.

The menus are read from the database (every ``ir.ui.menu`` under the Wave root
that has an action), not listed by hand. Each screen is opened the way a click
on the menu opens it; the test fails on a server error logged meanwhile, on a
browser console error (the test browser turns them into failures) and on a
title, label, column or value that reads like a technical name
(``screen_checks.TECHNICAL_PATTERNS``, ``LABEL_PATTERNS``), and when the web client's websocket
(the bus) does not connect. A screenshot of each screen is kept in
``$WAVE_ARTIFACTS/screenshots/menu_<xmlid>.png`` (default ``<repo>/artifacts``).
"""

import base64
import json
import logging
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .screen_checks import CONNECTION_FORM_JS, OPEN_MENU_JS, SCREENSHOTS, technical_words
from .test_tour_ui import WaveTourCase


class _ServerErrors(logging.Handler):
    """Errors logged by the server (tracebacks included) while the browser runs."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        # The browser's own console errors are reported by the test browser.
        if ".browser" not in record.name:
            self.records.append(record)


@tagged("post_install", "-at_install")
class TestWaveMenus(WaveTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.admin.groups_id |= cls.env.ref("wave_accounting_integration.group_wave_admin")
        # The administrator works in the company the Wave connection belongs to.
        company = cls.connection.company_id
        cls.admin.write({"company_ids": [(4, company.id)], "company_id": company.id})

    def _menus(self, user=None):
        root = self.env.ref("wave_accounting_integration.menu_wave_root")
        visible = self.env["ir.ui.menu"].with_user(user or self.admin)._visible_menu_ids()
        menus = self.env["ir.ui.menu"].search(
            [("id", "child_of", root.id), ("action", "!=", False)]
        )

        def shown(menu):
            # the menu and every menu above it (a hidden folder hides what it holds)
            while menu and menu != root.parent_id:
                if menu.id not in visible:
                    return False
                menu = menu.parent_id
            return True

        return menus.filtered(shown)

    def _open(self, url, code, name):
        """Run ``code`` in the browser on ``url``; screenshot when done; the screen's texts."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        path.unlink(missing_ok=True)
        original_stop = ChromeBrowser.stop
        original_console = ChromeBrowser._handle_console
        lines = []

        def stop(browser):
            try:
                future = browser._websocket_send("Page.captureScreenshot", with_future=True)
                path.write_bytes(base64.b64decode(future.result(timeout=30)["data"]))
            finally:
                original_stop(browser)

        def handle_console(browser, type, args=None, **kw):  # pylint: disable=redefined-builtin
            if args:
                lines.append(str(browser._from_remoteobject(args[0])))
            return original_console(browser, type, args=args, **kw)

        errors = _ServerErrors()
        odoo_logger = logging.getLogger("odoo")
        odoo_logger.addHandler(errors)
        try:
            with (
                patch.object(ChromeBrowser, "stop", stop),
                patch.object(ChromeBrowser, "_handle_console", handle_console),
            ):
                self.browser_js(
                    url,
                    code,
                    ready="odoo.isReady",
                    login="admin",
                    timeout=120,
                )
        finally:
            odoo_logger.removeHandler(errors)
        self.assertFalse(
            errors.records,
            f"{name}: server errors: {[r.getMessage()[:300] for r in errors.records]}",
        )
        self.assertTrue(path.is_file(), path)
        self.assertGreater(path.stat().st_size, 5000, "a real screenshot, not an empty file")
        screens = [line for line in lines if line.startswith("WAVE_SCREEN ")]
        self.assertEqual(len(screens), 1, f"{name}: the screen reported no texts")
        self.assertIn("WAVE_BUS CONNECTED", lines, f"{name}: the websocket did not connect")
        labels = [line for line in lines if line.startswith("WAVE_LABELS ")]
        self.assertEqual(len(labels), 1, f"{name}: the screen reported no labels")
        texts = json.loads(screens[0][len("WAVE_SCREEN ") :])
        self._labels[name] = json.loads(labels[0][len("WAVE_LABELS ") :])
        return texts, lines

    _labels = {}

    def _technical(self, texts, labels=()):
        return technical_words(texts, labels)

    def test_every_wave_menu_opens_in_plain_words(self):
        menus = self._menus()
        # Every screen the Wave menu offers, read from the database: a short menu
        # (the technical logs are in developer mode only; the go-live checklist and
        # the comparison with Wave are buttons of the dashboard, the export file is
        # imported from the Import from Wave screen).
        self.assertEqual(len(menus), 12, menus.mapped("complete_name"))
        accountant_menus = self._menus(self.wave_accountant)
        self.assertEqual(len(accountant_menus), 9, accountant_menus.mapped("complete_name"))
        self.assertFalse(self._technical(menus.mapped("name"), menus.mapped("name")))
        found = {}
        for menu in menus:
            xmlid = menu.get_external_id()[menu.id].split(".")[-1] or f"menu_{menu.id}"
            with self.subTest(menu=menu.complete_name):
                texts, _lines = self._open(
                    "/odoo", OPEN_MENU_JS % {"menu_id": menu.id, "extra": ""}, xmlid
                )
                found[menu.complete_name] = self._technical(texts, self._labels[xmlid])
        self.assertEqual({name: bad for name, bad in found.items() if bad}, {})

    def test_technical_patterns_catch_what_the_issue_saw(self):
        """The patterns themselves: each example of the issue is caught, plain words are not."""
        for text in (
            "wave.business.select,2",
            "RECEIVABLE_INVOICES",
            "Saga Step",
            "Watermark",
            "Compensate Odoo Side",
            "root.wave.inbound",
            "WSUSP.copy",
            "Acme Widgets Inc..",
            "linked to the Wave business Acme Widgets Inc.. Choosing Maple Leaf",
            "connection_id",
            "saga_step",
        ):
            self.assertTrue(self._technical([text]), text)
        self.assertTrue(self._technical([], ["Poll sales_taxes"]))
        self.assertTrue(self._technical([], ["Outbound Unknown Count"]))
        self.assertTrue(self._technical([], ["account.move"]))
        for text in (
            "Acme Widgets Inc.",
            "Acme Widgets Inc. Choosing",
            "Quarantine",
            "Records failed",
            "2026-12-02",
            "...",
            "Loading... please wait",
            "Contacts to review",
            "Count",
            "anna.smith@example.com",
        ):
            self.assertFalse(self._technical([text], [text]), text)
        # a value (not a label) with digits: a name the test data gives a company
        self.assertFalse(self._technical(["company_1_data", "example.com"]))

    def test_connection_form_shows_the_webhook_address(self):
        connection = self.connection
        code = OPEN_MENU_JS % {
            "menu_id": self.env.ref("wave_accounting_integration.menu_wave_connections").id,
            "extra": CONNECTION_FORM_JS % {"connection_id": connection.id},
        }
        texts, lines = self._open("/odoo", code, "wave_connection_form")
        shown = [line for line in lines if line.startswith("WAVE_WEBHOOK_URL ")]
        self.assertEqual(len(shown), 1, lines)
        self.assertIn(connection.webhook_url, shown[0])
        self.assertIn("send a test delivery", " ".join(texts))
        self.assertEqual(self._technical(texts), [])
