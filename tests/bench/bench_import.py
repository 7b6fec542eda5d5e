"""Historical import vs a fair hand-written baseline, each on a fresh copy (issue 18).

A script, not a test. One Wave sandbox (its own process, rate limit off) serves every
run; the historical import only reads from it, so every run sees the same history.

1. ``seed``: a copy of the template gets a company (generic chart), a token connection
   to the sandbox and the reference data both sides need (one incremental poll of
   accounts, sales taxes, products and customers). Every measured run starts from a
   fresh ``createdb -T`` copy of this seed database.
2. ``dry run`` (untimed, in-process, optionally under cProfile): the historical import
   once, serially through the chunk job method, to collect the baseline's values (the
   same partners, products, taxes, accounts, dates, rates and payments as the import
   makes) and Wave's totals; the profile is written to ``--profile``.
3. ``--reps`` repetitions (default 3), alternating which side runs first:

   * **import**: a real Odoo (``--workers=3``, queue_job's runner, import channel at
     capacity ``--parallel``, default 2) on its copy; timed from the wizard's
     ``action_import`` (JSON-RPC) to the run finished (every chunk job done).
     Checked after each run: the independent parity check (plain GraphQL against
     SQL, ``tests/independent_parity``), no duplicate, no gap in the sequences;
   * **baseline**: what a good Odoo developer writes by hand, in its own process on its
     copy: ``account.move.create`` of 100 invoices at a time with ``tracking_disable``
     (as the import), Wave's rate set, the same total check against Wave's total, one
     ``action_post`` per batch, commit per batch; then the payments 100 at a time:
     ``create``, ``action_post``, one ``_reconcile_plan`` per batch, commit;
   * ``--with-serial``: also the import with the import channel at capacity 1.

   Medians of the repetitions; the ratio import / baseline in invoices per second (wall).
4. Writes JSON (commit, date, machine, load at start and end, sizes, every figure, its
   target and verdict) to ``docs/results/bench-import.json``.

``--large N`` instead measures one import of N invoices through the job runner (issue
18's 10,000-invoice history; run smaller here to prove the chain): wall time, Wave
requests per invoice (sandbox counters), RSS growth of the job workers over a
warmed-up worker (sampled every second from /proc), cost per invoice per segment of
``--segment`` invoices; written to ``docs/results/bench-large-history.json``.

    python3 tests/bench/bench_import.py --invoices 2000            # default sizes
    python3 tests/bench/bench_import.py --invoices 300 --reps 3 --with-serial
    python3 tests/bench/bench_import.py --large 10000              # about 20-30 min
"""

import argparse
import cProfile
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests folder

import itertools

import bench_common
from bench_common import (
    RESULT_MARK,
    add_worker_args,
    load,
    open_registry,
    reconcile_payments,
    run_header,
    seed_connection,
)
from harness import (
    ROOT,
    OdooServer,
    SandboxProcess,
    copy_database,
    drop_database,
    pg_env,
    prepare_database,
    psql,
)

CHANNELS = (
    "root:3,root.wave:3,root.wave.webhook:1,root.wave.inbound:1,"
    "root.wave.outbound:1,root.wave.import:{n}"
)
REF_ENTITIES = ("accounts", "sales_taxes", "products", "customers")
FINISHED = ("done", "partial", "failed", "cancelled")
TARGET_RATIO = 1.5


def date_range():
    today = datetime.date.today()
    return today - datetime.timedelta(days=365 * 3 + 7), today + datetime.timedelta(days=1)


# ---------------------------------------------------------------------------
# Workers: Odoo in this process, on one database
# ---------------------------------------------------------------------------
def worker_seed(args):
    odoo, registry = open_registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company, connection = seed_connection(
            env, "Bench import", args, REF_ENTITIES, sync_inbound=True
        )
        # the incremental poll is not part of the measured import: off again
        connection.sync_inbound = False
        # invoices per Wave page (and per baseline batch); a chunk is up to 4 pages;
        # 0: the addon's default (--large without --page-size)
        if args.page_size:
            env["ir.config_parameter"].set_param(
                "wave_accounting_integration.import_page_size", str(args.page_size)
            )
        cr.commit()
        out = {
            "company_id": company.id,
            "connection_id": connection.id,
            "partners": env["res.partner"].search_count([]),
            "products": env["product.product"].with_context(active_test=False).search_count([]),
        }
    print(RESULT_MARK + json.dumps(out), flush=True)


