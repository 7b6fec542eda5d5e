# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave estimates -> Odoo quotations, against the sandbox over HTTP.

Wave is read with plain GraphQL (not the addon's client), Odoo with the ORM and SQL.
"""

import datetime as dt
import time
from decimal import Decimal

import requests

from odoo import Command
from odoo.addons.queue_job.job import Job
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .common import WaveSandboxCommon
from .test_estimates_outbound import invoice_by_conversion, invoice_in_part
from .test_outbound import OutboundCommon

ESTIMATE = """
query($b: ID!, $id: ID!) { business(id: $b) { estimate(id: $id) {
  id status estimateNumber dueDate exchangeRate currency { code }
  customer { id name } subtotal { value } taxTotal { value } discountTotal { value }
  total { value } depositTotal { value } items { quantity unitPrice product { id name }
  taxes { amount { value } salesTax { id } } } } } }
"""
INVOICE_AMOUNTS = """
query($b: ID!, $id: ID!) { business(id: $b) { invoice(id: $id) {
  id invoiceNumber total { value } taxTotal { value } discountTotal { value }
  amountPaid { value } amountDue { value } items { unitPrice }
  source { __typename ... on Estimate { id } } } } }
"""
INVOICE = """
query($b: ID!, $id: ID!) { business(id: $b) { invoice(id: $id) {
  id status total { value } source { __typename ... on Estimate { id } } } } }
"""


DEPOSIT = {"depositStatus": "ENABLED_OPTIONAL", "depositUnit": "PERCENTAGE", "depositValue": "25"}
ESTIMATE_PAID = """
query($b: ID!, $id: ID!) { business(id: $b) { estimate(id: $id) {
  depositTotal { value } amountPaid { value } depositPaymentStatus
  payments { amount transactionType } } } }
"""


class EstimateCase:
    """Helpers shared by the poll and webhook tests (mixed into a WaveSandboxCommon)."""

    def parity_of(self, moves):
        """The independent parity check of ``moves``' Wave invoices (only those: Wave
        keeps earlier tests' invoices, whose numbers Odoo reuses after its rollback)."""
        from independent_parity import OdooReader, WaveReader, check_parity

        wave_ids = set(moves.mapped("wave_id"))

        class Only(WaveReader):
            def invoices(self, *args, **kwargs):
                return [w for w in super().invoices(*args, **kwargs) if w.id in wave_ids]

        dates = moves.mapped("invoice_date")
        return check_parity(
            Only(self.sandbox.graphql_url, self.wave_token, self.wave_us.id),
            OdooReader(env=self.env, company_id=self.connection.company_id.id),
            date_from=min(dates),
            date_to=max(dates),
        )

    def gql(self, query, variables):
        response = requests.post(
            self.sandbox.graphql_url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.wave_token}"},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        self.assertNotIn("errors", body, body.get("errors"))
        return body["data"]

    def mutate(self, name, data, selection=""):
        kind = name[0].upper() + name[1:]
        out = self.gql(
            f"mutation($i: {kind}Input!) {{ {name}(input: $i) {{ didSucceed "
            f"inputErrors {{ message }} {selection} }} }}",
            {"i": data},
        )[name]
        self.assertTrue(out["didSucceed"], out)
        return out

    def act(self, name, estimate_id, **extra):
        return self.mutate(name, {"estimateId": estimate_id, **extra})

    def wave_estimate(self, estimate_id):
        return self.gql(ESTIMATE, {"b": self.wave_us.id, "id": estimate_id})["business"]["estimate"]

    def create_estimate(self, **extra):
        b = self.wave_us
        taxed = next(p for p in b.products if p.default_sales_taxes)
        untaxed = next(p for p in b.products if not p.default_sales_taxes)
        customer = next(c for c in b.customers if not c.currency_code)
        data = {
            "businessId": b.id,
            "customerId": customer.id,
            "items": [
                {"productId": taxed.id, "quantity": "3", "unitPrice": "33.33"},
                {"productId": untaxed.id, "quantity": "1.5", "unitPrice": "19.99"},
            ],
            "poNumber": "PO-77",
        }
        data.update(extra)
        return self.mutate("estimateCreate", data, "estimate { id }")["estimate"]["id"]

    def convert_in_wave(self, estimate_id):
        """Wave's user converts the estimate and approves its invoice: the invoice's id."""
        invoice_id = self.mutate(
            "convertEstimateToInvoice", {"estimateId": estimate_id}, "invoiceId"
        )["invoiceId"]
        self.mutate("invoiceApprove", {"invoiceId": invoice_id})
        return invoice_id

    def order_of(self, estimate_id):
        return self.env["sale.order"].search([("wave_id", "=", estimate_id)])

    def count_rows(self, estimate_id):
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM sale_order WHERE wave_id = %s", [estimate_id])
        return self.env.cr.fetchone()[0]

    def assert_same_as_wave(self, order, estimate):
        """Customer, lines, taxes, discount, currency and totals to the cent."""
        mapping = self.env["wave.partner.map"].search(
            [("wave_id", "=", estimate["customer"]["id"])], limit=1
        )
        self.assertEqual(order.partner_id, mapping.partner_id)
        self.assertEqual(order.currency_id.name, estimate["currency"]["code"])
        self.assertEqual(order.validity_date, dt.date.fromisoformat(estimate["dueDate"]))
        self.assertEqual(order.wave_estimate_number, estimate["estimateNumber"])
        self.assertEqual(order.client_order_ref, "PO-77")
        cents = order.currency_id.compare_amounts
        self.assertFalse(cents(order.amount_total, float(estimate["total"]["value"])))
        self.assertFalse(cents(order.amount_tax, float(estimate["taxTotal"]["value"])))
        self.assertFalse(
            cents(
                order.amount_untaxed,
                float(estimate["subtotal"]["value"]) - float(estimate["discountTotal"]["value"]),
            )
        )
        lines = order.order_line.filtered(lambda line: line.price_unit >= 0)
        self.assertEqual(
            [(line.product_uom_qty, line.price_unit) for line in lines],
            [(float(i["quantity"]), float(i["unitPrice"])) for i in estimate["items"]],
        )
        for line, item in zip(lines, estimate["items"], strict=True):
            self.assertEqual(
                sorted(line.tax_id.mapped("wave_id")),
                sorted(t["salesTax"]["id"] for t in item["taxes"]),
            )
        discount = order.order_line - lines
        if float(estimate["discountTotal"]["value"]):
            self.assertEqual(len(discount), 1)
            self.assertFalse(
                cents(-discount.price_total, float(estimate["discountTotal"]["value"]))
            )
        else:
            self.assertFalse(discount)


@tagged("post_install", "-at_install")
class TestEstimatesPoll(EstimateCase, WaveSandboxCommon):
    sandbox_invoices = 0
    sandbox_customers = 14
    sandbox_vendors = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.EUR").active = True
        cls.env["wave.reference.importer"]._sync_accounts(cls.connection)

    def poll(self, *entities):
        for entity in entities or ("estimates",):
            self.connection._job_poll(entity, trigger="manual")
        self.env.invalidate_all()

    def test_every_status_to_conversion(self):
        eid = self.create_estimate(
            currency="EUR",
            exchangeRate="1.08",
            discounts=[{"discountType": "PERCENTAGE", "percentage": "10", "name": "Loyal"}],
        )
        self.poll("customers", "estimates")
        order = self.order_of(eid)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "draft")
        self.assert_same_as_wave(order, self.wave_estimate(eid))
        self.assertAlmostEqual(order.wave_exchange_rate, 1.08)
        self.assertTrue(order.wave_url)

        steps = [
            ("estimateApprove", {}, "draft", "APPROVED"),
            ("estimateMarkSent", {"sendMethod": "MARKED_SENT"}, "sent", "SENT"),
            ("view", {}, "sent", "VIEWED"),
            ("estimateMarkAccepted", {}, "sale", "ACCEPTED"),
            ("estimateResetAcceptance", {}, "sent", "VIEWED"),
            ("estimateMarkAccepted", {}, "sale", "ACCEPTED"),
        ]
        for action, extra, state, status in steps:
            if action == "view":
                self.sandbox_admin("POST", "/sandbox/estimates/view", json={"estimate_id": eid})
            else:
                self.act(action, eid, **extra)
            self.poll()
            self.assertEqual(self.wave_estimate(eid)["status"], status)
            self.assertEqual((order.state, order.wave_status), (state, status), action)
            self.assertEqual(self.count_rows(eid), 1)
        self.assertTrue(order.wave_accepted)

        invoice_id = self.mutate("convertEstimateToInvoice", {"estimateId": eid}, "invoiceId")[
            "invoiceId"
        ]
        self.mutate("invoiceApprove", {"invoiceId": invoice_id})
        wave_invoice = self.gql(INVOICE, {"b": self.wave_us.id, "id": invoice_id})["business"][
            "invoice"
        ]
        self.assertEqual(wave_invoice["source"], {"__typename": "Estimate", "id": eid})
        self.poll("invoices", "estimates")
        self.assertEqual(order.wave_status, "CONVERTED")
        self.assertEqual(order.state, "sale")
        move = self.env["account.move"].search([("wave_id", "=", invoice_id)])
        self.assertEqual(len(move), 1)
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.wave_estimate_id, eid)
        self.assertEqual(order.invoice_ids, move)
        self.assertEqual(order.invoice_status, "invoiced")
        for line in order.order_line:
            self.assertEqual(line.qty_invoiced, line.product_uom_qty)
        self.assertFalse(
            move.currency_id.compare_amounts(
                move.amount_total, float(wave_invoice["total"]["value"])
            )
        )
        self.assertFalse(move.currency_id.compare_amounts(move.amount_total, order.amount_total))
        # polled again: nothing doubles, nothing changes
        self.poll("invoices", "estimates")
        self.assertEqual(self.count_rows(eid), 1)
        self.env.cr.execute("SELECT count(*) FROM account_move WHERE wave_estimate_id = %s", [eid])
        self.assertEqual(self.env.cr.fetchone()[0], 1)

    def test_one_bad_estimate_of_a_page_goes_to_quarantine_alone(self):
        """The page's new quotations are created together; one whose Odoo total is not
        Wave's (its tax mapped at another rate) goes to the quarantine, the others of the
        page are created all the same, each audited."""
        first = self.create_estimate()
        self.poll("customers", "estimates")
        taxes = self.order_of(first).order_line.tax_id
        self.assertTrue(taxes)
        taxes.amount += 1  # Odoo's tax no longer Wave's rate
        untaxed = next(p for p in self.wave_us.products if not p.default_sales_taxes)
        items = [{"productId": untaxed.id, "quantity": "2", "unitPrice": "10.05"}]
        good = [self.create_estimate(items=items), self.create_estimate(items=items)]
        bad = self.create_estimate()
        self.poll()
        self.assertFalse(self.order_of(bad))
        held = self.env["wave.quarantine"].search([("wave_id", "=", bad), ("state", "=", "open")])
        self.assertEqual(held.record_type, "Estimate")
        self.assertIn("differs from Wave total", held.reasons)
        for eid in good:
            order = self.order_of(eid)
            self.assertEqual(len(order), 1)
            self.assertFalse(order.currency_id.compare_amounts(order.amount_total, 20.10))
            self.assertEqual(
                self.env["wave.audit.log"].search_count(
                    [
                        ("res_model", "=", "sale.order"),
                        ("res_id", "=", order.id),
                        ("action", "=", "create"),
                    ]
                ),
                1,
            )

    def test_invoice_before_its_estimate_is_linked_later(self):
        eid = self.create_estimate()
        self.act("estimateApprove", eid)
        self.act("estimateMarkAccepted", eid)
        invoice_id = self.convert_in_wave(eid)
        self.poll("customers", "invoices")
        move = self.env["account.move"].search([("wave_id", "=", invoice_id)])
        self.assertEqual(move.wave_estimate_id, eid)
        self.assertFalse(move.invoice_line_ids.sale_line_ids)
        self.poll("estimates")
        order = self.order_of(eid)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.invoice_ids, move)
        self.assertEqual(order.invoice_status, "invoiced")

    def _accepted_from_wave(self, **extra):
        """A Wave estimate (no discount unless ``extra`` says) accepted in Wave, polled
        in: a confirmed order."""
        eid = self.create_estimate(**extra)
        self.act("estimateApprove", eid)
        self.act("estimateMarkAccepted", eid)
        self.poll("customers", "estimates")
        order = self.order_of(eid)
        self.assertEqual((order.state, order.wave_origin), ("sale", "wave"))
        self.connection.sudo().write(
            {
                "sync_outbound": True,
                "export_on_post": False,
                "outbound_start_date": dt.date.today() - dt.timedelta(days=30),
            }
        )
        return eid, order

    _export = OutboundCommon._export

    def wave_invoices_of(self, eid):
        query = """query($b: ID!, $s: ID!) { business(id: $b) {
            invoices(sourceId: $s) { edges { node { id status lastSentAt } } } } }"""
        edges = self.gql(query, {"b": self.wave_us.id, "s": eid})["business"]["invoices"]
        return [edge["node"] for edge in edges["edges"]]

    def test_invoice_of_an_order_from_wave_converts_its_estimate(self):
        """Invoicing in Odoo the whole order of a Wave estimate converts that estimate
        in Wave (one Wave invoice, its source the estimate), never a second invoice."""
        eid, order = self._accepted_from_wave()
        move = invoice_by_conversion(self, order)
        self.assertEqual(self.wave_estimate(eid)["status"], "CONVERTED")
        (wave_invoice,) = self.wave_invoices_of(eid)
        self.assertEqual(move.wave_id, wave_invoice["id"])
        self.assertEqual(move.wave_estimate_id, eid)
        self.assertTrue(wave_invoice["lastSentAt"])  # approved and marked sent, as ours
        total = self.gql(INVOICE, {"b": self.wave_us.id, "id": move.wave_id})["business"][
            "invoice"
        ]["total"]["value"]
        self.assertFalse(move.currency_id.compare_amounts(move.amount_total, float(total)))
        # Polled back (the invoice, the converted estimate): nothing doubled, still linked.
        self.poll("invoices", "estimates")
        self.assertEqual(self.count_rows(eid), 1)
        self.env.cr.execute("SELECT count(*) FROM account_move WHERE wave_id = %s", [move.wave_id])
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        self.assertEqual((order.state, order.wave_status), ("sale", "CONVERTED"))
        self.assertEqual(order.invoice_ids, move)
        self.assertEqual(order.invoice_status, "invoiced")
        self.sandbox.counters.reset()
        self.assertTrue(self._export(move))
        self.assertEqual(self.sandbox.counters.total, 0, self.sandbox.counters.as_dict())
        self.assertEqual(len(self.wave_invoices_of(eid)), 1)

    def test_invoice_of_a_discounted_estimate_converts_it_to_the_cent(self):
        """A Wave estimate with a discount (FIXED or PERCENTAGE; the order carries it as
        an untaxed negative line) invoiced whole in Odoo is converted in Wave: the Wave
        invoice has the estimate's discount and the Odoo invoice's total, tax and untaxed
        amount to the cent (the independent parity check). A different discount goes to
        Wave as a separate invoice."""

        discounts = [
            {"discountType": "PERCENTAGE", "percentage": "7.5", "name": "Loyal"},
            {"discountType": "FIXED", "amount": "12.34", "name": "Goodwill"},
        ]
        numbers, converted = set(), self.env["account.move"]
        for discount in discounts:
            eid, order = self._accepted_from_wave(discounts=[discount])
            estimate = self.wave_estimate(eid)
            self.assertTrue(float(estimate["discountTotal"]["value"]))
            move = invoice_by_conversion(self, order)
            numbers.add(move.name)
            converted |= move
            self.assertEqual(self.wave_estimate(eid)["status"], "CONVERTED")
            (listed,) = self.wave_invoices_of(eid)
            self.assertEqual(move.wave_id, listed["id"])
            wave = self.gql(INVOICE_AMOUNTS, {"b": self.wave_us.id, "id": move.wave_id})[
                "business"
            ]["invoice"]
            self.assertEqual(wave["source"], {"__typename": "Estimate", "id": eid})
            self.assertEqual(wave["invoiceNumber"], move.name)
            cents = move.currency_id.compare_amounts
            discount_line = move.invoice_line_ids.filtered(lambda line: line.price_subtotal < 0)
            self.assertEqual(len(discount_line), 1)
            for wave_value, odoo_value in (
                (wave["discountTotal"], -discount_line.price_subtotal),
                (estimate["discountTotal"], -discount_line.price_subtotal),
                (wave["total"], move.amount_total),
                (wave["taxTotal"], move.amount_tax),
            ):
                self.assertFalse(cents(float(wave_value["value"]), odoo_value), wave)
            # The discount is Wave's invoice discount, not an item as well.
            items = move.invoice_line_ids.filtered(lambda li: li.display_type == "product")
            self.assertEqual(len(wave["items"]), len(items - discount_line), wave)
            self.assertTrue(all(float(i["unitPrice"]) > 0 for i in wave["items"]))
        report = self.parity_of(converted)
        self.assertFalse([d for d in report.differences if d.key in numbers], str(report))
        self.assertEqual(report.counts["invoices matched"], 2, str(report))

        # The whole order but a different discount: a separate Wave invoice.
        eid, order = self._accepted_from_wave(discounts=discounts[1:])
        move = order._create_invoices()
        line = move.invoice_line_ids.filtered(lambda li: li.price_subtotal < 0)
        move.write({"invoice_line_ids": [Command.update(line.id, {"price_unit": -10})]})
        move.action_post()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(move))
        calls = self.sandbox.counters.by_operation
        self.assertNotIn("convertEstimateToInvoice", calls)
        self.assertEqual(calls.get("invoiceCreate"), 1, calls)
        self.assertEqual(self.wave_estimate(eid)["status"], "ACCEPTED")
        self.assertFalse(self.wave_invoices_of(eid))

    def pay_deposit(self, eid):
        """The customer pays the whole deposit on the estimate's page in Wave."""
        paid = self.sandbox_admin("POST", "/sandbox/estimates/deposit", json={"estimate_id": eid})
        estimate = self.gql(ESTIMATE_PAID, {"b": self.wave_us.id, "id": eid})["business"][
            "estimate"
        ]
        self.assertEqual(estimate["depositPaymentStatus"], "PAID_FULL")
        self.assertEqual(estimate["amountPaid"]["value"], paid["amount"])
        self.assertEqual(estimate["depositTotal"]["value"], paid["amount"])
        self.assertEqual(
            estimate["payments"], [{"amount": paid["amount"], "transactionType": "DEPOSIT"}]
        )
        return float(paid["amount"])

    def assert_deposit_booked(self, move, deposit):
        """The deposit is the one payment of ``move`` in Odoo, as in Wave (amount paid and
        due to the cent), polled twice: never doubled."""
        cents = move.currency_id.compare_amounts
        for _run in range(2):
            self.poll("invoices", "estimates")
            wave = self.gql(INVOICE_AMOUNTS, {"b": self.wave_us.id, "id": move.wave_id})[
                "business"
            ]["invoice"]
            self.assertFalse(cents(float(wave["amountPaid"]["value"]), deposit), wave)
            held = self.env["wave.quarantine"].search([("wave_id", "=", move.wave_id)])
            self.assertEqual(move.payment_state, "partial", held.mapped("reasons"))
            self.assertFalse(cents(move.amount_residual, move.amount_total - deposit))
            self.assertFalse(cents(move.amount_residual, float(wave["amountDue"]["value"])))
            payments = move._get_reconciled_payments()
            self.assertEqual(len(payments), 1, payments)
            self.assertFalse(cents(payments.amount, deposit))
        self.assertEqual(self.count_rows(move.wave_estimate_id), 1)

    def test_deposit_paid_in_wave_is_booked_on_the_invoice_it_converts_to(self):
        """A deposit paid in Wave on an estimate (not booked on the quotation: the order
        shows the deposit asked for) is a payment of the invoice Wave converts the
        estimate to (the sandbox's assumption, README), booked by the invoice flow: on a
        conversion made in Wave as on one made by invoicing the order in Odoo."""

        # Quantity x price exact to the cent: Odoo's invoice sends Wave the same prices.
        b = self.wave_us
        taxed = next(p for p in b.products if p.default_sales_taxes)
        untaxed = next(p for p in b.products if not p.default_sales_taxes)
        items = [
            {"productId": taxed.id, "quantity": "3", "unitPrice": "33.33"},
            {"productId": untaxed.id, "quantity": "2", "unitPrice": "10.05"},
        ]
        # Converted in Wave: the imported invoice has the deposit as its payment.
        eid = self.create_estimate(items=items, **DEPOSIT)
        self.act("estimateApprove", eid)
        self.act("estimateMarkSent", eid, sendMethod="MARKED_SENT")
        deposit = self.pay_deposit(eid)
        self.act("estimateMarkAccepted", eid)
        self.poll("customers", "estimates")
        order = self.order_of(eid)
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.currency_id.compare_amounts(order.wave_deposit_total, deposit))
        self.assertFalse(order.invoice_ids)
        invoice_id = self.convert_in_wave(eid)
        self.poll("invoices", "estimates")
        in_wave = self.env["account.move"].search([("wave_id", "=", invoice_id)])
        self.assertEqual(order.invoice_ids, in_wave)
        self.assert_deposit_booked(in_wave, deposit)

        # Converted by invoicing the order in Odoo: Wave's invoice has the deposit as its
        # payment once approved, booked on the Odoo invoice by the next poll.
        eid, order = self._accepted_from_wave(items=items, **DEPOSIT)
        deposit = self.pay_deposit(eid)
        self.poll()
        in_odoo = invoice_by_conversion(self, order)
        self.assertEqual(in_odoo.wave_estimate_id, eid)
        self.assert_deposit_booked(in_odoo, deposit)

        report = self.parity_of(in_wave | in_odoo)
        numbers = {in_wave.payment_reference, in_odoo.name}
        self.assertFalse([d for d in report.differences if d.key in numbers], str(report))
        self.assertEqual(report.counts["invoices matched"], 2, str(report))

    def test_partial_invoice_of_an_order_from_wave_is_separate_and_noted(self):
        """A partial invoice is a separate Wave invoice (Wave converts an estimate whole);
        the order says so in its chatter, and Odoo links the invoice to the order."""
        eid, order = self._accepted_from_wave()
        move, _wave_invoice = invoice_in_part(self, order)
        self.assertEqual(self.wave_estimate(eid)["status"], "ACCEPTED")
        self.assertFalse(self.wave_invoices_of(eid))
        source = self.gql(INVOICE, {"b": self.wave_us.id, "id": move.wave_id})["business"][
            "invoice"
        ]["source"]
        self.assertIsNone(source)

    def test_rejected_expired_deleted_cancelled_with_reason(self):
        rejected = self.create_estimate()
        expired = self.create_estimate(estimateDate="2026-01-01", dueDate="2026-01-10")
        deleted = self.create_estimate()
        for eid in (rejected, expired, deleted):
            self.act("estimateApprove", eid)
        self.act("estimateMarkSent", rejected, sendMethod="GMAIL")
        self.poll("customers", "estimates")
        self.assertEqual(self.order_of(rejected).state, "sent")
        self.assertEqual(self.order_of(expired).wave_status, "EXPIRED")
        self.assertEqual(self.order_of(expired).state, "cancel")
        self.assertIn("2026-01-10", self.order_of(expired).wave_cancel_reason)
        self.assertEqual(self.order_of(deleted).state, "draft")

        self.sandbox_admin("POST", "/sandbox/estimates/reject", json={"estimate_id": rejected})
        self.act("estimateDelete", deleted)
        self.assertEqual(self.wave_estimate(deleted)["status"], "DELETED")
        self.poll()
        order = self.order_of(rejected)
        self.assertEqual((order.state, order.wave_status), ("cancel", "REJECTED"))
        self.assertIn("declined", order.wave_cancel_reason)
        order = self.order_of(deleted)
        self.assertEqual((order.state, order.wave_status), ("cancel", "DELETED"))
        self.assertIn("deleted", order.wave_cancel_reason)
        # the reset in Wave reopens the quotation
        self.act("estimateResetAcceptance", rejected)
        self.poll()
        self.assertEqual(self.order_of(rejected).state, "sent")
        self.assertFalse(self.order_of(rejected).wave_cancel_reason)

    def test_accept_marks_without_confirming(self):
        self.connection.estimate_accept_policy = "mark"
        eid = self.create_estimate()
        self.act("estimateApprove", eid)
        self.act("estimateMarkAccepted", eid)
        self.poll("customers", "estimates")
        order = self.order_of(eid)
        self.assertEqual((order.state, order.wave_accepted), ("sent", True))

    def test_switched_off_imports_nothing(self):
        self.connection.sync_estimates = False
        eid = self.create_estimate()
        self.poll("customers", "estimates")
        self.assertFalse(self.order_of(eid))


