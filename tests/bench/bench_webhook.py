"""Benchmark of the Wave webhook acknowledgement (a script, not a pytest test).

Starts a real multi-worker Odoo (``--workers=2``, no cron threads, the queue_job
runner switched off with ``ODOO_QUEUE_JOB_CHANNELS=root:0`` so queued jobs stay
pending and can be counted) on a throwaway database whose connection has a
webhook secret, then, in the same run and against the same server:

  * fires N signed deliveries (distinct event ids and distinct Wave invoice ids,
    so that every delivery gets its own processing job: the job identity key is per
    invoice) to ``POST /wave/webhook/<connection id>`` at concurrency C;
  * fires the same count at the same concurrency to the trivial ``GET /web/health``,
    in ``--rounds`` (5) interleaved rounds (webhook then bare route, then bare route
    then webhook, ...); the verdict is the median of the rounds' p99 ratios (<= 1.5),
    their spread is kept.

Both routes are warmed up first. It measures p50/p99 latency and throughput of
each and checks the targets: webhook p99 <= 2 x /web/health p99, 0 errors, and
every delivery committed by its acknowledgement (``wave.webhook.event`` rows in state
``received``: the rows are the queue, the acknowledgement only makes sure a drain job
of the connection is pending); then, the server stopped, the pending drain jobs are
performed in a separate process as the runner would, and every event must be
``queued`` with its own ``queue.job`` row.

Writes the figures as JSON to ``docs/results/bench-webhook.json``.

Run:  cd /work/main && python3 tests/bench/bench_webhook.py [--deliveries 2000] [--full]
(``--full``: 10,000 deliveries each.) It creates a throwaway database from
``wave_dev`` (upgraded with -u) and drops it at the end, also on failure
(``--keep`` keeps it). The server logs at the level of ``.cache/odoo.conf``.
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import hmac
import json
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests folder

from bench_common import add_database_args, load, run_header
from harness import (
    ROOT,
    OdooServer,
    drop_database,
    free_port,
    odoo_conf,
    pg_env,
    prepare_database,
    psql,
)

BUSINESS_ID = "QnVzaW5lc3M6YmVuY2gtd2ViaG9vaw=="
EVENT_PREFIX = "bench-evt-"
WARMUP_PREFIX = "warmup-evt-"

# Runs in a separate Python process: store the connection with its webhook secret.
# The secret comes through the environment, never through argv or stdout.
SETUP_CODE = r"""
import json, os, sys
import odoo
from odoo.modules.registry import Registry

conf, db, business_id = sys.argv[1:4]
odoo.tools.config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
with Registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    company = env.ref("base.main_company")
    Api = env["wave.api"].with_context(active_test=False)
    connection = Api.search([("company_id", "=", company.id)], limit=1)
    connection = connection or Api.create({"company_id": company.id, "name": "Bench webhook"})
    connection.write({
        "active": True,
        "state": "connected",
        "auth_method": "token",
        "full_access_token": "bench-unused-token",
        # an unused loopback port: no job of this benchmark may reach a real Wave
        "api_url": "http://127.0.0.1:9/graphql",
        "authorize_url": "http://127.0.0.1:9/authorize",
        "token_url": "http://127.0.0.1:9/token",
        "allow_insecure_loopback": True,
        "business_id": business_id,
        "business_name": "Bench webhook business",
        "webhook_secret": os.environ["BENCH_WEBHOOK_SECRET"],
    })
    print(json.dumps({"connection_id": connection.id}))
"""


# Runs in a separate Python process after the server stopped: the connection's pending
# drain jobs, performed as the job runner would (each in its own transaction).
DRAIN_CODE = r"""
import json, sys
import odoo
from odoo.modules.registry import Registry
from odoo.addons.queue_job.job import Job

conf, db = sys.argv[1:3]
odoo.tools.config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
registry = Registry(db)
performed = 0
while True:
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        job = env["queue.job"].search(
            [("method_name", "=", "_job_drain_webhook_events"), ("state", "=", "pending")],
            limit=1,
        )
        if not job:
            break
        # started, as the job runner marks it: a drain that ends with a full batch
        # enqueues the next one, which a pending job of the same identity would absorb
        job.state = "started"
        job.flush_recordset()
        Job.load(env, job.uuid).perform()
        job.state = "done"
        performed += 1
