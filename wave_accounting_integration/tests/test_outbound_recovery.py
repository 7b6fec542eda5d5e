# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound recovers by itself (issue 17): lost answers on the customers, products
and sales taxes an invoice needs, 503s, and precise look-ups of lost products.

Faults are injected by the Wave sandbox over HTTP; what Wave holds is read from
the sandbox's own store, never from the addon's counters.
"""

from odoo import Command
from odoo.addons.wave_accounting_integration.lib import WaveOutcomeUnknownError
from odoo.addons.wave_accounting_integration.mappers import reference_outbound
from odoo.tests import tagged

from .test_outbound import OutboundCommon


@tagged("post_install", "-at_install")
class TestOutboundRecovery(OutboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client = cls.connection._get_client()

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _invoice_of(self, partner, products, tax=None, price=9.0):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "price_unit": price,
                            "tax_ids": [Command.set((tax or self.tax_sale_a).ids)],
                        }
                    )
                    for product in products
                ],
            }
        )
        move.action_post()
        return move

    def _open_quarantine(self, record):
        return self.env["wave.quarantine"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("state", "=", "open"),
            ]
        )

    def _wave_customers(self, name):
        return [c for c in self.wave_us.customers if c.name == name]

    def _wave_products(self, name):
        return [p for p in self.wave_us.products if p.name == name]

    def _sandbox_invoice(self, wave_id):
        return next(i for i in self.wave_us.invoices if i.id == wave_id)

    def _run_export_jobs(self, records):
        """Run the pending export jobs of ``records`` as queue_job would."""
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("method_name", "=", "_job_export"), ("state", "=", "pending")], order="id")
            .filtered(lambda j: j.args[0] == records._name and set(records.ids) <= set(j.args[1]))
        )
        for job in jobs:
            job.records.with_env(self.env)._job_export(*job.args, **job.kwargs)
        return jobs

    # ------------------------------------------------------------------
    # A dependency whose outcome is unknown: its invoices wait, then go
    # ------------------------------------------------------------------
    def test_lost_customer_create_invoice_waits_then_exports_with_its_payment(self):
        partner = self.env["res.partner"].create(
            {"name": "Recovery Waiting Customer", "email": "waiting@example.com"}
        )
        move = self._invoice_of(partner, self.product_a)
        before = len(self._wave_customers(partner.name))
        # The connection drops before Wave applies it: the lookup finds nothing.
        self._add_fault(kind="hang", operation="customerCreate", delay=0, count=1)
        self.assertFalse(self._export(move))  # the job asks queue_job for a retry
        self.assertEqual(len(self._wave_customers(partner.name)), before)
        entry = self._ledger(move)
        self.assertEqual(entry.state, "pending", entry.error_message)
        self.assertIn(partner.name, entry.error_message)
        self.assertFalse(self._open_quarantine(move))
        self.assertEqual(self._ledger(partner).state, "pending")
        self.assertIn(
            move.id,
            self.env["wave.outbound.runner"]._catchup_targets(self.connection)["account.move"],
        )
        # Paid meanwhile: the payment's ledger row exists, waiting for the invoice.
        payment = self._pay(move, 5.0)
        self.env["wave.outbound.runner"]._export(self.connection, payment)
        payment_entry = self._ledger(payment)
        self.assertEqual(payment_entry.state, "pending")
        # The retry: the customer is sent again (once), the invoice goes through.
        self.assertTrue(self._export(move))
        self.assertEqual(len(self._wave_customers(partner.name)), before + 1)
        self.assertEqual((entry.state, entry.saga_step), ("confirmed", "sent"))
        self.assertTrue(move.wave_id)
        # ... and the payment that waited for it is enqueued and sent.
        self.assertTrue(self._run_export_jobs(payment))
        self.assertEqual(payment_entry.state, "confirmed")
        self.assertEqual(self._sandbox_invoice(move.wave_id).amount_paid.value, "5.00")

    # ------------------------------------------------------------------
    # 503: nothing applied, retried (never parked for confirmation)
    # ------------------------------------------------------------------
    def test_503_on_a_create_is_retried_not_parked(self):
        bill = self._bill(30.0)
        payment = self._pay(bill, bill.amount_total)
        before = len(self._money_transactions())
        self._add_fault(kind="http_error", operation="moneyTransactionCreate", status=503, count=1)
        self.assertFalse(self._export(payment))
        entry = self._ledger(payment)
        self.assertEqual(entry.state, "pending")
        self.assertEqual(entry.attempts, 1)
        self.assertEqual(len(self._money_transactions()), before)
        self.assertTrue(self._export(payment))
        self.assertEqual(entry.state, "confirmed")
        transactions = self._money_transactions()[before:]
        self.assertEqual([t["externalId"] for t in transactions], [entry.external_id])

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

    # ------------------------------------------------------------------
    # A sales tax found by abbreviation and rate closes its ledger row
    # ------------------------------------------------------------------
    def test_tax_linked_by_abbreviation_leaves_needs_confirmation(self):
        tax = self.env["account.tax"].create(
            {"name": "Recovery Tax", "amount": 6.5, "invoice_label": "RCV65"}
        )
        # An earlier run sent the tax and lost the answer (Wave applied it).
        Service = self.env["wave.outbound.ledger.service"]
        payload = reference_outbound.sales_tax_input(tax, self.wave_us.id)
        ((_key, entry),) = Service._entries(self.connection, tax, "sales_tax").items()
        Service._mark_sent(self.connection, [(entry, payload)], "salesTaxCreate")
        created = self.client.mutate(
            "salesTaxCreate", payload, "salesTax { id abbreviation rate }"
        )["salesTax"]
        Service._mark_unknown(
            self.connection, entry, WaveOutcomeUnknownError(code="OUTCOME_UNKNOWN")
        )
        self.assertEqual(entry.state, "outcome_unknown")
        move = self._invoice_of(self.partner_a, self.product_a, tax)
        self.assertTrue(self._export(move))
        self.assertEqual(tax.wave_id, created["id"])
        self.assertEqual((entry.state, entry.resolution), ("confirmed", "lookup"))
        self.assertEqual(entry.wave_id, created["id"])
        waiting = self.env["wave.outbound.ledger"].search(
            [("state", "=", "outcome_unknown"), ("connection_id", "=", self.connection.id)]
        )
        self.assertNotIn(entry, waiting)

    # ------------------------------------------------------------------
    # Lost product creates: precise look-ups, ambiguity goes to review
    # ------------------------------------------------------------------
    def test_lost_product_is_not_linked_to_a_namesake_wave_product(self):
        name = "Recovery Namesake Widget"
        existing = self.client.mutate(
            "productCreate",
            {"businessId": self.wave_us.id, "name": name, "unitPrice": "7.0"},
            "product { id }",
        )["product"]
        imported = self.env["product.product"].create(
            {"name": name, "list_price": 7.0, "wave_id": existing["id"], "wave_origin": "wave"}
        )
        ours = self.env["product.product"].create({"name": name, "list_price": 7.0})
        move = self._invoice_of(self.partner_a, ours)
        # The create never reached Wave: only the namesake is there to be found.
        self._add_fault(kind="hang", operation="productCreate", delay=0, count=1)
        self.assertTrue(self._export(move, rounds=3))
        self.assertTrue(ours.wave_id)
        self.assertNotEqual(ours.wave_id, imported.wave_id)
        self.assertEqual(len(self._wave_products(name)), 2)
        self.assertEqual(self._ledger(move).saga_step, "sent")

    def test_lost_creates_of_identical_products_go_to_review(self):
        name = "Recovery Twin Product"
        twins = self.env["product.product"].create(
            [{"name": name, "list_price": 4.0}, {"name": name, "list_price": 4.0}]
        )
        move = self._invoice_of(self.partner_a, twins)
        self._add_fault(kind="drop_after", operation="productCreate", count=1)
        self.assertFalse(self._export(move, rounds=2))
        # Both were created by the one lost request; nothing was sent twice.
        self.assertEqual(len(self._wave_products(name)), 2)
        for twin in twins:
            entry = self._ledger(twin)
            self.assertEqual(entry.state, "outcome_unknown")
            self.assertFalse(twin.wave_id)
            self.assertIn("several Wave products", self._open_quarantine(twin).reasons)
        # The invoice waits for the person's answer; it does not fail.
        self.assertEqual(self._ledger(move).state, "pending")
        self.assertFalse(self._open_quarantine(move))

    # ------------------------------------------------------------------
    # Failed invoices are not skipped once what failed them is fixed
    # ------------------------------------------------------------------
    def test_failed_invoice_is_exported_again_after_the_fix(self):
        partner = self.env["res.partner"].create(
            {"name": "Recovery Broken Mail", "email": "not-an-email"}
        )
        move = self._invoice_of(partner, self.product_a)
        self.env["wave.outbound.runner"]._export(self.connection, move)
        entry = self._ledger(move)
        self.assertEqual(entry.state, "failed")
        self.assertTrue(self._open_quarantine(move))
        runner = self.env["wave.outbound.runner"]
        self.assertNotIn(move.id, runner._catchup_targets(self.connection)["account.move"])
        # The failure happened in an earlier transaction (tests share one clock).
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE wave_outbound_ledger SET write_date = write_date - interval '1 hour' "
            "WHERE connection_id = %s",
            (self.connection.id,),
        )
        self.env.invalidate_all()
        partner.email = "fixed.mail@example.com"  # the accountant fixes the customer
        self.assertIn(move.id, runner._catchup_targets(self.connection)["account.move"])
        self.assertTrue(self._export(move))
        self.assertEqual((entry.state, entry.saga_step), ("confirmed", "sent"))
        self.assertTrue(move.wave_id)
        self.assertFalse(self._open_quarantine(move))