@tagged("post_install", "-at_install")
class TestEstimatesWebhook(EstimateCase, WaveSandboxCommon, HttpCase):
    sandbox_invoices = 0
    sandbox_customers = 14
    sandbox_vendors = 2
    secret = "estimate-webhook-SECRET"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().webhook_secret = cls.secret
        cls.env["wave.reference.importer"]._sync_accounts(cls.connection)
        b = cls.wave_us
        customers = [c for c in b.customers if not c.currency_code]
        cls.env["wave.partner.matcher"]._match_contacts(
            cls.connection,
            "customer",
            [{"id": c.id, "name": c.name, "email": c.email} for c in customers],
        )

    def setUp(self):
        super().setUp()
        url = f"http://127.0.0.1:{config['http_port']}/wave/webhook/{self.connection.id}"
        subscription = self.sandbox_admin(
            "POST",
            "/sandbox/webhooks/subscriptions",
            json={
                "url": url,
                "secret": self.secret,
                "business_id": self.wave_us.id,
                "scopes": ["invoice:read", "estimate:read"],
            },
        )
        self.addCleanup(
            self.sandbox_admin, "DELETE", f"/sandbox/webhooks/subscriptions/{subscription['id']}"
        )
        # The sandbox keeps the deliveries of earlier tests: this test's come after.
        self.first_delivery = len(self.deliveries())

    def deliveries(self):
        return self.sandbox_admin("GET", "/sandbox/webhooks/deliveries")["deliveries"]

    def wait_deliveries(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.sandbox_admin("GET", "/sandbox/webhooks/deliveries")
            mine = log["deliveries"][self.first_delivery :]
            done = [d for d in mine if d["status"] == "delivered"]
            if len(done) >= count and not log["pending"]:
                return done
            time.sleep(0.1)
        self.fail(f"only {len(done)} of {count} webhook deliveries arrived: {log}")

    def run_jobs(self, of=None):
        """Run the pending webhook jobs (``of``: only those of events it accepts)."""
        self.run_webhook_drains()
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("model_name", "=", "wave.webhook.event"), ("state", "=", "pending")])
        )
        if of:
            jobs = jobs.filtered(lambda j: of(j.records))
        for record in jobs:
            job = Job.load(self.env, record.uuid)
            job.perform()
            job.set_done()
            job.store()
        self.env.flush_all()
        self.env.invalidate_all()
        return jobs

    def test_duplicate_and_out_of_order_events_nothing_doubled(self):
        self.sandbox_admin("POST", "/sandbox/webhooks/duplicate", json={"next": 1})
        eid = self.create_estimate(
            discounts=[{"discountType": "FIXED", "amount": "12.34", "name": "Promo"}]
        )
        # approved and sent arrive in reverse order
        self.sandbox_admin("POST", "/sandbox/webhooks/out-of-order", json={"next": 2})
        self.act("estimateApprove", eid)
        self.act("estimateMarkSent", eid, sendMethod="WAVE")
        delivered = self.wait_deliveries(4)
        types = [d["event_type"] for d in delivered]
        self.assertEqual(types[:2], ["estimate.created", "estimate.created"])
        self.assertLess(types.index("estimate.sent"), types.index("estimate.approved"))
        events = self.env["wave.webhook.event"].search([("wave_estimate_id", "=", eid)])
        self.assertEqual(len(events), 3)
        self.assertEqual(sum(events.mapped("delivery_count")), 4)
        jobs = self.run_jobs()
        self.assertEqual(len(jobs), 1, "one pending job per estimate")
        self.assertEqual(set(events.mapped("state")), {"done"})
        order = self.order_of(eid)
        self.assertEqual(self.count_rows(eid), 1)
        self.assertEqual((order.state, order.wave_status), ("sent", "SENT"))
        self.assert_same_as_wave(order, self.wave_estimate(eid))

        # a late, older event re-reads Wave: nothing doubles or rolls back
        self.sandbox_admin(
            "POST",
            "/sandbox/webhooks/test",
            json={"event_type": "estimate.created", "estimate_id": eid},
        )
        self.act("estimateDelete", eid)
        self.wait_deliveries(6)
        self.run_jobs()
        self.assertEqual(self.count_rows(eid), 1)
        order = self.order_of(eid)
        self.assertEqual((order.state, order.wave_status), ("cancel", "DELETED"))
        total = Decimal(self.wave_estimate(eid)["total"]["value"])
        self.assertFalse(order.currency_id.compare_amounts(order.amount_total, float(total)))

    def redeliver(self, event_types):
        """Deliver again the deliveries of these event types (a duplicate, late)."""
        log = self.deliveries()[self.first_delivery :]
        again = {d["event_type"]: d["id"] for d in log if d["event_type"] in event_types}
        for delivery_id in again.values():
            self.sandbox_admin(
                "POST", "/sandbox/webhooks/duplicate", json={"delivery_id": delivery_id}
            )
        return len(log) + len(again)

    def test_conversion_by_webhooks_invoice_first_linked_once(self):
        """Wave converts an estimate: its events arrive out of order and twice, the
        invoice's processed before the estimate's; the order and its invoice end linked,
        once (invoiced quantities, invoice status), and the deposit Wave asks is shown."""
        eid = self.create_estimate(
            depositStatus="ENABLED_OPTIONAL", depositUnit="PERCENTAGE", depositValue="25"
        )
        self.act("estimateApprove", eid)
        self.act("estimateMarkAccepted", eid)
        self.wait_deliveries(3)
        # converted, then the invoice approved: delivered in reverse order
        self.sandbox_admin("POST", "/sandbox/webhooks/out-of-order", json={"next": 3})
        invoice_id = self.mutate("convertEstimateToInvoice", {"estimateId": eid}, "invoiceId")[
            "invoiceId"
        ]
        self.mutate("invoiceApprove", {"invoiceId": invoice_id})
        delivered = self.wait_deliveries(6)
        self.assertEqual(
            [d["event_type"] for d in delivered[3:]],
            ["invoice.approved", "estimate.converted", "invoice.created"],
        )
        total = self.redeliver(("invoice.approved", "estimate.converted"))
        self.wait_deliveries(total)

        self.run_jobs(of=lambda events: not events.wave_estimate_id)
        move = self.env["account.move"].search([("wave_id", "=", invoice_id)])
        self.assertEqual(len(move), 1)
        self.assertEqual((move.state, move.wave_estimate_id), ("posted", eid))
        self.assertFalse(self.order_of(eid), "the estimate's events are not processed yet")
        self.assertFalse(move.invoice_line_ids.sale_line_ids)

        self.run_jobs()
        order = self.order_of(eid)
        self.assertEqual((order.state, order.wave_status), ("sale", "CONVERTED"))
        self.assertEqual(order.invoice_ids, move)
        self.assertEqual(order.invoice_status, "invoiced")
        for line in order.order_line:
            self.assertEqual(line.qty_invoiced, line.product_uom_qty)
        estimate = self.wave_estimate(eid)
        self.assert_same_as_wave(order, estimate)
        deposit = float(estimate["depositTotal"]["value"])
        self.assertTrue(deposit)
        self.assertFalse(order.currency_id.compare_amounts(order.wave_deposit_total, deposit))
        self.assertFalse(move.currency_id.compare_amounts(move.amount_total, order.amount_total))

        # Late duplicates of both again: nothing doubles, the link stays.
        total = self.redeliver(("invoice.approved", "estimate.converted", "invoice.created"))
        self.wait_deliveries(total)
        self.run_jobs()
        self.assertEqual(self.count_rows(eid), 1)
        self.env.cr.execute("SELECT count(*) FROM account_move WHERE wave_id = %s", [invoice_id])
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        self.assertEqual(order.invoice_ids, move)
        self.assertEqual(order.invoice_status, "invoiced")
