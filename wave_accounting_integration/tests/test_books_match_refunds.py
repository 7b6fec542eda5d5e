# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Books match Wave on real-world cases (issue 16): refunds and voided payments, archived
records, look-alike customers, one-sided edits vs true conflicts. Against the sandbox."""

import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from psycopg2.errors import DeadlockDetected

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.wave_accounting_integration.services.job_guard import job_guard
from odoo.tests import tagged

from .books_common import WaveBooksCommon


@tagged("post_install", "-at_install")
class TestBooksMatch(WaveBooksCommon):
    sandbox_invoices = 0
    sandbox_customers = 8
    sandbox_vendors = 1

    @classmethod
    def _books_product(cls, business):
        return next(p for p in business.products if p.default_sales_taxes)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.ops.system_account(cls.wave_us, "CASH_AND_BANK", "Checking Account")

    # helpers -----------------------------------------------------------------
    def wave_invoice(self, qty=2, customer=None, product=None):
        data = {
            "customerId": (customer or self.customer).id,
            "invoiceDate": self.today,
            "dueDate": self.today + dt.timedelta(days=30),
            "items": [{"productId": (product or self.product).id, "quantity": Decimal(qty)}],
            "status": "SAVED",
        }
        with self.state.lock:
            return self.ops.create_invoice(self.state, self.wave_us, data)

    def wave_pay(self, invoice, amount):
        with self.state.lock:
            return self.ops.create_payment(
                self.state,
                invoice,
                {
                    "paymentAccountId": self.bank.id,
                    "amount": Decimal(amount),
                    "paymentDate": self.today,
                    "paymentMethod": "BANK_TRANSFER",
                    "exchangeRate": invoice.exchange_rate,
                    "memo": None,
                },
            )

    def poll(self, entity="invoices"):
        return self.env["wave.sync.job"].browse(self.connection._job_poll(entity, trigger="manual"))

    def webhook_import(self, *invoices):
        self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [i.id for i in invoices], source="webhook"
        )

    def move_of(self, invoice):
        return self.env["account.move"].search([("wave_id", "=", invoice.id)])

    def due_in_sql(self, invoice):
        """The Odoo invoice's amount due read straight from the database."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT amount_residual FROM account_move WHERE wave_id = %s", [invoice.id]
        )
        return Decimal(str(self.env.cr.fetchone()[0])).quantize(Decimal("0.01"))

    def wave_due(self, invoice):
        return Decimal(invoice.amount_due.value).quantize(Decimal("0.01"))

    def live_payments(self, invoice):
        return self.env["account.payment"].search(
            [("wave_invoice_id", "=", invoice.id), ("state", "not in", ("canceled", "rejected"))]
        )

    # 1. refunds and voided payments ---------------------------------------------
    def test_refund_reopens_the_invoice_to_the_cent(self):
        """A refund in Wave becomes an outbound customer payment reconciled with the
        payment it gives back: amount due in Odoo = Wave's, by poll and by webhook."""
        inv = self.wave_invoice(qty=3)
        over = self.wave_invoice(qty=1)
        pay = self.wave_pay(inv, inv.total.value)
        over_pay = self.wave_pay(over, Decimal(over.total.value) + 7)
        self.poll()
        self.assertIn(self.move_of(inv).payment_state, ("paid", "in_payment"))
        self.assertEqual(self.due_in_sql(inv), 0)
        with self.state.lock:
            part = (Decimal(inv.total.value) / 3).quantize(Decimal("0.01"))
            self.ops.refund_payment(self.state, pay, part, self.today, memo="Refund")
            self.ops.refund_payment(self.state, over_pay, Decimal(7), self.today)
        self.assertEqual(self.wave_due(inv), part)
        self.poll()
        refund = self.live_payments(inv).filtered(lambda p: p.payment_type == "outbound")
        self.assertEqual(len(refund), 1)
        self.assertEqual(refund.partner_type, "customer")
        self.assertAlmostEqual(refund.amount, float(part), places=2)
        self.assertEqual(self.due_in_sql(inv), self.wave_due(inv))
        self.assertEqual(self.move_of(inv).payment_state, "partial")
        # the overpayment's refund takes back the customer's credit, the invoice stays paid
        self.assertEqual(self.due_in_sql(over), self.wave_due(over))
        self.assertIn(self.move_of(over).payment_state, ("paid", "in_payment"))
        over_credit = self.env["account.payment"].search([("wave_id", "=", over_pay.id)])
        line = over_credit.move_id.line_ids.filtered(
            lambda x: x.account_id.account_type == "asset_receivable"
        )
        self.assertAlmostEqual(line.amount_residual, 0.0, places=2)
        # a second partial refund, by webhook; nothing imported twice on a second pass
        with self.state.lock:
            self.ops.refund_payment(self.state, pay, Decimal("1.00"), self.today)
        self.webhook_import(inv)
        self.webhook_import(inv)
        self.assertEqual(len(self.live_payments(inv)), 3)
        self.assertEqual(self.due_in_sql(inv), self.wave_due(inv))
        self.assertFalse(self.env["wave.quarantine"].search([("wave_id", "in", [inv.id, over.id])]))

    def test_new_payment_after_a_full_refund(self):
        """A payment refunded in full, then a new payment: Odoo's amount due is Wave's,
        and the refunded payment, its refund and the new payment are all listed for the
        invoice."""
        inv = self.wave_invoice(qty=3)
        pay = self.wave_pay(inv, inv.total.value)
        self.poll()
        self.assertEqual(self.due_in_sql(inv), 0)
        with self.state.lock:
            self.ops.refund_payment(self.state, pay, Decimal(inv.total.value), self.today)
        self.poll()
        self.assertEqual(self.due_in_sql(inv), self.wave_due(inv))
        self.assertEqual(len(self.live_payments(inv)), 2)
        third = (Decimal(inv.total.value) / 3).quantize(Decimal("0.01"))
        new_pay = self.wave_pay(inv, third)
        self.assertEqual(self.wave_due(inv), Decimal(inv.total.value) - third)
        self.poll()
        self.assertEqual(self.due_in_sql(inv), self.wave_due(inv))
        self.assertEqual(self.move_of(inv).payment_state, "partial")
        live = self.live_payments(inv)
        self.assertEqual(len(live), 3)
        self.assertTrue({pay.id, new_pay.id} <= set(live.mapped("wave_id")))
        self.assertEqual(len(live.filtered(lambda p: p.payment_type == "outbound")), 1)
        self.assertFalse(self.env["wave.quarantine"].search([("wave_id", "=", inv.id)]))
        # the refund and the new payment seen by one sync (as in one change round)
        other = self.wave_invoice(qty=2)
        other_pay = self.wave_pay(other, other.total.value)
        self.poll()
        with self.state.lock:
            self.ops.refund_payment(self.state, other_pay, Decimal(other.total.value), self.today)
        self.wave_pay(other, third)
        self.poll()
        self.assertEqual(self.due_in_sql(other), self.wave_due(other))
        self.assertEqual(len(self.live_payments(other)), 3)
        # each payment, refunded or not, is still listed with its invoice
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT COUNT(*) FROM account_move__account_payment rel
                 JOIN account_payment pay ON pay.id = rel.payment_id
                WHERE rel.invoice_id = %s AND pay.state NOT IN ('canceled', 'rejected')""",
            [self.move_of(other).id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 3)

    def test_concurrency_error_in_payments_retries_the_job(self):
        """A deadlock (any concurrency error) while recording payments is not quarantined:
        it reaches the job guard, which runs the job again."""
        inv = self.wave_invoice(qty=1)
        self.wave_pay(inv, inv.total.value)
        self.poll()
        self.wave_pay(inv, 1)  # overpayment: the payments are synced again
        Importer = type(self.env["wave.payment.importer"])
        with (
            patch.object(
                Importer, "_create_and_reconcile", side_effect=DeadlockDetected("deadlock detected")
            ),
            self.assertRaises(RetryableJobError),
            job_guard(self.connection),
        ):
            self.webhook_import(inv)
        self.assertFalse(self.env["wave.quarantine"].search([("wave_id", "=", inv.id)]))

    # compound taxes ------------------------------------------------------------------
    def test_compound_tax_to_the_cent(self):
        """Wave's compound tax is on the line plus its non-compound taxes; two non-compound
        taxes on a line are each on the line amount: totals equal Wave's to the cent."""
        b = self.wave_us
        with self.state.lock:
            ny = self.ops.create_sales_tax(
                self.state, b, {"name": "NY Sales", "abbreviation": "NYS", "rate": "0.04"}
            )
            county = self.ops.create_sales_tax(
                self.state, b, {"name": "County Levy", "abbreviation": "CTY", "rate": "0.035"}
            )
            lux = self.ops.create_sales_tax(
                self.state,
                b,
                {"name": "Luxury", "abbreviation": "LUXC", "rate": "0.02", "isCompound": True},
            )

        def invoice(*taxes):
            data = {
                "customerId": self.customer.id,
                "invoiceDate": self.today,
                "dueDate": self.today + dt.timedelta(days=30),
                "items": [
                    {
                        "productId": self.product.id,
                        "quantity": Decimal(qty),
                        "unitPrice": Decimal(price),
                        "taxes": [{"salesTaxId": t.id} for t in taxes],
                    }
                    for qty, price in (("1.5", "33.3333"), ("2", "172.25"), ("0.333", "7.77"))
                ],
                "status": "SAVED",
            }
            with self.state.lock:
                return self.ops.create_invoice(self.state, b, data)

        # the compound tax created first in Odoo: its order must not depend on that
        compound = invoice(lux, ny)
        simple = invoice(ny, county)
        alone = invoice(ny)
        self.poll()
        self.env.flush_all()
        for inv in (compound, simple, alone):
            self.assertFalse(
                self.env["wave.quarantine"].search([("wave_id", "=", inv.id)]).mapped("reasons")
            )
            self.env.cr.execute(
                "SELECT amount_total, amount_tax FROM account_move WHERE wave_id = %s", [inv.id]
            )
            total, tax = self.env.cr.fetchone()
            cent = Decimal("0.01")
            self.assertEqual(Decimal(str(total)).quantize(cent), Decimal(inv.total.value))
            self.assertEqual(Decimal(str(tax)).quantize(cent), Decimal(inv.tax_total.value))

    def test_voided_payment_is_undone(self):
        """A payment voided in Wave after its import is cancelled in Odoo (unreconciled);
        one voided before the import is never booked."""
        inv = self.wave_invoice(qty=2)
        early = self.wave_invoice(qty=1)
        pay = self.wave_pay(inv, inv.total.value)
        early_pay = self.wave_pay(early, early.total.value)
        with self.state.lock:
            self.ops.void_payment(self.state, early_pay)
        self.poll()
        booked = self.env["account.payment"].search([("wave_id", "=", pay.id)])
        self.assertIn(booked.state, ("in_process", "paid"))
        self.assertEqual(self.due_in_sql(inv), 0)
        self.assertFalse(self.live_payments(early))
        self.assertEqual(self.due_in_sql(early), self.wave_due(early))
        with self.state.lock:
            self.ops.void_payment(self.state, pay)
        self.poll()
        self.assertEqual(booked.state, "canceled")
        self.assertFalse(self.live_payments(inv))
        self.assertEqual(self.due_in_sql(inv), self.wave_due(inv))
        self.assertEqual(self.move_of(inv).payment_state, "not_paid")
        log = self.env["wave.audit.log"].search(
            [("res_model", "=", "account.payment"), ("res_id", "=", booked.id)]
        )
        self.assertIn("cancel", log.mapped("action"))
        # a new real payment after the void is booked normally (webhook)
        self.wave_pay(inv, inv.total.value)
        self.webhook_import(inv)
        self.assertEqual(len(self.live_payments(inv)), 1)
        self.assertEqual(self.due_in_sql(inv), 0)

    def test_refunds_and_voids_pass_the_independent_parity_check(self):
        from independent_parity import OdooReader, WaveReader, check_parity
        from independent_parity.report import AMOUNT_DUE, STATUS, TOTAL

        inv = self.wave_invoice(qty=4)
        voided = self.wave_invoice(qty=1)
        pay = self.wave_pay(inv, inv.total.value)
        void_pay = self.wave_pay(voided, voided.total.value)
        self.poll()
        with self.state.lock:
            self.ops.refund_payment(self.state, pay, Decimal("12.34"), self.today)
            self.ops.void_payment(self.state, void_pay)
        self.poll()
        wave = WaveReader(self.sandbox.graphql_url, self.wave_token, self.wave_us.id)
        odoo = OdooReader(env=self.env, company_id=self.connection.company_id.id)
        report = check_parity(wave, odoo, date_from=self.today, date_to=self.today)
        numbers = {inv.invoice_number, voided.invoice_number}
        wrong = [
            d
            for d in report.differences
            if d.kind in (AMOUNT_DUE, STATUS, TOTAL) and d.key in numbers
        ]
        self.assertFalse(wrong, str(report))
        self.assertGreaterEqual(report.counts["invoices matched"], 2, str(report))

    # 2. archived records -----------------------------------------------------------
    def account_map(self, wave_account):
        return self.env["wave.account.map"].search(
            [("connection_id", "=", self.connection.id), ("wave_account_id", "=", wave_account.id)]
        )

    def test_account_archived_after_mapping_shows_archived(self):
        with self.state.lock:
            account = self.ops.create_account(
                self.state,
                self.wave_us,
                {"name": "Consulting (old)", "subtype": "INCOME", "description": None},
            )
        self.env["wave.reference.importer"]._sync_accounts(self.connection)
        mapping = self.account_map(account)
        self.assertTrue(mapping)
        self.assertFalse(mapping.wave_archived)
        with self.state.lock:
            self.ops.archive_account(self.state, account)
        self.env["wave.reference.importer"]._sync_accounts(self.connection)
        self.assertTrue(mapping.wave_archived)
        # the go-live checklist says so, without failing the mapping check
        checklist = self.env["wave.golive.checklist"].create({"connection_id": self.connection.id})
        state, message, _target = checklist._check_mappings()
        self.assertIn("archived in Wave", message)
        self.assertNotEqual(state, "fail")

    def test_archived_product_and_tax_on_an_old_invoice(self):
        """A product, a sales tax and an income account archived in Wave after an invoice
        used them: the polls don't create them, the invoice's import resolves them."""
        b = self.wave_us
        with self.state.lock:
            income = self.ops.create_account(
                self.state, b, {"name": "Gadget sales (old)", "subtype": "INCOME"}
            )
            tax = self.ops.create_sales_tax(
                self.state, b, {"name": "Old County Tax", "abbreviation": "OCT", "rate": "0.035"}
            )
            product = self.ops.create_product(
                self.state,
                b,
                {
                    "name": "Discontinued Widget",
                    "unitPrice": "19.50",
                    "incomeAccountId": income.id,
                    "defaultSalesTaxIds": [tax.id],
                },
            )
        # the income account was mapped (by hand: it came after the first listing)
        self.env["wave.reference.importer"]._sync_accounts(self.connection)
        self.account_map(income).account_id = self.company_data["default_account_revenue"]
        inv = self.wave_invoice(qty=2, product=product)
        with self.state.lock:
            self.ops.archive_product(self.state, product)
            self.ops.archive_sales_tax(self.state, tax)
            self.ops.archive_account(self.state, income)
        self.poll("sales_taxes")
        self.poll("products")
        Tax = self.env["account.tax"].with_context(active_test=False)
        Product = self.env["product.product"].with_context(active_test=False)
        self.assertFalse(Tax.search([("wave_id", "=", tax.id)]))
        self.assertFalse(Product.search([("wave_id", "=", product.id)]))
        self.poll()
        move = self.move_of(inv)
        self.assertEqual(move.state, "posted")
        entries = self.env["wave.quarantine"].search([("wave_id", "=", inv.id)])
        self.assertFalse(entries, entries.mapped("reasons"))
        line = move.invoice_line_ids
        self.assertEqual(line.product_id.wave_id, product.id)
        self.assertEqual(line.tax_ids.wave_id, tax.id)
        self.assertAlmostEqual(move.amount_total, float(inv.total.value), places=2)
        self.poll("accounts")
        self.assertTrue(self.account_map(income).wave_archived)
        # once bound, the archived product still follows Wave's edits on the next poll
        with self.state.lock:
            self.ops.patch_product(self.state, product, {"name": "Discontinued Widget v1"})
        self.poll("products")
        self.assertEqual(line.product_id.name, "Discontinued Widget v1")
        # archived in Wave, archived in Odoo: no new Odoo invoice picks it (Wave would
        # refuse the export: "Archived products cannot be invoiced")
        self.assertFalse(line.product_id.active)

    def test_product_archived_in_wave_after_use_is_archived_in_odoo(self):
        """A Wave product bound to an Odoo product, archived in Wave later: the poll
        archives the Odoo product: old invoices keep it, new ones cannot pick it."""
        with self.state.lock:
            product = self.ops.create_product(
                self.state, self.wave_us, {"name": "Seasonal Kit", "unitPrice": "12.25"}
            )
        inv = self.wave_invoice(qty=1, product=product)
        self.poll()
        line = self.move_of(inv).invoice_line_ids
        self.assertEqual(line.product_id.wave_id, product.id)
        self.assertTrue(line.product_id.active)
        with self.state.lock:
            self.ops.archive_product(self.state, product)
        self.poll("products")
        self.assertFalse(line.product_id.active)
        Product = self.env["product.product"]
        self.assertNotIn(line.product_id, Product.search([("wave_id", "!=", False)]))

    # 3. look-alike contacts ----------------------------------------------------------
    def wave_customer(self, name, email=None):
        with self.state.lock:
            return self.ops.create_customer(
                self.state, self.wave_us, {"name": name, "email": email}
            )

    def partner_map(self, customer):
        return self.env["wave.partner.map"].search(
            [("connection_id", "=", self.connection.id), ("wave_id", "=", customer.id)]
        )

    def test_look_alikes_in_one_batch_never_share_a_contact(self):
        acme = self.env["res.partner"].create({"name": "Acme Widgets", "is_company": True})
        first = self.wave_customer("Acme Widgets")
        second = self.wave_customer("ACME Widgets, Inc.")
        self.poll("customers")
        maps = self.partner_map(first) | self.partner_map(second)
        self.assertEqual(len(maps), 2)
        linked = maps.filtered("partner_id")
        self.assertEqual(linked.partner_id, acme)
        self.assertEqual(len(linked), 1, maps.mapped("wave_name"))
        waiting = maps - linked
        self.assertEqual(waiting.state, "review")
        self.assertEqual(waiting.candidate_partner_ids, acme)
        self.assertIn("both look like", waiting.review_reason)
        # an invoice of the customer under review waits, with the plain reason
        inv = self.wave_invoice(
            qty=1, customer=first if waiting == self.partner_map(first) else second
        )
        self.poll()
        self.assertFalse(self.move_of(inv))
        entry = self.env["wave.quarantine"].search([("wave_id", "=", inv.id)])
        self.assertIn("both look like", entry.reasons)
        # the user decides they are one business: confirm, replay, booked on Acme
        waiting.partner_id = acme
        waiting.action_confirm()
        entry.action_replay()
        self.assertEqual(self.move_of(inv).partner_id, acme)

    def test_contact_already_standing_for_another_wave_customer(self):
        initech = self.env["res.partner"].create({"name": "Vandelay Imports", "is_company": True})
        holdings = self.wave_customer("Kramerica Industries")
        self.poll("customers")
        mapping = self.partner_map(holdings)
        self.assertTrue(mapping)
        self.assertNotEqual(mapping.partner_id, initech)
        # mapped by hand to Initech (the Wave id is not written on the contact)
        mapping.write({"partner_id": initech.id})
        mapping.action_confirm()
        look_alike = self.wave_customer("VANDELAY IMPORTS, LLC")
        self.poll("customers")
        second = self.partner_map(look_alike)
        self.assertEqual(mapping.partner_id, initech)
        self.assertEqual(second.state, "review", (second.partner_id.name, second.match_method))
        self.assertFalse(second.partner_id)
        self.assertEqual(second.candidate_partner_ids, initech)
        self.assertIn("already stands for another Wave contact", second.review_reason)
        partners = self.env["wave.partner.map"].search(
            [("connection_id", "=", self.connection.id), ("partner_id", "=", initech.id)]
        )
        self.assertEqual(partners, mapping)

    # 4. one-sided edits vs true conflicts ----------------------------------------------
    def wave_edit_qty(self, invoice, qty):
        with self.state.lock:
            self.ops.patch_invoice(
                self.state,
                invoice,
                {"items": [{"productId": self.product.id, "quantity": Decimal(qty)}]},
            )

    def odoo_edit_qty(self, move, qty):
        move.button_draft()
        line = move.invoice_line_ids.filtered(lambda x: x.display_type == "product")
        line.quantity = qty
        move.action_post()

    def open_entries(self, invoice):
        return self.env["wave.quarantine"].search(
            [("wave_id", "=", invoice.id), ("state", "=", "open")]
        )

    def test_wave_only_edit_is_applied_and_payments_stay_reconciled(self):
        inv = self.wave_invoice(qty=2)
        pay = self.wave_pay(inv, (Decimal(inv.total.value) / 2).quantize(Decimal("0.01")))
        self.poll()
        move = self.move_of(inv)
        payment = self.env["account.payment"].search([("wave_id", "=", pay.id)])
        self.assertEqual(move.payment_state, "partial")
        self.wave_edit_qty(inv, 5)
        self.poll()
        self.assertFalse(self.open_entries(inv), self.open_entries(inv).mapped("reasons"))
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(move.amount_total, float(inv.total.value), places=2)
        self.assertEqual(self.due_in_sql(inv), self.wave_due(inv))
        self.assertEqual(payment.state, "in_process")
        self.assertIn(move, payment.reconciled_invoice_ids)
        self.assertEqual(move.payment_state, "partial")
        log = self.env["wave.audit.log"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", move.id),
                ("action", "=", "update"),
            ]
        )
        self.assertTrue(log)

    def test_wave_only_edit_in_a_locked_period_waits(self):
        inv = self.wave_invoice(qty=2)
        self.poll()
        move = self.move_of(inv)
        total = move.amount_total
        move.company_id.sudo().fiscalyear_lock_date = move.date  # test setup, own company
        # moved out of the locked period in Wave: Wave's date passes, Odoo's entry is locked
        with self.state.lock:
            self.ops.patch_invoice(
                self.state,
                inv,
                {
                    "invoiceDate": self.today + dt.timedelta(days=1),
                    "items": [{"productId": self.product.id, "quantity": Decimal(3)}],
                },
            )
        self.poll()
        entry = self.open_entries(inv)
        self.assertTrue(entry)
        self.assertIn("locked period", entry.reasons)
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(move.amount_total, total, places=2)

    def test_both_sides_edited_go_to_review_with_both_versions(self):
        take = self.wave_invoice(qty=2)
        keep = self.wave_invoice(qty=2)
        self.poll()
        for invoice in (take, keep):
            self.odoo_edit_qty(self.move_of(invoice), 3)
            self.wave_edit_qty(invoice, 4)
        self.poll()
        entries = {}
        for invoice in (take, keep):
            entry = self.open_entries(invoice)
            self.assertEqual(len(entry), 1)
            self.assertTrue(entry.is_conflict)
            self.assertIn("both in Wave and in Odoo", entry.reasons)
            move = self.move_of(invoice)
            self.assertEqual(move.invoice_line_ids.quantity, 3)
            diff = str(entry.conflict_diff)
            self.assertIn(f"{float(invoice.total.value):,.2f}", diff)
            self.assertIn(f"{move.amount_total:,.2f}", diff)
            entries[invoice] = entry
        # "Take Wave's"
        entries[take].action_take_wave()
        self.assertEqual(entries[take].state, "resolved")
        move = self.move_of(take)
        self.assertEqual(move.invoice_line_ids.quantity, 4)
        self.assertAlmostEqual(move.amount_total, float(take.total.value), places=2)
        # "Keep Odoo's": resolved, and the same Wave version does not come back
        entries[keep].action_keep_odoo()
        self.assertEqual(entries[keep].state, "resolved")
        move = self.move_of(keep)
        self.webhook_import(keep)
        self.assertEqual(move.invoice_line_ids.quantity, 3)
        self.assertFalse(self.open_entries(keep))
        # a later change in Wave is looked at again
        self.wave_edit_qty(keep, 6)
        self.webhook_import(keep)
        self.assertTrue(self.open_entries(keep))

    def test_product_edit_in_the_same_second_as_the_last_seen_is_applied(self):
        """Odoo holds a product's Wave change time to the second: a Wave edit made in the
        same second with other values is applied, one from an earlier second is not."""
        Refs = self.env["wave.reference.importer"]
        node = {
            "id": "UHJvZHVjdDpzYW1lLXNlY29uZA==",
            "name": "Same-second widget",
            "unitPrice": "10.00",
            "modifiedAt": "2025-03-04T10:20:30.100Z",
        }
        product = Refs._resolve_products(self.connection, [node])[node["id"]]
        self.assertEqual(product.wave_modified_at, dt.datetime(2025, 3, 4, 10, 20, 30))
        same_second = dict(
            node, name="Same-second widget v2", modifiedAt="2025-03-04T10:20:30.900Z"
        )
        self.assertEqual(
            Refs._resolve_products(self.connection, [same_second])[node["id"]], product
        )
        self.assertEqual((product.name, product.list_price), ("Same-second widget v2", 10.0))
        earlier = dict(
            node, name="Stale widget", unitPrice="9", modifiedAt="2025-03-04T10:20:29.999Z"
        )
        Refs._resolve_products(self.connection, [earlier])
        self.assertEqual((product.name, product.list_price), ("Same-second widget v2", 10.0))

    def test_wave_edit_in_the_same_second_as_the_kept_version_is_seen(self):
        """Odoo holds Wave's change times to the second: a Wave edit made in the same
        second as the version declined with "Keep Odoo's" is still a new version."""
        keep = self.wave_invoice(qty=2)
        self.poll()
        self.odoo_edit_qty(self.move_of(keep), 3)
        self.wave_edit_qty(keep, 4)
        second = keep.modified_at.replace(microsecond=0) + dt.timedelta(minutes=1)
        with self.state.lock:
            keep.modified_at = second.replace(microsecond=100_000)
        self.webhook_import(keep)
        entry = self.open_entries(keep)
        self.assertEqual(len(entry), 1)
        entry.action_keep_odoo()
        self.webhook_import(keep)
        self.assertFalse(self.open_entries(keep), "the declined version does not come back")
        self.wave_edit_qty(keep, 6)
        with self.state.lock:
            keep.modified_at = second.replace(microsecond=900_000)
        self.webhook_import(keep)
        self.assertTrue(self.open_entries(keep), "a new Wave version in the same second")