def worker_dryrun(args):
    """The import once (serially, in-process), then the baseline's values."""
    odoo, registry = open_registry(args.db)
    seed = json.loads(args.seed_json)
    context = {"allowed_company_ids": [seed["company_id"]]}
    date_from, date_to = date_range()
    profiler = make_profiler(args.profile)
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
        wizard = env["wave.historical.import"].create(
            {"connection_id": seed["connection_id"], "date_from": date_from, "date_to": date_to}
        )
        if profiler:
            profiler.enable()
        parent = env["wave.sync.job"].browse(wizard.action_import()["res_id"])
        chunk_ids = parent.child_ids.sorted("date_from").ids
        cr.commit()
    for chunk_id in chunk_ids:  # one cursor per job, as the job runner does
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
            env["wave.sync.job"].browse(chunk_id)._job_import_chunk()
    if profiler:
        profiler.disable()
        save_profile(profiler, args.profile)
    elapsed = time.perf_counter() - started
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
        values = baseline_values(env, seed["company_id"])
        values["dryrun_s"] = round(elapsed, 1)
        values["chunks"] = len(chunk_ids)
        values["partners"] = env["res.partner"].search_count([])
        values["products"] = env["product.product"].with_context(active_test=False).search_count([])
    Path(args.values).write_text(json.dumps(values, default=str))
    print(
        RESULT_MARK
        + json.dumps({k: v for k, v in values.items() if k not in ("invoices", "payments")}),
        flush=True,
    )


def make_profiler(path):
    """cProfile for a ``.prof`` file; pyinstrument (sampling, far less overhead: run the
    bench with a Python that has it, e.g. a venv made with ``--system-site-packages``)
    for a ``.txt`` or ``.html`` file."""
    if not path:
        return None
    if path.endswith((".txt", ".html")):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.enable = profiler.start
        profiler.disable = profiler.stop
        return profiler
    return cProfile.Profile()


def save_profile(profiler, path):
    if isinstance(profiler, cProfile.Profile):
        profiler.dump_stats(path)
    elif path.endswith(".html"):
        Path(path).write_text(profiler.output_html())
    else:
        Path(path).write_text(profiler.output_text(unicode=False, color=False, show_all=False))


def baseline_values(env, company_id):
    """Values equal to what the import created: invoices, Wave totals, payments."""
    moves = env["account.move"].search(
        [
            ("wave_id", "!=", False),
            ("company_id", "=", company_id),
            ("move_type", "=", "out_invoice"),
        ],
        order="id",
    )
    invoices = []
    for move in moves:
        invoices.append(
            {
                "post": move.state == "posted",
                "wave_total": move.amount_total,  # the import checked it equals Wave's
                "rate": move.invoice_currency_rate
                if move.currency_id != move.company_id.currency_id
                else None,
                "vals": {
                    "move_type": "out_invoice",
                    "company_id": company_id,
                    "journal_id": move.journal_id.id,
                    "partner_id": move.partner_id.id,
                    "invoice_date": str(move.invoice_date),
                    "invoice_date_due": str(move.invoice_date_due),
                    "currency_id": move.currency_id.id,
                    "ref": move.ref or False,
                    "payment_reference": move.payment_reference or False,
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "display_type": line.display_type,
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "quantity": line.quantity,
                                "price_unit": line.price_unit,
                                "discount": line.discount,
                                "tax_ids": [(6, 0, line.tax_ids.ids)],
                                "account_id": line.account_id.id,
                            },
                        )
                        for line in move.invoice_line_ids
                        if line.display_type == "product"
                    ],
                },
            }
        )
    index = {m.id: i for i, m in enumerate(moves)}
    by_wave = {m.wave_id: m.id for m in moves}
    payments = []
    for payment in env["account.payment"].search(
        [("wave_invoice_id", "in", list(by_wave)), ("state", "not in", ("canceled", "rejected"))],
        order="id",
    ):
        payments.append(
            (
                index[by_wave[payment.wave_invoice_id]],
                {
                    "payment_type": payment.payment_type,
                    "partner_type": "customer",
                    "partner_id": payment.partner_id.id,
                    "company_id": company_id,
                    "journal_id": payment.journal_id.id,
                    "amount": payment.amount,
                    "currency_id": payment.currency_id.id,
                    "date": str(payment.date),
                    "memo": payment.memo or False,
                },
            )
        )
    return {"invoices": invoices, "payments": payments}


