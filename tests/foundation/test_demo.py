"""`make demo` serves a working Odoo with the addon's menus, connected to the sandbox.

The demo script runs as it does for a user (``--workers=2``, Odoo's own entry
point), in its own process group; the test checks it from outside: HTTP, the
real-time websocket on the gevent port, the server log, and that TERM to the
script alone stops Odoo and the sandbox with it.
"""

import json
import os
import signal
import time
import uuid

import requests
import websocket
from harness import ROOT, ProcessGroup, drop_database, free_port, harness_env

from odoo.addons.bus.websocket import WebsocketConnectionHandler

STOPPED_WITHIN = 20  # seconds from TERM to the script until none of its processes is left


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
    base = f"http://127.0.0.1:{port}"
    db_name = f"wave_demo_test_{uuid.uuid4().hex[:10]}"  # the demo creates it from the template
    env = dict(
        os.environ,
        WAVE_DEMO_DB=db_name,
        WAVE_DEMO_PORT=str(port),
        WAVE_DEMO_GEVENT_PORT=str(gevent_port),
        WAVE_SANDBOX_PORT=str(sandbox_port),
        WAVE_DEMO_TEMPLATE=template,
    )
    demo = ProcessGroup(
        ["bash", "scripts/demo.sh"], name="demo", cwd=ROOT, env=env, log_dir=tmp_path
    )
    try:
        with demo:
            _check_demo(demo, base, db_name, gevent_port, sandbox_port)
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