print(json.dumps({"drains_performed": performed}))
"""


def signed_delivery(secret, connection_id, event_id, invoice_id):
    body = json.dumps(
        {
            "event_id": event_id,
            "event_type": "invoice.updated",
            "business_id": BUSINESS_ID,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "data": {"invoice_id": invoice_id},
        }
    ).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Wave-Signature": signature}


def fire(requests_list, concurrency, expected):
    """Send ``(method, url, body, headers)`` items; returns latencies (s), errors, wall."""
    local = threading.local()

    def one(item):
        method, url, body, headers = item
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        start = time.perf_counter()
        try:
            response = session.request(method, url, data=body, headers=headers, timeout=60)
            status = response.status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        return time.perf_counter() - start, status

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, requests_list))
    wall = time.perf_counter() - start
    latencies = sorted(r[0] for r in results)
    errors = {}
    for _latency, status in results:
        if status not in expected:
            errors[str(status)] = errors.get(str(status), 0) + 1
    return latencies, errors, wall


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return 0.0
    rank = max(math.ceil(pct / 100 * len(sorted_values)) - 1, 0)
    return sorted_values[min(rank, len(sorted_values) - 1)]


def summary(latencies, errors, wall):
    return {
        "count": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "wall_s": round(wall, 3),
        "throughput_rps": round(len(latencies) / wall, 1) if wall else None,
        "p50_ms": round(1000 * percentile(latencies, 50), 2),
        "p90_ms": round(1000 * percentile(latencies, 90), 2),
        "p99_ms": round(1000 * percentile(latencies, 99), 2),
        "max_ms": round(1000 * latencies[-1], 2) if latencies else None,
    }


def run(args):
    secret = secrets.token_hex(32)
    env = pg_env()
    env["BENCH_WEBHOOK_SECRET"] = secret
    out = subprocess.run(
        [sys.executable, "-c", SETUP_CODE, str(odoo_conf()), args.db, BUSINESS_ID],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    connection_id = json.loads(out.stdout.strip().splitlines()[-1])["connection_id"]
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    hook_url = f"{base}/wave/webhook/{connection_id}"
    health_url = f"{base}/web/health"

    def deliveries(prefix, count):
        items = []
        for i in range(count):
            body, headers = signed_delivery(
                secret, connection_id, f"{prefix}{i:06d}", f"{prefix}invoice-{i:06d}"
            )
            items.append(("POST", hook_url, body, headers))
        return items

    # built before the clock starts: signing is the sender's cost, not the server's
    warm_hooks = deliveries(WARMUP_PREFIX, args.warmup)
    hooks = deliveries(EVENT_PREFIX, args.deliveries)
    warm_health = [("GET", health_url, None, {})] * args.warmup
    health = [("GET", health_url, None, {})] * args.deliveries

    # no job runner: queued jobs stay pending and can be counted
    server = OdooServer(
        args.db,
        http_port=port,
        workers=args.workers,
        job_runner=False,
        extra_args=["--limit-time-real=600"],
        start_timeout=120,
    )
    # Interleaved rounds (issue 18): webhook, bare route, bare route, webhook, ... so a
    # load peak of the shared machine falls on both routes; one p99 ratio per round.
    rounds = max(args.rounds, 1)
    per_round = -(-len(hooks) // rounds)
    all_hook, all_health, round_rows = ([], {}, 0.0), ([], {}, 0.0), []

    def merge(total, part):
        errors = dict(total[1])
        for key, n in part[1].items():
            errors[key] = errors.get(key, 0) + n
        return sorted(total[0] + part[0]), errors, total[2] + part[2]

    with server:
        fire(warm_health, args.concurrency, {200})
        fire(warm_hooks, args.concurrency, {202})
        for index in range(rounds):
            part_hooks = hooks[index * per_round : (index + 1) * per_round]
            part_health = health[index * per_round : (index + 1) * per_round]
            order = ("hook", "health") if index % 2 == 0 else ("health", "hook")
            got = {}
            for side in order:
                if side == "hook":
                    got[side] = fire(part_hooks, args.concurrency, {202})
                else:
                    got[side] = fire(part_health, args.concurrency, {200})
            all_hook, all_health = merge(all_hook, got["hook"]), merge(all_health, got["health"])
            hook_p99 = percentile(got["hook"][0], 99)
            health_p99 = percentile(got["health"][0], 99)
            round_rows.append(
                {
                    "first": order[0],
                    "webhook_p99_ms": round(1000 * hook_p99, 2),
                    "health_p99_ms": round(1000 * health_p99, 2),
                    "ratio": round(hook_p99 / health_p99, 3) if health_p99 else None,
                    "load": round(os.getloadavg()[0], 2),
                }
            )
        health_result = summary(*all_health)
        hook_result = summary(*all_hook)
        hook_result["rounds"] = round_rows

    # What the acknowledgements left (no job runner): every event committed, waiting
    # for its connection's drain job, and how many drain jobs they made.
    waiting = psql(
        args.db,
        "SELECT count(*) FILTER (WHERE state = 'received') FROM wave_webhook_event "
        f"WHERE event_id LIKE '{EVENT_PREFIX}%'",
    )
    drains = psql(
        args.db,
        "SELECT count(*) FROM queue_job WHERE method_name = '_job_drain_webhook_events'",
    )
    out = subprocess.run(
        [sys.executable, "-c", DRAIN_CODE, str(odoo_conf()), args.db],
        check=True,
        capture_output=True,
        text=True,
        env=pg_env(),
        cwd=ROOT,
    )
    performed = json.loads(out.stdout.strip().splitlines()[-1])["drains_performed"]
    events = psql(
        args.db,
        "SELECT count(*), count(DISTINCT event_id), count(*) FILTER (WHERE state = 'queued'), "
        "count(DISTINCT queue_job_uuid) FROM wave_webhook_event "
        f"WHERE event_id LIKE '{EVENT_PREFIX}%'",
    ).split("|")
    jobs = psql(
        args.db,
        "SELECT count(*), count(DISTINCT identity_key) FROM queue_job j "
        "JOIN wave_webhook_event e ON e.queue_job_uuid = j.uuid "
        f"WHERE e.event_id LIKE '{EVENT_PREFIX}%' AND j.method_name = '_job_process_webhook'",
    ).split("|")
    hook_result.update(
        events_stored=int(events[0]),
        events_distinct=int(events[1]),
        events_queued=int(events[2]),
        job_uuids=int(events[3]),
        queue_jobs=int(jobs[0]),
        queue_job_identities=int(jobs[1]),
        events_waiting_after_ack=int(waiting),
        drain_jobs=int(drains),
        drain_jobs_performed=performed,
    )
    return health_result, hook_result


def report(args, health, hook):
    ratios = [r["ratio"] for r in hook["rounds"] if r["ratio"] is not None]
    ratio = round(statistics.median(ratios), 3) if ratios else None
    n = args.deliveries
    targets = {
        "p99_ratio": {
            "value": ratio,
            "target": f"<= 1.5 (median of {len(ratios)} interleaved rounds, "
            f"spread {min(ratios, default=0)}-{max(ratios, default=0)})",
            "ok": ratio is not None and ratio <= 1.5,
        },
        "errors": {
            "value": hook["errors"] + health["errors"],
            "target": "== 0",
            "ok": hook["errors"] + health["errors"] == 0,
        },
        "events_committed": {
            "value": hook["events_waiting_after_ack"],
            "target": f"== {n} (committed, waiting for the drain job)",
            "ok": hook["events_waiting_after_ack"] == n and hook["events_distinct"] == n,
        },
        "events_queued": {
            "value": hook["events_queued"],
            "target": f"== {n} (after the drain jobs)",
            "ok": hook["events_queued"] == n and hook["events_distinct"] == n,
        },
        "queue_jobs": {
            "value": hook["queue_jobs"],
            "target": f"== {n}",
            "ok": hook["queue_jobs"] == n and hook["queue_job_identities"] == n,
        },
    }
    result = {
        **run_header(args.load_start),
        "sizes": {"deliveries": n, "rounds": len(hook["rounds"]), "concurrency": args.concurrency},
        "workers": args.workers,
        "concurrency": args.concurrency,
        "deliveries": n,
        "warmup": args.warmup,
        "rounds": hook["rounds"],
        "p99_ratio_median": ratio,
        "p99_ratio_spread": [min(ratios, default=None), max(ratios, default=None)],
        "web_health": health,
        "webhook": hook,
        "targets": targets,
    }
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(
        f"\nWebhook acknowledgement benchmark: {n} requests per route, concurrency "
        f"{args.concurrency}, Odoo --workers={args.workers}, on {result['machine']}"
    )
    print(f"{'':24}{'/web/health':>14}{'webhook':>14}")
    for key, label in (
        ("p50_ms", "p50 (ms)"),
        ("p90_ms", "p90 (ms)"),
        ("p99_ms", "p99 (ms)"),
        ("max_ms", "max (ms)"),
        ("throughput_rps", "throughput (req/s)"),
        ("errors", "errors"),
    ):
        print(f"{label:24}{health[key]:>14}{hook[key]:>14}")
    print(
        f"webhook events stored {hook['events_stored']}, distinct {hook['events_distinct']}, "
        f"queued {hook['events_queued']}; queue.job rows {hook['queue_jobs']} "
        f"({hook['queue_job_identities']} distinct identity keys) after the drain jobs; "
        f"after the acknowledgements: {hook['events_waiting_after_ack']} events waiting, "
        f"{hook['drain_jobs']} drain jobs ({hook['drain_jobs_performed']} performed here)"
    )
    for index, row in enumerate(hook["rounds"]):
        print(
            f"round {index + 1} ({row['first']} first): webhook p99 {row['webhook_p99_ms']} ms, "
            f"/web/health p99 {row['health_p99_ms']} ms, ratio {row['ratio']}, load {row['load']}"
        )
    print(f"\n{'target':18}{'value':>10}  {'goal':<10}verdict")
    for name, target in targets.items():
        verdict = "PASS" if target["ok"] else "FAIL"
        print(f"{name:18}{target['value']!s:>10}  {target['target']:<10}{verdict}")
    print(f"\nwritten: {args.output}")
    return all(t["ok"] for t in targets.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deliveries", type=int, default=2000, help="requests per route")
    ap.add_argument("--full", action="store_true", help="10,000 requests per route")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=100, help="warm-up requests per route")
    ap.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds (webhook, bare route, ...)"
    )
    ap.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    add_database_args(ap, "webhook")
    ap.add_argument("--output", default=str(ROOT / "docs" / "results" / "bench-webhook.json"))
    args = ap.parse_args()
    if args.full:
        args.deliveries = 10000
    args.load_start = load()
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C: servers stopped, databases dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        prepare_database(args.db, args.template, upgrade=not args.no_upgrade)
        health, hook = run(args)
        report(args, health, hook)
    finally:
        if not args.keep:
            drop_database(args.db)


if __name__ == "__main__":
    main()