def worker_baseline(args):
    """The hand-written import of the same invoices and payments (timed here)."""
    odoo, registry = open_registry(args.db)
    data = json.loads(Path(args.values).read_text())
    company_id = json.loads(args.seed_json)["company_id"]
    # the same context flags as the import: no chatter tracking of a bulk import
    context = {"allowed_company_ids": [company_id], "tracking_disable": True}
    with registry.cursor() as cr:  # warm the registry and caches as a worker would be
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
        env["account.move"].search_count([])
    wall, cpu = time.perf_counter(), time.process_time()
    mismatches, move_ids = 0, []
    invoices = data["invoices"]
    batch = args.page_size  # the import's page: one create and one post per page
    for start in range(0, len(invoices), batch):
        part = invoices[start : start + batch]
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
            moves = env["account.move"].create([item["vals"] for item in part])
            for move, item in zip(moves, part, strict=True):
                if item["rate"]:
                    move.invoice_currency_rate = item["rate"]
                # the same balance check as the import: Odoo's total equals Wave's
                if move.currency_id.compare_amounts(move.amount_total, item["wave_total"]):
                    mismatches += 1
            moves.browse(
                [m.id for m, item in zip(moves, part, strict=True) if item["post"]]
            ).action_post()
            move_ids += moves.ids
    payments = data["payments"]
    for start in range(0, len(payments), batch):
        part = payments[start : start + batch]
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
            reconcile_payments(
                env,
                [vals for _i, vals in part],
                env["account.move"].browse([move_ids[index] for index, _vals in part]),
            )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "invoices": len(invoices),
        "payments": len(payments),
        "total_mismatches": mismatches,
    }
    print(RESULT_MARK + json.dumps(out), flush=True)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------
def run_worker(kind, db, extra=(), env=None):
    return bench_common.run_worker(__file__, kind, db, extra, env)


class JobServer(OdooServer):
    """``--workers=3`` with queue_job's runner, the import channel at ``capacity``."""

    def __init__(self, db, capacity, log_dir=None):
        super().__init__(
            db,
            workers=3,
            log_dir=log_dir,
            channels=CHANNELS.format(n=capacity),
            extra_args=["--limit-time-real=7200", "--limit-time-cpu=7200", "--log-level=warn"],
        )
        self.capacity = capacity


def rpc_session(server):
    from reliability.e2e import Rpc

    return Rpc(server)


