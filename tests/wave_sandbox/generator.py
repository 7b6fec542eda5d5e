"""Deterministic demo-data generator (same seed -> same businesses, ids and amounts).

``seed_demo(state, invoices_per_business=200, ...)`` creates a US business (USD) and a
Canadian business (CAD, Ontario) with Wave's chart of accounts, sales taxes (US state/city
taxes; GST/HST/PST), customers and vendors (including near-duplicate names for fuzzy
matching), products, invoices over several years (several lines, discounts, a second currency
with exchange rates, drafts, sent, partial payments, overpayments, early-payment discounts),
and ledger-only expenses, bills, bill payments and bank fees that the API cannot read.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from . import ops
from .realistic import seed_realistic
from .store import UTC, State

NEAR_DUPLICATES = [
    "Acme Corp",
    "ACME Corporation",
    "Acme Corp.",
    "Globex LLC",
    "Globex, L.L.C.",
    "Initech",
    "Initech Inc",
    "Umbrella Corp",
    "Umbrella Corporation",
    "Stark Industries",
    "Stark Industries Ltd",
    "Wayne Enterprises",
    "Wayne Enterprises, Inc.",
]
VENDOR_NEAR_DUPLICATES = [
    "Staples",
    "Staples Inc.",
    "Office Depot",
    "OfficeDepot",
    "Amazon Web Services",
    "AWS",
    "Bell Canada",
    "Bell Canada Inc",
]
ADJ = [
    "Blue",
    "Northern",
    "Summit",
    "Pioneer",
    "Bright",
    "Golden",
    "Silver",
    "Rapid",
    "Prime",
    "Urban",
    "Coastal",
    "Evergreen",
    "Crystal",
    "Atlas",
    "Nova",
    "Vertex",
]
NOUN = [
    "Dynamics",
    "Solutions",
    "Labs",
    "Works",
    "Partners",
    "Systems",
    "Foods",
    "Logistics",
    "Media",
    "Designs",
    "Holdings",
    "Ventures",
    "Studios",
    "Supply",
    "Energy",
    "Health",
]
SUFFIX = ["Inc.", "LLC", "Ltd.", "Corp.", "Co.", ""]
PRODUCTS = [
    ("Consulting (hourly)", "150"),
    ("Web Design Package", "2500"),
    ("Monthly Retainer", "1200"),
    ("Widget A", "19.99"),
    ("Widget B", "49.5"),
    ("Support Plan", "299"),
    ("Training Session", "450"),
    ("Installation", "180"),
    ("Hardware Kit", "899.99"),
    ("Software License", "99"),
    ("Shipping", "25"),
    ("Rush Fee", "75"),
]


def _name(rng):
    return f"{rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(SUFFIX)}".strip()


def _email(name, i):
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "contact"
    return f"billing{i}@{slug}.example.com"


def ensure_user(state: State):
    if not state.users:
        ops.create_user(state, "demo@example.com", "Demo", "User")
    return state.users[0]


def seed_demo(
    state: State,
    invoices_per_business: int = 200,
    customers: int = 40,
    vendors: int = 15,
    years: int = 3,
    seed: int | None = None,
    today: dt.date | None = None,
    realistic: bool = False,
    estimates_per_business: int = 0,
):
    """Populate ``state``; returns the list of created businesses.

    ``realistic=True`` fills the same two businesses with the awkward cases of real books
    instead (see :mod:`.realistic`); the default data for a seed never changes."""
    rng = random.Random(state.seed if seed is None else seed)
    user = ensure_user(state)
    today = today or state.today()
    start = today - dt.timedelta(days=365 * years)
    if realistic:
        rng = random.Random(f"realistic:{state.seed if seed is None else seed}")
        businesses = seed_realistic(
            state, user, rng, invoices_per_business, customers, vendors, start, today
        )
        seed_estimates(state, businesses, estimates_per_business, seed, today, realistic=True)
        return businesses
    base_when = dt.datetime.combine(start, dt.time(9), UTC) - dt.timedelta(days=1)
    us = ops.create_business(state, user, "Acme Widgets Inc.", "USD", "US", "US-NY", when=base_when)
    ca = ops.create_business(
        state, user, "Maple Leaf Consulting Ltd.", "CAD", "CA", "CA-ON", when=base_when
    )
    taxes = {
        us.id: [
            ("New York State Sales Tax", "NY", "0.04"),
            ("NYC Sales Tax", "NYC", "0.045"),
            ("Texas State Tax", "TX", "0.0625"),
        ],
        ca.id: [
            ("GST", "GST", "0.05"),
            ("HST (Ontario)", "HST", "0.13"),
            ("PST (BC)", "PST", "0.07"),
        ],
    }
    second_currency = {us.id: ("CAD", "EUR"), ca.id: ("USD",)}
    for b in (us, ca):
        _populate(
            state,
            rng,
            b,
            taxes[b.id],
            second_currency[b.id],
            invoices_per_business,
            customers,
            vendors,
            start,
            today,
            base_when,
        )
    # after everything else, with their own random stream: the data of a seed without
    # estimates never changes
    seed_estimates(state, [us, ca], estimates_per_business, seed, today)
    return [us, ca]


# The life of a demo estimate: the actions taken after creation, in order.
ESTIMATE_PATHS = (
    (),  # DRAFT
    ("approve",),  # APPROVED
    ("approve", "send"),  # SENT
    ("approve", "send", "view"),  # VIEWED
    ("approve", "send", "view", "accept"),  # ACCEPTED
    ("approve", "send", "reject"),  # REJECTED
    ("approve", "send", "accept", "convert"),  # CONVERTED (+ a draft invoice)
    ("approve", "send", "expire"),  # EXPIRED (valid-until date in the past)
    ("approve", "delete"),  # DELETED
)


def seed_estimates(state, businesses, count, seed=None, today=None, realistic=False):
    """``count`` estimates per business walking through every status (``ESTIMATE_PATHS``),
    some in a second currency, with discounts and deposits (paid when accepted: a converted
    one's invoice has it as a payment once approved); realistic mode adds a
    multi-rate tax line and a fixed discount on every third one."""
    if count <= 0:
        return
    rng = random.Random(f"estimates:{state.seed if seed is None else seed}:{realistic}")
    today = today or state.today()
    for b in businesses:
        customers = [c for c in b.customers if not getattr(c, "deleted", False)]
        products = [p for p in b.products if not p.is_archived]
        taxes = [t for t in b.sales_taxes if not t.is_archived]
        for k in range(count):
            path = ESTIMATE_PATHS[k % len(ESTIMATE_PATHS)]
            customer = customers[k % len(customers)]
            day = today - dt.timedelta(days=rng.randrange(1, 60))
            items = []
            for _ in range(rng.choice((1, 2, 3))):
                p = rng.choice(products)
                item = {
                    "productId": p.id,
                    "quantity": Decimal(rng.choice(("1", "2", "2.5", "4"))),
                    "unitPrice": p.unit_price,
                }
                if realistic and k % 3 == 0 and taxes:
                    item["taxes"] = [{"salesTaxId": t.id} for t in taxes[:2]]
                items.append(item)
            data = {
                "customerId": customer.id,
                "estimateDate": day,
                "dueDate": (day + dt.timedelta(days=5))
                if "expire" in path
                else today + dt.timedelta(days=30),
                "items": items,
                "poNumber": f"PO-{1000 + k}" if k % 4 == 0 else None,
            }
            if k % 5 == 1:
                data["discounts"] = [
                    {"discountType": "PERCENTAGE", "percentage": Decimal(5), "name": "Volume"}
                ]
            elif realistic and k % 3 == 2:
                data["discounts"] = [
                    {"discountType": "FIXED", "amount": Decimal("25.50"), "name": "Goodwill"}
                ]
            if k % 4 == 2:
                data["depositStatus"], data["depositUnit"] = "ENABLED_OPTIONAL", "PERCENTAGE"
                data["depositValue"] = Decimal(25)
            if customer.currency_code is None and k % 7 == 3:
                code = "EUR" if b.currency_code != "EUR" else "USD"
                data["currency"] = code
                data["exchangeRate"] = ops.exchange_rate(code, b.currency_code)
            est = ops.create_estimate(state, b, data, emit=False)
            for action in path:
                if action == "approve":
                    ops.approve_estimate(state, est)
                elif action == "send":
                    ops.mark_estimate_sent(state, est, rng.choice(("WAVE", "MARKED_SENT")))
                elif action == "view":
                    ops.view_estimate(state, est)
                elif action == "accept":
                    if est.deposit_total_minor:  # the customer pays the deposit on accepting
                        bank = ops.system_account(b, "CASH_AND_BANK", "Checking Account")
                        ops.pay_estimate_deposit(state, est, {"paymentAccountId": bank.id})
                    ops.accept_estimate(state, est)
                elif action == "reject":
                    ops.reject_estimate(state, est)
                elif action == "convert":
                    ops.convert_estimate(state, est)
                elif action == "delete":
                    ops.delete_estimate(state, est)


def _populate(
    state,
    rng,
    b,
    tax_specs,
    other_currencies,
    n_invoices,
    n_customers,
    n_vendors,
    start,
    today,
    when,
):
    tax_objs = [
        ops.create_sales_tax(
            state,
            b,
            {
                "name": n,
                "abbreviation": a,
                "rate": Decimal(r),
                "taxNumber": f"{a}-{rng.randint(10**8, 10**9)}",
            },
            when=when,
        )
        for n, a, r in tax_specs
    ]
    customers = []
    names = NEAR_DUPLICATES + [_name(rng) for _ in range(max(n_customers - 13, 0))]
    for i, name in enumerate(names[: max(n_customers, 1)]):
        cur = rng.choice(other_currencies) if rng.random() < 0.15 else None
        customers.append(
            ops.create_customer(
                state,
                b,
                {
                    "name": name,
                    "email": _email(name, i),
                    "currency": cur,
                    "firstName": rng.choice(["Ann", "Bob", "Chen", "Dana", "Eli", "Fatima"]),
                    "lastName": rng.choice(["Smith", "Nguyen", "Garcia", "Tremblay", "Patel"]),
                    "address": {
                        "addressLine1": f"{rng.randint(1, 999)} Market St",
                        "city": "Springfield",
                        "countryCode": b.address.country.code,
                    },
                },
                when=when,
            )
        )
    vendors = [
        ops.create_vendor(state, b, {"name": name, "email": _email(name, i)}, when=when)
        for i, name in enumerate(
            (VENDOR_NEAR_DUPLICATES + [_name(rng) for _ in range(n_vendors)])[: max(n_vendors, 1)]
        )
    ]
    products = []
    for i, (name, price) in enumerate(PRODUCTS):
        data = {"name": name, "unitPrice": Decimal(price), "description": f"{name} ({b.name})"}
        if i % 3 != 2:
            data["defaultSalesTaxIds"] = [tax_objs[i % len(tax_objs)].id]
        if i in (3, 4, 8):
            data["expenseAccountId"] = ops.system_account(b, "COST_OF_GOODS_SOLD").id
            data["incomeAccountId"] = ops.system_account(b, "INCOME").id
        products.append(ops.create_product(state, b, data, when=when))
    bank = ops.system_account(b, "CASH_AND_BANK", "Checking Account")
    clearing = ops.system_account(b, "MONEY_IN_TRANSIT")
    fees = ops.system_account(b, "PAYMENT_PROCESSING_FEES")
    span = max((today - start).days, 1)
    # ~12% of invoices fall in the last 40 days so open statuses (SENT, VIEWED, PARTIAL,
    # UNPAID, SAVED) exist alongside the historical PAID / OVERDUE ones
    dates = sorted(
        today - dt.timedelta(days=rng.randrange(40))
        if rng.random() < 0.12
        else start + dt.timedelta(days=rng.randrange(span))
        for _ in range(n_invoices)
    )
    now_cap = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    for k, inv_date in enumerate(dates):
        created = min(
            dt.datetime.combine(inv_date, dt.time(8), UTC) + dt.timedelta(seconds=k % 36000),
            now_cap,
        )
        _invoice(
            state,
            rng,
            b,
            customers,
            products,
            tax_objs,
            other_currencies,
            inv_date,
            created,
            today,
            bank,
            clearing,
            fees,
            now_cap,
        )
    _expenses(state, rng, b, vendors, start, today, max(n_invoices // 5, 3))


def _invoice(
    state,
    rng,
    b,
    customers,
    products,
    taxes,
    other_currencies,
    inv_date,
    created,
    today,
    bank,
    clearing,
    fees,
    now_cap,
):
    customer = rng.choice(customers)
    items = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        p = rng.choice(products)
        item = {"productId": p.id, "quantity": Decimal(rng.choice((1, 1, 2, 3, 5, 10)))}
        if rng.random() < 0.2:
            item["unitPrice"] = (p.unit_price * Decimal(rng.choice(("0.9", "1.1")))).quantize(
                Decimal("0.01")
            )
        if rng.random() < 0.1:
            item["taxes"] = [{"salesTaxId": rng.choice(taxes).id}]
        items.append(item)
    data = {
        "customerId": customer.id,
        "invoiceDate": inv_date,
        "items": items,
        "dueDate": inv_date + dt.timedelta(days=rng.choice((0, 15, 30, 30, 45))),
        "status": "DRAFT" if rng.random() < 0.08 else "SAVED",
        "memo": None,
    }
    roll = rng.random()
    early_discount = False
    if roll < 0.08:
        data["discounts"] = [
            {"discountType": "PERCENTAGE", "percentage": Decimal(10), "name": "Loyalty discount"}
        ]
    elif roll < 0.12:
        data["discounts"] = [
            {"discountType": "FIXED", "amount": Decimal(50), "name": "Promotional credit"}
        ]
    elif roll < 0.16:
        early_discount = True
        data["discounts"] = [
            {
                "discountType": "PERCENTAGE",
                "percentage": Decimal(2),
                "name": "Early payment discount (2/10 net 30)",
            }
        ]
    if customer.currency_code is None and rng.random() < 0.07:
        data["currency"] = rng.choice(other_currencies)
    if data.get("currency") or customer.currency_code:
        cur = data.get("currency") or customer.currency_code
        base = ops.exchange_rate(cur, b.currency_code)
        data["exchangeRate"] = (base * Decimal(1 + rng.uniform(-0.03, 0.03))).quantize(
            Decimal("0.000001")
        )
    inv = ops.create_invoice(state, b, data, when=created, emit=False)
    if not inv.approved:
        return
    if rng.random() < 0.6:
        inv.last_sent_via = rng.choice(("WAVE", "MARKED_SENT", "WAVE", "SHARED_LINK"))
        inv.last_sent_at = created + dt.timedelta(hours=1)
        if inv.last_sent_via == "WAVE" and rng.random() < 0.4:
            inv.last_viewed_at = created + dt.timedelta(days=1)
    roll = rng.random()
    if (today - inv_date).days < 40:  # recent: mostly still open
        roll = 0.56 + roll * 0.44  # -> 36% partial, 7% overpaid, 57% unpaid
    elif roll >= 0.75 and rng.random() < 0.7:  # old: most end up paid (~8% stay unpaid)
        roll = 0.0
    if roll < 0.55 or early_discount:
        amounts = [inv.total_minor]
    elif roll < 0.72:  # partial payment(s)
        first = inv.total_minor * rng.choice((25, 40, 50, 60)) // 100
        amounts = [first] if rng.random() < 0.6 else [first, inv.total_minor - first]
    elif roll < 0.75:
        amounts = [inv.total_minor + rng.choice((100, 500, 2500))]
    else:
        amounts = []
    pay_date = inv.invoice_date
    exp = inv.currency.exponent
    for amt in amounts:
        if amt <= 0:
            continue
        pay_date = min(pay_date + dt.timedelta(days=rng.randint(0, 40)), today)
        method = rng.choice(("BANK_TRANSFER", "CREDIT_CARD", "CHEQUE", "CASH"))
        account = clearing if method == "CREDIT_CARD" else bank
        when = min(dt.datetime.combine(pay_date, dt.time(15), UTC), now_cap)
        when = max(when, inv.created_at + dt.timedelta(seconds=1))
        ops.create_payment(
            state,
            inv,
            {
                "paymentAccountId": account.id,
                "amount": Decimal(amt).scaleb(-exp),
                "paymentDate": pay_date,
                "paymentMethod": method,
                "exchangeRate": inv.exchange_rate,
                "memo": None,
            },
            when=when,
            emit=False,
        )
        if method == "CREDIT_CARD":
            fee = max(
                ops._to_business(amt, inv.exchange_rate, exp, b.currency.exponent) * 29 // 1000
                + 30,
                1,
            )
            ops.add_extra_transaction(
                state,
                b,
                "bank_fee",
                pay_date,
                f"Card processing fee - invoice {inv.invoice_number}",
                [(fees, fee, 0, "Processing fee"), (clearing, 0, fee, "Processing fee")],
                when=when,
            )


def _expenses(state, rng, b, vendors, start, today, count):
    bank = ops.system_account(b, "CASH_AND_BANK", "Checking Account")
    card = ops.system_account(b, "CREDIT_CARD")
    ap = ops.system_account(b, "PAYABLE_BILLS")
    accounts = [
        a
        for a in b.accounts
        if a.subtype_value in ("EXPENSE", "COST_OF_GOODS_SOLD", "PAYROLL_EXPENSES")
    ]
    span = max((today - start).days, 1)
    now_cap = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    for k in range(count):
        day = start + dt.timedelta(days=rng.randrange(span))
        when = min(dt.datetime.combine(day, dt.time(12), UTC), now_cap)
        vendor = rng.choice(vendors)
        acc = rng.choice(accounts)
        amount = rng.randint(1500, 250000)
        if k % 3 == 0:  # bill + bill payment
            number = f"B-{1000 + k}"
            ops.add_extra_transaction(
                state,
                b,
                "bill",
                day,
                f"Bill {number} from {vendor.name}",
                [(acc, amount, 0, acc.name), (ap, 0, amount, "Bill")],
                vendor=vendor,
                bill_number=number,
                when=when,
            )
            if rng.random() < 0.8:
                pay_day = min(day + dt.timedelta(days=rng.randint(5, 45)), today)
                ops.add_extra_transaction(
                    state,
                    b,
                    "bill_payment",
                    pay_day,
                    f"Payment of bill {number}",
                    [(ap, amount, 0, "Bill payment"), (bank, 0, amount, "Bill payment")],
                    vendor=vendor,
                    bill_number=number,
                    when=min(dt.datetime.combine(pay_day, dt.time(12), UTC), now_cap),
                )
        else:  # expense paid by bank or card
            source = card if k % 2 else bank
            ops.add_extra_transaction(
                state,
                b,
                "expense",
                day,
                f"{vendor.name} purchase",
                [(acc, amount, 0, acc.name), (source, 0, amount, source.name)],
                vendor=vendor,
                notes="Generated expense",
                when=when,
            )
