"""End-to-end harness: a real multi-worker Odoo with its job runner, the Wave sandbox.

Used by the fault matrix and the webhook load test (issue 9). Everything runs in
separate processes and talks HTTP, as in production:

* ``Sandbox``: ``python -m wave_sandbox`` (its own process group), driven through its
  admin API (``/sandbox/...``);
* ``OdooServer``: ``python -m odoo --workers=2`` on a scratch copy of the test
  template database, queue_job's runner on (``server_wide_modules``), killed with
  ``SIGKILL`` on demand and restarted on the same database;
* ``Rpc``: an administrator's JSON-RPC session (``/web/dataset/call_kw``), the
  same calls the web client makes.
"""

import datetime
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "sandbox-admin"
OAUTH_CLIENT = ("odoo-e2e", "odoo-e2e-secret-7f3a")
WEBHOOK_SECRET = "e2e-webhook-secret-91c2"
ACTIVE_JOB_STATES = ("pending", "enqueued", "started", "wait_dependencies")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def harness_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the suite with `make test`.")
    return value


def pg_env():
    env = dict(os.environ)
    for key, default in (
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", "5432"),
        ("PGUSER", "odoo"),
        ("PGPASSWORD", "odoo"),
    ):
        env.setdefault(key, default)
    return env


def psql(db, sql):
    out = subprocess.run(
        ["psql", "-d", db, "-tAc", sql],
        env=pg_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


class ScratchDatabase:
    """A copy of the harness template (base + addon), dropped afterwards."""

    def __init__(self, template, prefix="wave_e2e"):
        self.template = template
        self.name = f"{prefix}_{os.getpid()}_{int(time.time() * 1000) % 10**8}"

    def __enter__(self):
        subprocess.run(
            ["createdb", "-T", self.template, self.name],
            env=pg_env(),
            check=True,
            capture_output=True,
        )
        return self.name

    def __exit__(self, *exc):
        subprocess.run(
            ["dropdb", "--if-exists", "--force", self.name],
            env=pg_env(),
            check=False,
            capture_output=True,
        )


# ---------------------------------------------------------------------------
# The Wave sandbox
# ---------------------------------------------------------------------------
class Sandbox:
    """``python -m wave_sandbox`` in its own process group (rate limit off)."""

    def __init__(self, seed=42, log_dir=None):
        self.seed = seed
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(
            prefix="wave_sandbox_", suffix=".log", dir=log_dir, delete=False
        )
        self.proc = None
        self.http = requests.Session()
        self.http.headers["X-Sandbox-Admin-Token"] = ADMIN_TOKEN

    def __enter__(self):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wave_sandbox",
                "--port",
                str(self.port),
                "--seed",
                str(self.seed),
                "--rate-limit",
                "0",
                "--admin-token",
                ADMIN_TOKEN,
            ],
            cwd=ROOT / "tests",
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited, see {self.log.name}")
            try:
                if self.http.get(self.base + "/sandbox/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"the sandbox did not start, see {self.log.name}")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()

    # admin API ------------------------------------------------------------
    def admin(self, method, path, payload=None, timeout=120):
        response = self.http.request(method, self.base + path, json=payload, timeout=timeout)
        if not response.ok:
            raise RuntimeError(f"sandbox {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    def graphql(self, token, query, variables=None):
        """The harness's own GraphQL call (``token=None``: a full-access token of its own,
        issued again when a fault scenario expired it)."""
        for attempt in (1, 2):
            bearer = token or self._harness_token(renew=attempt > 1)
            # The admin header exempts the harness's own calls from the injected faults.
            response = self.http.post(
                self.base + "/graphql/public",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {bearer}"},
                timeout=120,
            )
            body = response.json()
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
            if "UNAUTHENTICATED" in codes and token is None and attempt == 1:
                continue
            if body.get("errors"):
                raise RuntimeError(f"sandbox GraphQL error: {body['errors']}")
            return body["data"]

    def _harness_token(self, renew=False):
        if renew or not getattr(self, "_token", None):
            self._token = self.admin("POST", "/sandbox/tokens", {})["access_token"]
        return self._token

    def all_invoices(self, token, business_id):
        """Every invoice of the business (the sandbox's own view, no fault applies to it)."""
        nodes, page = [], 1
        while True:
            data = self.graphql(
                token,
                """query($b: ID!, $p: Int!) { business(id: $b) { invoices(page: $p,
                pageSize: 200) { pageInfo { totalPages } edges { node { id invoiceNumber
                invoiceDate status currency { code } total { value } amountPaid { value }
                } } } } }""",
                {"b": business_id, "p": page},
            )["business"]["invoices"]
            nodes += [edge["node"] for edge in data["edges"]]
            if page >= data["pageInfo"]["totalPages"]:
                return nodes
            page += 1


# ---------------------------------------------------------------------------
# Odoo
# ---------------------------------------------------------------------------
def odoo_command():
    """``odoo-bin`` when found, else ``python -m odoo``.

    The prefork server starts its gevent process by re-running ``sys.argv[0]``,
    which fails for ``python -m odoo``: with ``odoo-bin`` every process starts.
    """
    spec = importlib.util.find_spec("odoo")
    for location in (spec.submodule_search_locations or []) if spec else []:
        script = Path(location).parent / "odoo-bin"
        if script.is_file():
            return [sys.executable, str(script)]
    return [sys.executable, "-m", "odoo"]


class OdooServer:
    """``odoo --workers=2`` with queue_job's runner, in its own process group."""

    def __init__(self, db, conf, log_dir=None, workers=2):
        self.db, self.conf, self.workers = db, conf, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(
            prefix="wave_odoo_", suffix=".log", dir=log_dir, delete=False
        )
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        env = pg_env()
        env.pop("ODOO_QUEUE_JOB_CHANNELS", None)
        self.proc = subprocess.Popen(
            [
                *odoo_command(),
                "-c",
                str(self.conf),
                "-d",
                self.db,
                f"--db-filter=^{self.db}$",
                f"--http-port={self.port}",
                f"--gevent-port={free_port()}",
                "--http-interface=127.0.0.1",
                f"--workers={self.workers}",
                "--max-cron-threads=0",
                # queue_job: long import chunks must not hit the default 120 s limit.
                "--limit-time-real=3600",
                "--limit-time-cpu=3600",
                "--log-level=warn",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 reaches every worker
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited early, see {self.log.name}")
            try:
                if requests.get(self.base + "/web/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Odoo did not start, see {self.log.name}")

    def kill9(self):
        """``kill -9`` of every Odoo process (HTTP workers, job runner, gevent)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.log.close()

    def log_text(self):
        return Path(self.log.name).read_text(errors="replace")


class RpcError(RuntimeError):
    pass


class Rpc:
    """An administrator's JSON-RPC session on the Odoo server."""

    def __init__(self, server, login="admin", password="admin"):
        self.server = server
        self.http = requests.Session()
        self._call(
            "/web/session/authenticate",
            {"db": server.db, "login": login, "password": password},
        )

    def _call(self, path, params, timeout=600):
        response = self.http.post(
            self.server.base + path,
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=timeout,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            raise RpcError(data.get("message") or body["error"])
        return body["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def search_read(self, model, domain, fields, **kwargs):
        return self(model, "search_read", domain, fields, **kwargs)

    def count(self, model, domain):
        return self(model, "search_count", domain)

    def get(self, path, **kwargs):
        return self.http.get(self.server.base + path, timeout=60, **kwargs)


def oauth_connect(rpc, sandbox, connection_id, business_id):
    """The administrator's "Connect to Wave": start → consent (Allow) → callback."""
    start = rpc.get(f"/wave/oauth/start?connection_id={connection_id}", allow_redirects=False)
    if start.status_code not in (302, 303):
        raise RuntimeError(f"OAuth start answered {start.status_code}: {start.text[:300]}")
    authorize = start.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlparse(authorize).query).items()}
    query.update(decision="allow", businessId=business_id)
    granted = requests.post(
        sandbox.base + "/oauth2/authorize/", data=query, allow_redirects=False, timeout=30
    )
    if granted.status_code not in (302, 303):
        raise RuntimeError(f"consent answered {granted.status_code}: {granted.text[:300]}")
    done = rpc.get(granted.headers["Location"].replace(rpc.server.base, ""), allow_redirects=False)
    if done.status_code not in (200, 302, 303):
        raise RuntimeError(f"OAuth callback answered {done.status_code}: {done.text[:300]}")
    state = rpc.search_read("wave.api", [("id", "=", connection_id)], ["state"])[0]["state"]
    if state != "connected":
        raise RuntimeError(f"the connection is {state} after the OAuth callback")


def job_counts(rpc):
    groups = rpc("queue.job", "read_group", [], ["state"], ["state"], lazy=False)
    return {group["state"]: group["__count"] for group in groups}


def active_jobs(rpc, include_postponed=False):
    """Jobs running or due; ``include_postponed`` adds those waiting for a later retry."""
    domain = [("state", "in", ACTIVE_JOB_STATES)]
    if not include_postponed:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        due = ["|", ("state", "!=", "pending"), "|", ("eta", "=", False), ("eta", "<=", now)]
        domain = [*due, *domain]
    return rpc.count("queue.job", domain)


def wait_for_jobs(rpc, timeout, poll=2.0, include_postponed=False):
    """Wait until no queue job is running or due (postponed retries aside, unless
    ``include_postponed``); returns the job counts per state."""
    deadline = time.monotonic() + timeout
    while True:
        if not active_jobs(rpc, include_postponed):
            return job_counts(rpc)
        if time.monotonic() > deadline:
            raise TimeoutError(f"queue jobs still active after {timeout} s: {job_counts(rpc)}")
        time.sleep(poll)


def json_dump(path, data):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, default=str))