def server_pids(server):
    """The Odoo processes of ``server`` (its process group)."""
    pgid = server.proc.pid
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def run_import(args, sandbox, seed, db, capacity, sample=None):
    """The import through the job runner on ``db``; returns its figures."""
    with JobServer(db, capacity, log_dir=args.log_dir) as server:
        rpc = rpc_session(server)
        ctx = {"allowed_company_ids": [seed["company_id"]]}
        warm_up(server, ctx)
        date_from, date_to = date_range()
        wizard = rpc(
            "wave.historical.import",
            "create",
            {
                "connection_id": seed["connection_id"],
                "date_from": str(date_from),
                "date_to": str(date_to),
            },
            context=ctx,
        )
        sandbox.admin("POST", "/sandbox/counters/reset", {})
        samples = []
        # RSS of each process of the warmed-up server just before the import
        rss_before = {p: rss_kib(p) for p in server_pids(server)} if sample else {}
        started = time.perf_counter()
        run_id = rpc("wave.historical.import", "action_import", [wizard], context=ctx)["res_id"]
        while True:
            state = psql(db, f"SELECT state FROM wave_sync_job WHERE id = {run_id}").strip()
            now = time.perf_counter() - started
            if sample:
                done = int(psql(db, "SELECT count(*) FROM account_move WHERE wave_id IS NOT NULL"))
                samples.append((round(now, 2), done, {p: rss_kib(p) for p in server_pids(server)}))
            if state in FINISHED:
                break
            time.sleep(1.0 if sample else 0.5)
        wall = time.perf_counter() - started
        counters = sandbox.admin("GET", "/sandbox/counters")
        figures = {
            "wall_s": round(wall, 2),
            "state": state,
            "capacity": capacity,
            "requests": counters.get("total"),
            # the sandbox's own count per GraphQL operation name (outside the addon)
            "requests_by_operation": counters.get("by_operation_name"),
            **db_checks(db),
        }
        jobs = (
            psql(
                db,
                "SELECT count(*), coalesce(sum(retry - 1), 0), "
                "count(*) FILTER (WHERE state = 'failed') FROM queue_job "
                "WHERE method_name = '_job_import_chunk'",
            )
            .strip()
            .split("|")
        )
        figures["chunk_jobs"], figures["chunk_retries"], figures["failed_jobs"] = map(int, jobs)
        if args.parity:
            figures["parity_differences"], figures["parity_lines"] = parity(
                sandbox, db, args.business_id, seed["company_id"]
            )
    if sample:
        figures["samples"] = samples
        figures["rss_before"] = rss_before
    return figures


def warm_up(server, ctx, rounds=3):
    """Every HTTP worker loads the registry before the clock starts (concurrent calls)."""
    import concurrent.futures

    def call(_i):
        rpc = rpc_session(server)
        return rpc("account.move", "search_count", [], context=ctx)

    with concurrent.futures.ThreadPoolExecutor(server.workers * 2) as pool:
        for _round in range(rounds):
            list(pool.map(call, range(server.workers * 2)))


def db_checks(db):
    moves = int(
        psql(
            db,
            "SELECT count(*) FROM account_move WHERE wave_id IS NOT NULL "
            "AND move_type = 'out_invoice'",
        )
    )
    payments = int(
        psql(
            db,
            "SELECT count(*) FROM account_payment WHERE wave_invoice_id IS NOT NULL "
            "AND state NOT IN ('canceled', 'rejected')",
        )
    )
    dup = int(
        psql(
            db,
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM account_move WHERE wave_id IS NOT NULL "
            "GROUP BY wave_id, company_id HAVING count(*) > 1) a) + (SELECT count(*) FROM "
            "(SELECT 1 FROM account_payment WHERE wave_id IS NOT NULL GROUP BY wave_id, "
            "company_id HAVING count(*) > 1) b)",
        )
    )
    gaps = int(
        psql(
            db,
            "SELECT count(*) FROM (SELECT sequence_prefix FROM account_move WHERE state = 'posted' "
            "AND sequence_prefix IS NOT NULL GROUP BY sequence_prefix HAVING max(sequence_number) "
            "<> count(*) OR count(DISTINCT sequence_number) <> count(*)) g",
        )
    )
    return {"moves": moves, "payments": payments, "duplicates": dup, "sequences_with_gaps": gaps}


