# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the browser tests check on a screen, shared by ``test_ui_menus`` (every Wave
menu in Odoo's test browser) and ``tests/foundation/test_demo.py`` (every Wave menu of
``make demo`` in headless Chromium).

Plain Python, no Odoo import and no test case (no ``test_`` prefix): ``test_demo``
loads it from its file, also where the addon is not importable (the pure tests).
"""

import os
import re
from pathlib import Path

#: Test artefacts: ``$WAVE_ARTIFACTS`` (a CI's artefact directory) or ``<repo>/artifacts``.
ARTIFACTS = Path(
    os.environ.get("WAVE_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts"
)
SCREENSHOTS = ARTIFACTS / "screenshots"

#: What a user should never read on a screen.
TECHNICAL_PATTERNS = (
    r"\w+\.\w+,\d+",  # a record's technical reference: "wave.business.select,2"
    r"^[A-Z]+_[A-Z_]+$",  # an enum name: RECEIVABLE_INVOICES
    r"_id\b",  # a field name: connection_id
    r"wave\.\w+",  # a model name: wave.sync.job
    r"^[a-z]+(_[a-z]+)+$",  # a field name or selection key alone: saga_step
    r"root\.wave",  # a job channel name
    r"\bSaga\b",  # the name of a design pattern: "Saga Step"
    r"\bWatermark\b",  # an implementation detail of the poll
    r"\bCompensate\b",  # a developer's word for undoing
    r"\.copy\b",  # a duplicated code: "WSUSP.copy"
    r"[^.]\.\.(\s|$)",  # a doubled period: "Acme Widgets Inc.." (at the end or mid-text)
)

#: What a user should never read as a label, title, column or button (values such
#: as e-mail addresses may hold an underscore).
LABEL_PATTERNS = (
    r"_",  # a technical name: "Poll sales_taxes"
    r"\w (Count|Ids?)$",  # a label made from a field name: "Outbound Unknown Count"
    r"^[a-z_]+\.[a-z_.]+$",  # a model name as a title: account.move (a value may be a domain)
)

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
