"""Two HTTP nodes and one job node on one database (issue 21), end to end.

The workload of the webhook load test (:class:`reliability.fault_matrix.WebhookLoad`:
OAuth connection, historical import, signed webhooks, recovery, independent parity)
on the production shape of :mod:`.topology`:

* node A and node B: ``--workers=1``, no job runner; node J: the job runner;
* webhooks spread over A and B as a proxy would (one in four sent to both at
  once), the historical import started from A, the manual poll from B;
* the connection's budget (``rate_limit`` per ``rate_window``) is half of the
  sandbox's limit, so the sandbox answers 429 only if the nodes together send
  more than the one shared budget allows;
* the access token lives ``TOKEN_TTL`` s, so the nodes refresh it during the run
  (the refresh token rotates: two refreshes of one token would be refused);
* ``kill -9`` of node A while webhooks arrive (the proxy sends to B), restart;
  ``kill -9`` of the job node while jobs run, restart.
"""

import datetime
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from harness import ScratchDatabase
from reliability.e2e import OAUTH_CLIENT, WEBHOOK_SECRET, Rpc, active_jobs, wait_for_jobs
from reliability.fault_matrix import SIZES, WebhookLoad

from .topology import (
    LimitedSandbox,
    budget_bound,
    http_node,
    job_node,
    role_conf,
    runner_activity,
    window_peak,
)

#: The connection's budget: BUDGET requests, refilled over BUDGET_PERIOD seconds;
#: small, so that the nodes together could send faster than it allows.
BUDGET, BUDGET_PERIOD = 6, 20
#: The sandbox's own limit per token: what the budget may send at most in its window.
SANDBOX_LIMIT = int(budget_bound(BUDGET, BUDGET_PERIOD, BUDGET_PERIOD))
#: Access-token lifetime; Odoo refreshes REFRESH_LEEWAY (120 s) before expiry,
#: so a token is renewed every TOKEN_TTL - 120 s.
TOKEN_TTL = 150
REFRESH_LEEWAY = 120