def parity(sandbox, db, business_id, company_id):
    from independent_parity import OdooReader, WaveReader, check_parity

    env = pg_env()
    dsn = (
        f"dbname={db} host={env['PGHOST']} port={env['PGPORT']} "
        f"user={env['PGUSER']} password={env['PGPASSWORD']}"
    )
    wave = WaveReader(
        sandbox.url + "/graphql/public",
        sandbox.token,
        business_id,
        admin_url=sandbox.url,
        admin_token=sandbox.admin_token,
    )
    with OdooReader(dsn=dsn, company_id=company_id) as odoo:
        report = check_parity(wave, odoo, wave_drafts=True)
    # Two records sharing a name in Wave (the sandbox's seed has two customers called
    # "Evergreen Foods") are mirrored as two in Odoo: that pair is Wave's data, not a
    # difference the import made. Every other difference counts.
    in_wave = {(d.record, d.key) for d in report.differences if d.kind == "duplicate_in_wave"}
    counted = [
        d
        for d in report.differences
        if not (
            d.kind in ("duplicate_in_wave", "duplicate_in_odoo") and (d.record, d.key) in in_wave
        )
    ]
    return len(counted), str(report)[-3000:] if report.differences else ""


def run_baseline(args, db, seed):
    extra = ["--values", args.values, "--seed-json", json.dumps(seed)]
    figures = run_worker("baseline", db, [*extra, "--page-size", str(args.page_size)])
    # the baseline's records have no Wave ids: only its sequences are checked here
    figures["sequences_with_gaps"] = db_checks(db)["sequences_with_gaps"]
    return figures


def header(args, load_start):
    return {
        **run_header(load_start),
        "load_note": "shared machine: other sessions ran beside this benchmark; compare the "
        "ratios measured inside this run, not absolute times",
    }


def median(values):
    return round(statistics.median(values), 3) if values else None


def spread(values):
    return [round(min(values), 3), round(max(values), 3)] if values else None


def drive(args):
    load_start = load()
    db = args.prefix
    seed_db, dry_db = f"{db}_seed", f"{db}_dry"
    args.values = str(Path(args.log_dir) / "values.json")
    made = [seed_db, dry_db]
    try:
        prepare_database(seed_db, args.template, upgrade=not args.no_upgrade)
        size = args.large or args.invoices
        with SandboxProcess(seed=42, invoices=size, demo=True, start_timeout=900) as sandbox:
            args.business_id = sandbox.business("USD")
            env = {"BENCH_WAVE_TOKEN": sandbox.token}
            seed = run_worker(
                "seed",
                seed_db,
                [
                    "--sandbox-url",
                    sandbox.url,
                    "--business-id",
                    args.business_id,
                    "--page-size",
                    str(args.page_size),
                ],
                env=env,
            )
            print(f"seed: {seed}", file=sys.stderr)
            if args.large:
                return drive_large(args, sandbox, seed, seed_db, load_start, made)
            copy_database(seed_db, dry_db)
            extra = ["--values", args.values, "--seed-json", json.dumps(seed)]
            if args.profile:
                extra += ["--profile", args.profile]
            dry = run_worker("dryrun", dry_db, extra)
            drop_database(dry_db)
            print(f"dry run: {dry}", file=sys.stderr)
            if dry["partners"] != seed["partners"] or dry["products"] != seed["products"]:
                print("note: the dry run created reference records", file=sys.stderr)
            sides = ["import", "baseline"] + (["serial"] if args.with_serial else [])
            runs = {side: [] for side in sides}
            for rep in range(args.reps):
                order = sides if rep % 2 == 0 else list(reversed(sides))
                for side in order:
                    name = f"{db}_{side}_{rep}"
                    made.append(name)
                    copy_database(seed_db, name)
                    if side == "baseline":
                        figures = run_baseline(args, name, seed)
                    else:
                        capacity = args.parallel if side == "import" else 1
                        figures = run_import(args, sandbox, seed, name, capacity)
                    figures["rep"], figures["load"] = rep, load()
                    drop_database(name)
                    print(f"{side} rep {rep}: {figures}", file=sys.stderr, flush=True)
                    runs[side].append(figures)
        return report(args, seed, dry, runs, load_start)
    finally:
        for name in made:
            drop_database(name)


