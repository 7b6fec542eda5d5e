"""Benchmark of the historical import and of requests per record (a script, not a test).

Measures, in one run on this machine, against the in-process Wave sandbox
(rate limit off), with 2,000 invoices by default (10,000 with ``--full``):

  * historical import throughput through the real job methods (wizard, then
    every chunk's ``_job_import_chunk``), invoices/s, versus a baseline that
    creates, posts and reconciles the same invoices and payments directly
    through the ORM in batches (target: import >= 0.8 x baseline);
  * Wave requests per imported invoice, payments included (sandbox counters;
    target <= 0.05) and the projected API-budget time for 10,000 invoices at
    60 requests/minute;
  * requests of an incremental poll where nothing changed, per entity
    (target <= 1);
  * Wave requests per exported invoice, approval and marking as sent included:
    200 invoices created and posted in Odoo (1,000 with ``--full``) exported
    through the real queue job method ``_job_export``, one call per job
    chunk as ``wave.outbound.runner._enqueue`` splits them (target <= 0.5);
    then the same with the webhook events the export caused in Wave (their
    echoes) processed by ``_job_process_webhook`` (target <= 0.15, issue 17);
  * the query plan of a ``wave_id`` look-up (EXPLAIN, shows the index).

Cost growth at 1k / 2k / 4k / 8k invoices is measured by ``bench_memory.py``
(the 8,000-invoice worker notes its progress after each chunk).

Writes the figures and targets as JSON to ``docs/results/bench-sync.json`` (with the
run's commit, date, machine, load and sizes; ``scripts/bench_table.py`` writes the
README's table from it).

Run:  cd /work/main && python3 tests/bench/bench_sync.py [--invoices 2000 | --full]
It creates a throwaway database from ``wave_dev`` (upgraded with -u) and drops it
at the end (``--keep`` keeps it).
"""

import argparse
import datetime
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests folder

from bench_common import (
    add_database_args,
    bench_connection,
    load,
    open_registry,
    reconcile_payments,
    run_header,
)
from harness import ROOT, drop_database, prepare_database

POLL_ENTITIES = ("accounts", "sales_taxes", "products", "customers", "vendors", "invoices")


