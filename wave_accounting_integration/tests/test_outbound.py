# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound sync against the Wave sandbox over HTTP: what Wave ends up with, to the cent."""

import logging
from datetime import timedelta

from odoo import Command, fields
from odoo.addons.wave_accounting_integration.services.job_guard import JobRetryLater
from odoo.tests import tagged

from .common import WaveSandboxCommon

_logger = logging.getLogger(__name__)

INVOICE_FIELDS = (
    "id invoiceNumber status total { value } subtotal { value } taxTotal { value } "
    "amountPaid { value } items { quantity unitPrice subtotal { value } }"
)


class OutboundCommon(WaveSandboxCommon):
    """Sandbox, outbound settings and account mappings shared by the outbound tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.today()
        cls.connection.sudo().write(
            {
                "sync_outbound": True,
                "export_on_post": False,
                "allow_sales_tax_create": True,
                "outbound_start_date": today - timedelta(days=30),
                "outbound_retry_limit": 3,
                "compensate_odoo_side": True,
            }
        )
        accounts = {a.name: a for a in cls.wave_us.accounts}
        bank_journal = cls.company_data["default_journal_bank"]
        Map = cls.env["wave.account.map"]
        Map.create(
            [
                {
                    "connection_id": cls.connection.id,
                    "wave_account_id": accounts["Checking Account"].id,
                    "wave_account_name": "Checking Account",
                    "wave_account_type": "ASSET",
                    "wave_account_subtype": "CASH_AND_BANK",
                    "journal_id": bank_journal.id,
                    "account_id": bank_journal.default_account_id.id,
                },
                {
                    "connection_id": cls.connection.id,
                    "wave_account_id": accounts["Office Supplies"].id,
                    "wave_account_name": "Office Supplies",
                    "wave_account_type": "EXPENSE",
                    "wave_account_subtype": "EXPENSE",
                    "account_id": cls.company_data["default_account_expense"].id,
                },
            ]
        )
        cls.bank_journal = bank_journal
        cls.partner_a.email = "alice@example.com"
        cls.partner_b.email = "bob@example.com"
        cls.today = today

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _invoice(self, partner=None, post=True, n=0):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.partner_a).id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "quantity": 3,
                            "price_unit": 19.99 + n,
                            "discount": 10,
                            "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        }
                    ),
                    Command.create(
                        {
                            "name": "Free text line",
                            "quantity": 2,
                            "price_unit": 12.35,
                            "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        }
                    ),
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def _pay(self, moves, amount, journal=None):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create(
                {
                    "payment_date": self.today,
                    "journal_id": (journal or self.bank_journal).id,
                    "amount": amount,
                    "payment_difference_handling": "open",
                }
            )
            ._create_payments()
        )

    def _wave_invoices(self, moves):
        client = self.connection._get_client()
        return client.lookup_many(
            self.wave_us.id, "invoice", moves.mapped("wave_id"), INVOICE_FIELDS
        )

    def _wave_invoices_numbered(self, number):
        return [inv for inv in self.wave_us.invoices if inv.invoice_number == number]

    def _ledger(self, records):
        return self.env["wave.outbound.ledger"].search(
            [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        )

    def _export(self, records, rounds=1):
        """Run the export as the queue job would, ``rounds`` times (retries)."""
        for _i in range(rounds):
            try:
                self.env["wave.outbound.runner"]._export(self.connection, records)
                return True
            except JobRetryLater:
                continue
        return False

    def _money_transactions(self):
        return self.sandbox_admin(
            "GET", f"/sandbox/money-transactions?businessId={self.wave_us.id}"
        )["transactions"]

    def _assert_left_to_export(self, wave_id):
        """A webhook's import of Wave invoice ``wave_id`` leaves it to its export: skipped,
        no Odoo invoice bound to it. Returns ``account.move`` (archived ones included)."""
        outcome = self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [wave_id], source="webhook"
        )
        self.assertEqual(outcome, {wave_id: "skipped"})
        Move = self.env["account.move"].with_context(active_test=False)
        self.assertFalse(Move.search([("wave_id", "=", wave_id)]))
        return Move

    def _add_fault(self, **spec):
        fault = self.sandbox.faults.add(**spec)
        self.addCleanup(self.sandbox.faults.remove, fault.id)
        return fault


@tagged("post_install", "-at_install")
class TestOutbound(OutboundCommon):
    # ------------------------------------------------------------------
    # Invoices
    # ------------------------------------------------------------------
    def test_invoice_batch_matches_wave_within_request_budget(self):
        moves = self.env["account.move"]
        for n in range(20):
            moves |= self._invoice(self.partner_a if n % 2 else self.partner_b, n=n)
        self.sandbox.counters.reset()
        self.env["wave.outbound.runner"]._export(self.connection, moves)
        counters = self.sandbox.counters.as_dict()
        per_invoice = counters["total"] / len(moves)
        _logger.info(
            "Wave requests for %s invoices: %s (%.2f/invoice)",
            len(moves),
            counters["total"],
            per_invoice,
        )
        self.assertLessEqual(per_invoice, 0.5, counters)

        nodes = self._wave_invoices(moves)
        for move in moves:
            node = nodes[move.wave_id]
            self.assertEqual(move.wave_origin, "odoo")
            self.assertEqual(node["invoiceNumber"], move.name)
            self.assertEqual(node["status"], "UNPAID")  # approved and marked sent
            self.assertEqual(node["total"]["value"], f"{move.amount_total:.2f}", move.name)
            self.assertEqual(node["subtotal"]["value"], f"{move.amount_untaxed:.2f}")
            self.assertEqual(node["taxTotal"]["value"], f"{move.amount_tax:.2f}")
        ledger = self._ledger(moves)
        self.assertEqual(set(ledger.mapped("state")), {"confirmed"})
        self.assertEqual(set(ledger.mapped("saga_step")), {"sent"})
        self.assertEqual(len(set(ledger.mapped("external_id"))), 20)
        # The generic product (line without product) was created once.
        self.assertTrue(self.connection.outbound_generic_product_wave_id)
        self.assertTrue(self.tax_sale_a.wave_id)
        # Exporting again sends nothing.
        self.sandbox.counters.reset()
        self.env["wave.outbound.runner"]._export(self.connection, moves)
        self.assertEqual(self.sandbox.counters.as_dict()["total"], 0)

    def test_line_amount_ending_in_half_a_cent_keeps_its_unit_price(self):
        """1.5 x 19.99 = 29.985: Odoo rounds the line half up to 29.99, as Wave does, so
        Wave gets the line's own unit price, not 29.99 / 1.5 with ten decimals (which
        Odoo could not read back: the Wave invoice would wait in the quarantine)."""
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.product_a.id, "quantity": 1.5, "price_unit": 19.99}
                    )
                ],
            }
        )
        move.action_post()
        self.assertEqual(move.amount_untaxed, 29.99)
        self._export(move)
        wave_invoice = next(i for i in self.wave_us.invoices if i.id == move.wave_id)
        self.assertEqual(
            [str(item.unit_price.normalize()) for item in wave_invoice.items], ["19.99"]
        )
        self.assertEqual(
            self._wave_invoices(move)[move.wave_id]["total"]["value"], f"{move.amount_total:.2f}"
        )
        # Wave's later webhooks of it are read back without any quarantine.
        self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [move.wave_id], source="webhook"
        )
        self.assertFalse(
            self.env["wave.quarantine"].search([("wave_id", "=", move.wave_id)]),
        )

    def test_partial_and_full_payment(self):
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        partial = self._pay(move, 20.0)
        self.env["wave.outbound.runner"]._export(self.connection, partial)
        node = self._wave_invoices(move)[move.wave_id]
        self.assertEqual(node["amountPaid"]["value"], "20.00")
        self.assertEqual(node["status"], "PARTIAL")
        self.assertEqual(partial.wave_origin, "odoo")

        rest = self._pay(move, move.amount_residual)
        self.assertEqual(move.payment_state, "paid")
        self.env["wave.outbound.runner"]._export(self.connection, rest | partial)
        node = self._wave_invoices(move)[move.wave_id]
        self.assertEqual(node["amountPaid"]["value"], f"{move.amount_total:.2f}")
        self.assertEqual(node["status"], "PAID")
        self.assertEqual(len(self._ledger(rest | partial)), 2)

        # Cancelling the partial payment in Odoo deletes it in Wave.
        partial.action_draft()
        partial.action_cancel()
        self.env["wave.payment.exporter"]._undo(self.connection, partial)
        node = self._wave_invoices(move)[move.wave_id]
        self.assertEqual(node["amountPaid"]["value"], f"{move.amount_total - 20.0:.2f}")
        self.assertEqual(self._ledger(partial).state, "compensated")

    def test_export_does_not_mark_the_invoice_manually_modified(self):
        """Binding the invoice to Wave (created, approved, sent, then paid) is the sync's
        write, not an edit of the invoice: Odoo's *manually modified* flag stays as it was
        (that the journal items are not rewritten needs committed rows and is tested on a
        real server: ``tests/reliability/test_binding_writes.py``)."""
        move = self._invoice()
        manual = move.is_manually_modified
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self.assertTrue(move.wave_id)
        self.assertEqual(move.is_manually_modified, manual)
        payment = self._pay(move, 20.0)
        manual = move.is_manually_modified
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        self.assertTrue(payment.wave_id)
        self.assertEqual(move.is_manually_modified, manual)

    def test_imported_invoice_is_not_sent_back(self):
        move = self._invoice()
        move.write({"wave_origin": "wave", "wave_id": "SW1wb3J0ZWQ6MQ=="})
        self.sandbox.counters.reset()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self.assertEqual(self.sandbox.counters.as_dict()["total"], 0)
        self.assertFalse(self._ledger(move))
        # The daily catch-up does not pick it either.
        self.assertNotIn(
            move.id,
            self.env["wave.outbound.runner"]._catchup_targets(self.connection)["account.move"],
        )

    def test_credit_note_is_refused_into_quarantine(self):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create({"product_id": self.product_a.id, "price_unit": 10.0})
                ],
            }
        )
        refund.action_post()
        self.env["wave.outbound.runner"]._export(self.connection, refund)
        quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", refund.id)]
        )
        self.assertEqual(quarantine.direction, "outbound")
        self.assertIn("no credit notes", quarantine.reasons)
        self.assertFalse(refund.wave_id)

    # ------------------------------------------------------------------
    # Lost responses
    # ------------------------------------------------------------------
    def test_lost_invoice_create_response_is_resolved_by_lookup(self):
        moves = self._invoice() | self._invoice(self.partner_b)
        # (Wave keeps invoices of earlier tests, whose numbers Odoo reuses after rollback.)
        known = {move: len(self._wave_invoices_numbered(move.name)) for move in moves}
        self._add_fault(kind="drop_after", operation="invoiceCreate", count=1)
        self.env["wave.outbound.runner"]._export(self.connection, moves)
        ledger = self._ledger(moves)
        self.assertEqual(set(ledger.mapped("state")), {"confirmed"})
        self.assertEqual(set(ledger.mapped("resolution")), {"lookup"})
        self.assertEqual(set(ledger.mapped("saga_step")), {"sent"})
        for move in moves:
            self.assertEqual(len(self._wave_invoices_numbered(move.name)), known[move] + 1)
            self.assertIn(move.wave_id, [i.id for i in self._wave_invoices_numbered(move.name)])
        # A later run never creates them again.
        self.env["wave.outbound.runner"]._export(self.connection, moves)
        for move in moves:
            self.assertEqual(len(self._wave_invoices_numbered(move.name)), known[move] + 1)

    def test_wave_invoice_of_an_unanswered_export_is_not_imported_again(self):
        """A poll or webhook meets the Wave invoice an export created before the export
        has its answer (lost, or not committed yet): the import leaves it to the export,
        which binds it and moves it on. One Odoo invoice, one Wave invoice."""
        self.connection.import_draft_invoices = True
        move = self._invoice()
        known = {i.id for i in self._wave_invoices_numbered(move.name)}
        self._add_fault(kind="drop_after", operation="invoiceCreate", count=1)
        lookup = self._add_fault(kind="http_error", operation="OdooFindInvoices", status=503)
        # (Not assertRaises: its savepoint would roll the ledger back.)
        self.assertFalse(self._export(move), "the look-up failed: retried later")
        self.assertEqual(self._ledger(move).state, "outcome_unknown")
        # The daily catch-up exports it again if its job gives up (a look-up, no person).
        runner = self.env["wave.outbound.runner"]
        self.assertIn(move.id, runner._catchup_targets(self.connection)["account.move"])
        created = [i for i in self._wave_invoices_numbered(move.name) if i.id not in known]
        self.assertEqual(len(created), 1)
        wave_id = created[0].id
        # The webhook of the new Wave draft arrives first.
        Move = self._assert_left_to_export(wave_id)
        # Wave answers the look-up again: the export binds its invoice and moves it on.
        self.sandbox.faults.remove(lookup.id)
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self.assertEqual(move.wave_id, wave_id)
        self.assertEqual(self._ledger(move).resolution, "lookup")
        self.assertEqual(self._sandbox_status(wave_id), "UNPAID")  # approved and marked sent
        # Later deliveries update that one invoice.
        outcome = self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [wave_id], source="webhook"
        )
        self.assertNotEqual(outcome[wave_id], "created")
        self.assertEqual(Move.search([("wave_id", "=", wave_id)]), move)
        self.assertEqual(
            [i.id for i in self._wave_invoices_numbered(move.name) if i.id not in known],
            [wave_id],
        )

    def test_wave_payment_of_an_unanswered_export_is_not_imported_again(self):
        """A poll or webhook meets the Wave payment an export made before the export has
        its answer (lost, then looked up): the import leaves it to the export, which binds
        it. One Odoo payment, one Wave payment; the invoice paid once in Odoo."""
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        self._add_fault(kind="drop_after", operation="invoicePaymentCreateManual", count=1)
        lookup = self._add_fault(kind="http_error", operation="WaveLookupMany", status=503)
        payment = self._pay(move, 20.0)
        self.assertFalse(self._export(payment), "the look-up failed: retried later")
        self.assertEqual(self._ledger(payment).state, "outcome_unknown")
        self.assertFalse(payment.wave_id)
        Payment = self.env["account.payment"].with_context(active_test=False)

        def import_invoice():
            """The webhook's import of the invoice; the Wave payment's id."""
            self.sandbox.faults.remove(lookup.id)
            self.env["wave.invoice.importer"]._import_by_ids(
                self.connection, [move.wave_id], source="webhook"
            )
            client = self.connection._get_client()
            wave_payments = client.lookup_many(
                self.wave_us.id, "invoice", [move.wave_id], "id payments { id }"
            )[move.wave_id]["payments"]
            self.assertEqual(len(wave_payments), 1)
            self.assertEqual(Payment.search_count([("partner_id", "=", move.partner_id.id)]), 1)
            self.assertEqual(move.amount_residual, move.amount_total - 20.0)
            return wave_payments[0]["id"]

        # The webhook of the paid Wave invoice arrives before the export has its answer.
        wave_id = import_invoice()
        self.assertFalse(Payment.search([("wave_id", "=", wave_id)]))
        # The export's look-up binds it; a later delivery meets it again.
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        self.assertEqual(self._ledger(payment).resolution, "lookup")
        self.assertEqual(payment.wave_id, wave_id)
        self.assertEqual(import_invoice(), wave_id)
        self.assertEqual(Payment.search([("wave_id", "=", wave_id)]), payment)

    def _sandbox_status(self, wave_id):
        return next(i for i in self.wave_us.invoices if i.id == wave_id).status

    def _bill(self, amount=100.0):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Paper",
                            "quantity": 1,
                            "price_unit": amount,
                            "account_id": self.company_data["default_account_expense"].id,
                            "tax_ids": [Command.set(self.tax_purchase_a.ids)],
                        }
                    )
                ],
            }
        )
        bill.action_post()
        return bill

    def test_vendor_bill_payment_becomes_balanced_money_transaction(self):
        bill = self._bill(100.0)
        before = len(self._money_transactions())
        payment = self._pay(bill, bill.amount_total)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        transactions = self._money_transactions()[before:]
        self.assertEqual(len(transactions), 1)
        tx = transactions[0]
        entry = self._ledger(payment)
        self.assertEqual(entry.state, "confirmed")
        self.assertEqual(tx["externalId"], entry.external_id)
        self.assertEqual(tx["anchor"]["direction"], "WITHDRAWAL")
        self.assertEqual(tx["anchor"]["amount"], f"{bill.amount_total:.2f}")
        journal = tx["journal"]
        self.assertEqual(sum(j["debit"] for j in journal), sum(j["credit"] for j in journal))
        self.assertEqual(sum(j["debit"] for j in journal), round(bill.amount_total * 100))
        debits = {j["accountName"]: j["debit"] for j in journal if j["debit"]}
        self.assertEqual(debits["Office Supplies"], round(bill.amount_untaxed * 100))
        self.assertEqual(
            sum(debits.values()) - debits["Office Supplies"], round(bill.amount_tax * 100)
        )
        # Exporting again sends nothing (ledger).
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        self.assertEqual(len(self._money_transactions()), before + 1)

    def test_lost_money_transaction_waits_for_confirmation(self):
        bill = self._bill(40.0)
        payment = self._pay(bill, bill.amount_total)
        before = len(self._money_transactions())
        self._add_fault(kind="drop_after", operation="moneyTransactionCreate", count=1)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        entry = self._ledger(payment)
        self.assertEqual(entry.state, "outcome_unknown")
        self.assertTrue(entry.evidence)
        self.assertEqual(len(self._money_transactions()), before + 1)  # applied by Wave
        # Neither a retry nor the catch-up sends it again.
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        self.assertNotIn(
            payment.id,
            self.env["wave.outbound.runner"]._catchup_targets(self.connection)["account.payment"],
        )
        self.assertEqual(len(self._money_transactions()), before + 1)
        # The accountant checks Wave and confirms.
        entry.wave_id = self._money_transactions()[-1]["id"]
        entry.with_user(self.wave_accountant).action_confirm_exists()
        self.assertEqual(entry.state, "confirmed")
        self.assertEqual(entry.resolution, "manual")
        self.assertEqual(payment.wave_id, entry.wave_id)

    # ------------------------------------------------------------------
    # Failures
    # ------------------------------------------------------------------
    def test_server_error_storm_is_retried_then_compensated(self):
        move = self._invoice()
        self._add_fault(kind="http_error", operation="invoiceApprove", status=503)
        # Rounds 1 and 2 ask queue_job for a retry; round 3 reaches the limit and compensates.
        self.assertTrue(self._export(move, rounds=5))
        entry = self._ledger(move)
        self.assertEqual(entry.state, "compensated")
        self.assertEqual(entry.attempts, 3)
        self.assertTrue(entry.wave_id)
        self.assertNotIn(entry.wave_id, [i.id for i in self.wave_us.invoices])  # draft deleted
        self.assertEqual(move.state, "draft")  # compensate_odoo_side
        self.assertFalse(move.wave_id)
        self.assertTrue(move.activity_ids)
        actions = set(
            self.env["wave.audit.log"]
            .search([("res_model", "=", "wave.outbound.ledger"), ("res_id", "=", entry.id)])
            .mapped("action")
        )
        self.assertIn("outbound_compensated", actions)

    def test_input_errors_quarantine_fix_replay(self):
        partner = self.env["res.partner"].create({"name": "Broken Mail", "email": "not-an-email"})
        move = self._invoice(partner)
        self.env["wave.outbound.runner"]._export(self.connection, move)
        quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )
        self.assertEqual(quarantine.direction, "outbound")
        self.assertIn("Enter a valid email address.", quarantine.reasons)
        self.assertIn("input.email", quarantine.reasons)
        self.assertEqual(quarantine.payload["email"], "not-an-email")
        invoice_quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )
        self.assertEqual(invoice_quarantine.state, "open")
        self.assertFalse(move.wave_id)

        partner.email = "fixed@example.com"
        invoice_quarantine.with_user(self.wave_admin).action_replay()
        self.assertTrue(move.wave_id)
        self.assertEqual(invoice_quarantine.state, "resolved")
        self.assertEqual(quarantine.state, "resolved")
        node = self._wave_invoices(move)[move.wave_id]
        self.assertEqual(node["total"]["value"], f"{move.amount_total:.2f}")

    def test_reset_to_draft_deletes_wave_draft_or_asks_review(self):
        move = self._invoice()
        self.env["wave.outbound.runner"]._export(self.connection, move)
        move.button_draft()
        self.env["wave.invoice.saga"]._reset(self.connection, move)
        # Approved in Wave: cannot be deleted through the API → review.
        quarantine = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )
        self.assertIn("cannot void", quarantine.reasons)

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------
    def test_posting_and_catchup_enqueue_jobs(self):
        self.connection.export_on_post = True
        Job = self.env["queue.job"].sudo()
        before = Job.search_count([("method_name", "=", "_job_export")])
        move = self._invoice()
        self.assertEqual(Job.search_count([("method_name", "=", "_job_export")]), before + 1)
        self.assertIn(
            move.id,
            self.env["wave.outbound.runner"]._catchup_targets(self.connection)["account.move"],
        )
        self.env["wave.outbound.runner"]._enqueue_catchup(self.connection)
        self.assertGreater(Job.search_count([("method_name", "=", "_job_export")]), before)