def report(args, seed, dry, runs, load_start):
    invoices = len(json.loads(Path(args.values).read_text())["invoices"])
    rates = {side: [invoices / r["wall_s"] for r in rows] for side, rows in runs.items()}
    med = {side: median(values) for side, values in rates.items()}
    ratio = round(med["import"] / med["baseline"], 3)
    # ratio inside each repetition (the two sides ran back to back)
    per_rep = [round(a / b, 3) for a, b in zip(rates["import"], rates["baseline"], strict=True)]
    imports = runs["import"] + runs.get("serial", [])
    clean = all(
        r["duplicates"] == 0
        and r["sequences_with_gaps"] == 0
        and r["moves"] == invoices
        and r["failed_jobs"] == 0
        and r.get("parity_differences", 0) == 0
        for r in imports
    )
    result = {
        **header(args, load_start),
        "sizes": {
            "invoices": invoices,
            "payments": len(json.loads(Path(args.values).read_text())["payments"]),
            "reps": args.reps,
            "import_channel_capacity": args.parallel,
            "page_size_and_baseline_batch": args.page_size,
            "chunks": dry["chunks"],
        },
        "invoices_per_s": {
            side: {"median": med[side], "runs": [round(x, 2) for x in v]}
            for side, v in rates.items()
        },
        "ratio_per_rep": per_rep,
        "runs": runs,
        "targets": {
            "import_vs_fair_baseline": {
                "value": ratio,
                "target": f">= {TARGET_RATIO} (median of {args.reps}, "
                f"{invoices} invoices{'' if invoices >= 2000 else '; the issue asks 2,000'})",
                "ok": ratio >= TARGET_RATIO,
            },
            "books_identical_no_duplicates_no_gaps": {
                "value": clean,
                "target": "independent parity 0 differences, 0 duplicates, 0 gaps, 0 failed jobs",
                "ok": clean,
            },
        },
    }
    if "serial" in med:
        result["parallel_vs_serial"] = round(med["import"] / med["serial"], 3)
    write(args.output, result)
    return result


def drive_large(args, sandbox, seed, seed_db, load_start, made):
    name = f"{args.prefix}_large"
    made.append(name)
    copy_database(seed_db, name)
    figures = run_import(args, sandbox, seed, name, args.parallel, sample=True)
    samples = figures.pop("samples")
    invoices = figures["moves"]

    # cost per invoice per segment: time between the sample where the segment's
    # first and last invoice were reached (linear between samples)
    def time_at(count):
        prev = (0.0, 0)
        for t, done, _rss in samples:
            if done >= count:
                (t0, d0) = prev
                return t0 + (t - t0) * ((count - d0) / (done - d0) if done > d0 else 1)
            prev = (t, done)
        return samples[-1][0]

    segment = args.segment
    marks = list(range(0, invoices + 1, segment))
    if marks[-1] != invoices:
        # the few invoices past the last whole segment join it: alone, two invoices
        # would make a "last segment" whose cost per invoice says nothing
        if len(marks) > 1:
            marks[-1] = invoices
        else:
            marks.append(invoices)
    segments = [
        {
            "from": a,
            "to": b,
            "ms_per_invoice": round(1000 * (time_at(b) - time_at(a)) / (b - a), 1),
        }
        for a, b in itertools.pairwise(marks)
        if b > a
    ]

    # RSS attributable to the import: growth of each server process over its RSS when
    # warmed up (registry loaded, before the import); the largest growth of any
    # process when the first segment was done, and at the end
    before = {int(pid): kib for pid, kib in figures.pop("rss_before").items()}

    def growth(sample):
        return max((kib - before.get(pid, kib) for pid, kib in sample[2].items()), default=0)

    first = next((s for s in samples if s[1] >= min(segment, invoices)), samples[-1])
    growth_first = max(growth(first), 1)
    growth_end = max(max(growth(s) for s in samples), 1)
    base_rss = max(before.values(), default=0)
    rss_first = growth_first
    rss_end = growth_end
    per_invoice = figures["requests"] / max(invoices, 1)
    cost_ratio = (
        segments[-1]["ms_per_invoice"] / segments[0]["ms_per_invoice"] if segments else None
    )
    rss_ratio = round(growth_end / growth_first, 3)
    result = {
        **header(args, load_start),
        "sizes": {
            "invoices": invoices,
            "payments": figures["payments"],
            "segment": segment,
            "page_size": args.page_size or "addon default",
            "chunk_jobs": figures["chunk_jobs"],
        },
        "import": figures,
        "segments": segments,
        # (seconds since the start, invoices imported): the segments can be recomputed
        "progress_samples": [[round(t, 1), done] for t, done, _rss in samples],
        "rss_kib": {
            "largest_process_warmed_up": base_rss,
            "growth_after_first_segment": rss_first,
            "growth_peak": rss_end,
        },
        "targets": {
            "wall_minutes": {
                "value": round(figures["wall_s"] / 60, 2),
                "target": "<= 10 (at 10,000 invoices)",
                "ok": figures["wall_s"] <= 600,
            },
            "requests_per_invoice": {
                "value": round(per_invoice, 4),
                "target": "<= 0.03",
                "ok": per_invoice <= 0.03,
            },
            "rss_growth_end_vs_first_segment": {
                "value": rss_ratio,
                "target": "<= 1.3 (RSS growth over the warmed-up workers, end / first segment)",
                "ok": rss_ratio <= 1.3,
            },
            "cost_last_vs_first_segment": {
                "value": round(cost_ratio, 3) if cost_ratio else None,
                "target": "<= 1.2",
                "ok": bool(cost_ratio and cost_ratio <= 1.2),
            },
            "books_clean": {
                "value": figures["duplicates"] == 0
                and figures["sequences_with_gaps"] == 0
                and figures.get("parity_differences", 0) == 0,
                "target": "0 duplicates, 0 gaps, parity 0",
                "ok": figures["duplicates"] == 0
                and figures["sequences_with_gaps"] == 0
                and figures.get("parity_differences", 0) == 0,
            },
        },
    }
    write(args.large_output, result)
    return result