class Clock:
    """Wall and CPU time of a block (CPU: this process, the sandbox included)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


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
    Move = env["account.move"]
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
        reconcile_payments(
            env,
            [vals for _index, vals in part],
            created.browse([created.ids[index] for index, _vals in part]),
        )
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


def export_requests(env, company, connection, sandbox, count):
    """Requests per exported invoice: Odoo invoices through the real export job method.

    New Odoo customers, products and the company's default sales tax (none of them
    in Wave yet, so the first job also creates them there), 2 lines per invoice.
    """
    connection.write(
        {
            "sync_outbound": True,
            "export_on_post": False,  # the bench calls the job method itself
            "allow_sales_tax_create": True,
            "outbound_start_date": datetime.date.today() - datetime.timedelta(days=30),
        }
    )
    partners = env["res.partner"].create(
        [
            {"name": f"Bench export customer {i}", "email": f"bench.export.{i}@example.com"}
            for i in range(10)
        ]
    )
    products = env["product.product"].create(
        [{"name": f"Bench export product {i}", "list_price": 10 + i} for i in range(5)]
    )
    tax = company.account_sale_tax_id
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": partners[i % len(partners)].id,
                "invoice_date": datetime.date.today(),
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": products[(i + k) % len(products)].id,
                            "quantity": 1 + (i + k) % 4,
                            "price_unit": 20 + i % 50 + k,
                            "tax_ids": [(6, 0, tax.ids)],
                        },
                    )
                    for k in range(2)
                ],
            }
            for i in range(count)
        ]
    )
    moves.action_post()
    env.cr.commit()
    from odoo.addons.queue_job.exception import RetryableJobError

    sandbox.counters.reset()
    first_event = len(sandbox.webhooks.events)
    size = max(connection.outbound_batch_size, 1)
    retries = 0
    with Clock() as clock:
        for start in range(0, len(moves), size):
            chunk = moves.ids[start : start + size]
            for _attempt in range(3):  # as the job runner retries a RetryableJobError
                try:
                    connection._job_export("account.move", chunk)
                    break
                except RetryableJobError:
                    retries += 1
            env.cr.commit()
    requests = sandbox.counters.total
    echoes = process_echoes(env, connection, sandbox, first_event, set(moves.mapped("wave_id")))
    with_echoes = sandbox.counters.total
    sent = env["wave.outbound.ledger"].search_count(
        [
            ("res_model", "=", "account.move"),
            ("res_id", "in", moves.ids),
            ("saga_step", "=", "sent"),
        ]
    )
    return {
        "invoices": count,
        "jobs": -(-count // size),
        "exported_sent": sent,
        "bound": len(moves.filtered("wave_id")),
        "retries": retries,
        "requests": requests,
        "requests_per_invoice": round(requests / max(count, 1), 4),
        "echo_events": echoes["events"],
        "echo_states": echoes["states"],
        "echo_requests": with_echoes - requests,
        "requests_with_echoes": with_echoes,
        "requests_per_invoice_with_echoes": round(with_echoes / max(count, 1), 4),
        "by_operation": dict(sandbox.counters.by_operation_name),
        "export_s": round(clock.wall, 2),
        "echo_s": echoes["seconds"],
    }


def process_echoes(env, connection, sandbox, first_event, wave_ids):
    """The webhook events our export caused, processed by the real job method.

    Every event the sandbox emitted for the exported invoices goes through the
    route's own validation (``_validate_payload``) and storage
    (``_register_delivery``), then ``_job_process_webhook`` (without HTTP and
    signature: ``bench_webhook.py`` measures the route). Requests are counted
    by the sandbox.
    """
    Event = env["wave.webhook.event"]
    events = [
        e
        for e in sandbox.webhooks.events[first_event:]
        if (e.get("data") or {}).get("invoice_id") in wave_ids
    ]
    records = Event
    with Clock() as clock:
        for payload in events:
            values = Event._validate_payload(json.loads(json.dumps(payload)))
            record, _new = Event._register_delivery(
                connection,
                values["event_id"],
                values["event_type"],
                values["business_id"],
                values["invoice_id"],
                facts=values,
            )
            records |= record
        env.cr.commit()
        for record in records:
            record._job_process_webhook()
            env.cr.commit()
    states = {}
    for state in records.mapped("state"):
        states[state] = states.get(state, 0) + 1
    return {"events": len(events), "states": states, "seconds": round(clock.wall, 2)}


def explain_wave_id(env, company, wave_ids):
    query = env["account.move"]._search(
        [("wave_id", "in", wave_ids[:5]), ("company_id", "=", company.id)]
    )
    sql = query.select()
    env.cr.execute("ANALYZE account_move")  # fresh statistics after the bulk import
    env.cr.execute("EXPLAIN " + sql.code, sql.params)
    return [row[0] for row in env.cr.fetchall()]


def measure(env, size, label, sandbox_cls, with_baseline=False, export=0):
    """Import ``size`` invoices into a fresh company; returns the figures."""
    sandbox = sandbox_cls(seed=42, port=0, rate_limit=0)
    sandbox.start()
    try:
        wave_us, _wave_ca = sandbox.seed_demo(invoices_per_business=size, customers=30, vendors=5)
        token = sandbox.issue_full_access_token()
        company, connection = bench_connection(
            env,
            f"Bench {label} {size}",
            sandbox_url=sandbox.base_url,
            business_id=wave_us.id,
            token=token,
            business_name=wave_us.name,
            business_currency=wave_us.currency_code,
        )
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
        if export:
            row["export"] = export_requests(cenv, company, connection, sandbox, export)
        return row
    finally:
        sandbox.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--invoices", type=int, default=2000, help="invoices imported (and baseline)")
    ap.add_argument("--export", type=int, default=200, help="Odoo invoices exported")
    ap.add_argument("--full", action="store_true", help="10,000 invoices, 1,000 exported")
    add_database_args(ap, "sync")
    ap.add_argument("--output", default=str(ROOT / "docs" / "results" / "bench-sync.json"))
    args = ap.parse_args()
    if args.full:
        args.invoices, args.export = 10000, 1000
    args.load_start = load()

    prepare_database(args.db, args.template, upgrade=not args.no_upgrade)
    from wave_sandbox import WaveSandbox

    try:
        odoo, registry = open_registry(args.db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
            row = measure(
                env, args.invoices, "main", WaveSandbox, with_baseline=True, export=args.export
            )
        report(args, row)
    finally:
        if not args.keep:
            drop_database(args.db)


def target(value, goal, ok):
    return {"value": value, "target": goal, "ok": bool(ok)}


def report(args, row):
    per_invoice = row["requests_per_invoice"]
    projected_min = per_invoice * 10000 / 60
    export = row["export"]
    poll_max = max(row["poll_requests"].values())
    # an index scan on an index of the wave_id column (its name says so)
    index_used = any(
        re.search(r"Index (Only )?Scan .*wave_id", line) for line in row["explain_wave_id"]
    )
    export_ok = (
        export["requests_per_invoice"] <= 0.5 and export["exported_sent"] == export["invoices"]
    )
    result = {
        **run_header(args.load_start),
        "load_note": "shared machine: other sessions ran beside this benchmark; compare the "
        "ratios measured inside this run, not absolute times",
        "sizes": {
            "invoices": row["size"],
            "wave_payments": row["wave_payments"],
            "exported": export["invoices"],
            "export_jobs": export["jobs"],
            "echo_events": export["echo_events"],
        },
        "invoices": row["size"],
        "import": row,
        "targets": {
            "throughput_ratio": target(row["ratio"], ">= 0.8", row["ratio"] >= 0.8),
            "requests_per_imported_invoice": target(per_invoice, "<= 0.05", per_invoice <= 0.05),
            "requests_per_exported_invoice": target(
                export["requests_per_invoice"],
                "<= 0.5",
                export_ok,
            ),
            "requests_per_exported_invoice_with_echoes": target(
                export["requests_per_invoice_with_echoes"],
                "<= 0.15",
                export_ok and export["requests_per_invoice_with_echoes"] <= 0.15,
            ),
            "poll_requests_max": target(poll_max, "<= 1", poll_max <= 1),
            "api_minutes_10000_invoices": target(
                round(projected_min, 1), "<= 10", projected_min <= 10
            ),
            "wave_id_lookup_uses_index": target(index_used, "index scan", index_used),
        },
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
    print(f"{'moves / payments imported':36}{row['moves']:>12} / {row['payments']}")
    print(f"{'Wave requests':36}{row['requests']:>12}")
    print(f"{'requests/invoice (target<=0.05)':36}{per_invoice:>12}")
    print(f"{'10,000 invoices at 60 req/min':36}{projected_min:>10.1f} min (target <= 10)")
    print("incremental poll, nothing changed (target <= 1 request each):")
    for entity, count in row["poll_requests"].items():
        print(f"  {entity:34}{count:>12}")
    print(
        f"export of {export['invoices']} Odoo invoices ({export['jobs']} job calls, "
        f"{export['exported_sent']} approved + marked sent, {export['retries']} retries, "
        f"{export['export_s']} s): {export['requests']} requests, "
        f"{export['requests_per_invoice']} per invoice (target <= 0.5)"
    )
    echo_ok = result["targets"]["requests_per_exported_invoice_with_echoes"]["ok"]
    print(
        f"  with the {export['echo_events']} webhook events it caused ({export['echo_states']}, "
        f"{export['echo_s']} s): {export['requests_with_echoes']} requests, "
        f"{export['requests_per_invoice_with_echoes']} per invoice (target <= 0.15): "
        f"{'PASS' if echo_ok else 'FAIL'}"
    )
    print(
        "  by operation: "
        + ", ".join(f"{name} {n}" for name, n in sorted(export["by_operation"].items()))
    )
    print("wave_id look-up plan:")
    for line in row["explain_wave_id"]:
        print("  " + line)
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
