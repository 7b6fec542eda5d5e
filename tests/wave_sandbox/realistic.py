"""Realistic demo data: what real Wave books contain, not what we imagined.

``seed_demo(state, ..., realistic=True)`` lands here.  It creates the same two businesses
as the default demo (a US business in USD, a Canadian one in CAD) and fills them with the
awkward cases real books have: fractional quantities, unit prices with 3 to 5 decimals,
two or three taxes on a line, GST/PST/HST and a compound tax, percentage and fixed
discounts, invoices in foreign currencies (including ones Odoo ships inactive, one with
no decimals and one that only Wave still knows), partial, completing and over-payments,
payments on later dates at another exchange rate, refunds and voided payments, archived
accounts/products/taxes used by older invoices, look-alike and non-ASCII customer names,
edited (after approval) and deleted invoices, and a few hostile values.

Every case is produced at least once per business (the first invoices walk through the
case list; the rest draw from it at random), and ``state.realistic_cases`` records which
invoice ids belong to which case, so tests and end-to-end scenarios can find them.
Everything goes through :mod:`ops`, so amounts follow the sandbox's one set of rules.
Deterministic: same seed and same "today" give the same data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from . import ops
from .store import UTC

# (name, abbreviation, rate, compound) per business country; see _setup_taxes for use.
US_TAXES = [
    ("New York State Sales Tax", "NY", "0.04", False),
    ("NYC Local Sales Tax", "NYC", "0.045", False),
    ("Metropolitan Commuter Transportation District", "MCTD", "0.00375", False),
    ("Texas State Sales Tax", "TX", "0.0625", False),  # archived later
    ("Luxury Surcharge (compound)", "LUX", "0.02", True),
]
CA_TAXES = [
    ("GST", "GST", "0.05", False),
    ("PST (BC)", "PST", "0.07", False),
    ("HST (Ontario)", "HST", "0.13", False),
    ("HST (Nova Scotia)", "HST-NS", "0.15", False),  # rate drops to 14% on 2025-04-01
    ("QST (pre-2013, compound)", "QST-C", "0.095", True),  # archived later
]
LOOK_ALIKES = [
    "Acme Widgets",
    "ACME Widgets, Inc.",
    "Acme Widgets ",  # trailing space
    "acme widgets inc",
    "Café Déjà Vu",
    "Cafe Deja Vu",
    "Müller GmbH",
    "Mueller GmbH",
    "Société Générale d'Équipement",
    "株式会社サンプル",
    "Zoë's Bakery 🍰",
    "O'Brien & Sons",
    "Smith, John",
    "Northwind Traders – " + "Very Long Division Name " * 9,  # ~240 characters
]
PRODUCTS = [
    # (name, unit price, tax set or None, legacy income account)
    ("Consulting (hourly)", "137.5", "two", False),
    ("Bolt M6 (each)", "0.335", "one", False),
    ("Design hour", "33.333", "one", False),
    ("Micro-licence", "1.23456", None, False),
    ("Widget Pro", "19.99", "one", False),
    ("Discontinued Gadget", "49.875", "one", True),  # archived later
    ("Legacy Support Plan", "250", None, True),
    ("🚀 Rocket Fuel — extra-strength (250 ml) ✓", "12.5", "one", False),
    ("Premium " + "extended warranty coverage " * 8, "89.999", None, False),
]
# USD value of one unit; ASSUMPTION: fixed rates, jittered per invoice
USD_RATES = {
    "USD": Decimal(1),
    "CAD": Decimal("0.73"),
    "EUR": Decimal("1.08"),
    "CHF": Decimal("1.13"),
    "SEK": Decimal("0.095"),
    "JPY": Decimal("0.0067"),
    "EEK": Decimal("0.069"),
}
# currencies Odoo ships inactive (CHF, SEK, JPY with no decimals) and one that only Wave
# still lists (EEK, the Estonian kroon, absent from Odoo 18)
INACTIVE_IN_ODOO = ("CHF", "SEK", "JPY")
RATE_CHANGE = dt.date(2025, 4, 1)
WAVE_ONLY = "EEK"
CASES = [
    "fractional_qty",
    "precise_price",
    "two_taxes",
    "three_taxes",
    "compound_tax",
    "discount_percentage",
    "discount_fixed",
    "foreign_eur",
    "foreign_dollar",
    "foreign_inactive",
    "foreign_wave_only",
    "archived_refs",
    "hostile",
]
# foreign invoices of the case walk-through get the plans that involve exchange rates
FOREIGN_PLANS = {
    "foreign_eur": "later_other_rate",
    "foreign_dollar": "completing",
    "foreign_inactive": "partial",
    "foreign_wave_only": "overpaid",
}
PAYMENT_PLANS = [
    "full",
    "partial",
    "completing",
    "overpaid",
    "later_other_rate",
    "refund_partial",
    "refund_full",
    "void",
    "void_then_paid",
    "unpaid",
]


def seed_realistic(state, user, rng, invoices_per_business, customers, vendors, start, today):
    when = dt.datetime.combine(start, dt.time(9), UTC) - dt.timedelta(days=1)
    us = ops.create_business(state, user, "Acme Widgets Inc.", "USD", "US", "US-NY", when=when)
    ca = ops.create_business(
        state, user, "Maple Leaf Consulting Ltd.", "CAD", "CA", "CA-ON", when=when
    )
    state.realistic_cases = getattr(state, "realistic_cases", None) or {}
    for b, specs in ((us, US_TAXES), (ca, CA_TAXES)):
        book = _Book(state, rng, b, start, today, when)
        book.setup(specs, customers, vendors)
        book.invoices(invoices_per_business)
        book.archive_and_delete()
        state.realistic_cases[b.id] = book.cases
    return [us, ca]


class _Book:
    """One business being filled; ``cases`` maps a case name to invoice ids."""

    def __init__(self, state, rng, b, start, today, when):
        self.state, self.rng, self.b, self.start, self.today, self.when = (
            state,
            rng,
            b,
            start,
            today,
            when,
        )
        self.cases: dict[str, list[str]] = {}
        self.now_cap = dt.datetime.now(UTC) - dt.timedelta(minutes=5)

    def mark(self, case, inv):
        self.cases.setdefault(case, []).append(inv.id)

    # setup ------------------------------------------------------------------------
    def setup(self, tax_specs, n_customers, n_vendors):
        state, b, when = self.state, self.b, self.when
        self.taxes = [
            ops.create_sales_tax(
                state,
                b,
                {
                    "name": name,
                    "abbreviation": abbr,
                    "rate": Decimal(rate),
                    "isCompound": compound,
                    "isRecoverable": not compound,
                    "taxNumber": f"{abbr}-{self.rng.randint(10**8, 10**9)}",
                    "showTaxNumberOnInvoices": True,
                },
                when=when,
            )
            for name, abbr, rate, compound in tax_specs
        ]
        simple = [t for t in self.taxes if not t.is_compound]
        compound = next(t for t in self.taxes if t.is_compound)
        self.tax_sets = {
            "one": [simple[0]],
            "two": simple[:2],
            "three": simple[:3],
            "compound": [simple[0], compound],
        }
        self.archived_tax = self.taxes[3] if b.currency_code == "USD" else compound
        if b.currency_code == "CAD":  # Nova Scotia's HST went from 15 % to 14 %
            self.tax_sets["history"] = [self.taxes[3]]
            ops.patch_sales_tax(
                state,
                self.taxes[3],
                {
                    "id": self.taxes[3].id,
                    "rates": [
                        {"effective": dt.date(2000, 1, 1), "rate": Decimal("0.15")},
                        {"effective": RATE_CHANGE, "rate": Decimal("0.14")},
                    ],
                },
            )
        self.legacy_income = ops.create_account(
            state, b, {"name": "Legacy Sales", "subtype": "INCOME"}
        )
        self.old_bank = ops.create_account(
            state, b, {"name": "Old Savings (closed)", "subtype": "CASH_AND_BANK"}
        )
        self.bank = ops.system_account(b, "CASH_AND_BANK", "Checking Account")
        self.clearing = ops.system_account(b, "MONEY_IN_TRANSIT")
        self.products = []
        for name, price, tax_set, legacy in PRODUCTS:
            data = {"name": name, "unitPrice": Decimal(price), "description": f"{name} – details"}
            if tax_set:
                data["defaultSalesTaxIds"] = [t.id for t in self.tax_sets[tax_set]]
            if legacy:
                data["incomeAccountId"] = self.legacy_income.id
            self.products.append(ops.create_product(state, b, data, when=when))
        self.archived_product = self.products[5]
        self.live_products = [p for p in self.products if p is not self.archived_product]
        self._setup_contacts(n_customers, n_vendors)

    def _setup_contacts(self, n_customers, n_vendors):
        state, b, rng = self.state, self.b, self.rng
        others = [c for c in ("EUR", "CHF") if c != b.currency_code]
        names = list(LOOK_ALIKES)
        while len(names) < n_customers:
            names.append(f"{rng.choice(('Blue', 'Nova', 'Atlas', 'Prime'))} Client {len(names)}")
        self.customers = []
        for i, name in enumerate(names):
            data = {"name": name, "email": f"billing{i}@customer{i}.example.com"}
            if i % 11 == 10:
                data["currency"] = others[i % len(others)]
            self.customers.append(ops.create_customer(state, b, data, when=self.when))
        self.domestic = [c for c in self.customers if c.currency_code is None]
        for i in range(max(n_vendors, 1)):
            ops.create_vendor(
                state,
                b,
                {"name": f"Supplier {i} Ltd.", "email": f"ap{i}@vendor.example.com"},
                when=self.when,
            )

    # invoices ------------------------------------------------------------------------
    def invoices(self, count):
        rng = self.rng
        total = max(count, len(CASES) + len(PAYMENT_PLANS))
        span = max((self.today - self.start).days, 1)
        # the case walk-through is dated first (oldest), so archived records are "old"
        dates = sorted(self.start + dt.timedelta(days=rng.randrange(span)) for _ in range(total))
        for k, day in enumerate(dates):
            walk = k < len(CASES)  # walking through every case once
            case = CASES[k] if walk else rng.choice(CASES)
            plan = PAYMENT_PLANS[k % len(PAYMENT_PLANS)]
            if walk and case in FOREIGN_PLANS:
                plan = FOREIGN_PLANS[case]
            customer = (
                self.domestic[k % len(self.domestic)]
                if k < len(LOOK_ALIKES)
                else rng.choice(self.customers)
            )
            created = min(
                dt.datetime.combine(day, dt.time(8), UTC) + dt.timedelta(seconds=k),
                self.now_cap,
            )
            data = self._invoice_data(case, customer, day)
            if not walk and k % 17 == 5:  # a few drafts stay drafts
                data["status"] = "DRAFT"
            inv = ops.create_invoice(self.state, self.b, data, when=created, emit=False)
            self.mark(case, inv)
            if customer.name in LOOK_ALIKES:
                self.mark("look_alike_customer", inv)
            if not inv.approved:
                self.mark("draft", inv)
                continue
            if k % 5 == 3:  # edited after approval, before any payment
                self._edit(inv)
            self._pay(inv, plan)
        self._rate_change_invoices()

    def _rate_change_invoices(self):
        """Invoices either side of a tax rate change (Canadian business only)."""
        if "history" not in self.tax_sets:
            return
        for offset in (-17, 14):
            day = RATE_CHANGE + dt.timedelta(days=offset)
            if not self.start <= day <= self.today:
                continue
            data = {
                "customerId": self.domestic[0].id,
                "invoiceDate": day,
                "status": "SAVED",
                "items": self._lines([(0, "1", None, "history")]),
            }
            when = min(dt.datetime.combine(day, dt.time(8), UTC), self.now_cap)
            inv = ops.create_invoice(self.state, self.b, data, when=when, emit=False)
            self.mark("tax_rate_change", inv)
            self._pay(inv, "full")

    def _lines(self, specs):
        """``specs``: (product index, quantity, unit price or None, tax set or None/"none")."""
        lines = []
        for idx, qty, price, taxes in specs:
            line = {"productId": self.products[idx].id, "quantity": Decimal(qty)}
            if price is not None:
                line["unitPrice"] = Decimal(price)
            if taxes == "none":
                line["taxes"] = []
            elif taxes:
                line["taxes"] = [{"salesTaxId": t.id} for t in self.tax_sets[taxes]]
            lines.append(line)
        return lines

    def _invoice_data(self, case, customer, day):
        rng = self.rng
        specs = {  # (product index, quantity, unit price, tax set)
            "fractional_qty": [(0, "0.333", None, None), (0, "2.5", None, None)],
            "precise_price": [(1, "1000", None, None), (2, "3", None, None), (3, "7", None, None)],
            "two_taxes": [(0, "1.75", None, "two"), (4, "3", None, "two")],
            "three_taxes": [(4, "7", None, "three"), (1, "250", None, "three")],
            "compound_tax": [(0, "2", None, "compound"), (2, "1.5", "33.3333", "compound")],
            "discount_percentage": [(4, "4", None, None), (0, "1", None, "two")],
            "discount_fixed": [(2, "2", None, None), (3, "100", None, "none")],
            "archived_refs": [(5, "2", None, None), (6, "1", None, None)],
            "hostile": [(7, "3", None, None), (8, "1", None, None)],
            "foreign": [(0, "1.25", None, "none"), (1, "400", "0.4275", "none")],
        }.get(case.split("_")[0] if case.startswith("foreign") else case)
        if specs is None:
            qty = rng.choice(("1", "2.5", "0.75", "12"))
            specs = [(rng.randrange(len(PRODUCTS) - 1), qty, None, None)]
        data = {
            "customerId": customer.id,
            "invoiceDate": day,
            "dueDate": day + dt.timedelta(days=rng.choice((0, 14, 30, 45))),
            "status": "SAVED",
            "items": self._lines(specs),
        }
        if case == "archived_refs":
            data["items"][-1]["taxes"] = [{"salesTaxId": self.archived_tax.id}]
        if case == "discount_percentage":
            data["discounts"] = [
                {"discountType": "PERCENTAGE", "percentage": Decimal("7.5"), "name": "Loyalty"}
            ]
        elif case == "discount_fixed":
            data["discounts"] = [
                {"discountType": "FIXED", "amount": Decimal("12.34"), "name": "Goodwill credit"}
            ]
        elif case == "hostile":
            data["memo"] = "Merci ✨ — « payé » 💶 " + "ligne très longue " * 30
            data["poNumber"] = "PO#\u00a02024/ß-№7"
        code = self._foreign_code(case)
        if code:
            data["currency"] = code
            base = USD_RATES[code] / USD_RATES[self.b.currency_code]
            jitter = Decimal(1 + rng.uniform(-0.03, 0.03))
            data["exchangeRate"] = (base * jitter).quantize(Decimal("0.000001"))
        return data

    def _foreign_code(self, case):
        other_dollar = "CAD" if self.b.currency_code == "USD" else "USD"
        return {
            "foreign_eur": "EUR",
            "foreign_dollar": other_dollar,
            "foreign_inactive": self.rng.choice(INACTIVE_IN_ODOO),
            "foreign_wave_only": WAVE_ONLY,
        }.get(case)

    def _uses_archived(self, inv):
        return any(
            item.product is self.archived_product
            or item.account is self.legacy_income
            or any(t.sales_tax is self.archived_tax for t in item.taxes)
            for item in inv.items
        )

    # payments --------------------------------------------------------------------------
    def _pay(self, inv, plan):
        total, exp = inv.total_minor, inv.currency.exponent
        day0 = inv.invoice_date
        if plan == "unpaid" or total <= 0:
            return
        if plan == "partial":
            self._payment(inv, total * 40 // 100, day0)
        elif plan == "completing":
            first = total * 35 // 100
            self._payment(inv, first, day0 + dt.timedelta(days=3))
            self._payment(inv, total - first, day0 + dt.timedelta(days=33))
        elif plan == "overpaid":
            self._payment(inv, total + 10 ** max(exp, 1), day0 + dt.timedelta(days=5))
        elif plan == "later_other_rate":  # 47 days later; at another rate if foreign
            rate = None
            if inv.currency_code != self.b.currency_code:
                rate = (inv.exchange_rate * Decimal("1.021")).quantize(Decimal("0.000001"))
                self.mark("payment_other_rate", inv)
            self._payment(inv, total, day0 + dt.timedelta(days=47), rate=rate)
        elif plan.startswith("refund"):
            pay = self._payment(inv, total, day0 + dt.timedelta(days=2))
            part = total if plan == "refund_full" else max(total // 4, 1)
            self._refund(inv, pay, part, day0 + dt.timedelta(days=20))
        elif plan.startswith("void"):
            pay = self._payment(inv, total, day0 + dt.timedelta(days=1), card=True)
            ops.void_payment(self.state, pay, when=self._when(day0 + dt.timedelta(days=2), inv))
            self.mark("voided_payment", inv)
            if plan == "void_then_paid":
                self._payment(inv, total, day0 + dt.timedelta(days=9))
        else:
            self._payment(inv, total, day0)
        self.mark(f"payment_{plan}", inv)

    def _when(self, day, inv):
        when = min(dt.datetime.combine(day, dt.time(15), UTC), self.now_cap)
        return max(when, inv.modified_at + dt.timedelta(milliseconds=1))

    def _payment(self, inv, minor, day, rate=None, card=False):
        day = min(day, self.today)
        account = self.clearing if card else self.bank
        if self._uses_archived(inv):
            account = self.old_bank  # archived after use
        pay = ops.create_payment(
            self.state,
            inv,
            {
                "paymentAccountId": account.id,
                "amount": Decimal(minor).scaleb(-inv.currency.exponent),
                "paymentDate": day,
                "paymentMethod": "CREDIT_CARD" if card else "BANK_TRANSFER",
                "exchangeRate": rate or inv.exchange_rate,
                "memo": None,
            },
            when=self._when(day, inv),
            emit=False,
        )
        if card:
            pay.provider = "WPP"  # Wave Payments: the kind of payment that can be voided
        return pay

    def _refund(self, inv, pay, minor, day):
        day = min(day, self.today)
        amount = Decimal(minor).scaleb(-inv.currency.exponent)
        ops.refund_payment(
            self.state, pay, amount, day, memo="Refund", when=self._when(day, inv), emit=False
        )
        self.mark("refund", inv)

    # edits, archives, deletions -------------------------------------------------------
    def _edit(self, inv):
        """An approved invoice whose lines and amounts change afterwards."""
        items = [
            {
                "productId": item.product.id,
                "quantity": item.quantity + Decimal("0.5"),
                "unitPrice": item.unit_price,
                "taxes": [{"salesTaxId": t.sales_tax.id} for t in item.taxes],
            }
            for item in inv.items
        ]
        items.append({"productId": self.products[3].id, "quantity": Decimal("3.333")})
        ops.patch_invoice(self.state, inv, {"id": inv.id, "items": items, "memo": "Revised"})
        self.mark("edited_after_approval", inv)

    def archive_and_delete(self):
        state = self.state
        ops.archive_product(state, self.archived_product)
        ops.archive_sales_tax(state, self.archived_tax)
        ops.archive_account(state, self.legacy_income)
        ops.archive_account(state, self.old_bank)
        for k in range(3):  # drafts deleted: gaps in numbering, ids that no longer resolve
            inv = ops.create_invoice(
                state,
                self.b,
                {
                    "customerId": self.customers[k].id,
                    "invoiceDate": self.today - dt.timedelta(days=k),
                    "items": self._lines([(4, "1", None, None)]),
                },
                emit=False,
            )
            ops.delete_invoice(state, inv)
            self.mark("deleted", inv)
