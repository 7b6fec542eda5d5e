"""Benchmark of the inbound historical import (a script, not a pytest test).

Measures, in one run on this machine, against the in-process Wave sandbox
(rate limit off):

  * historical import throughput through the real job methods (wizard, then
    every chunk's ``_job_import_chunk``), invoices/s, versus a baseline that
    creates, posts and reconciles the same invoices and payments directly
    through the ORM in batches (target: import >= 0.8 x baseline);
  * Wave requests per imported invoice, payments included (sandbox counters;
    target <= 0.05) and the projected API-budget time for 10,000 invoices at
    60 requests/minute;
  * requests of an incremental poll where nothing changed, per entity
    (target <= 1);
  * cost growth at 1x / 2x / 4x sizes (the largest size is N);
  * the query plan of a ``wave_id`` look-up (EXPLAIN, shows the index).

Writes the table as JSON to ``bench-results-sync.json`` (repository root).

Run:  cd /work/main && python3 tests/bench/bench_sync.py [--invoices 300 | --full]
It creates a throwaway database from ``wave_dev`` (upgraded with -u) and drops it
at the end (``--keep`` keeps it).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from benchdb import CONF, ROOT, drop_database, prepare_database

sys.path.insert(0, str(ROOT / "tests"))

POLL_ENTITIES = ("accounts", "sales_taxes", "products", "customers", "vendors", "invoices")


class Clock:
    """Wall and CPU time of a block (CPU: this process, the sandbox included)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def setup_company(env, name):
    company = env["res.company"].create(
        {"name": name, "currency_id": env.ref("base.USD").id, "country_id": env.ref("base.us").id}
    )
    env.user.write({"company_ids": [(4, company.id)]})
    env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    return company


def setup_connection(env, company, sandbox, business, token):
    return env["wave.api"].create(
        {
            "name": f"Bench {company.name}",
            "company_id": company.id,
            "auth_method": "token",
            "full_access_token": token,
            "api_url": sandbox.graphql_url,
            "authorize_url": sandbox.authorize_url,
            "token_url": sandbox.token_url,
            "allow_insecure_loopback": True,
            "business_id": business.id,
            "business_name": business.name,
            "business_currency": business.currency_code,
            "state": "connected",
            "rate_limit": 100000,
            "import_draft_invoices": True,
        }
    )


def run_import(env, connection, business):
    """The historical import through the wizard and the real chunk job method."""
    dates = [inv.invoice_date for inv in business.invoices if not inv.deleted]
    wizard = env["wave.historical.import"].create(
        {"connection_id": connection.id, "date_from": min(dates), "date_to": max(dates)}
    )
    action = wizard.with_context(queue_job__no_delay=False).action_import()
    parent = env["wave.sync.job"].browse(action["res_id"])
    for chunk in parent.child_ids.sorted("date_from"):
        chunk._job_import_chunk()
    env.cr.commit()
    return parent


def baseline_values(env, company, moves):
    """Invoice and payment values equal to what the import created (built untimed)."""
    moves = moves.sorted("id")
    invoices, payments = [], []
    for move in moves:
        invoices.append(
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "journal_id": move.journal_id.id,
                "partner_id": move.partner_id.id,
                "invoice_date": move.invoice_date,
                "invoice_date_due": move.invoice_date_due,
                "currency_id": move.currency_id.id,
                "invoice_currency_rate": move.invoice_currency_rate,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": line.product_id.id,
                            "name": line.name,
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "tax_ids": [(6, 0, line.tax_ids.ids)],
                            "account_id": line.account_id.id,
                        },
                    )
                    for line in move.invoice_line_ids
                    if line.display_type == "product"
                ],
            }
        )
    pays = env["account.payment"].search(
        [("wave_invoice_id", "in", moves.mapped("wave_id")), ("state", "!=", "canceled")]
    )
    index = {m.wave_id: i for i, m in enumerate(moves)}
    for payment in pays:
        payments.append(
            (
                index[payment.wave_invoice_id],
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": payment.partner_id.id,
                    "company_id": company.id,
                    "journal_id": payment.journal_id.id,
                    "amount": payment.amount,
                    "currency_id": payment.currency_id.id,
                    "date": payment.date,
                    "destination_account_id": payment.destination_account_id.id,
                },
            )
        )
    posted = [m.state == "posted" for m in moves]
    return invoices, payments, posted


