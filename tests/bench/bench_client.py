"""Benchmark of the Wave client's list and batch helpers (a script, not a pytest test).

Starts the local Wave sandbox, seeds one business with N invoices (with
payments), then prints requests per operation for:

  * a full invoice listing with ``WaveClient.iterate`` (page size 200 and 45);
  * looking up every invoice with its payments via ``WaveClient.lookup_many``
    (aliases, chunk 50) versus one request per invoice (sampled);
  * approving + marking sent draft invoices with ``WaveClient.mutate_many``.

Run:  cd /work/main && python tests/bench/bench_client.py [--invoices 1000] [--chunk-size 50]
"""

import argparse
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LIB_DIR = os.path.join(REPO, "wave_accounting_integration", "lib")
sys.path.insert(0, os.path.join(REPO, "tests"))

LIST_QUERY = """
query ListInvoices($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    invoices(page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id invoiceNumber status modifiedAt total { value } } }
    }
  }
}"""
ONE_QUERY = """
query OneInvoice($businessId: ID!, $id: ID!) {
  business(id: $businessId) { invoice(id: $id) { %s } }
}"""
PAYMENTS = "id invoiceNumber amountPaid { value } payments { id amount paymentDate paymentMethod }"
DRAFTS_QUERY = """
query Drafts($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) { invoices(page: $page, pageSize: $pageSize, status: DRAFT) {
    pageInfo { totalPages } edges { node { id } } } }
}"""


def load_lib():
    """Load the client library by path (no Odoo import)."""
    spec = importlib.util.spec_from_file_location(
        "wave_client_lib",
        os.path.join(LIB_DIR, "__init__.py"),
        submodule_search_locations=[LIB_DIR],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["wave_client_lib"] = module
    spec.loader.exec_module(module)
    return module


class Meter:
    """Counts logical requests per operation through ``request_logger``."""

    def __init__(self):
        """Start with no counts."""
        self.counts = {}

    def __call__(self, record):
        """Count one request record."""
        name = record["operation_name"]
        self.counts[name] = self.counts.get(name, 0) + 1 + record["retries"]

    def take(self, name):
        """Return and reset the count of ``name``."""
        return self.counts.pop(name, 0)


def timed(func):
    """Run ``func``; return (result, seconds)."""
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def bench_listing(client, meter, business_id, page_size):
    """List every invoice; return (invoices, requests, seconds)."""
    ids, seconds = timed(
        lambda: [
            node["id"]
            for node in client.iterate(
                LIST_QUERY, {"businessId": business_id}, "business.invoices", page_size=page_size
            )
        ]
    )
    return ids, meter.take("ListInvoices"), seconds


def bench_lookup(client, meter, business_id, ids, chunk_size):
    """Look up every invoice with payments; return (found, requests, seconds)."""
    found, seconds = timed(
        lambda: client.lookup_many(business_id, "invoice", ids, PAYMENTS, chunk_size=chunk_size)
    )
    return found, meter.take("WaveLookupMany"), seconds


def bench_one_by_one(client, meter, business_id, ids, sample):
    """Fetch ``sample`` invoices one request each; return (requests, seconds)."""
    query = ONE_QUERY % PAYMENTS
    _, seconds = timed(
        lambda: [client.execute(query, {"businessId": business_id, "id": i}) for i in ids[:sample]]
    )
    return meter.take("OneInvoice"), seconds


def bench_mutate_many(client, meter, business_id, count):
    """Approve + mark sent ``count`` drafts in one request; return (ops, requests, s)."""
    drafts = []
    for node in client.iterate(
        DRAFTS_QUERY, {"businessId": business_id}, "business.invoices", page_size=100
    ):
        drafts.append(node["id"])
        if len(drafts) >= count:
            break
    meter.take("Drafts")
    entries = []
    for n, invoice_id in enumerate(drafts):
        entries.append((f"a{n}", "invoiceApprove", {"invoiceId": invoice_id}, "invoice { id }"))
        entries.append(
            (f"s{n}", "invoiceMarkSent", {"invoiceId": invoice_id, "sendMethod": "MARKED_SENT"}, "")
        )
    out, seconds = timed(lambda: client.mutate_many(entries))
    ok = sum(1 for value in out.values() if isinstance(value, dict))
    return len(entries), ok, meter.take("WaveMutateMany"), seconds


def main():
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full",
        action="store_true",
        help="accepted for make bench; sizes are set by the options below",
    )
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument(
        "--sample", type=int, default=100, help="invoices fetched one by one for the N+1 comparison"
    )
    parser.add_argument("--drafts", type=int, default=20)
    args = parser.parse_args()

    lib = load_lib()
    from wave_sandbox import WaveSandbox

    sandbox = WaveSandbox(seed=42, port=0, rate_limit=0).start()
    try:
        business, _other = sandbox.seed_demo(invoices_per_business=args.invoices)
        meter = Meter()
        client = lib.WaveClient(
            sandbox.graphql_url,
            lib.StaticTokenProvider(sandbox.issue_full_access_token()),
            allow_insecure_loopback=True,
            request_logger=meter,
        )
        run(client, meter, business.id, args)
        client.close()
    finally:
        sandbox.stop()


def run(client, meter, business_id, args):
    """Run every measurement and print one line each."""
    print(f"Wave client benchmark against the sandbox ({args.invoices} invoices)")
    for page_size in (200, 45):
        ids, reqs, secs = bench_listing(client, meter, business_id, page_size)
        print(
            f"  listing, page size {page_size:>3}: {len(ids)} invoices in {reqs} requests "
            f"({reqs / max(len(ids), 1):.4f} requests/invoice, {secs:.2f} s)"
        )
    with_payments = ids
    found, reqs, secs = bench_lookup(client, meter, business_id, with_payments, args.chunk_size)
    paid = sum(1 for node in found.values() if node and node["payments"])
    print(
        f"  lookup_many (chunk {args.chunk_size}): {len(found)} invoices with payments "
        f"({paid} having payments) in {reqs} requests ({secs:.2f} s)"
        f"  -> {'OK' if reqs <= 25 else 'OVER'} (target <= 25 for 1,000)"
    )
    reqs, secs = bench_one_by_one(client, meter, business_id, with_payments, args.sample)
    per = secs / max(reqs, 1)
    print(
        f"  one request per invoice (sample {args.sample}): {reqs} requests, "
        f"{per * 1000:.1f} ms each -> ~{per * len(with_payments):.1f} s and "
        f"{len(with_payments)} requests for all"
    )
    total, ok, reqs, secs = bench_mutate_many(client, meter, business_id, args.drafts)
    print(
        f"  mutate_many: {total} mutations (approve + mark sent), {ok} succeeded, "
        f"in {reqs} request(s) ({secs:.2f} s)"
    )


if __name__ == "__main__":
    main()