def write(path, result):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten: {path}")
    for name, target in result["targets"].items():
        verdict = "PASS" if target["ok"] else "FAIL"
        print(f"  {name:42} {target['value']!s:>10}  {target['target']}  {verdict}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--invoices", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2, help="import channel capacity")
    ap.add_argument("--with-serial", action="store_true", help="also the import at capacity 1")
    ap.add_argument("--large", type=int, help="one import of this many invoices (issue 18: 10000)")
    ap.add_argument("--segment", type=int, default=1000)
    ap.add_argument(
        "--page-size",
        type=int,
        help="invoices per Wave page and per baseline batch (a chunk is up to 4 pages; "
        "smaller for small runs so that there are several chunks); default 100, and "
        "with --large the addon's own default (wave.historical.importer)",
    )
    ap.add_argument("--no-parity", dest="parity", action="store_false")
    ap.add_argument(
        "--profile",
        help="profile of the dry run: cProfile stats (.prof), or pyinstrument (.txt, .html)",
    )
    ap.add_argument("--template", default="wave_dev")
    ap.add_argument("--no-upgrade", action="store_true")
    ap.add_argument("--prefix", default=f"bench_import_{os.getpid()}", help="database names")
    ap.add_argument("--log-dir", default=str(ROOT / ".cache" / "bench-import"))
    ap.add_argument("--output", default=str(ROOT / "docs" / "results" / "bench-import.json"))
    ap.add_argument(
        "--large-output", default=str(ROOT / "docs" / "results" / "bench-large-history.json")
    )
    ap.add_argument("--full", action="store_true", help="ignored (sizes are set above)")
    add_worker_args(ap)  # worker mode (internal)
    args = ap.parse_args()
    if args.page_size is None:
        args.page_size = 0 if args.large else 100
    if args.worker:
        {"seed": worker_seed, "dryrun": worker_dryrun, "baseline": worker_baseline}[args.worker](
            args
        )
        return
    Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    result = drive(args)
    ok = all(t["ok"] for t in result["targets"].values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
