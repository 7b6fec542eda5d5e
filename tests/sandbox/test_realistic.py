"""Realistic mode: every awkward case of real books is there, read over HTTP like a client,
and every generated invoice adds up to the cent under the sandbox's rounding rules."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import signal
import subprocess
import sys
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from wave_sandbox import WaveSandbox
from wave_sandbox.export import export_csv
from wave_sandbox.generator import seed_demo
from wave_sandbox.store import State

from .conftest import ADMIN, TESTS_DIR, Api

TODAY = dt.date(2026, 6, 30)
ITEM = """id quantity unitPrice subtotal { value } total { value }
  product { id name isArchived } account { id name isArchived }
  taxes { amount { value } salesTax { id abbreviation isCompound isArchived
    rates { effective rate } } }"""
INVOICE = f"""id invoiceNumber invoiceDate status createdAt modifiedAt memo
  currency {{ code exponent }} exchangeRate
  customer {{ id name }}
  subtotal {{ value }} taxTotal {{ value }} discountTotal {{ value }} total {{ value }}
  amountPaid {{ value }} amountDue {{ value }}
  discounts {{ __typename ... on PercentageInvoiceDiscount {{ percentage }}
    ... on FixedInvoiceDiscount {{ amount }} }}
  items {{ {ITEM} }}"""
PAYMENT = """id amount paymentDate exchangeRate transactionType state active
  originInvoicePayment { id } account { name isArchived }"""


@pytest.fixture(scope="module")
def real():
    sb = WaveSandbox(seed=7, port=0, rate_limit=0, admin_token=ADMIN)
    sb.configure(today=TODAY.isoformat())
    us, ca = sb.seed_demo(invoices_per_business=70, customers=24, vendors=3, realistic=True)
    sb.start()
    api = Api(sb, sb.issue_full_access_token())
    books = {}
    for b in (us, ca):
        books[b.currency_code] = {"id": b.id, "invoices": _all_invoices(api, b.id)}
        _attach_payments(api, b.id, books[b.currency_code]["invoices"])
    yield {"sb": sb, "api": api, "books": books, "cases": sb.state.realistic_cases}
    sb.stop()


def _all_invoices(api, business_id):
    q = f"""query($b: ID!, $p: Int!) {{ business(id: $b) {{
      invoices(page: $p, pageSize: 50) {{ pageInfo {{ totalPages }}
        edges {{ node {{ {INVOICE} }} }} }}
    }} }}"""
    out, page, pages = [], 1, 1
    while page <= pages:
        conn = api.data(q, {"b": business_id, "p": page})["business"]["invoices"]
        pages = conn["pageInfo"]["totalPages"]
        out += [e["node"] for e in conn["edges"]]
        page += 1
    return out


def _attach_payments(api, business_id, invoices):
    """Payments are only listed for a single invoice: ask in batches of aliases."""
    for start in range(0, len(invoices), 25):
        chunk = invoices[start : start + 25]
        fields = " ".join(
            f'i{k}: invoice(id: "{inv["id"]}") {{ payments {{ {PAYMENT} }} }}'
            for k, inv in enumerate(chunk)
        )
        got = api.data(f"query($b: ID!) {{ business(id: $b) {{ {fields} }} }}", {"b": business_id})
        for k, inv in enumerate(chunk):
            inv["payments"] = got["business"][f"i{k}"]["payments"]


def _every(real):
    return [inv for book in real["books"].values() for inv in book["invoices"]]


def _items(real):
    return [item for inv in _every(real) for item in inv["items"]]


def _cents(value, exp):
    return Decimal(value).quantize(Decimal(1).scaleb(-exp), ROUND_HALF_UP)


def _rate_on(tax, day):
    rate = Decimal(tax["rates"][0]["rate"])
    for r in sorted(tax["rates"], key=lambda r: r["effective"]):
        if r["effective"] <= day:
            rate = Decimal(r["rate"])
    return rate


# --------------------------------------------------------------------------- arithmetic


def test_every_invoice_adds_up_to_the_cent(real):
    """total = Σ line subtotals - discount + Σ taxes; each figure rounded half-up to the
    currency's minor unit (README: ASSUMPTION on rounding)."""
    checked = 0
    for inv in _every(real):
        exp = inv["currency"]["exponent"]
        subtotal = tax_total = Decimal(0)
        for item in inv["items"]:
            line = _cents(Decimal(item["quantity"]) * Decimal(item["unitPrice"]), exp)
            assert Decimal(item["subtotal"]["value"]) == line, (inv["invoiceNumber"], item)
            simple = Decimal(0)
            for tax in item["taxes"]:
                if not tax["salesTax"]["isCompound"]:
                    amount = _cents(line * _rate_on(tax["salesTax"], inv["invoiceDate"]), exp)
                    assert Decimal(tax["amount"]["value"]) == amount, (inv["invoiceNumber"], tax)
                    simple += amount
            compound = Decimal(0)
            for tax in item["taxes"]:
                if tax["salesTax"]["isCompound"]:
                    rate = _rate_on(tax["salesTax"], inv["invoiceDate"])
                    amount = _cents((line + simple) * rate, exp)
                    assert Decimal(tax["amount"]["value"]) == amount, (inv["invoiceNumber"], tax)
                    compound += amount
            assert Decimal(item["total"]["value"]) == line + simple + compound
            subtotal += line
            tax_total += simple + compound
        discount = Decimal(0)
        for d in inv["discounts"] or []:
            if d["__typename"] == "FixedInvoiceDiscount":
                discount += _cents(d["amount"], exp)
            else:
                discount += _cents(subtotal * Decimal(d["percentage"]) / 100, exp)
        paid = Decimal(0)
        for p in inv["payments"] or []:
            if p["active"]:
                sign = -1 if p["transactionType"] == "REFUND" else 1
                paid += sign * Decimal(p["amount"])
        total = subtotal - discount + tax_total
        figures = ("subtotal", "taxTotal", "discountTotal", "total", "amountPaid", "amountDue")
        got = [Decimal(inv[f]["value"]) for f in figures]
        assert got == [subtotal, tax_total, discount, total, paid, total - paid], inv
        checked += 1
    assert checked == sum(len(b.invoices) for b in real["sb"].state.businesses) > 100


