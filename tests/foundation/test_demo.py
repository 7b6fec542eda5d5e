"""`make demo` serves a working Odoo with the addon's menus, connected to the sandbox.

The demo script runs as it does for a user (``--workers=2``, Odoo's own entry
point), in its own process group; the test checks it from outside: HTTP, the
real-time websocket on the gevent port, the server log, the first import, every
Wave screen in headless Chromium as the demo's admin sees it, and that TERM to
the script alone stops Odoo and the sandbox with it.

The browser pass (:func:`_check_screens_in_browser`) logs in through the login
form, opens every menu of the Wave app (read from ``load_menus``) as a click does
and fails on a browser console error or uncaught exception (the page's and the
bus worker's, over the DevTools protocol), an error dialog or notification, a
"Real-time connection lost" alert, a title or label that reads like a technical
name (``screen_checks.TECHNICAL_PATTERNS``), a bus websocket that does not connect
through the demo's address, a connection form without the webhook address, and a
traceback in the demo's log. A screenshot of each screen is kept in
``$WAVE_ARTIFACTS/screenshots/demo_<menu>.png``.
"""

import importlib.util
import json
import os
import signal
import time
import uuid

import requests
import websocket
from harness import MODULE, ROOT, ProcessGroup, drop_database, free_port, harness_env, psql
from harness.browser import Chromium

from odoo.addons.bus.websocket import WebsocketConnectionHandler


def _load_screen_checks():
    """What the addon's browser tests check on a screen (``tests/screen_checks.py``),
    loaded from its file: ``odoo.addons.wave_accounting_integration`` is importable only
    once pytest-odoo has read Odoo's configuration, and the pure tests collect this file
    without it."""
    path = ROOT / MODULE / "tests" / "screen_checks.py"
    spec = importlib.util.spec_from_file_location("wave_screen_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCREEN_CHECKS = _load_screen_checks()
STOPPED_WITHIN = 20  # seconds from TERM to the script until none of its processes is left
DEMO_INVOICES = 40  # per Wave business: every realistic case at least once, a short import
IMPORT_WITHIN = 480  # seconds for the demo's first import (2 workers on a busy machine)
ACTIVE_JOBS = "('pending', 'enqueued', 'started', 'wait_dependencies')"
WAVE_ROOT_MENU = "wave_accounting_integration.menu_wave_root"
CONNECTION_MENU = "wave_accounting_integration.menu_wave_connections"
SETTINGS_MENU = "wave_accounting_integration.menu_wave_settings"
#: What the browser must never show: Odoo's error dialog, a red notification, the
#: bus's "Real-time connection lost" alert.
ERROR_SELECTORS = (
    ".o_error_dialog, .o_notification:has(.o_notification_bar.bg-danger), .o-bus-ConnectionAlert"
)


def _wait_for(url, deadline, demo):
    while time.monotonic() < deadline:
        if not demo.running():
            raise AssertionError(f"demo exited early:\n{demo.log_tail()}")
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer in time:\n{demo.log_tail()}")


def _assert_websocket_answers(gevent_port, session):
    """Odoo's bus: the websocket handshake on the gevent port, then a subscription."""
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    version = WebsocketConnectionHandler._VERSION  # the web client's worker sends it too
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{gevent_port}/websocket?version={version}",
        # the gevent process loads the registry on its first request: slow on a busy machine
        timeout=180,
        cookie=cookie,
        origin=f"http://127.0.0.1:{gevent_port}",
    )
    try:
        assert ws.getstatus() == 101, ws.getstatus()
        ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
        ws.settimeout(2)
        try:
            ws.recv()  # nothing is due; a closed connection raises here
        except websocket.WebSocketTimeoutException:
            pass
        assert ws.connected
    finally:
        ws.close()


def _rpc(session, base, path, params):
    response = session.post(
        base + path, json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=60
    )
    response.raise_for_status()
    body = response.json()
    assert "error" not in body, body.get("error")
    return body["result"]


