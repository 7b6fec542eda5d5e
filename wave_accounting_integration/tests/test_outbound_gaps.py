# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound sync scenarios against the Wave sandbox: sending, patches, undo, conflicts,
rate limits, money transactions, split payments, foreign currency, lost answers.

The sandbox keeps its data across the tests of the class while Odoo rolls back:
counts are taken relative to the state before each scenario.
"""

import time

from odoo import Command
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.tests import tagged

from .test_outbound import OutboundCommon

PAYMENTS = "id status total { value } amountPaid { value } payments { id amount memo }"
CURRENCY = "id currency { code } exchangeRate total { value } subtotal { value } taxTotal { value }"


@tagged("post_install", "-at_install")
class TestOutboundGaps(OutboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client = cls.connection._get_client()

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _sandbox_invoice(self, wave_id):
        return next(i for i in self.wave_us.invoices if i.id == wave_id)

    def _read(self, field, wave_ids, selection):
        return self.client.lookup_many(self.wave_us.id, field, wave_ids, selection)

    def _job_count(self, method):
        return (
            self.env["queue.job"]
            .sudo()
            .search_count([("method_name", "=", method), ("state", "=", "pending")])
        )

    def _run_jobs(self, method, records):
        """Run the pending ``method`` jobs of ``records`` as queue_job would.

        (queue_job's ``queue_job__no_delay`` runs them outside the test transaction.)
        """
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("method_name", "=", method), ("state", "=", "pending")], order="id")
            .filtered(lambda j: j.args[0] == records._name and set(records.ids) <= set(j.args[1]))
        )
        for job in jobs:
            getattr(job.records.with_env(self.env), method)(*job.args, **job.kwargs)
        return jobs

    def _draft_in_wave(self, moves):
        """Export ``moves`` with the approval failing: they stay DRAFT in Wave."""
        self._add_fault(kind="http_error", operation="invoiceApprove", status=503, count=1)
        self.assertFalse(self._export(moves))  # the job asks for a retry
        for move in moves:
            entry = self._ledger(move)
            self.assertEqual((entry.state, entry.saga_step), ("confirmed", "created"))
            self.assertEqual(
                self._read("invoice", [move.wave_id], "status")[move.wave_id], {"status": "DRAFT"}
            )

    def _bill(self, amount):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Paper",
                            "price_unit": amount,
                            "account_id": self.company_data["default_account_expense"].id,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        bill.action_post()
        return bill

    def _change_price(self, move, price):
        move.button_draft()
        move.invoice_line_ids[0].price_unit = price
        move.action_post()

    # ------------------------------------------------------------------
    # invoiceSend
    # ------------------------------------------------------------------
    def test_invoice_send_by_email_or_fallback(self):
        self.connection.invoice_send_mode = "send"
        self.assertTrue(self.wave_us.email_send_enabled)
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        node = self._sandbox_invoice(move.wave_id)
        self.assertEqual(node.last_sent_via, "WAVE")  # sent by Wave's email
        self.assertEqual(self._ledger(move).saga_step, "sent")

        # The business cannot email: marked sent instead, and said so on the invoice.
        self.wave_us.email_send_enabled = False
        self.addCleanup(setattr, self.wave_us, "email_send_enabled", True)
        other = self._invoice(self.partner_b)
        self.env["wave.outbound.runner"]._export(self.connection, other)
        self.assertEqual(self._sandbox_invoice(other.wave_id).last_sent_via, "MARKED_SENT")
        self.assertEqual(self._ledger(other).saga_step, "sent")
        log = self.env["wave.audit.log"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", other.id)]
        )
        self.assertIn("outbound_send_fallback", log.mapped("action"))
        self.assertIn("emailSendEnabled", other.message_ids[0].body)

        # A customer without email address is marked sent, not emailed.
        self.wave_us.email_send_enabled = True
        nomail = self.env["res.partner"].create({"name": "No Mail Ltd"})
        third = self._invoice(nomail)
        self.env["wave.outbound.runner"]._export(self.connection, third)
        self.assertEqual(self._sandbox_invoice(third.wave_id).last_sent_via, "MARKED_SENT")

    # ------------------------------------------------------------------
    # Customer / product patches and archive
    # ------------------------------------------------------------------
    def test_customer_and_product_patch_and_archive(self):
        partner = self.env["res.partner"].create({"name": "Patch Me", "email": "p1@example.com"})
        product = self.env["product.product"].create({"name": "Patch Widget", "list_price": 5.0})
        move = self._invoice(partner)
        move.button_draft()
        move.invoice_line_ids[0].product_id = product
        move.action_post()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self.assertEqual((partner.wave_origin, product.wave_origin), ("odoo", "odoo"))

        # Changing exported records in Odoo enqueues their patch.
        before = self._job_count("_job_export")
        partner.write({"name": "Patched Co", "email": "p2@example.com"})
        product.lst_price = 7.25
        self.assertEqual(self._job_count("_job_export"), before + 2)
        self.sandbox.counters.reset()
        self.env["wave.outbound.runner"]._export(self.connection, partner)
        self.env["wave.outbound.runner"]._export(self.connection, product)
        self.assertEqual(self.sandbox.counters.as_dict()["total"], 2)  # one patch each
        customer = self._read("customer", [partner.wave_id], "name email")[partner.wave_id]
        self.assertEqual(customer, {"name": "Patched Co", "email": "p2@example.com"})
        node = self._read("product", [product.wave_id], "name unitPrice isArchived")[
            product.wave_id
        ]
        self.assertEqual(node["name"], "Patch Widget")
        self.assertEqual(node["unitPrice"], "7.25")
        self.assertFalse(node["isArchived"])

        # Archiving the product in Odoo archives it in Wave.
        product.action_archive()
        self.env["wave.outbound.runner"]._export(self.connection, product)
        node = self._read("product", [product.wave_id], "isArchived")[product.wave_id]
        self.assertTrue(node["isArchived"])
        self.assertFalse(self.env["wave.quarantine"].search([("res_id", "=", product.id)]))

    # ------------------------------------------------------------------
    # Payment undo through unreconcile
    # ------------------------------------------------------------------
    def test_unreconcile_deletes_wave_payment(self):
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        payment = self._pay(move, move.amount_total)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        node = self._read("invoice", [move.wave_id], PAYMENTS)[move.wave_id]
        self.assertEqual(node["status"], "PAID")
        self.assertEqual(len(node["payments"]), 1)

        # Unreconciling runs the undo job (inline here), which deletes the Wave payment.
        lines = payment.move_id.line_ids.filtered(lambda line: line.reconciled)
        lines.remove_move_reconcile()
        jobs = self._run_jobs("_job_undo_payments", payment)
        self.assertEqual(len(jobs), 1)
        self.assertEqual(move.payment_state, "not_paid")
        node = self._read("invoice", [move.wave_id], PAYMENTS)[move.wave_id]
        self.assertEqual(node["amountPaid"]["value"], "0.00")
        self.assertEqual(node["payments"], [])
        self.assertEqual(self._ledger(payment).state, "compensated")
        # The daily catch-up does not send the unreconciled payment again.
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        node = self._read("invoice", [move.wave_id], PAYMENTS)[move.wave_id]
        self.assertEqual(node["payments"], [])

    # ------------------------------------------------------------------
    # Changes to exported invoices, conflicts
    # ------------------------------------------------------------------
    def test_changed_draft_invoice_is_patched(self):
        move = self._invoice()
        self._draft_in_wave(move)
        count = len(self._wave_invoices_numbered(move.name))
        self._change_price(move, 42.0)
        self.env["wave.outbound.runner"]._export(self.connection, move)
        node = self._wave_invoices(move)[move.wave_id]
        self.assertEqual(node["total"]["value"], f"{move.amount_total:.2f}")
        self.assertEqual(node["status"], "UNPAID")  # patched, then approved and marked sent
        self.assertEqual(len(self._wave_invoices_numbered(move.name)), count)  # no new invoice
        self.assertEqual(self._ledger(move).saga_step, "sent")

    def test_changed_approved_invoice_goes_to_review(self):
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self._change_price(move, 43.0)
        self.env["wave.outbound.runner"]._export(self.connection, move)
        quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )
        self.assertIn("only lets drafts be changed", quarantine.reasons)

    def test_conflict_policies(self):
        review, odoo_wins, wave_wins, po_only = moves = (
            self._invoice()
            | self._invoice(self.partner_b)
            | self._invoice(n=1)
            | self._invoice(self.partner_b, n=2)
        )
        self._draft_in_wave(moves)
        time.sleep(1.1)  # Odoo keeps Wave's modifiedAt to the second
        for move in moves:  # changed in Wave since the export...
            self.client.mutate(
                "invoicePatch", {"id": move.wave_id, "memo": "changed in Wave"}, "invoice { id }"
            )
        for move in moves - po_only:  # ...and in Odoo
            self._change_price(move, 50.0)
        po_only.button_draft()
        po_only.ref = "PO-9"  # a change of the "other" group only
        po_only.action_post()
        totals = {m: self._wave_invoices(m)[m.wave_id]["total"]["value"] for m in moves}

        self.connection.conflict_policy_amounts = "review"
        self.env["wave.outbound.runner"]._export(self.connection, review)
        quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", review.id)]
        )
        self.assertIn("changed in Odoo and in Wave", quarantine.reasons)
        self.assertEqual(
            self._wave_invoices(review)[review.wave_id]["total"]["value"], totals[review]
        )

        self.connection.conflict_policy_amounts = "wave"
        self.env["wave.outbound.runner"]._export(self.connection, wave_wins)
        self.assertEqual(
            self._wave_invoices(wave_wins)[wave_wins.wave_id]["total"]["value"], totals[wave_wins]
        )
        log = self.env["wave.audit.log"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", wave_wins.id)]
        )
        self.assertIn("conflict", log.mapped("action"))

        # Each changed group has its policy: only the PO number changed, "other" is "wave".
        self.connection.conflict_policy_amounts = "review"
        self.assertEqual(self.connection.conflict_policy_other, "wave")
        self.env["wave.outbound.runner"]._export(self.connection, po_only)
        self.assertFalse(
            self.env["wave.quarantine"].search(
                [("res_model", "=", "account.move"), ("res_id", "=", po_only.id)]
            )
        )
        log = self.env["wave.audit.log"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", po_only.id)]
        )
        self.assertEqual(
            log.filtered(lambda x: x.action == "conflict").values_after["changed"], ["other"]
        )

        self.connection.conflict_policy_amounts = "odoo"
        self.env["wave.outbound.runner"]._export(self.connection, odoo_wins)
        node = self._wave_invoices(odoo_wins)[odoo_wins.wave_id]
        self.assertEqual(node["total"]["value"], f"{odoo_wins.amount_total:.2f}")
        self.assertEqual(node["status"], "UNPAID")

    # ------------------------------------------------------------------
    # Rate limit
    # ------------------------------------------------------------------
    def test_rate_limit_becomes_retryable_job_error(self):
        move = self._invoice()
        count = len(self._wave_invoices_numbered(move.name))
        self._add_fault(kind="rate_limit", operation="invoiceCreate", retry_after=30, count=1)
        # (Not assertRaises: Odoo's rolls back the savepoint it opens, hiding the ledger.)
        try:
            self.connection._job_export("account.move", move.ids)
        except RetryableJobError as error:
            caught = error
        else:
            self.fail("The rate limit did not reschedule the job.")
        self.assertGreaterEqual(caught.seconds, 30)
        # Nothing half-done: the invoice is not in Wave and its ledger entry waits, unsent.
        entry = self._ledger(move)
        self.assertEqual((entry.state, entry.attempts, entry.wave_id), ("pending", 0, False))
        self.assertFalse(move.wave_id)
        self.assertEqual(len(self._wave_invoices_numbered(move.name)), count)
        self.assertFalse(
            self.env["wave.quarantine"].search(
                [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
            )
        )
        # Once the pause is over, the retried job exports it exactly once.
        self.env["wave.rate.bucket"].sudo().search([]).write(
            {"paused_until": 0, "updated_at": time.time(), "tokens": self.connection.rate_limit}
        )
        self.connection._job_export("account.move", move.ids)
        self.assertEqual(len(self._wave_invoices_numbered(move.name)), count + 1)
        self.assertEqual((entry.state, entry.saga_step), ("confirmed", "sent"))

    # ------------------------------------------------------------------
    # Money transactions from other journal entries
    # ------------------------------------------------------------------
    def _entry(self, lines):
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": self.today,
                "ref": "Misc to Wave",
                "line_ids": [
                    Command.create({"name": name, "account_id": account.id, "balance": balance})
                    for name, account, balance in lines
                ],
            }
        )
        move.action_post()
        return move

    def test_misc_entry_becomes_money_transaction(self):
        bank = self.bank_journal.default_account_id
        expense = self.company_data["default_account_expense"]
        before = len(self._money_transactions())
        move = self._entry([("Stamps", expense, 30.0), ("Paid from bank", bank, -30.0)])
        self.env["wave.outbound.runner"]._export(self.connection, move)
        transactions = self._money_transactions()[before:]
        self.assertEqual(len(transactions), 1)
        tx = transactions[0]
        self.assertEqual(tx["externalId"], self._ledger(move).external_id)
        self.assertEqual(tx["anchor"]["direction"], "WITHDRAWAL")
        self.assertEqual(tx["anchor"]["amount"], "30.00")
        debits = {j["accountName"]: j["debit"] for j in tx["journal"] if j["debit"]}
        self.assertEqual(debits, {"Office Supplies": 3000})
        self.assertEqual(move.wave_origin, "odoo")

        # Two bank lines: Wave needs exactly one anchor → quarantine, nothing sent.
        two = self._entry([("In", bank, 10.0), ("Out", bank, -10.0)])
        self.env["wave.outbound.runner"]._export(self.connection, two)
        self.assertEqual(len(self._money_transactions()), before + 1)
        quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", two.id)]
        )
        self.assertIn("exactly one", quarantine.reasons)

    # ------------------------------------------------------------------
    # One payment over several invoices
    # ------------------------------------------------------------------
    def test_payment_split_over_invoices(self):
        moves = self._invoice() | self._invoice(n=3)
        self.env["wave.outbound.runner"]._export(self.connection, moves)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({"payment_date": self.today, "group_payment": True})
        )
        payment = wizard._create_payments()
        self.assertEqual(len(payment), 1)
        self.assertTrue(all(m.payment_state in ("paid", "in_payment") for m in moves))
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        entries = self._ledger(payment)
        self.assertEqual(len(entries), 2)
        self.assertEqual(set(entries.mapped("state")), {"confirmed"})
        nodes = self._read("invoice", moves.mapped("wave_id"), PAYMENTS)
        for move in moves:
            node = nodes[move.wave_id]
            self.assertEqual(node["status"], "PAID")
            self.assertEqual(node["amountPaid"]["value"], f"{move.amount_total:.2f}")
            self.assertEqual(len(node["payments"]), 1)

        # Unreconciling one of the invoices deletes only its Wave payment.
        first, second = moves
        first.line_ids.filtered(lambda line: line.reconciled).remove_move_reconcile()
        self._run_jobs("_job_undo_payments", payment)
        nodes = self._read("invoice", moves.mapped("wave_id"), PAYMENTS)
        self.assertEqual(nodes[first.wave_id]["payments"], [])
        self.assertEqual(nodes[first.wave_id]["amountPaid"]["value"], "0.00")
        self.assertEqual(len(nodes[second.wave_id]["payments"]), 1)
        self.assertEqual(nodes[second.wave_id]["status"], "PAID")
        states = {e.sub_key: e.state for e in entries}
        self.assertEqual(states, {f"inv{first.id}": "compensated", f"inv{second.id}": "confirmed"})

    # ------------------------------------------------------------------
    # Foreign currency
    # ------------------------------------------------------------------
    def test_foreign_currency_invoice(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.8)])
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "currency_id": eur.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "quantity": 2,
                            "price_unit": 80.0,
                            "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        }
                    )
                ],
            }
        )
        move.action_post()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        node = self._read("invoice", [move.wave_id], CURRENCY)[move.wave_id]
        self.assertEqual(node["currency"]["code"], "EUR")
        self.assertAlmostEqual(float(node["exchangeRate"]), 1.25, places=6)  # USD per EUR
        self.assertEqual(node["total"]["value"], f"{move.amount_total:.2f}")
        self.assertEqual(node["subtotal"]["value"], f"{move.amount_untaxed:.2f}")
        self.assertEqual(node["taxTotal"]["value"], f"{move.amount_tax:.2f}")
        self.assertEqual(self._ledger(move).saga_step, "sent")
        # Paid in EUR: Wave records the EUR amount on the EUR invoice.
        payment = self._pay(move, move.amount_total)
        self.assertEqual(payment.currency_id, eur)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        node = self._read("invoice", [move.wave_id], PAYMENTS)[move.wave_id]
        self.assertEqual(node["status"], "PAID")
        self.assertEqual(node["amountPaid"]["value"], f"{move.amount_total:.2f}")

    # ------------------------------------------------------------------
    # Needs confirmation → release → resent once
    # ------------------------------------------------------------------
    def test_release_resend_sends_exactly_once(self):
        bill = self._bill(25.0)
        payment = self._pay(bill, bill.amount_total)
        before = len(self._money_transactions())
        # A server error on the mutation: Wave did not apply it, but we cannot know.
        self._add_fault(kind="http_error", operation="moneyTransactionCreate", status=502, count=1)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        entry = self._ledger(payment)
        self.assertEqual(entry.state, "outcome_unknown")
        self.assertEqual(len(self._money_transactions()), before)
        # The accountant finds nothing in Wave and releases it: pending, then sent once.
        entry.with_user(self.wave_accountant).action_release_resend()
        self.assertEqual(entry.state, "pending")
        jobs = self._run_jobs("_job_export", payment)
        self.assertEqual(len(jobs), 1)
        self.assertEqual(entry.state, "confirmed")
        transactions = self._money_transactions()[before:]
        self.assertEqual(len(transactions), 1)
        self.assertEqual(transactions[0]["externalId"], entry.external_id)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        self.assertEqual(len(self._money_transactions()), before + 1)

    # ------------------------------------------------------------------
    # Lost answers of customers, products and sales taxes
    # ------------------------------------------------------------------
    def test_lost_dependency_answers_are_found_by_lookup(self):
        for i, operation in enumerate(("customerCreate", "productCreate", "salesTaxCreate")):
            partner = self.env["res.partner"].create(
                {"name": f"Lost Customer {i}", "email": f"lost{i}@example.com"}
            )
            product = self.env["product.product"].create(
                {"name": f"Lost Product {i}", "list_price": 3.0}
            )
            tax = self.env["account.tax"].create(
                {"name": f"Lost Tax {i}", "amount": 4.0 + i, "invoice_label": f"LT{i}"}
            )
            move = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": self.today,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "price_unit": 9.0,
                                "tax_ids": [Command.set(tax.ids)],
                            }
                        )
                    ],
                }
            )
            move.action_post()
            customers = [c for c in self.wave_us.customers if c.name == partner.name]
            products = [p for p in self.wave_us.products if p.name == product.display_name]
            taxes = [t for t in self.wave_us.sales_taxes if t.abbreviation == f"LT{i}"]
            self._add_fault(kind="drop_after", operation=operation, count=1)
            self.env["wave.outbound.runner"]._export(self.connection, move)
            # All three travel in one request: all three answers were lost, all found.
            for record, kind in ((partner, "customer"), (product, "product"), (tax, "tax")):
                entry = self._ledger(record)
                self.assertEqual(entry.state, "confirmed", (operation, kind))
                self.assertEqual(entry.resolution, "lookup", (operation, kind))
                self.assertEqual(record.wave_id, entry.wave_id)
            self.assertEqual(
                len([c for c in self.wave_us.customers if c.name == partner.name]),
                len(customers) + 1,
            )
            self.assertEqual(
                len([p for p in self.wave_us.products if p.name == product.display_name]),
                len(products) + 1,
            )
            self.assertEqual(
                len([t for t in self.wave_us.sales_taxes if t.abbreviation == f"LT{i}"]),
                len(taxes) + 1,
            )
            self.assertTrue(move.wave_id)
            self.assertEqual(self._ledger(move).saga_step, "sent")

    # ------------------------------------------------------------------
    # Lost invoice answer with more than one page of matching numbers
    # ------------------------------------------------------------------
    def test_lost_invoice_lookup_pages_through_matches(self):
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        wave_id = move.wave_id
        entry = self._ledger(move)
        # 105 newer invoices whose numbers contain this one's push it to page 2.
        decoy = {
            "businessId": self.wave_us.id,
            "customerId": move.commercial_partner_id.wave_id,
            "items": [{"productId": self.connection.outbound_generic_product_wave_id}],
        }
        self.client.mutate_many(
            [
                (
                    f"d{i}",
                    "invoiceCreate",
                    dict(decoy, invoiceNumber=f"{move.name}-{i}"),
                    "invoice { id }",
                )
                for i in range(105)
            ]
        )
        # The worker died after sending: the entry is still "sent", the binding lost.
        # sudo: a fixture, the state a dead worker leaves (the ledger is server-owned).
        entry.sudo().write({"state": "sent", "wave_id": False})
        move.write({"wave_id": False})
        count = len(self._wave_invoices_numbered(move.name))
        self.sandbox.counters.reset()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self.assertEqual(self.sandbox.counters.as_dict()["total"], 2)  # page 1 (aliased) + 2
        self.assertEqual((entry.state, entry.resolution), ("confirmed", "lookup"))
        self.assertEqual(move.wave_id, wave_id)
        self.assertEqual(len(self._wave_invoices_numbered(move.name)), count)