# --------------------------------------------------------------------------- the cases


def test_lines_have_fractional_quantities_precise_prices_and_several_taxes(real):
    items = _items(real)
    quantities = {item["quantity"] for item in items}
    assert {"0.333", "2.5"} <= quantities
    prices = {item["unitPrice"] for item in items}
    assert {"0.335", "33.333", "1.23456"} <= prices
    tax_counts = {len(item["taxes"]) for item in items}
    assert {0, 1, 2, 3} <= tax_counts
    compound = [i for i in items if any(t["salesTax"]["isCompound"] for t in i["taxes"])]
    assert compound and all(len(i["taxes"]) >= 1 for i in compound)
    ca_abbrs = {
        t["salesTax"]["abbreviation"]
        for inv in real["books"]["CAD"]["invoices"]
        for i in inv["items"]
        for t in i["taxes"]
    }
    assert {"GST", "PST", "HST"} <= ca_abbrs


def test_discounts_percentage_and_fixed(real):
    kinds = {d["__typename"] for inv in _every(real) for d in inv["discounts"] or []}
    assert kinds == {"PercentageInvoiceDiscount", "FixedInvoiceDiscount"}


def test_foreign_currencies_with_exchange_rates(real):
    for code, book in real["books"].items():
        foreign = [inv for inv in book["invoices"] if inv["currency"]["code"] != code]
        codes = {inv["currency"]["code"] for inv in foreign}
        other_dollar = "CAD" if code == "USD" else "USD"
        assert {"EUR", other_dollar, "EEK"} <= codes  # EEK: in Wave's enum, not in Odoo
        assert codes & {"CHF", "SEK", "JPY"}  # in Odoo, inactive by default
        assert all(Decimal(inv["exchangeRate"]) != 1 for inv in foreign)


def test_payments_partial_completing_over_later_and_at_another_rate(real):
    invoices = _every(real)
    statuses = {inv["status"] for inv in invoices}
    assert {"PAID", "OVERPAID", "DRAFT"} <= statuses
    partial = [
        inv
        for inv in invoices
        if 0 < Decimal(inv["amountPaid"]["value"]) < Decimal(inv["total"]["value"])
    ]
    assert partial
    completing = [
        inv
        for inv in invoices
        if inv["status"] == "PAID"
        and len([p for p in inv["payments"] if p["transactionType"] == "PAYMENT"]) >= 2
    ]
    assert completing
    later = [
        p for inv in invoices for p in inv["payments"] if p["paymentDate"] > inv["invoiceDate"]
    ]
    assert later
    other_rate = [
        (inv, p)
        for inv in invoices
        for p in inv["payments"]
        if inv["exchangeRate"] not in ("1", "1.00") and p["exchangeRate"] != inv["exchangeRate"]
    ]
    assert other_rate


