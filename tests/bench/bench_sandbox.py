"""Benchmark of the Wave sandbox (a script, not a pytest test).

Prints:
  * the time to generate 100,000 invoices (two businesses x 50,000),
  * the median time to serve one page of 100 invoices (with lines and customer) over HTTP.

Run:  cd /work/main && python tests/bench/bench_sandbox.py [--invoices 100000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import requests

from wave_sandbox import WaveSandbox

PAGE_QUERY = """
query Page($businessId: ID!, $page: Int!) {
  business(id: $businessId) {
    invoices(page: $page, pageSize: 100, sort: [MODIFIED_AT_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node {
        id invoiceNumber status invoiceDate dueDate createdAt modifiedAt exchangeRate
        currency { code }
        customer { id name email }
        total { value minorUnitValue } amountDue { value } amountPaid { value }
        taxTotal { value } discountTotal { value }
        items {
          description quantity unitPrice
          product { id name }
          account { id }
          subtotal { value } total { value }
          taxes { amount { value } salesTax { id abbreviation } }
        }
      } }
    }
  }
}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--full",
        action="store_true",
        help="accepted for make bench; sizes are set by the options below",
    )
    ap.add_argument("--invoices", type=int, default=100_000, help="total invoices to generate")
    ap.add_argument("--rounds", type=int, default=50, help="timed page requests")
    args = ap.parse_args()

    sb = WaveSandbox(seed=42, port=0, rate_limit=0)
    t0 = time.perf_counter()
    businesses = sb.seed_demo(invoices_per_business=args.invoices // 2)
    gen = time.perf_counter() - t0
    total = sum(len(b.invoices) for b in businesses)
    print(
        f"generated {total} invoices in {gen:.2f} s "
        f"({total / gen:,.0f} invoices/s; target: 100,000 in < 60 s)"
    )

    sb.start()
    try:
        token = sb.issue_full_access_token()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        bid = businesses[0].id
        pages = max(len(businesses[0].invoices) // 100, 1)
        for page in range(1, 6):  # warm-up (document cache, sort cache, connections)
            session.post(
                sb.graphql_url,
                json={"query": PAGE_QUERY, "variables": {"businessId": bid, "page": page}},
            ).raise_for_status()
        times = []
        for i in range(args.rounds):
            page = 1 + (i * 37) % pages
            t = time.perf_counter()
            r = session.post(
                sb.graphql_url,
                json={"query": PAGE_QUERY, "variables": {"businessId": bid, "page": page}},
            )
            times.append((time.perf_counter() - t) * 1000)
            body = r.json()
            assert "errors" not in body, body["errors"]
            assert len(body["data"]["business"]["invoices"]["edges"]) == 100
        print(
            f"page of 100 invoices over HTTP: median {statistics.median(times):.1f} ms, "
            f"p90 {sorted(times)[int(len(times) * 0.9) - 1]:.1f} ms, "
            f"min {min(times):.1f} ms ({args.rounds} requests; target <= 20 ms)"
        )
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
