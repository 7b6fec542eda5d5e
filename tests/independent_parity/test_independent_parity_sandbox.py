"""The checker against a real Wave sandbox (in-process, plain GraphQL over HTTP) and
an Odoo side kept in memory: a mirror of Wave built here, then broken on purpose.

The Odoo side of a real database is covered by ``test_independent_parity_odoo.py``.
"""

import dataclasses
import unittest
from datetime import date, timedelta
from decimal import Decimal

from independent_parity import WaveReader, assert_parity, check_parity
from independent_parity.check import expected_payment_states
from independent_parity.records import Contact, OdooInvoice, OdooPayment, Product
from independent_parity.report import (
    AMOUNT_DUE,
    DATE,
    DUPLICATE_IN_ODOO,
    DUPLICATE_IN_WAVE,
    MISSING_IN_ODOO,
    MISSING_IN_WAVE,
    NUMBER,
    PARTNER,
    PAYMENT,
    STATUS,
    TAX,
    TOTAL,
    UNTAXED,
)
from independent_parity.wave_edits import WaveEditor
from wave_sandbox import WaveSandbox


class MemoryOdoo:
    """The reader interface of :class:`OdooReader`, over lists."""

    def __init__(self, invoices, payments, customers, products):
        self.invoice_list, self.payment_map = invoices, payments
        self.customer_list, self.product_list = customers, products
        self.vendor_payments = []

    def invoices(self, date_from=None, date_to=None):
        return [
            inv
            for inv in self.invoice_list
            if (not date_from or inv.invoice_date >= date_from)
            and (not date_to or inv.invoice_date <= date_to)
        ]

    def payments(self, invoices):
        return {inv.id: list(self.payment_map.get(inv.id, [])) for inv in invoices}

    def customers(self, used_partner_ids=()):
        return list(self.customer_list)

    def products(self):
        return list(self.product_list)

    def supplier_payments(self, date_from=None, date_to=None):
        return list(self.vendor_payments)


def mirror(wave):
    """An Odoo that matches ``wave`` exactly, as the addon should leave it."""
    invoices, payments = [], {}
    wave_invoices = [w for w in wave.invoices() if w.status != "DRAFT"]
    paid = wave.payments([w.id for w in wave_invoices if w.paid])
    for n, w in enumerate(wave_invoices, start=1):
        state = sorted(expected_payment_states(w))[0]
        invoices.append(
            OdooInvoice(
                id=n, name=f"INV/{n:04d}", payment_reference=w.number, ref="", state="posted",
                payment_state=state, invoice_date=w.invoice_date, currency=w.currency,
                decimals=w.exponent, partner_id=1, partner_name=w.customer_name,
                partner_email=w.customer_email, untaxed=w.subtotal - w.discount, tax=w.tax,
                total=w.total, residual=max(w.due, Decimal(0)),
                lines_untaxed=w.subtotal - w.discount, lines_tax=w.tax, wave_id=w.id,
            )
        )  # fmt: skip
        payments[n] = [
            OdooPayment(100 * n + i, f"PAY{n}.{i}", p.payment_date, p.amount, "paid")
            for i, p in enumerate(paid.get(w.id) or [])
        ]
    customers = [Contact(c.id, c.name, c.email) for c in wave.customers()]
    products = [Product(p.id, p.name) for p in wave.products()]
    return MemoryOdoo(invoices, payments, customers, products)


class TestIndependentParitySandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sandbox = WaveSandbox(seed=7, port=0, rate_limit=0)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.business, _other = cls.sandbox.seed_demo(
            invoices_per_business=40, customers=10, vendors=2, years=1
        )
        cls.token = cls.sandbox.issue_full_access_token()

    def setUp(self):
        self.wave = WaveReader.of_sandbox(self.sandbox, self.token, self.business.id)
        self.editor = WaveEditor(self.sandbox.graphql_url, self.token, self.business.id)
        self.odoo = mirror(self.wave)

    def check(self):
        return check_parity(self.wave, self.odoo)

    def assertOnly(self, report, *expected):
        """The report holds exactly the ``(kind, record)`` differences given."""
        self.assertEqual(
            sorted((d.kind, d.record) for d in report.differences), sorted(expected), str(report)
        )

    def replace(self, invoice, **changes):
        index = self.odoo.invoice_list.index(invoice)
        self.odoo.invoice_list[index] = dataclasses.replace(invoice, **changes)

    def paid_invoice(self):
        return next(o for o in self.odoo.invoice_list if self.odoo.payment_map.get(o.id))

    def test_mirror_is_clean_and_read_in_few_requests(self):
        report = self.check()
        assert_parity(report)
        self.assertTrue(report.ok)
        self.assertEqual(report.counts["invoices matched"], len(self.odoo.invoice_list))
        self.assertGreater(report.counts["Wave payments compared"], 0)
        # invoices, customers, products: one page each; payments: one aliased request
        self.assertLessEqual(report.counts["Wave requests"], 5)
        self.assertIn("sandbox's admin API", report.summary())

    def test_odoo_amounts_status_and_partner_broken(self):
        odoo = self.odoo.invoice_list
        self.replace(odoo[0], lines_untaxed=odoo[0].lines_untaxed + Decimal("0.01"))
        self.replace(odoo[1], total=odoo[1].total - Decimal("1"))
        self.replace(odoo[2], tax=odoo[2].tax + Decimal("0.01"))
        self.replace(odoo[3], residual=odoo[3].residual + Decimal("5"))
        self.replace(odoo[4], payment_state="reversed")
        self.replace(odoo[5], partner_name="Somebody Else", partner_email="else@example.com")
        self.replace(odoo[6], invoice_date=odoo[6].invoice_date - timedelta(days=1))
        report = self.check()
        self.assertOnly(
            report,
            (UNTAXED, "invoice"),
            (TOTAL, "invoice"),
            (TAX, "invoice"),
            (AMOUNT_DUE, "invoice"),
            (STATUS, "invoice"),
            (PARTNER, "invoice"),
            (DATE, "invoice"),
        )
        self.assertEqual(report.of_kind(TOTAL)[0].key, odoo[1].payment_reference)
        with self.assertRaises(AssertionError) as raised:
            assert_parity(report)
        self.assertIn("total", str(raised.exception))
        assert_parity(report, allow=[UNTAXED, TOTAL, TAX, AMOUNT_DUE, STATUS, PARTNER, DATE])

    def test_missing_duplicated_and_renumbered_invoices(self):
        first, second, third = self.odoo.invoice_list[:3]
        self.odoo.invoice_list.remove(first)  # lost in Odoo
        self.odoo.invoice_list.append(dataclasses.replace(second, id=9001, name="INV/9001"))
        self.replace(third, payment_reference="WRONG-1", name="WRONG-1")
        self.odoo.invoice_list.append(
            dataclasses.replace(third, id=9002, name="ODOO-ONLY", payment_reference="ODOO-ONLY",
                                partner_name="Nobody", total=Decimal("1.23"))
        )  # fmt: skip
        report = self.check()
        self.assertOnly(
            report,
            (MISSING_IN_ODOO, "invoice"),
            (DUPLICATE_IN_ODOO, "invoice"),
            (NUMBER, "invoice"),
            (MISSING_IN_WAVE, "invoice"),
        )
        self.assertEqual(report.of_kind(MISSING_IN_ODOO)[0].key, first.payment_reference)
        self.assertEqual(report.of_kind(NUMBER)[0].odoo, "WRONG-1")

    def test_payments_lost_doubled_and_changed_in_odoo(self):
        invoice = self.paid_invoice()
        payments = self.odoo.payment_map[invoice.id]
        original = list(payments)
        payments.append(dataclasses.replace(payments[0], id=1))  # doubled
        report = self.check()
        self.assertOnly(report, (DUPLICATE_IN_ODOO, "payment"))
        payments[:] = original[1:]  # one lost
        self.assertOnly(self.check(), (MISSING_IN_ODOO, "payment"))
        payments[:] = [dataclasses.replace(original[0], amount=original[0].amount + 1)]
        payments += original[1:]
        self.assertOnly(self.check(), (PAYMENT, "payment"))

    def test_wave_changes_seen_through_graphql(self):
        invoice = next(o for o in self.odoo.invoice_list if o.residual > 2)
        self.editor.pay(invoice.wave_id, "1.00")
        customer = self.editor.invoice(invoice.wave_id)["customer"]
        self.editor.create_customer(customer["name"], "twin@example.com")
        product = self.editor.create_product("Independent parity widget")
        self.editor.create_product("independent  PARITY widget")
        self.editor.create_invoice(customer["id"], product, "IP-NEW-1")
        report = self.check()
        self.assertOnly(
            report,
            (MISSING_IN_ODOO, "payment"),
            (AMOUNT_DUE, "invoice"),
            (STATUS, "invoice"),  # PARTIAL (or OVERDUE, paid in part) vs not paid
            (DUPLICATE_IN_WAVE, "customer"),  # same name
            (DUPLICATE_IN_WAVE, "product"),  # same name but for case and spacing
            (MISSING_IN_ODOO, "invoice"),
        )
        self.assertEqual(report.of_kind(MISSING_IN_ODOO, "invoice")[0].key, "IP-NEW-1")

    def test_money_transactions_from_the_admin_api(self):
        business = self.sandbox.create_business(name="Bills paid", currency="USD", country="US")
        wave = WaveReader.of_sandbox(self.sandbox, self.token, business.id)
        editor = WaveEditor(self.sandbox.graphql_url, self.token, business.id)
        odoo = MemoryOdoo([], {}, [], [])
        day = date(2026, 3, 4)
        odoo.vendor_payments = [
            OdooPayment(1, "PBNK1", day, Decimal("40.00"), "paid"),
            OdooPayment(2, "PBNK2", day, Decimal("41.50"), "paid"),
        ]
        editor.money_transaction("odoo-pay-1", "40.00", day, "PBNK1 for BILL1")
        report = check_parity(wave, odoo, supplier_payments=True)
        self.assertOnly(report, (MISSING_IN_WAVE, "money_transaction"))
        self.assertIn("PBNK2", report.differences[0].key)
        # a lost answer sent again: the same external id twice, then the same
        # transaction under another external id
        editor.money_transaction("odoo-pay-1", "40.00", day, "PBNK1 for BILL1")
        editor.money_transaction("odoo-pay-1b", "40.00", day, "PBNK1 for BILL1")
        odoo.vendor_payments.pop()
        report = check_parity(wave, odoo, supplier_payments=True)
        duplicate = (DUPLICATE_IN_WAVE, "money_transaction")
        self.assertOnly(report, duplicate, duplicate)
        self.assertEqual(
            sorted(d.key.split()[0] for d in report.differences), ["2026-03-04", "externalId"]
        )
        # without the admin API, nothing is claimed about money transactions
        blind = WaveReader(self.sandbox.graphql_url, self.token, business.id)
        self.assertTrue(check_parity(blind, MemoryOdoo([], {}, [], [])).ok)
        with self.assertRaises(ValueError):
            check_parity(blind, odoo, supplier_payments=True)
