"""End-to-end harness: a real multi-worker Odoo with its job runner, the Wave sandbox.

Used by the fault matrix and the webhook load test (issue 9). Everything runs in
separate processes and talks HTTP, as in production. The processes come from the
shared test harness (:mod:`harness`); this module adds what the scenarios need:

* ``Sandbox``: ``python -m wave_sandbox`` (its own process group), driven through its
  admin API (``/sandbox/...``) and read with the harness's own GraphQL calls;
* ``OdooServer``: Odoo's entry point with ``--workers=2`` on a scratch copy of the
  test template database, queue_job's runner on (``server_wide_modules``), killed
  with ``SIGKILL`` on demand and restarted on the same database;
* ``Rpc``: an administrator's JSON-RPC session (``/web/dataset/call_kw``), the
  same calls the web client makes.
"""

import datetime
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import harness
import requests
from harness import SandboxProcess

from wave_sandbox import serialize

ADMIN_TOKEN = "sandbox-admin"
OAUTH_CLIENT = ("odoo-e2e", "odoo-e2e-secret-7f3a")
WEBHOOK_SECRET = "e2e-webhook-secret-91c2"
ACTIVE_JOB_STATES = ("pending", "enqueued", "started", "wait_dependencies")


# ---------------------------------------------------------------------------
# The Wave sandbox
# ---------------------------------------------------------------------------
class Sandbox(SandboxProcess):
    """``python -m wave_sandbox`` (rate limit off) and the harness's own GraphQL reads."""

    def __init__(self, seed=42, log_dir=None):
        super().__init__(seed=seed, admin_token=ADMIN_TOKEN, rate_limit=0, log_dir=log_dir)

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

    def saved_state(self, path):
        """The sandbox's whole state (``/sandbox/save`` to ``path``, loaded back): its
        objects and ``realistic_cases``, read outside the addon."""
        self.admin("POST", "/sandbox/save", {"path": str(path)})
        return serialize.load(json.loads(Path(path).read_text()))

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
class OdooServer(harness.OdooServer):
    """``odoo --workers=2`` with queue_job's runner, long time limits for import chunks."""

    def __init__(self, db, conf, log_dir=None, workers=2, channels=None):
        super().__init__(
            db,
            conf,
            log_dir=log_dir,
            workers=workers,
            channels=channels,
            # queue_job: long import chunks must not hit the default 120 s limit.
            extra_args=[
                "--limit-time-real=3600",
                "--limit-time-cpu=3600",
                "--log-level=warn",
                # each run of each job (started, done, postponed) and why the addon
                # retried it, with their times: scripts/fault_phases.py reads them
                "--log-handler=odoo.addons.queue_job.controllers.main:DEBUG",
                "--log-handler=odoo.addons.wave_accounting_integration.services.job_guard:INFO",
            ],
        )


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

    def _post(self, path, params, timeout=600):
        """The JSON-RPC answer's body; :class:`RpcError` when it holds an error."""
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
        return body

    def _call(self, path, params, timeout=600):
        return self._post(path, params, timeout)["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def click(self, model, method, ids, attempts=5):
        """A button, clicked again as a person would when Odoo answers that Wave's budget
        is spent ("... retry in 13.0 s."): after the time it says."""
        for attempt in range(attempts):
            try:
                return self(model, method, ids)
            except RpcError as error:
                wait = re.search(r"retry in ([0-9.]+) s", str(error))
                if not wait or attempt == attempts - 1:
                    raise
                time.sleep(float(wait.group(1)) + 1)

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


def register_oauth_client(sandbox, odoo, name):
    """The sandbox's OAuth client ``OAUTH_CLIENT``, redirecting to this Odoo's callback."""
    sandbox.admin(
        "POST",
        "/sandbox/oauth/clients",
        {
            "client_id": OAUTH_CLIENT[0],
            "client_secret": OAUTH_CLIENT[1],
            "redirect_uris": [odoo.base + "/wave/oauth/callback"],
            "name": name,
        },
    )


def connect_with_webhook(rpc, sandbox, odoo, values, business_id):
    """The company's connection (``values["company_id"]``): ``values`` written on the one
    it has or a new one created, connected through OAuth, and Odoo's webhook subscribed
    in the sandbox for the business (secret ``WEBHOOK_SECRET``); returns its id."""
    existing = rpc("wave.api", "search", [("company_id", "=", values["company_id"])])
    if existing:
        rpc("wave.api", "write", existing, values)
        connection_id = existing[0]
    else:
        connection_id = rpc("wave.api", "create", values)
    oauth_connect(rpc, sandbox, connection_id, business_id)
    sandbox.admin(
        "POST",
        "/sandbox/webhooks/subscriptions",
        {
            "url": f"{odoo.base}/wave/webhook/{connection_id}",
            "secret": WEBHOOK_SECRET,
            "business_id": business_id,
        },
    )
    return connection_id


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