def test_refunds_and_voided_payments(real):
    pays = {p["id"]: p for inv in _every(real) for p in inv["payments"]}
    refunds = [p for p in pays.values() if p["transactionType"] == "REFUND"]
    assert refunds
    for refund in refunds:
        origin = pays[refund["originInvoicePayment"]["id"]]
        assert origin["transactionType"] == "PAYMENT"
        assert Decimal(refund["amount"]) <= Decimal(origin["amount"])
    voided = [p for p in pays.values() if p["state"] == "VOIDED"]
    assert voided and all(p["active"] is False for p in voided)
    fully_refunded = [
        inv
        for inv in _every(real)
        if any(p["transactionType"] == "REFUND" for p in inv["payments"])
        and inv["amountPaid"]["value"] in ("0", "0.00")
    ]
    assert fully_refunded


def _listed(api, business_id, field, archived=None):
    arg = "" if archived is None else f", isArchived: {str(archived).lower()}"
    q = f"""query($b: ID!) {{ business(id: $b) {{ {field}(pageSize: 200{arg}) {{
      edges {{ node {{ id name isArchived }} }} }} }} }}"""
    return [e["node"] for e in api.data(q, {"b": business_id})["business"][field]["edges"]]


def test_archived_records_hidden_by_default_but_used_by_old_invoices(real):
    api = real["api"]
    for book in real["books"].values():
        items = [i for inv in book["invoices"] for i in inv["items"]]
        pays = [p for inv in book["invoices"] for p in inv["payments"]]
        used = {
            "products": {i["product"]["id"] for i in items if i["product"]["isArchived"]},
            "accounts": {i["account"]["id"] for i in items if i["account"]["isArchived"]},
            "salesTaxes": {
                t["salesTax"]["id"]
                for i in items
                for t in i["taxes"]
                if t["salesTax"]["isArchived"]
            },
        }
        assert any(p["account"]["isArchived"] for p in pays)
        for field, ids in used.items():
            assert ids, field
            default = {n["id"] for n in _listed(api, book["id"], field)}
            archived = {n["id"] for n in _listed(api, book["id"], field, True)}
            assert not ids & default and ids <= archived


def test_look_alike_non_ascii_and_hostile_names(real):
    api = real["api"]
    names = [c["name"] for c in _customers(api, real["books"]["USD"]["id"])]
    assert {"Acme Widgets", "ACME Widgets, Inc.", "Acme Widgets ", "acme widgets inc"} <= set(names)
    assert {"Café Déjà Vu", "Cafe Deja Vu", "株式会社サンプル"} <= set(names)
    assert any(len(n) > 200 for n in names) and any("🍰" in n for n in names)
    invoiced = {inv["customer"]["name"] for inv in real["books"]["USD"]["invoices"]}
    assert {"Acme Widgets", "ACME Widgets, Inc.", "Acme Widgets "} <= invoiced
    memos = [inv["memo"] or "" for inv in _every(real)]
    assert any("💶" in m and len(m) > 300 for m in memos)
    products = {i["product"]["name"] for i in _items(real)}
    assert any("🚀" in p for p in products) and any(len(p) > 200 for p in products)


def _customers(api, business_id):
    q = """query($b: ID!) { business(id: $b) { customers(pageSize: 200) {
      edges { node { name } } } } }"""
    return [e["node"] for e in api.data(q, {"b": business_id})["business"]["customers"]["edges"]]


def test_edited_and_deleted_invoices(real):
    api = real["api"]
    for code, book in real["books"].items():
        cases = real["cases"][book["id"]]
        by_id = {inv["id"]: inv for inv in book["invoices"]}
        edited = [by_id[i] for i in cases["edited_after_approval"]]
        assert edited and all(inv["memo"] == "Revised" for inv in edited)
        assert all(
            inv["modifiedAt"] > inv["createdAt"] and inv["status"] != "DRAFT" for inv in edited
        )
        assert all(any(i["quantity"] == "3.333" for i in inv["items"]) for inv in edited)
        assert len(cases["deleted"]) == 3
        for gid in cases["deleted"]:
            assert gid not in by_id
            body = api.gql(
                "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id } } }",
                {"b": book["id"], "i": gid},
            )
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", code