def _call_kw(session, base, model, method, args, kwargs=None):
    return _rpc(
        session,
        base,
        f"/web/dataset/call_kw/{model}/{method}",
        {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
    )


def test_demo_serves_login_settings_menus_and_websocket(tmp_path):
    template = harness_env("WAVE_TEMPLATE_DB")
    port, gevent_port, sandbox_port = free_port(), free_port(), free_port()
    odoo_port = free_port()  # Odoo's own HTTP port, behind the demo's front door (port)
    base = f"http://127.0.0.1:{port}"
    db_name = f"wave_demo_test_{uuid.uuid4().hex[:10]}"  # the demo creates it from the template
    env = dict(
        os.environ,
        WAVE_DEMO_DB=db_name,
        WAVE_DEMO_PORT=str(port),
        WAVE_DEMO_GEVENT_PORT=str(gevent_port),
        WAVE_DEMO_ODOO_PORT=str(odoo_port),
        WAVE_SANDBOX_PORT=str(sandbox_port),
        WAVE_DEMO_TEMPLATE=template,
        WAVE_DEMO_INVOICES=str(DEMO_INVOICES),  # WAVE_DEMO_DATA left to its default
    )
    demo = ProcessGroup(
        ["bash", "scripts/demo.sh"], name="demo", cwd=ROOT, env=env, log_dir=tmp_path
    )
    try:
        with demo:
            _check_demo(demo, base, db_name, gevent_port, sandbox_port)
            _check_realistic_import(demo, db_name, template, sandbox_port)
            _check_screens_in_browser(demo, base, db_name, tmp_path)
            _check_term_stops_children(demo)
    finally:
        drop_database(db_name)


def _check_demo(demo, base, db_name, gevent_port, sandbox_port):
    login = _wait_for(f"{base}/web/login", time.monotonic() + 240, demo)
    assert 'name="login"' in login.text

    session = requests.Session()
    info = _rpc(
        session,
        base,
        "/web/session/authenticate",
        {"db": db_name, "login": "admin", "password": "admin"},
    )
    assert info["uid"]

    settings_page = session.get(f"{base}/odoo/settings", timeout=60)
    assert settings_page.status_code == 200
    assert "odoo" in settings_page.text

    menus = session.get(f"{base}/web/webclient/load_menus/demo", timeout=60).json()
    names = {menu["name"] for menu in menus.values() if isinstance(menu, dict)}
    assert {"Wave", "Quarantine", "Sync Runs"} <= names, names

    views = _call_kw(session, base, "res.config.settings", "get_views", [[[False, "form"]]])
    assert "wave_client_id" in views["views"]["form"]["arch"]

    connection = _call_kw(
        session,
        base,
        "wave.api",
        "search_read",
        [[]],
        {"fields": ["state", "business_name", "api_url", "client_id"]},
    )
    assert connection and connection[0]["state"] == "connected", connection
    assert connection[0]["api_url"].startswith(f"http://127.0.0.1:{sandbox_port}/")
    health = requests.get(
        f"http://127.0.0.1:{sandbox_port}/sandbox/health",
        headers={"X-Sandbox-Admin-Token": "sandbox-admin"},
        timeout=10,
    )
    assert health.status_code == 200
    _check_oauth_client(base, sandbox_port, connection[0]["client_id"])

    _assert_websocket_answers(gevent_port, session)
    log = demo.log_text()
    assert "attempted relative import" not in log, log[-4000:]
    assert "Traceback" not in log, log[-4000:]


def _sandbox_invoices(sandbox_port, business_id):
    """The business's invoices, read from the sandbox with plain GraphQL."""
    base = f"http://127.0.0.1:{sandbox_port}"
    token = requests.post(
        base + "/sandbox/tokens",
        json={},
        headers={"X-Sandbox-Admin-Token": "sandbox-admin"},
        timeout=30,
    ).json()["access_token"]
    nodes, page = [], 1
    while True:
        body = requests.post(
            base + "/graphql/public",
            json={
                "query": "query($b: ID!, $p: Int!) { business(id: $b) { invoices(page: $p, "
                "pageSize: 200) { pageInfo { totalPages } edges { node { id invoiceNumber "
                "status currency { code } customer { id } } } } } }",
                "variables": {"b": business_id, "p": page},
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
        assert not body.get("errors"), body["errors"]
        data = body["data"]["business"]["invoices"]
        nodes += [edge["node"] for edge in data["edges"]]
        if page >= data["pageInfo"]["totalPages"]:
            return nodes
        page += 1


def _rows(db, sql):
    return [line.split("|") for line in psql(db, sql).splitlines() if line]


def _check_realistic_import(demo, db_name, template, sandbox_port):
    """The demo's first screen is explained, and its first import of the realistic data
    books what the default settings book: every posted Wave invoice is in Odoo, except
    those of look-alike customers waiting for review and those in a currency Odoo does
    not have, which wait in the quarantine naming it. Read from the sandbox and with SQL."""
    log = demo.log_text()
    for said in ("realistic demo data", "What you will see", "Review > Contacts", "look alike"):
        assert said in log, f"the demo does not say {said!r}:\n{log[-3000:]}"

    deadline = time.monotonic() + IMPORT_WITHIN
    while time.monotonic() < deadline:
        done = psql(db_name, "SELECT count(*) FROM queue_job WHERE state = 'done'")
        active = psql(db_name, f"SELECT count(*) FROM queue_job WHERE state IN {ACTIVE_JOBS}")
        if int(done) and not int(active):
            break
        time.sleep(3)
    else:
        raise AssertionError(f"the first import still runs after {IMPORT_WITHIN} s")

    business_id = psql(db_name, "SELECT business_id FROM wave_api LIMIT 1")
    invoices = _sandbox_invoices(sandbox_port, business_id)
    posted = {inv["id"]: inv for inv in invoices if inv["status"] != "DRAFT"}
    booked = {
        row[0]
        for row in _rows(
            db_name,
            "SELECT wave_id FROM account_move WHERE move_type = 'out_invoice' "
            "AND wave_id IS NOT NULL",
        )
    }
    quarantined = {
        row[0]: row[1]
        for row in _rows(
            db_name,
            "SELECT wave_id, replace(reasons, E'\\n', ' ') FROM wave_quarantine "
            "WHERE state = 'open' AND wave_id IS NOT NULL",
        )
    }
    in_review = {
        row[0]
        for row in _rows(
            db_name,
            "SELECT wave_id FROM wave_partner_map WHERE wave_type = 'customer' "
            "AND state = 'review'",
        )
    }
    currencies = dict(_rows(db_name, "SELECT name, active FROM res_currency"))
    used = {inv["currency"]["code"] for inv in posted.values()}
    assert in_review, "no look-alike customer waits for review"
    # The customer Odoo already had stands for one Wave customer, never for two.
    linked = _rows(
        db_name,
        "SELECT m.wave_id FROM wave_partner_map m JOIN res_partner p ON p.id = m.partner_id "
        "WHERE m.wave_type = 'customer' AND m.state = 'matched' AND p.name = 'Acme Widgets Inc'",
    )
    assert len(linked) <= 1, linked
    wrong = []
    for wave_id, inv in sorted(posted.items(), key=lambda item: item[1]["invoiceNumber"]):
        code, label = inv["currency"]["code"], inv["invoiceNumber"]
        if wave_id in booked:
            continue
        reasons = quarantined.get(wave_id)
        if reasons is None:
            wrong.append(f"{label}: neither booked nor quarantined")
        elif code not in currencies and code in reasons:
            continue  # a currency Odoo does not have: the person adds it
        elif inv["customer"]["id"] not in in_review:
            wrong.append(f"{label} ({code}) quarantined: {reasons}")
    assert not wrong, "\n".join(wrong)
    # The default currency policy activated what Odoo has, inactive in the template.
    inactive_before = {
        name
        for name, active in _rows(template, "SELECT name, active FROM res_currency")
        if active == "f"
    }
    activated = sorted(used & inactive_before)
    assert activated, f"the realistic data uses no currency Odoo ships inactive: {used}"
    assert all(currencies[code] == "t" for code in activated), (activated, currencies)
    assert booked & {w for w, inv in posted.items() if inv["currency"]["code"] in activated}


def _check_oauth_client(base, sandbox_port, client_id):
    """The sandbox knows the demo's OAuth client with this port's redirect URI."""
    redirect_uri = f"{base}/wave/oauth/callback"
    consent = requests.get(
        f"http://127.0.0.1:{sandbox_port}/oauth2/authorize/",
        params={
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "invoice:read",
            "state": "demo-test",
        },
        timeout=10,
    )
    assert consent.status_code == 200, consent.text[:500]
    assert "mismatch" not in consent.text and "invalid_client" not in consent.text


def _wave_menus(session, base):
    """Every menu of the Wave app that opens a screen, as the web client lists them
    for the signed-in user: ``[(xmlid, path, menu id)]`` in menu order."""
    menus = session.get(f"{base}/web/webclient/load_menus/demo", timeout=60).json()
    by_id = {str(menu["id"]): menu for menu in menus.values() if isinstance(menu, dict)}
    root = next(menu for menu in by_id.values() if menu["xmlid"] == WAVE_ROOT_MENU)
    found = []

    def walk(menu, path):
        if menu["actionID"]:
            found.append((menu["xmlid"], " > ".join(path), menu["id"]))
        for child in menu["children"]:
            child_menu = by_id[str(child)]
            walk(child_menu, [*path, child_menu["name"]])

    walk(root, [root["name"]])
    return found


def _login(browser, base):
    """The login form, filled and sent as a person does; then the web client is ready."""
    browser.navigate(f"{base}/web/login")
    browser.evaluate(
        """(() => {
            document.querySelector("input[name=login]").value = "admin";
            document.querySelector("input[name=password]").value = "admin";
            document.querySelector("form.oe_login_form button[type=submit]").click();
            return true;
        })()"""
    )
    browser.wait_for(
        "location.pathname.startsWith('/odoo') && window.odoo && odoo.isReady === true",
        timeout=240,  # the first page of a fresh database builds the asset bundles
        what="the web client after login",
    )


def _open_screen(browser, menu_id, name, extra=""):
    """Open the menu as a click does (``screen_checks.OPEN_MENU_JS``); keep a
    screenshot; return what is wrong on the screen (empty when all is well), the
    console lines and the screen's texts."""
    start = browser.mark()
    browser.evaluate(SCREEN_CHECKS.OPEN_MENU_JS % {"menu_id": menu_id, "extra": extra}, timeout=120)
    shown_errors = browser.evaluate(
        f"[...document.querySelectorAll({json.dumps(ERROR_SELECTORS)})]"
        ".map((element) => element.innerText.trim().slice(0, 300))"
    )
    path = browser.screenshot(SCREEN_CHECKS.SCREENSHOTS / f"demo_{name}.png")
    assert path.stat().st_size > 5000, f"{path}: a real screenshot, not an empty picture"
    lines = [text for _type, text in browser.console_lines(start)]

    def reported(prefix):
        return [json.loads(line[len(prefix) :]) for line in lines if line.startswith(prefix)]

    wrong = [f"console: {error}" for error in browser.errors(start)]
    wrong += [f"shown: {text}" for text in shown_errors]
    texts, labels = reported("WAVE_SCREEN "), reported("WAVE_LABELS ")
    if not texts or "WAVE_BUS CONNECTED" not in lines:
        wrong.append("the screen did not report its texts and a connected bus")
        return wrong, lines, []
    wrong += [
        f"technical name: {word!r}" for word in SCREEN_CHECKS.technical_words(texts[0], labels[0])
    ]
    return wrong, lines, texts[0]


def _check_screens_in_browser(demo, base, db_name, tmp_path):
    """Every Wave screen in headless Chromium, as the demo's admin opens it."""
    session = requests.Session()
    _rpc(
        session,
        base,
        "/web/session/authenticate",
        {"db": db_name, "login": "admin", "password": "admin"},
    )
    menus = _wave_menus(session, base)
    # the administrator's Wave menu (README, "The Wave menu"): read, never listed here
    assert len(menus) >= 10, menus
    paths = [path for _xmlid, path, _id in menus]
    technical = SCREEN_CHECKS.technical_words(paths, paths)
    assert technical == [], f"menu names: {technical}"
    connection_id = int(psql(db_name, "SELECT id FROM wave_api LIMIT 1"))
    # the address to register in Wave, on this demo's address (web.base.url)
    webhook_url = f"{base}/wave/webhook/{connection_id}"
    wrong = {}
    with Chromium(tmp_path) as browser:
        _login(browser, base)
        for xmlid, path, menu_id in menus:
            found, _lines, texts = _open_screen(browser, menu_id, xmlid.split(".")[-1])
            if xmlid == SETTINGS_MENU and texts and webhook_url not in texts:
                found.append(f"the webhook address {webhook_url} is not shown")
            if found:
                wrong[path] = found
        connection_menu = next(menu_id for x, _p, menu_id in menus if x == CONNECTION_MENU)
        found, lines, _texts = _open_screen(
            browser,
            connection_menu,
            "wave_connection_form",
            extra=SCREEN_CHECKS.CONNECTION_FORM_JS % {"connection_id": connection_id},
        )
        webhook = [line for line in lines if line.startswith("WAVE_WEBHOOK_URL ")]
        if found or not webhook:
            wrong["the connection form"] = found or ["the webhook address is not shown"]
        elif webhook_url not in webhook[0]:
            wrong["the connection form"] = [f"not the webhook address {webhook_url}: {webhook[0]}"]
        sockets = browser.websockets()
    assert not wrong, "\n".join(f"{path}: {found}" for path, found in wrong.items())
    # The web client's bus, opened by its shared worker through the demo's address.
    bus = {
        url: status
        for url, status in sockets.items()
        if url.startswith(base.replace("http", "ws") + "/websocket")
    }
    assert bus and set(bus.values()) == {101}, sockets
    log = demo.log_text()
    assert "Traceback" not in log, log[-4000:]


def _check_term_stops_children(demo):
    children = set(demo.members()) - {demo.pid}
    assert children, "the demo runs no child process"
    demo.proc.send_signal(signal.SIGTERM)  # the script's own PID, not its group
    deadline = time.monotonic() + STOPPED_WITHIN
    while demo.members() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert demo.members() == [], (
        f"still running {STOPPED_WITHIN} s after TERM:\n{demo.describe_members()}"
    )
