"""What the bench scripts (``tests/bench/bench_*.py``) set up the same way.

* :func:`add_database_args`: the database options (``--db``, ``--template``, ``--keep``,
  ``--no-upgrade``) that ``scripts/bench.sh`` passes to every Odoo benchmark;
* :func:`open_registry`: Odoo in this process, on one database;
* :func:`bench_connection`: a company (generic chart, EUR and CAD active) and a token
  connection to a sandbox business, rate budget off; :func:`seed_connection`: the same
  for a seed worker, with its reference data polled;
* :func:`reconcile_payments`: the hand-written baseline's payment step (create, post,
  one ``_reconcile_plan`` per batch);
* :func:`run_header`: the commit, date, machine and load of a run, for the result files;
* :func:`run_worker`: one step of a bench script in its own process, on one database.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

from harness import ROOT, odoo_conf, pg_env

# A worker prints its figures on one line that starts with this mark.
RESULT_MARK = "BENCH-RESULT "


def load():
    """The machine's load averages (1, 5, 15 min), rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def machine():
    """Host, architecture, CPUs and the 1-minute load, for a result file."""
    return (
        f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"load {os.getloadavg()[0]:.1f}"
    )


def git_commit():
    """The checked-out commit, ``+changes`` when tracked files differ from it."""
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")


def run_header(load_start):
    """Where and when a run happened: commit, UTC date, machine, load at start and end."""
    return {
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_start": load_start,
        "load_end": load(),
    }


def add_database_args(parser, name):
    """``--db`` (default ``bench_<name>_<pid>``), ``--template``, ``--keep``, ``--no-upgrade``."""
    parser.add_argument("--db", default=f"bench_{name}_{os.getpid()}")
    parser.add_argument("--template", default="wave_dev")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--no-upgrade",
        action="store_true",
        help="the template already has this code's fields (skip -u)",
    )


def add_worker_args(parser, db=True):
    """The internal options of a script's worker mode (:func:`run_worker` passes them):
    ``--worker`` and, with ``db``, ``--db``; ``--values``, ``--seed-json``,
    ``--sandbox-url``, ``--business-id``."""
    names = ["--worker", *(["--db"] if db else []), "--values", "--seed-json"]
    for name in [*names, "--sandbox-url", "--business-id"]:
        parser.add_argument(name, help=argparse.SUPPRESS)


def open_registry(db):
    """``(odoo, registry)`` of ``db`` in this process, with the harness's configuration."""
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", str(odoo_conf()), "-d", db, "--log-level=warn"])
    return odoo, Registry(db)


def bench_connection(env, name, *, sandbox_url, business_id, token, **values):
    """A new company ``name`` (generic chart, EUR and CAD active) and its token connection
    to the sandbox business ``business_id``, rate budget off; ``values`` add to or replace
    the connection's. Returns ``(company, connection)``; the caller commits."""
    company = env["res.company"].create(
        {"name": name, "currency_id": env.ref("base.USD").id, "country_id": env.ref("base.us").id}
    )
    for user in env.user | env.ref("base.user_admin"):
        user.write({"company_ids": [(4, company.id)]})
    env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    for code in ("base.EUR", "base.CAD"):
        env.ref(code).active = True
    connection = env["wave.api"].create(
        {
            "name": name,
            "company_id": company.id,
            "auth_method": "token",
            "full_access_token": token,
            "api_url": f"{sandbox_url}/graphql/public",
            "authorize_url": f"{sandbox_url}/oauth2/authorize/",
            "token_url": f"{sandbox_url}/oauth2/token/",
            "allow_insecure_loopback": True,
            "business_id": business_id,
            "business_name": name,
            "business_currency": "USD",
            "state": "connected",
            "rate_limit": 100000,
            "import_draft_invoices": True,
            **values,
        }
    )
    return company, connection


def seed_connection(env, name, args, entities, **values):
    """:func:`bench_connection` to the sandbox business of ``args`` (``sandbox_url``,
    ``business_id``; the token in ``$BENCH_WAVE_TOKEN``), committed, then one poll of each
    of ``entities`` (the reference data), each committed. Returns ``(company,
    connection)``, the connection in the company's context."""
    company, connection = bench_connection(
        env,
        name,
        sandbox_url=args.sandbox_url,
        business_id=args.business_id,
        token=os.environ["BENCH_WAVE_TOKEN"],
        **values,
    )
    env.cr.commit()
    connection = connection.with_env(env(context={"allowed_company_ids": [company.id]}))
    for entity in entities:
        connection._job_poll(entity, trigger="manual")
        env.cr.commit()
    return company, connection


def reconcile_payments(env, payment_values, moves):
    """Create and post one batch of payments (``payment_values[i]`` pays ``moves[i]``),
    then reconcile each with its invoice's open receivable line in one ``_reconcile_plan``."""
    pays = env["account.payment"].create(payment_values)
    pays.action_post()
    plan = []
    for pay, move in zip(pays, moves, strict=True):
        receivable = move.line_ids.filtered(
            lambda x: x.account_id.account_type == "asset_receivable" and not x.reconciled
        )
        counterpart = pay.move_id.line_ids.filtered(
            lambda x, acc=receivable.account_id: x.account_id in acc and not x.reconciled
        )
        if receivable and counterpart:
            plan.append(receivable | counterpart)
    if plan:
        env["account.move.line"]._reconcile_plan(plan)
    return pays


def run_worker(script, kind, db, extra=(), env=None):
    """Run ``script --worker kind --db db *extra`` and return the figures it printed
    after :data:`RESULT_MARK`; raises with the worker's error output when there are none."""
    cmd = [sys.executable, script, "--worker", kind, "--db", db, *extra]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**pg_env(), **(env or {})}, cwd=ROOT
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(f"worker {kind} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