def test_tax_rate_history_nova_scotia(real):
    q = """query($b: ID!) { business(id: $b) { salesTaxes(pageSize: 50) { edges { node {
      abbreviation before: rate(for: "2025-03-31") after: rate(for: "2025-04-01") } } } } }"""
    book = real["books"]["CAD"]
    nodes = real["api"].data(q, {"b": book["id"]})["business"]["salesTaxes"]
    ns = next(e["node"] for e in nodes["edges"] if e["node"]["abbreviation"] == "HST-NS")
    assert (ns["before"], ns["after"]) == ("0.15", "0.14")
    q = """query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { invoiceDate
      items { taxes { rate amount { value } salesTax { abbreviation } } } } } }"""
    seen = []
    for gid in real["cases"][book["id"]]["tax_rate_change"]:
        inv = real["api"].data(q, {"b": book["id"], "i": gid})["business"]["invoice"]
        tax = inv["items"][0]["taxes"][0]
        seen.append((inv["invoiceDate"] >= "2025-04-01", tax["rate"], tax["amount"]["value"]))
    # 137.50 x 15 % = 20.625 -> 20.63 (half-up); 137.50 x 14 % = 19.25
    assert seen == [(False, "0.15", "20.63"), (True, "0.14", "19.25")]


def _payments_view(state):
    return [
        (p.id, p.transaction_type, p.state, p.amount, getattr(p.origin_invoice_payment, "id", None))
        for b in state.businesses
        for inv in b.invoices
        for p in inv.payment_list
    ]


def test_export_and_saved_state_keep_refunds_and_voids(real, tmp_path):
    sb = real["sb"]
    for b in sb.state.businesses:
        rows = list(csv.DictReader(io.StringIO(export_csv(b))))
        balance = defaultdict(Decimal)
        for row in rows:
            balance[row["Transaction ID"]] += Decimal(row["Debit Amount"] or 0) - Decimal(
                row["Credit Amount"] or 0
            )
        assert set(balance.values()) == {Decimal(0)}
        assert any(r["Transaction Description"].startswith("Refund for invoice") for r in rows)
    path = str(tmp_path / "realistic.json")
    sb.save(path)
    loaded = WaveSandbox(seed=1, port=0, state_file=path)
    assert _payments_view(loaded.state) == _payments_view(sb.state)
    assert loaded.state.realistic_cases == sb.state.realistic_cases


# --------------------------------------------------------------------------- determinism


def _fingerprint(state):
    h = hashlib.sha256()
    for b in state.businesses:
        for inv in b.invoices:
            h.update(f"{inv.id}{inv.invoice_number}{inv.total_minor}{inv.paid_minor}".encode())
            h.update(f"{inv.currency_code}{inv.exchange_rate}{inv.status}".encode())
            for p in inv.payment_list:
                h.update(f"{p.id}{p.amount_minor}{p.transaction_type}{p.state}".encode())
    return h.hexdigest()


def test_realistic_mode_is_deterministic_and_opt_in():
    def build(realistic, seed=11):
        state = State(seed)
        state.frozen_today = TODAY
        seed_demo(state, invoices_per_business=40, customers=20, vendors=2, realistic=realistic)
        return state

    assert _fingerprint(build(True)) == _fingerprint(build(True))
    assert _fingerprint(build(True)) != _fingerprint(build(True, seed=12))
    default = build(False)
    assert _fingerprint(default) == _fingerprint(build(False))
    assert _fingerprint(default) != _fingerprint(build(True))
    assert default.realistic_cases == {}


def _cli_invoice_counts(*flags):
    """Start ``python -m wave_sandbox --demo --invoices 5`` and read its business lines."""
    cmd = [sys.executable, "-m", "wave_sandbox", "--port", "0", "--demo", "--invoices", "5"]
    proc = subprocess.Popen(
        [*cmd, *flags], cwd=TESTS_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline and sum("Business " in x for x in lines) < 2:
            lines.append(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return [int(x.split("invoices=")[1]) for x in lines if "Business " in x]


def test_cli_realistic_flag():
    # the realistic mode walks through every case at least once, whatever --invoices says
    assert _cli_invoice_counts("--estimates", "0") == [5, 5]
    # the default demo has 18 estimates per business, 2 of them converted to invoices
    assert _cli_invoice_counts() == [7, 7]
    realistic = _cli_invoice_counts("--realistic")
    assert len(realistic) == 2 and min(realistic) > 20


def test_admin_reset_and_seed_accept_realistic():
    api = Api(WaveSandbox(seed=3, port=0, rate_limit=0, admin_token=ADMIN), "")
    api.sb.start()
    try:
        body = {"demo": True, "invoices_per_business": 5, "realistic": True}
        assert api.admin("POST", "reset", json=body).status_code == 200
        assert api.sb.state.realistic_cases and len(api.sb.state.businesses) == 2
        seeded = api.admin("POST", "seed", json={"invoices_per_business": 5})
        assert seeded.status_code == 200 and len(api.sb.state.businesses) == 4
        assert len(api.sb.state.businesses[-1].invoices) == 5  # default mode again
    finally:
        api.sb.stop()
