"""`make demo` serves a working Odoo with the addon's menus, connected to the sandbox."""

import os
import signal
import socket
import subprocess
import time

import requests

from .harness import ROOT, ScratchDatabase, harness_env


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url, deadline, proc, log_path):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"demo exited early:\n{open(log_path).read()[-4000:]}")
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer in time:\n{open(log_path).read()[-4000:]}")


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


def test_demo_serves_login_settings_and_menus(tmp_path):
    template = harness_env("WAVE_TEMPLATE_DB")
    port, sandbox_port = _free_port(), _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "demo.log"
    with ScratchDatabase(template) as db_name:
        # The demo script creates its own database from the template: hand it a fresh name.
        subprocess.run(["dropdb", "--if-exists", db_name], check=True)
        env = dict(
            os.environ,
            WAVE_DEMO_DB=db_name,
            WAVE_DEMO_PORT=str(port),
            WAVE_SANDBOX_PORT=str(sandbox_port),
            WAVE_DEMO_TEMPLATE=template,
        )
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                ["bash", "scripts/demo.sh"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 240
            login = _wait_for(f"{base}/web/login", deadline, proc, log_path)
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
                {"fields": ["state", "business_name", "api_url"]},
            )
            assert connection and connection[0]["state"] == "connected", connection
            assert connection[0]["api_url"].startswith(f"http://127.0.0.1:{sandbox_port}/")
            health = requests.get(
                f"http://127.0.0.1:{sandbox_port}/sandbox/health",
                headers={"X-Sandbox-Admin-Token": "sandbox-admin"},
                timeout=10,
            )
            assert health.status_code == 200
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
