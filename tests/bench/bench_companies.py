"""Benchmark of many companies on one job node (issue 21; a script, not a test).

20 companies, each with its own Wave business of 200 invoices (``--invoices``),
one job node (queue_job's runner, production's channels from
docker/odoo-jobs.conf), the sandbox's rate limit on per token, each connection's
budget ``--budget`` requests per ``--period`` s. The hourly cron runs once, its
polls staggered over ``--spread`` s; company 0's grant is revoked and company 1's
Wave answers 503 to everything (they must delay nobody). Reports, from the
sandbox's journal and PostgreSQL:

  * total time from the cron to the last healthy company fully imported;
  * requests per company per window (peak; never above the budget's bound);
  * the slowest company's delay (first request after its scheduled start, and
    fully imported after its scheduled start);
  * invoices/hour and requests/minute the job node sustained.

Writes ``docs/results/scale-companies.json``.

Run:  python3 tests/bench/bench_companies.py --template <db with the addon>
      [--companies 20 --invoices 200 --spread 300]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests folder

from bench_common import load, run_header
from harness import ROOT, odoo_conf, pg_env
from scale.companies import REVOKED, SIZES, STORM, ManyCompanies, Size

OUTPUT = ROOT / "docs" / "results" / "scale-companies.json"


def main():
    full = SIZES["bench"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", required=True, help="a database with the addon installed")
    parser.add_argument("--no-upgrade", action="store_true", help="(make bench passes it)")
    parser.add_argument("--companies", type=int, default=full.companies)
    parser.add_argument("--invoices", type=int, default=full.invoices)
    parser.add_argument("--spread", type=int, default=full.spread)
    parser.add_argument("--budget", type=int, default=full.budget)
    parser.add_argument("--period", type=int, default=full.period)
    parser.add_argument("--timeout", type=float, default=full.timeout)
    parser.add_argument("--full", action="store_true", help="the issue's size (the default)")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args()
    os.environ.update({k: v for k, v in pg_env().items() if k.startswith("PG")})
    load_start = load()
    size = Size(
        companies=args.companies,
        invoices=args.invoices,
        spread=args.spread,
        budget=args.budget,
        period=args.period,
        timeout=args.timeout,
    )
    with tempfile.TemporaryDirectory(prefix="scale_bench_") as workdir:
        result = ManyCompanies(Path(workdir), size, args.template, str(odoo_conf())).run()
    healthy = [r for r in result["companies"] if r["company"] not in (REVOKED, STORM)]
    total = result["all_healthy_done_s"]
    imported = sum(r["imported"] for r in healthy)
    requests = sum(r["requests"] for r in healthy)
    result["summary"] = {
        "companies": size.companies,
        "invoices_per_company": size.invoices,
        "full_size": size.companies == SIZES["bench"].companies
        and size.invoices == SIZES["bench"].invoices,
        "total_time_s": total,
        "invoices_imported": imported,
        "invoices_per_hour": round(imported * 3600 / total) if total else None,
        "requests_per_minute": round(requests * 60 / total, 1) if total else None,
        "requests_per_invoice": round(requests / imported, 3) if imported else None,
        "budget": f"{size.budget} per {size.period} s",
        "budget_bound_per_window": result["budget_bound_per_window"],
        "max_requests_per_company_per_window": result["max_peak_per_window"],
        "status_429": result["status_429"],
        "slowest_start_delay_s": result["slowest_start_delay_s"],
        "slowest_done_after_scheduled_s": result["slowest_done_after_scheduled_s"],
        "start_span_s": result["start_span_s"],
        "revoked_state": result["revoked_state"],
        "storm_503": result["storm_statuses"].get("503", 0),
    }
    # where and when (scripts/bench_table.py prints it beside the README's figures)
    result.update(run_header(load_start))
    result["python"] = platform.python_version()
    stats = result.get("pg_stats_delta") or {}
    result["summary"]["postgres_per_invoice"] = {
        key: round(value / imported, 1) for key, value in stats.items() if imported
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result["summary"], indent=2))
    ok = (
        total is not None
        and result["status_429"] == 0
        and result["max_peak_per_window"] <= result["budget_bound_per_window"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
