"""Many companies on one database, each with its own Wave business (issue 21).

One job node (queue_job's runner, the job role's channels) serves N companies,
each connected with its own full-access token to its own Wave business in the
sandbox (rate limit on, per token). The hourly cron runs once; then, from
outside the addon:

* staggering: when each company's first request reached Wave (sandbox journal);
* budgets: requests per token per window (journal), no 429 (each company has its
  own budget: one busy company never spends another's);
* isolation: company 0's token is revoked in Wave, company 1's Wave answers 503
  to everything (a second sandbox); every other company is imported in full
  (invoice count per company in PostgreSQL against the sandbox's own list), and
  its poll starts within ``max_start_delay`` of its scheduled time;
* delay: per company, first and last request after its scheduled start (the
  job's ``eta`` in queue_job's table).
"""

import time
from collections import Counter
from dataclasses import dataclass

from harness import SandboxProcess, ScratchDatabase, psql
from reliability.e2e import ADMIN_TOKEN

from .topology import LimitedSandbox, NodeRpc, budget_bound, job_node, role_conf, window_peak

MODULE = "wave_accounting_integration"


@dataclass
class Size:
    companies: int
    invoices: int  # per Wave business
    spread: int  # seconds over which the cron staggers the polls
    budget: int  # each connection's rate_limit ...
    period: int  # ... per rate_window seconds
    timeout: float  # for every company to be imported


SIZES = {
    "ci": Size(companies=20, invoices=3, spread=120, budget=10, period=20, timeout=900),
    "bench": Size(companies=20, invoices=200, spread=300, budget=60, period=60, timeout=7200),
}

REVOKED, STORM = 0, 1  # the two failing companies
JOB_WORKERS = 2  # the job node's --workers (recorded in the result)


