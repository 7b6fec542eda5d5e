# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every Wave menu opened in headless Chromium by the administrator.

The menus are read from the database (every ``ir.ui.menu`` under the Wave root
that has an action), not listed by hand. Each screen is opened the way a click
on the menu opens it; the test fails on a server error logged meanwhile, on a
browser console error (the test browser turns them into failures) and on a
title, label, column or value that reads like a technical name
(``TECHNICAL_PATTERNS``, ``LABEL_PATTERNS``), and when the web client's websocket
(the bus) does not connect. A screenshot of each screen is kept in
``$WAVE_ARTIFACTS/screenshots/menu_<xmlid>.png`` (default ``<repo>/artifacts``).
"""

import base64
import json
import logging
import re
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .test_tour_ui import SCREENSHOTS, WaveTourCase

#: What a user should never read on a screen.
TECHNICAL_PATTERNS = (
    r"\w+\.\w+,\d+",  # a record's technical reference: "wave.business.select,2"
    r"^[A-Z]+_[A-Z_]+$",  # an enum name: RECEIVABLE_INVOICES
    r"_id\b",  # a field name: connection_id
    r"wave\.\w+",  # a model name: wave.sync.job
    r"root\.wave",  # a job channel name
    r"\bSaga\b",  # the name of a design pattern: "Saga Step"
    r"\bWatermark\b",  # an implementation detail of the poll
    r"\bCompensate\b",  # a developer's word for undoing
    r"\.copy\b",  # a duplicated code: "WSUSP.copy"
    r"[^.]\.\.(\s|$)",  # a doubled period: "Acme Widgets Inc.." (at the end or mid-text)
)

#: What a user should never read as a label, title, column or button (values such
#: as e-mail addresses may hold an underscore).
LABEL_PATTERNS = (r"_",)  # a technical name: "Poll sales_taxes"

#: Runs in the browser: open the menu as a click does, wait for the screen, report
#: its visible texts (``console.log`` line starting with ``WAVE_SCREEN``).
OPEN_MENU_JS = """
(async () => {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
        const env = odoo.__WOWL_DEBUG__.root.env;
        const menu = env.services.menu.getMenu(%(menu_id)s);
        if (!menu) {
            throw new Error("the menu is not in the web client");
        }
        // The home screen is open first: wait for the menu's own screen.
        const screen = () => document.querySelector(".o_action_manager > .o_action");
        const home = screen();
        await env.services.menu.selectMenu(menu);
        const shown = () =>
            document.querySelector(".modal .modal-body") || (screen() && screen() !== home);
        const until = Date.now() + 30000;
        while (!shown()) {
            if (Date.now() > until) {
                throw new Error("the screen of the menu did not open");
            }
            await sleep(100);
        }
        await sleep(1500);  // let the screen finish loading its data
        %(extra)s
        const selectors = [
            ".o_breadcrumb", ".modal-title", "h1", "h2", "label", ".o_form_label",
            "th", "td", ".o_statusbar_status", ".o_notebook .nav-link", ".btn",
            ".o_setting_box", ".o_view_nocontent", ".o_field_widget", "p",
        ];
        const collect = (selectorList, texts) => {
            for (const element of document.querySelectorAll(selectorList.join(","))) {
                for (const line of (element.innerText || "").split("\\n")) {
                    if (line.trim()) {
                        texts.add(line.trim());
                    }
                }
            }
            return texts;
        };
        const texts = collect(selectors, new Set([document.title]));
        const labels = collect(
            [".o_breadcrumb", ".modal-title", "label", ".o_form_label", "th",
             ".o_notebook .nav-link", ".btn", ".o_stat_text", ".o_menu_sections"],
            new Set([document.title]),
        );
        // The real-time connection (bus websocket) of the web client answers.
        const bus = env.services.bus_service;
        if (!bus.isActive) {
            bus.start();
        }
        const busUntil = Date.now() + 30000;
        while (bus.workerState !== "CONNECTED") {
            if (Date.now() > busUntil) {
                throw new Error("the websocket did not connect: " + bus.workerState);
            }
            await sleep(200);
        }
        console.log("WAVE_BUS " + bus.workerState);
        console.log("WAVE_SCREEN " + JSON.stringify([...texts]));
        console.log("WAVE_LABELS " + JSON.stringify([...labels]));
        console.log("test successful");
    } catch (error) {
        console.error("Wave menu " + %(menu_id)s + ": " + error);
    }
})();
"""

#: Extra step of ``OPEN_MENU_JS`` on the Connection menu: open the connection's form,
#: check the webhook address to register in Wave and its copy button.
CONNECTION_FORM_JS = """
        document.querySelector(".o_data_row .o_data_cell").click();
        const formUntil = Date.now() + 30000;
        while (!document.querySelector("div[name='webhook_url']")) {
            if (Date.now() > formUntil) {
                throw new Error("the connection form did not open");
            }
            await sleep(100);
        }
        await sleep(500);
        const field = document.querySelector("div[name='webhook_url']");
        if (!field || !field.innerText.includes("/wave/webhook/%(connection_id)s")) {
            throw new Error("the webhook address is not shown on the connection form");
        }
        if (!field.querySelector(".o_clipboard_button")) {
            throw new Error("the webhook address has no copy button");
        }
        console.log("WAVE_WEBHOOK_URL " + field.innerText.trim());
"""


def technical_words(texts, labels=()):
    """The ``texts`` (any text of a screen) and ``labels`` (titles, labels, columns,
    buttons) that read like a technical name, sorted."""
    found = {text for text in texts for pattern in TECHNICAL_PATTERNS if re.search(pattern, text)}
    found |= {label for label in labels for pattern in LABEL_PATTERNS if re.search(pattern, label)}
    return sorted(found)


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
        ):
            self.assertTrue(self._technical([text]), text)
        self.assertTrue(self._technical([], ["Poll sales_taxes"]))
        for text in (
            "Acme Widgets Inc.",
            "Acme Widgets Inc. Choosing",
            "Quarantine",
            "Records failed",
            "2026-12-02",
            "...",
            "Loading... please wait",
        ):
            self.assertFalse(self._technical([text], [text]), text)

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