class MultiNodeScenario(WebhookLoad):
    def __init__(self, workdir, deliveries=40, concurrency=8, seed=20261221):
        super().__init__(SIZES["ci"], workdir, deliveries, concurrency, seed)
        self.result["fault"] = "multinode"

    # -- orchestration ------------------------------------------------------
    def run(self):
        started = time.monotonic()
        conf = role_conf(self.conf, self.workdir / "odoo-jobs.conf")
        with (
            LimitedSandbox(
                limit=SANDBOX_LIMIT,
                window=BUDGET_PERIOD,
                seed=self.seed,
                log_dir=self.workdir,
                token_ttl=TOKEN_TTL,
            ) as sandbox,
            ScratchDatabase(self.template, prefix="scale_mn") as db,
            job_node(db, conf, self.workdir) as jobs,
            http_node(db, conf, self.workdir) as node_a,
            http_node(db, conf, self.workdir) as node_b,
        ):
            self.sandbox, self.db = sandbox, db
            self.nodes, self.jobs = [node_a, node_b], jobs
            self.odoo = node_a
            self._workload()
            self.result["runner"] = {
                "job node": runner_activity(jobs),
                "node A": runner_activity(node_a),
                "node B": runner_activity(node_b),
            }
        self.result["seconds"] = round(time.monotonic() - started, 1)
        return self.result

    def _workload(self):
        self._setup()
        rpc = self.rpc
        rpc(
            "wave.api",
            "write",
            [self.connection_id],
            {"rate_limit": BUDGET, "rate_window": BUDGET_PERIOD},
        )
        self.budget_since = time.time()
        self.rpc_b = Rpc(self.nodes[1])
        self._start_import()
        self.result["load"] = self._fire()
        self.result["import_running_during_load"] = self._import_was_running
        self._kill_job_node_while_busy()
        wait_for_jobs(self.rpc, self.size.job_timeout)
        self.export_ids, self.bill_ids, self.paid_ids = [], [], []
        self._recover()
        # The checks read Wave with the test's own token: no limit for it from here.
        self.sandbox.admin("POST", "/sandbox/config", {"rate_limit": 0})
        self._check()
        self._check_events()
        self._check_sandbox_side()

    # -- the load -------------------------------------------------------------
    def _fire(self):
        """Signed deliveries over both nodes; every fourth to both at once; node A
        killed half-way (the proxy then sends to B) and started again."""
        rng = random.Random(self.seed)
        invoice_ids = [inv["id"] for inv in self.wave_invoices_before]
        bodies = []
        for n in range(self.deliveries):
            body = json.dumps(
                {
                    "event_id": f"load-{self.seed}-{n}",  # the prefix _check_events reads
                    "event_type": "invoice.updated",
                    "business_id": self.business_id,
                    "occurred_at": datetime.datetime.now(datetime.UTC).isoformat(),
                    "data": {"invoice_id": rng.choice(invoice_ids)},
                }
            ).encode()
            bodies.append(body)
        statuses, by_node, lock = Counter(), Counter(), threading.Lock()
        local = threading.local()

        def send(body, node_index):
            """POST to a node; on no answer (node down) the proxy tries the other."""
            signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            for attempt in range(8):
                node = self.nodes[(node_index + attempt) % 2]
                try:
                    response = session.post(
                        f"{node.base}/wave/webhook/{self.connection_id}",
                        data=body,
                        headers={"Content-Type": "application/json", "X-Wave-Signature": signature},
                        timeout=60,
                    )
                    if response.status_code < 500:
                        with lock:
                            statuses[str(response.status_code)] += 1
                            by_node["AB"[self.nodes.index(node)]] += 1
                        return
                except requests.RequestException:
                    session = local.session = requests.Session()
                time.sleep(0.3 * (attempt + 1))
            with lock:
                statuses["unanswered"] += 1

        def deliver(item):
            n, body = item
            if n % 4 == 0:  # the same event to both nodes at the same moment
                both = [threading.Thread(target=send, args=(body, i)) for i in (0, 1)]
                for thread in both:
                    thread.start()
                for thread in both:
                    thread.join()
            else:
                send(body, n % 2)

        done = threading.Event()
        seen = {"running": False}

        def watch():
            while not done.is_set():
                state = self.rpc_b.search_read(
                    "wave.sync.job", [("id", "=", self.import_job_id)], ["state"]
                )[0]["state"]
                seen["running"] |= state == "running"
                done.wait(1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        begin = time.monotonic()
        items = list(enumerate(bodies))
        half = len(items) // 2
        with ThreadPoolExecutor(self.concurrency) as pool:
            list(pool.map(deliver, items[:half]))
            # A UI action on node B while the load runs: the manual poll.
            self.rpc_b("wave.api", "action_poll_now", [self.connection_id])
            killer = pool.submit(self._kill_node_a)
            list(pool.map(deliver, items[half:]))
            killer.result()
        wall = time.monotonic() - begin
        done.set()
        watcher.join(5)
        self._import_was_running = seen["running"]
        sent_twice = len(range(0, len(bodies), 4))
        return {
            "deliveries": len(bodies) + sent_twice,
            "distinct_events": len(bodies),
            "sent_to_both_at_once": sent_twice,
            "statuses": dict(statuses),
            "answered_by": dict(by_node),
            "wall_s": round(wall, 1),
        }

    def _kill_node_a(self):
        node_a = self.nodes[0]
        node_a.kill9()
        self.result.setdefault("kills", []).append("node A (HTTP)")
        time.sleep(2)
        node_a.start()
        self.login()  # the administrator's session was on node A: log in again

    def _kill_job_node_while_busy(self):
        """kill -9 of the job node while jobs run (or are due), then restart it."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not active_jobs(self.rpc_b):
            time.sleep(0.5)
        busy = active_jobs(self.rpc_b)
        self.jobs.kill9()
        self.result.setdefault("kills", []).append(f"job node ({busy} jobs active)")
        time.sleep(2)
        self.jobs.start()

    # -- checks from the sandbox's side -----------------------------------------
    def _check_sandbox_side(self):
        entries = self.sandbox.journal()
        harness_tokens = {self.sandbox.token, getattr(self.sandbox, "_token", None)}
        # Odoo's requests from the moment the connection has its budget.
        odoo = [
            e
            for e in entries
            if e["kind"] == "graphql"
            and e["key"] not in harness_tokens
            and e["t"] >= self.budget_since
        ]
        timed = [e["t"] for e in odoo]
        windows = {}
        for window in (5, 10, BUDGET_PERIOD):
            windows[str(window)] = {
                "peak": window_peak(timed, window),
                "bound": budget_bound(BUDGET, BUDGET_PERIOD, window),
            }
        grants = [e for e in entries if e["kind"] == "grant:refresh_token"]
        refreshed = sorted(e["t"] for e in grants if e["status"] == 200)
        gaps = [round(b - a, 1) for a, b in itertools.pairwise(refreshed)]
        self.result["sandbox"] = {
            "odoo_requests": len(odoo),
            "status_429": sum(1 for e in odoo if e["status"] == 429),
            "statuses": dict(Counter(str(e["status"]) for e in odoo)),
            "tokens_used": len({e["key"] for e in odoo}),
            "windows": windows,
            "refreshes": len(refreshed),
            "refreshes_refused": sum(1 for e in grants if e["status"] != 200),
            "refresh_gaps_s": gaps,
            "run_s": round(max(timed) - min(timed), 1) if timed else 0,
            "client": OAUTH_CLIENT[0],
        }