class ManyCompanies:
    def __init__(self, workdir, size, template, conf, seed=20261222):
        self.workdir, self.size, self.seed = workdir, size, seed
        self.template, self.conf = template, conf
        self.result = {"size": vars(size).copy(), "job_workers": JOB_WORKERS}

    def run(self):
        began = time.monotonic()
        conf = role_conf(self.conf, self.workdir / "odoo-jobs.conf")
        size = self.size
        with (
            LimitedSandbox(
                limit=int(budget_bound(size.budget, size.period, size.period)),
                window=size.period,
                seed=self.seed,
                log_dir=self.workdir,
            ) as sandbox,
            SandboxProcess(
                seed=self.seed + 1, admin_token=ADMIN_TOKEN, log_dir=self.workdir
            ) as storm,
            ScratchDatabase(self.template, prefix="scale_mc") as db,
            job_node(db, conf, self.workdir, workers=JOB_WORKERS) as jobs,
        ):
            self.sandbox, self.storm, self.db, self.jobs = sandbox, storm, db, jobs
            self.rpc = NodeRpc(jobs)
            self._setup()
            self._poll_all()
            self._measure()
        self.result["seconds"] = round(time.monotonic() - began, 1)
        return self.result

    # -- setup --------------------------------------------------------------
    def _businesses(self):
        ids = []
        while len(ids) < self.size.companies:
            seeded = self.sandbox.admin(
                "POST",
                "/sandbox/seed",
                {
                    "invoices_per_business": self.size.invoices,
                    "customers": 6,
                    "vendors": 2,
                    "years": 1,
                },
            )
            ids += [business["id"] for business in seeded["businesses"]]
        return ids[: self.size.companies]

    def _setup(self):
        rpc, size = self.rpc, self.size
        setup_began = time.monotonic()
        params = "ir.config_parameter"
        rpc(params, "set_param", "web.base.url", self.jobs.base)
        rpc(params, "set_param", f"{MODULE}.poll_spread_seconds", str(size.spread))
        business_ids = self._businesses()
        storm_business = self.storm.businesses[0]["id"] if self.storm.businesses else None
        if storm_business is None:
            storm_business = self.storm.admin("POST", "/sandbox/seed", {
                "invoices_per_business": 1, "customers": 2, "vendors": 1, "years": 1,
            })["businesses"][0]["id"]  # fmt: skip
        main = rpc("res.company", "search", [], limit=1)[0]
        chart = rpc("res.company", "read", [main], ["chart_template"])[0]["chart_template"]
        rpc("wave.api", "write", rpc("wave.api", "search", []), {"sync_inbound": False})
        codes = set()
        admin = rpc("res.users", "search", [("login", "=", "admin")])[0]
        self.companies = []
        for index, business_id in enumerate(business_ids):
            name = f"Scale company {index:02d}"
            company_id = rpc("res.company", "create", {"name": name})
            # A new company gets no chart of accounts of its own: load the main one's.
            rpc("account.chart.template", "try_loading", [], chart, company_id)
            rpc("res.users", "write", [admin], {"company_ids": [(4, company_id)]})
            wave = self.storm if index == STORM else self.sandbox
            if index == STORM:
                business_id = storm_business
            token = wave.admin("POST", "/sandbox/tokens", {"business_ids": [business_id]})[
                "access_token"
            ]
            self.companies.append(
                {"index": index, "company_id": company_id, "business_id": business_id,
                 "token": token, "wave": wave}
            )  # fmt: skip
        allowed = [main] + [c["company_id"] for c in self.companies]
        self.ctx = {"allowed_company_ids": allowed}
        for company in self.companies:
            wave = company["wave"]
            connection_id = rpc(
                "wave.api",
                "create",
                {
                    "name": f"Wave {company['index']:02d}",
                    "company_id": company["company_id"],
                    "auth_method": "token",
                    "full_access_token": company["token"],
                    "business_id": company["business_id"],
                    "api_url": wave.base + "/graphql/public",
                    "allow_insecure_loopback": True,
                    "rate_limit": size.budget,
                    "rate_window": size.period,
                    "sync_inbound": True,
                    "sync_outbound": False,
                    "import_draft_invoices": True,
                    "customer_creation_policy": "create",
                    "vendor_creation_policy": "create",
                    "unmapped_account_policy": "create",
                    "allow_sales_tax_create": True,
                },
                context=self.ctx,
            )
            rpc("wave.api", "action_wave_connect", [connection_id], context=self.ctx)
            company["connection_id"] = connection_id
            state = rpc.search_read(
                "wave.api", [("id", "=", connection_id)], ["state", "business_id"], context=self.ctx
            )[0]
            if state["state"] != "connected" or state["business_id"] != company["business_id"]:
                raise RuntimeError(f"company {company['index']} not connected: {state}")
            if wave is self.sandbox:
                # A token of the test's own for each read: the sandbox limits per token.
                reader = wave.admin("POST", "/sandbox/tokens", {})["access_token"]
                invoices = wave.all_invoices(reader, company["business_id"])
                company["wave_invoices"] = len(invoices)
                codes |= {inv["currency"]["code"] for inv in invoices}
        currencies = rpc(
            "res.currency",
            "search",
            [("name", "in", sorted(codes))],
            context={"active_test": False},
        )
        rpc("res.currency", "write", currencies, {"active": True})
        self.result["setup_s"] = round(time.monotonic() - setup_began, 1)

    # -- the cron and its polls -----------------------------------------------
    def _poll_all(self):
        rpc = self.rpc
        # The failures: company 0's grant revoked in Wave, company 1's Wave failing.
        self.sandbox.admin(
            "POST", "/sandbox/tokens/revoke", {"token": self.companies[REVOKED]["token"]}
        )
        self.storm.admin(
            "POST",
            "/sandbox/faults",
            {"kind": "http_error", "operation": "*", "rate": 1.0, "status": 503},
        )  # fmt: skip
        cron = rpc(
            "ir.model.data", "search_read",
            [("module", "=", MODULE), ("name", "=", "ir_cron_wave_poll_inbound")], ["res_id"],
        )[0]["res_id"]  # fmt: skip
        self.cron_at = time.time()
        stats_before = self._pg_stats()
        rpc("ir.cron", "method_direct_trigger", [cron])
        healthy = self.healthy()
        deadline = time.monotonic() + self.size.timeout
        self.done_at = {}
        while time.monotonic() < deadline and len(self.done_at) < len(healthy):
            counts = self._imported_counts()
            for company in healthy:
                if company["index"] in self.done_at:
                    continue
                if counts.get(company["company_id"], 0) >= company["wave_invoices"]:
                    self.done_at[company["index"]] = time.time()
            time.sleep(1)
        after = self._pg_stats()
        # PostgreSQL's own counters for this database, cron to last import (every node).
        self.result["pg_stats_delta"] = {k: after[k] - stats_before[k] for k in after}
        self.result["all_healthy_done_s"] = (
            round(max(self.done_at.values()) - self.cron_at, 1)
            if len(self.done_at) == len(healthy)
            else None
        )

    PG_STATS = (
        "xact_commit",
        "tup_inserted",
        "tup_updated",
        "tup_fetched",
        "blks_hit",
        "blks_read",
    )

    def _pg_stats(self):
        psql(self.db, "SELECT pg_stat_clear_snapshot()")
        row = psql(
            self.db,
            f"SELECT {', '.join(self.PG_STATS)} FROM pg_stat_database "
            f"WHERE datname = current_database()",
        )
        return dict(zip(self.PG_STATS, map(int, row.split("|")), strict=True))

    def healthy(self):
        return [c for c in self.companies if c["index"] not in (REVOKED, STORM)]

    def _imported_counts(self):
        rows = psql(
            self.db,
            "SELECT company_id, count(*) FROM account_move WHERE wave_id IS NOT NULL "
            "AND move_type = 'out_invoice' GROUP BY company_id",
        )
        return {int(c): int(n) for c, n in (line.split("|") for line in rows.splitlines() if line)}

    # -- measures, from outside -----------------------------------------------
    def _measure(self):
        size = self.size
        journal = self.sandbox.journal(since=self.cron_at)
        by_token = {}
        for entry in journal:
            if entry["kind"] == "graphql":
                by_token.setdefault(entry["key"], []).append(entry)
        etas = {}
        rows = psql(
            self.db,
            "SELECT company_id, extract(epoch FROM min(coalesce(eta, date_created))) "
            "FROM queue_job WHERE method_name = '_job_poll' GROUP BY company_id",
        )
        for line in rows.splitlines():
            company_id, eta = line.split("|")
            etas[int(company_id)] = float(eta)
        counts = self._imported_counts()
        companies = []
        for company in self.companies:
            entries = sorted(by_token.get(company["token"], []), key=lambda e: e["t"])
            times = [e["t"] for e in entries]
            scheduled = etas.get(company["company_id"])
            row = {
                "company": company["index"],
                "requests": len(entries),
                "statuses": dict(Counter(str(e["status"]) for e in entries)),
                "scheduled_s": round(scheduled - self.cron_at, 1) if scheduled else None,
                "first_request_s": round(times[0] - self.cron_at, 1) if times else None,
                "start_delay_s": round(times[0] - scheduled, 1) if times and scheduled else None,
                "done_s": round(self.done_at[company["index"]] - self.cron_at, 1)
                if company["index"] in self.done_at
                else None,
                "peak_per_window": window_peak(times, size.period),
                "imported": counts.get(company["company_id"], 0),
                "wave_invoices": company.get("wave_invoices"),
            }
            if row["done_s"] is not None and scheduled:
                row["done_after_scheduled_s"] = round(self.done_at[company["index"]] - scheduled, 1)
            companies.append(row)
        healthy = [row for row in companies if row["company"] not in (REVOKED, STORM)]
        starts = sorted(
            row["first_request_s"] for row in healthy if row["first_request_s"] is not None
        )
        scheduled = sorted(row["scheduled_s"] for row in healthy if row["scheduled_s"] is not None)
        storm_counters = self.storm.admin("GET", "/sandbox/counters")
        states = self.rpc.search_read(
            "wave.api",
            [("id", "in", [c["connection_id"] for c in self.companies])],
            ["state"],
            context=self.ctx,
        )
        state_of = {s["id"]: s["state"] for s in states}
        jobs = self.rpc("queue.job", "read_group", [], ["state"], ["state"], lazy=False)
        self.result.update(
            {
                "companies": companies,
                "starts_s": starts,
                "start_span_s": round(starts[-1] - starts[0], 1) if starts else 0,
                "most_starts_in_quarter_spread": window_peak(starts, size.spread / 4),
                "scheduled_s": scheduled,
                "scheduled_span_s": round(scheduled[-1] - scheduled[0], 1) if scheduled else 0,
                "most_scheduled_in_quarter_spread": window_peak(scheduled, size.spread / 4),
                "earliest_start_delay_s": min(
                    (row["start_delay_s"] for row in healthy if row["start_delay_s"] is not None),
                    default=None,
                ),
                "budget_bound_per_window": budget_bound(size.budget, size.period, size.period),
                "max_peak_per_window": max(row["peak_per_window"] for row in healthy),
                "status_429": sum(
                    1 for entries in by_token.values() for e in entries if e["status"] == 429
                ),
                "slowest_start_delay_s": max(
                    (row["start_delay_s"] for row in healthy if row["start_delay_s"] is not None),
                    default=None,
                ),
                "slowest_done_after_scheduled_s": max(
                    (row.get("done_after_scheduled_s") or 0 for row in healthy), default=None
                ),
                "revoked_state": state_of[self.companies[REVOKED]["connection_id"]],
                "storm_statuses": storm_counters["by_status"],
                "jobs": {g["state"]: g["__count"] for g in jobs},
            }
        )
