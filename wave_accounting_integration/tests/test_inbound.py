# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound sync scenarios against the Wave sandbox over HTTP."""

import datetime as dt
from decimal import Decimal

from odoo.tests import tagged

from .common import WaveSandboxCommon


@tagged("post_install", "-at_install")
class TestInbound(WaveSandboxCommon):
    sandbox_invoices = 0
    sandbox_customers = 14
    sandbox_vendors = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import ops

        cls.ops = ops
        cls.state = cls.sandbox.state
        cls.env.ref("base.EUR").active = True
        cls.env.ref("base.CAD").active = True
        cls.connection.write({"import_draft_invoices": True})
        b = cls.wave_us
        cls.bank = ops.system_account(b, "CASH_AND_BANK", "Checking Account")
        cls.clearing = ops.system_account(b, "MONEY_IN_TRANSIT")
        cls.customer = next(c for c in b.customers if not c.currency_code)
        cls.taxed_product = next(p for p in b.products if p.default_sales_taxes)
        cls.today = cls.state.today()
        cls.env["wave.reference.importer"]._sync_accounts(cls.connection)

    # helpers -----------------------------------------------------------------
    def wave_invoice(self, items, status="SAVED", business=None, customer=None, **extra):
        business = business or self.wave_us
        data = dict(
            customerId=(customer or self.customer).id,
            invoiceDate=self.today,
            dueDate=self.today + dt.timedelta(days=30),
            items=items,
            status=status,
            **extra,
        )
        with self.state.lock:
            return self.ops.create_invoice(self.state, business, data)

    def wave_pay(self, invoice, amount, account=None, method="BANK_TRANSFER", rate=None):
        with self.state.lock:
            return self.ops.create_payment(
                self.state,
                invoice,
                {
                    "paymentAccountId": (account or self.bank).id,
                    "amount": Decimal(amount),
                    "paymentDate": self.today,
                    "paymentMethod": method,
                    "exchangeRate": rate or invoice.exchange_rate,
                    "memo": None,
                },
            )

    def poll(self, entity="invoices"):
        job_id = self.connection._job_poll(entity, trigger="manual")
        return self.env["wave.sync.job"].browse(job_id)

    def move_of(self, invoice):
        return self.env["account.move"].search([("wave_id", "=", invoice.id)])

    def item(self, product=None, qty=1, price=None, taxes=None):
        data = {"productId": (product or self.taxed_product).id, "quantity": Decimal(qty)}
        if price is not None:
            data["unitPrice"] = Decimal(price)
        if taxes is not None:
            data["taxes"] = [{"salesTaxId": t.id} for t in taxes]
        return data

    def wave_total(self, invoice):
        return float(invoice.total.value)

    # scenarios ---------------------------------------------------------------
    def test_first_listing_is_no_sync_delay(self):
        """The first poll lists Wave's whole history: its records are audited as the first
        listing and left out of the dashboard's latency; later changes count."""
        Stats = self.env["wave.dashboard.stats"]
        before = Stats._latency_stats(self.connection)["count"]
        old = self.wave_invoice([self.item()])
        self.poll()
        self.assertEqual(self._create_source(self.move_of(old)), "first poll")
        self.assertEqual(Stats._latency_stats(self.connection)["count"], before)
        new = self.wave_invoice([self.item(qty=2)])
        self.poll()
        self.assertEqual(self._create_source(self.move_of(new)), "manual")
        self.assertEqual(Stats._latency_stats(self.connection)["count"], before + 1)

    def _create_source(self, move):
        self.assertTrue(move)
        log = self.env["wave.audit.log"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", move.id),
                ("action", "=", "create"),
            ]
        )
        return log.source

    def test_poll_new_changed_deleted(self):
        saved = self.wave_invoice([self.item(qty=2), self.item(qty=3, price="10.05")])
        draft = self.wave_invoice([self.item()], status="DRAFT")
        job = self.poll()
        move = self.move_of(saved)
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.move_type, "out_invoice")
        self.assertAlmostEqual(move.amount_total, self.wave_total(saved), places=2)
        self.assertAlmostEqual(move.amount_tax, float(saved.tax_total.value), places=2)
        self.assertEqual(len(move.invoice_line_ids), 2)
        self.assertEqual(
            move.invoice_line_ids[0].tax_ids.wave_id, self.taxed_product.default_sales_taxes[0].id
        )
        self.assertEqual(self.move_of(draft).state, "draft")
        self.assertGreaterEqual(job.records_created, 2)
        # nothing changed: one request
        job = self.poll()
        self.assertEqual(job.requests_count, 1)
        self.assertEqual(
            self.env["account.move"].search_count([("wave_id", "in", [saved.id, draft.id])]), 2
        )
        # changed in Wave only while posted (default policies): applied, reset to draft,
        # updated and posted again (true conflicts: see test_books_match)
        with self.state.lock:
            self.ops.patch_invoice(self.state, saved, {"items": [self.item(qty=5)]})
        self.poll()
        entry = self.env["wave.quarantine"].search(
            [("wave_id", "=", saved.id), ("state", "=", "open")]
        )
        self.assertFalse(entry, entry.mapped("reasons"))
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(move.amount_total, self.wave_total(saved), places=2)
        self.assertEqual(len(move.invoice_line_ids), 1)
        self.assertTrue(
            self.env["wave.audit.log"].search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", move.id),
                    ("action", "=", "update"),
                ]
            )
        )
        # deleted in Wave (drafts only): the Odoo draft is cancelled
        with self.state.lock:
            self.ops.delete_invoice(self.state, draft)
        self.poll()
        self.assertEqual(self.move_of(draft).state, "cancel")

    def test_partial_then_full_payment_and_overpayment(self):
        inv = self.wave_invoice([self.item(qty=4)])
        total = Decimal(inv.total.value)
        self.wave_pay(inv, (total * Decimal("0.4")).quantize(Decimal("0.01")))
        over = self.wave_invoice([self.item(qty=1)])
        self.wave_pay(over, Decimal(over.total.value) + 5)
        self.poll()
        move = self.move_of(inv)
        self.assertEqual(move.payment_state, "partial")
        self.assertAlmostEqual(move.amount_residual, float(inv.amount_due.value), places=2)
        self.wave_pay(inv, Decimal(inv.amount_due.value))
        job = self.poll()
        self.assertEqual(job.requests_count, 2)  # page + one aliased payments look-up
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        payments = self.env["account.payment"].search([("wave_invoice_id", "=", inv.id)])
        self.assertEqual(len(payments), 2)
        self.assertAlmostEqual(sum(payments.mapped("amount")), float(total), places=2)
        over_move = self.move_of(over)
        self.assertIn(over_move.payment_state, ("paid", "in_payment"))
        over_pay = self.env["account.payment"].search([("wave_invoice_id", "=", over.id)])
        credit = over_pay.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertAlmostEqual(credit.amount_residual, -5.0, places=2)

    def test_payment_changed_and_deleted_in_wave(self):
        inv = self.wave_invoice([self.item(qty=2)])
        pay = self.wave_pay(inv, Decimal(inv.total.value))
        self.poll()
        first = self.env["account.payment"].search([("wave_id", "=", pay.id)])
        with self.state.lock:
            self.ops.patch_payment(self.state, pay, {"amount": Decimal("10.00")})
        self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [inv.id], source="webhook"
        )
        live = self.env["account.payment"].search(
            [("wave_invoice_id", "=", inv.id), ("state", "not in", ("canceled",))]
        )
        entries = self.env["wave.quarantine"].search([("wave_id", "=", inv.id)])
        self.assertFalse(entries, entries.mapped("reasons"))
        self.assertEqual(len(live), 1)
        self.assertAlmostEqual(live.amount, 10.0)
        self.assertEqual(first.state, "canceled")
        self.assertEqual(self.move_of(inv).payment_state, "partial")
        with self.state.lock:
            self.ops.delete_payment(self.state, pay)
        self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [inv.id], source="webhook"
        )
        self.assertEqual(self.move_of(inv).payment_state, "not_paid")

    def test_card_payment_bank_fee_clearing_journal(self):
        """Card payments land on Wave's clearing account; the fee itself is a ledger-only
        transaction the API does not expose (see the export-file import)."""
        inv = self.wave_invoice([self.item(qty=1)])
        self.wave_pay(inv, Decimal(inv.total.value), account=self.clearing, method="CREDIT_CARD")
        self.poll()
        mapping = self.env["wave.account.map"].search(
            [("connection_id", "=", self.connection.id), ("wave_account_id", "=", self.clearing.id)]
        )
        payment = self.env["account.payment"].search([("wave_invoice_id", "=", inv.id)])
        self.assertEqual(payment.journal_id, mapping.journal_id)
        self.assertIn(self.move_of(inv).payment_state, ("paid", "in_payment"))

    def test_early_payment_discount(self):
        inv = self.wave_invoice(
            [self.item(qty=2)],
            discounts=[
                {
                    "discountType": "PERCENTAGE",
                    "percentage": Decimal(2),
                    "name": "Early payment discount (2/10 net 30)",
                }
            ],
        )
        self.wave_pay(inv, Decimal(inv.total.value))
        self.poll()
        move = self.move_of(inv)
        self.assertAlmostEqual(move.amount_total, self.wave_total(inv), places=2)
        discount = move.invoice_line_ids.filtered(lambda line: line.price_unit < 0)
        self.assertAlmostEqual(-discount.price_subtotal, float(inv.discount_total.value), places=2)
        self.assertFalse(discount.tax_ids)
        self.assertIn(move.payment_state, ("paid", "in_payment"))

    def test_foreign_currency_invoice(self):
        inv = self.wave_invoice(
            [self.item(qty=3)], currency="EUR", exchangeRate=Decimal("1.100000")
        )
        self.wave_pay(inv, Decimal(inv.total.value), rate=Decimal("1.200000"))
        self.poll()
        move = self.move_of(inv)
        self.assertEqual(move.currency_id.name, "EUR")
        self.assertAlmostEqual(move.amount_total, self.wave_total(inv), places=2)
        self.assertAlmostEqual(
            move.amount_total_signed, round(self.wave_total(inv) * 1.1, 2), delta=0.02
        )
        payment = self.env["account.payment"].search([("wave_invoice_id", "=", inv.id)])
        liquidity = payment.move_id.line_ids.filtered(lambda line: line.debit)
        self.assertAlmostEqual(liquidity.debit, round(self.wave_total(inv) * 1.2, 2), places=2)
        self.assertIn(move.payment_state, ("paid", "in_payment"))

    def test_inactive_currency_quarantined(self):
        # policy "ask" (the default activates it: see test_books_match.py)
        self.connection.currency_policy = "ask"
        self.env.ref("base.EUR").active = False
        inv = self.wave_invoice([self.item()], currency="EUR", exchangeRate=Decimal("1.1"))
        self.poll()
        self.assertFalse(self.move_of(inv))
        entry = self.env["wave.quarantine"].search([("wave_id", "=", inv.id)])
        self.assertIn("EUR", entry.reasons)
        self.assertEqual(entry.payload["id"], inv.id)

    def test_canadian_gst_pst(self):
        ca = self.wave_ca
        self.connection.write({"business_id": ca.id})
        self.env["wave.reference.importer"]._sync_accounts(self.connection)
        gst = next(t for t in ca.sales_taxes if t.abbreviation == "GST")
        pst = next(t for t in ca.sales_taxes if t.abbreviation == "PST")
        customer = next(c for c in ca.customers if not c.currency_code)
        product = ca.products[0]
        inv = self.wave_invoice(
            [self.item(product, qty=3, price="99.99", taxes=[gst, pst])],
            business=ca,
            customer=customer,
        )
        self.poll()
        move = self.move_of(inv)
        self.assertEqual(move.currency_id.name, "CAD")
        self.assertAlmostEqual(move.amount_untaxed, 299.97, places=2)
        self.assertAlmostEqual(move.amount_tax, 15.0 + 21.0, places=2)  # 5 % + 7 %, per line
        self.assertAlmostEqual(move.amount_total, self.wave_total(inv), places=2)
        self.assertEqual(sorted(move.invoice_line_ids.tax_ids.mapped("amount")), [5.0, 7.0])

    def test_unmapped_account_suspense_then_replay(self):
        with self.state.lock:
            account = self.ops.create_account(
                self.state, self.wave_us, {"name": "Special Projects", "subtype": "INCOME"}
            )
            product = self.ops.create_product(
                self.state,
                self.wave_us,
                {
                    "name": "Special project",
                    "unitPrice": Decimal("500"),
                    "incomeAccountId": account.id,
                },
            )
        inv = self.wave_invoice([self.item(product)])
        self.poll()
        move = self.move_of(inv)
        suspense = self.connection.suspense_account_id
        self.assertTrue(suspense)
        self.assertEqual(move.invoice_line_ids.account_id, suspense)
        self.assertEqual(move.state, "posted")
        entry = self.env["wave.quarantine"].search(
            [("wave_id", "=", inv.id), ("state", "=", "open")]
        )
        self.assertIn("suspense", entry.reasons)
        mapping = self.env["wave.account.map"].search(
            [("connection_id", "=", self.connection.id), ("wave_account_id", "=", account.id)]
        )
        income = self.company_data["default_account_revenue"]
        self.assertEqual(mapping.suggested_account_id.account_type, "income")
        mapping.account_id = income
        entry.action_replay()
        self.assertEqual(entry.state, "resolved")
        self.assertEqual(move.invoice_line_ids.account_id, income)
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(move.amount_total, 500.0, places=2)

    def test_fuzzy_and_ambiguous_partner_match(self):
        Partner = self.env["res.partner"]
        wayne = Partner.create({"name": "Wayne Enterprise", "is_company": True})
        globex_a = Partner.create({"name": "Globex Industries A", "is_company": True})
        globex_b = Partner.create({"name": "Globex Industries B", "is_company": True})
        with self.state.lock:
            self.ops.create_customer(
                self.state,
                self.wave_us,
                {"name": "Globex Industries", "email": "ap@globex-industries.example.com"},
            )
        self.poll("customers")
        Map = self.env["wave.partner.map"]
        # "Wayne Enterprises" and "Wayne Enterprises, Inc." are two Wave customers: only
        # one is linked to the look-alike contact, the other waits for review
        wayne_maps = Map.search(
            [
                ("connection_id", "=", self.connection.id),
                ("wave_name", "in", ["Wayne Enterprises", "Wayne Enterprises, Inc."]),
            ]
        )
        self.assertEqual(len(wayne_maps), 2)
        wayne_map = wayne_maps.filtered(lambda m: m.state == "matched")
        self.assertEqual(len(wayne_map), 1)
        self.assertEqual(wayne_map.match_method, "fuzzy")
        self.assertEqual(wayne_map.partner_id, wayne)
        waiting = wayne_maps - wayne_map
        self.assertEqual((waiting.state, waiting.candidate_partner_ids), ("review", wayne))
        globex = Map.search(
            [("connection_id", "=", self.connection.id), ("wave_name", "=", "Globex Industries")]
        )
        self.assertEqual(globex.state, "review")
        self.assertEqual(globex.candidate_partner_ids, globex_a | globex_b)
        # the near-duplicate Wave customers stay distinct contacts
        acme = Map.search(
            [
                ("connection_id", "=", self.connection.id),
                ("wave_name", "in", ["Acme Corp", "ACME Corporation", "Acme Corp."]),
            ]
        )
        self.assertEqual(len(acme.partner_id), 3)
        # an invoice of the customer under review waits in quarantine
        wave_globex = next(c for c in self.wave_us.customers if c.name == "Globex Industries")
        inv = self.wave_invoice([self.item()], customer=wave_globex)
        self.poll()
        self.assertFalse(self.move_of(inv))
        entry = self.env["wave.quarantine"].search([("wave_id", "=", inv.id)])
        self.assertTrue(entry)
        globex.write({"partner_id": globex_a.id})
        globex.action_confirm()
        entry.action_replay()
        self.assertEqual(entry.state, "resolved")
        self.assertEqual(self.move_of(inv).partner_id, globex_a)

    def test_enqueue_poll_runs_every_entity(self):
        connection = self.connection.with_context(queue_job__no_delay=True)
        connection._enqueue_poll(trigger="cron")
        kinds = set(
            self.env["wave.sync.job"]
            .search([("connection_id", "=", self.connection.id)])
            .mapped("kind")
        )
        self.assertEqual(
            kinds,
            {
                "accounts",
                "sales_taxes",
                "products",
                "customers",
                "vendors",
                "invoices",
                "estimates",
            },
        )
        self.assertEqual(
            len(
                self.env["wave.import.cursor"].search([("connection_id", "=", self.connection.id)])
            ),
            7,
        )