def run_baseline(env, invoices, payments, posted, batch=100):
    """Create, post and reconcile the same invoices and payments with the plain ORM."""
    Move, Payment = env["account.move"], env["account.payment"]
    created = Move
    for start in range(0, len(invoices), batch):
        vals_list = invoices[start : start + batch]
        rates = [v.pop("invoice_currency_rate", None) for v in vals_list]
        moves = Move.create(vals_list)
        for move, rate in zip(moves, rates, strict=True):
            if move.currency_id != move.company_id.currency_id and rate:
                move.invoice_currency_rate = rate
        Move.browse(
            [m.id for m, post in zip(moves, posted[start : start + batch], strict=True) if post]
        ).action_post()
        created |= moves
        env.cr.commit()
    for start in range(0, len(payments), batch):
        part = payments[start : start + batch]
        pays = Payment.create([vals for _index, vals in part])
        pays.action_post()
        plan = []
        for pay, (index, _vals) in zip(pays, part, strict=True):
            move = created[index]
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
        env.cr.commit()
    return created


def poll_requests(env, connection, sandbox):
    """Requests of one incremental poll per entity when nothing changed at Wave."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    Cursor = env["wave.import.cursor"]
    connection.sync_inbound = True
    # first poll: initialises each entity's watermark (not measured)
    for entity in POLL_ENTITIES:
        if entity != "accounts":
            Cursor._get(connection, entity).write({"watermark": now, "last_poll": now})
    result = {}
    for entity in POLL_ENTITIES:
        before = sandbox.counters.total
        connection._job_poll(entity)
        result[entity] = sandbox.counters.total - before
    env.cr.commit()
    return result


def explain_wave_id(env, company, wave_ids):
    query = env["account.move"]._search(
        [("wave_id", "in", wave_ids[:5]), ("company_id", "=", company.id)]
    )
    sql = query.select()
    env.cr.execute("EXPLAIN " + sql.code, sql.params)
    return [row[0] for row in env.cr.fetchall()]


def measure(env, size, label, sandbox_cls, with_baseline=False):
    """Import ``size`` invoices into a fresh company; returns the figures."""
    sandbox = sandbox_cls(seed=42, port=0, rate_limit=0)
    sandbox.start()
    try:
        wave_us, _wave_ca = sandbox.seed_demo(invoices_per_business=size, customers=30, vendors=5)
        token = sandbox.issue_full_access_token()
        company = setup_company(env, f"Bench {label} {size}")
        for code in ("base.EUR", "base.CAD"):
            env.ref(code).active = True
        connection = setup_connection(env, company, sandbox, wave_us, token)
        env.cr.commit()
        invoices = [inv for inv in wave_us.invoices if not inv.deleted]
        wave_payments = sum(len(inv.payment_list) for inv in invoices)
        sandbox.counters.reset()
        cenv = env(context=dict(env.context, allowed_company_ids=[company.id]))
        connection = connection.with_env(cenv)
        with Clock() as clock:
            parent = run_import(cenv, connection, wave_us)
        requests = sandbox.counters.total
        moves = env["account.move"].search(
            [("wave_id", "!=", False), ("company_id", "=", company.id)]
        )
        row = {
            "size": len(invoices),
            "wave_payments": wave_payments,
            "moves": len(moves),
            "payments": env["account.payment"].search_count(
                [
                    ("wave_invoice_id", "!=", False),
                    ("company_id", "=", company.id),
                    ("state", "!=", "canceled"),
                ]
            ),
            "import_s": round(clock.wall, 2),
            "import_cpu_s": round(clock.cpu, 2),
            "import_inv_per_s": round(len(invoices) / clock.wall, 2),
            "requests": requests,
            "requests_per_invoice": round(requests / max(len(invoices), 1), 4),
            "progress": parent.progress,
            "state": parent.state,
        }
        if with_baseline:
            values = baseline_values(cenv, company, moves)
            with Clock() as base:
                run_baseline(cenv, *values)
            row["baseline_s"] = round(base.wall, 2)
            row["baseline_cpu_s"] = round(base.cpu, 2)
            row["baseline_inv_per_s"] = round(len(values[0]) / base.wall, 2)
            row["ratio"] = round(row["import_inv_per_s"] / row["baseline_inv_per_s"], 3)
            row["ratio_cpu"] = round(base.cpu / clock.cpu, 3) if clock.cpu else None
            row["poll_requests"] = poll_requests(cenv, connection, sandbox)
            row["explain_wave_id"] = explain_wave_id(env, company, moves.mapped("wave_id"))
        return row
    finally:
        sandbox.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--invoices", type=int, default=300, help="largest size (4x)")
    ap.add_argument("--full", action="store_true", help="2,000 invoices")
    ap.add_argument("--db", default=f"bench_sync_{os.getpid()}")
    ap.add_argument("--template", default="wave_dev")
    ap.add_argument("--keep", action="store_true", help="do not drop the database")
    ap.add_argument(
        "--no-upgrade",
        action="store_true",
        help="the template already has this code's fields (skip -u)",
    )
    ap.add_argument("--no-baseline", action="store_true", help="import only (profiling)")
    ap.add_argument("--no-growth", action="store_true", help="skip the 1x/2x sizes")
    ap.add_argument("--output", default=str(ROOT / "bench-results-sync.json"))
    args = ap.parse_args()
    size = 2000 if args.full else args.invoices

    prepare_database(args.db, args.template, upgrade=not args.no_upgrade)
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", str(CONF), "-d", args.db, "--log-level=warn"])
    from wave_sandbox import WaveSandbox

    try:
        registry = Registry(args.db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
            main_row = measure(env, size, "main", WaveSandbox, with_baseline=True)
            growth = []
            if not args.no_growth:
                for factor in (1, 2):
                    growth.append(
                        measure(env, max(size // 4 * factor, 1), f"x{factor}", WaveSandbox)
                    )
            growth.append(
                {
                    k: main_row[k]
                    for k in (
                        "size",
                        "import_s",
                        "import_cpu_s",
                        "requests",
                        "requests_per_invoice",
                    )
                }
            )
        report(args, main_row, growth)
    finally:
        if not args.keep:
            drop_database(args.db)


def report(args, row, growth):
    per_invoice = row["requests_per_invoice"]
    projected_min = per_invoice * 10000 / 60
    base = growth[0]
    result = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"load {os.getloadavg()[0]:.1f}",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "invoices": row["size"],
        "import": row,
        "targets": {
            "throughput_ratio": {
                "value": row["ratio"],
                "target": ">= 0.8",
                "ok": row["ratio"] >= 0.8,
            },
            "requests_per_invoice": {
                "value": per_invoice,
                "target": "<= 0.05",
                "ok": per_invoice <= 0.05,
            },
            "poll_requests_max": {
                "value": max(row["poll_requests"].values()),
                "target": "<= 1",
                "ok": max(row["poll_requests"].values()) <= 1,
            },
        },
        "projected_10000_invoices_at_60_rpm_min": round(projected_min, 1),
        "growth": [
            dict(
                g,
                time_per_invoice_ms=round(1000 * g["import_s"] / g["size"], 1),
                cost_vs_1x=round(g["import_s"] / base["import_s"], 2),
            )
            for g in growth
        ],
    }
    Path(args.output).write_text(json.dumps(result, indent=2, default=str))
    print(
        f"\nHistorical import benchmark ({row['size']} invoices, "
        f"{row['wave_payments']} Wave payments) on {result['machine']}"
    )
    print(f"{'':36}{'import':>12}{'ORM baseline':>14}")
    print(f"{'wall time (s)':36}{row['import_s']:>12}{row['baseline_s']:>14}")
    print(f"{'CPU time (s, this process)':36}{row['import_cpu_s']:>12}{row['baseline_cpu_s']:>14}")
    print(f"{'invoices/s':36}{row['import_inv_per_s']:>12}{row['baseline_inv_per_s']:>14}")
    print(
        f"{'ratio import/baseline (target>=0.8)':36}{row['ratio']:>12}"
        f"   (CPU ratio {row['ratio_cpu']})"
    )
    print(f"{'Wave requests':36}{row['requests']:>12}")
    print(f"{'requests/invoice (target<=0.05)':36}{per_invoice:>12}")
    print(f"{'10,000 invoices at 60 req/min':36}{projected_min:>10.1f} min")
    print("incremental poll, nothing changed (target <= 1 request each):")
    for entity, count in row["poll_requests"].items():
        print(f"  {entity:34}{count:>12}")
    print("cost growth:")
    for g in result["growth"]:
        print(
            f"  {g['size']:>6} invoices  {g['import_s']:>8.1f} s  "
            f"{g['time_per_invoice_ms']:>7.1f} ms/invoice  x{g['cost_vs_1x']:<5} "
            f"{g['requests']:>5} requests"
        )
    print("wave_id look-up plan:")
    for line in row["explain_wave_id"]:
        print("  " + line)
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
