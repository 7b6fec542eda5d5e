# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Odoo quotations → Wave estimates, against the sandbox over HTTP.

Every check reads the sandbox's own records (its estimates, customers, products, request
counters), never what the exporter wrote about itself.
"""

import datetime as dt
from decimal import Decimal

from odoo import Command
from odoo.tests import tagged

from .test_outbound import OutboundCommon
from .test_webhook_echo import WebhookEchoCommon


def cents(amount):
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1)))


def invoice_by_conversion(case, order):
    """Invoice ``order`` whole in Odoo and export the invoice: Wave converts the order's
    estimate, once, and creates no invoice of its own (one more Wave invoice in all)."""
    invoices = len(case.wave_us.invoices)
    move = order._create_invoices()
    move.action_post()
    case.sandbox.counters.reset()
    case.assertTrue(case._export(move))
    calls = case.sandbox.counters.by_operation
    case.assertEqual(calls.get("convertEstimateToInvoice"), 1, calls)
    case.assertNotIn("invoiceCreate", calls)
    case.assertEqual(len(case.wave_us.invoices), invoices + 1)
    return move


def invoice_in_part(case, order):
    """Invoice ``order`` in part (one quantity lowered) and export the invoice: a separate
    Wave invoice (no source), the order's chatter says so, once; in Odoo the invoice is
    the order's. Returns the invoice and its Wave invoice."""
    invoices = len(case.wave_us.invoices)
    move = order._create_invoices()
    line = move.invoice_line_ids.filtered(lambda li: li.display_type == "product")[0]
    move.write({"invoice_line_ids": [Command.update(line.id, {"quantity": 1})]})
    move.action_post()
    case.sandbox.counters.reset()
    case.assertTrue(case._export(move))
    calls = case.sandbox.counters.by_operation
    case.assertNotIn("convertEstimateToInvoice", calls)
    case.assertEqual(calls.get("invoiceCreate"), 1, calls)
    case.assertEqual(len(case.wave_us.invoices), invoices + 1)
    wave_invoice = case.sandbox.state.objects[move.wave_id]
    case.assertIsNone(wave_invoice.source)
    case.assertEqual(order.invoice_ids, move)
    case.assertEqual(order.invoice_status, "to invoice")
    for _run in range(2):  # exported again: noted once
        notes = order.message_ids.filtered(lambda m: move.name in (m.body or ""))
        case.assertEqual(len(notes), 1)
        case.assertIn("separate invoice", notes.body)
        case._export(move)
    return move, wave_invoice


class EstimateOutboundMixin:
    """Quotations, and the sandbox's estimates, customers and products they became."""

    @classmethod
    def _estimate_setup(cls):
        cls.connection.sudo().estimate_export = "sent"
        cls.partner_a.email = "alice@example.com"

    def _quotation(self, partner=None, n=0, pricelist=None):
        vals = {
            "partner_id": (partner or self.partner_a).id,
            "order_line": [
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "product_uom_qty": 3,
                        "price_unit": 19.99 + n,
                        "discount": 10,
                        "tax_id": [Command.set(self.tax_sale_a.ids)],
                    }
                ),
                Command.create(
                    {
                        "product_id": self.product_b.id,
                        "product_uom_qty": 2,
                        "price_unit": 12.35,
                        "tax_id": [Command.set(self.tax_sale_a.ids)],
                    }
                ),
            ],
        }
        if pricelist:
            vals["pricelist_id"] = pricelist.id
        return self.env["sale.order"].create(vals)

    def _wave_estimates(self, order):
        """The sandbox's estimates numbered as ``order`` (Wave keeps those of earlier
        tests, whose numbers Odoo reuses after its rollback)."""
        from wave_sandbox.store import business_estimates

        return [e for e in business_estimates(self.wave_us) if e.estimate_number == order.name]

    def _wave_estimate(self, order):
        found = [e for e in self._wave_estimates(order) if e.id == order.wave_id]
        self.assertEqual(len(found), 1, order.name)
        return found[0]

    def _named(self, collection, name):
        return [obj for obj in getattr(self.wave_us, collection) if obj.name == name]

    def _assert_same_amounts(self, order, estimate):
        """The Wave estimate is the Odoo quotation to the cent: totals, taxes, currency,
        each item's quantity × price (line discounts included) and taxes."""
        self.assertEqual(estimate.currency_code, order.currency_id.name)
        self.assertEqual(estimate.total_minor, cents(order.amount_total), order.name)
        self.assertEqual(estimate.subtotal_minor, cents(order.amount_untaxed))
        self.assertEqual(estimate.tax_total_minor, cents(order.amount_tax))
        self.assertEqual(estimate.customer.id, order.partner_id.commercial_partner_id.wave_id)
        lines = order.order_line.filtered(lambda line: not line.display_type)
        self.assertEqual(len(estimate.items), len(lines))
        for item, line in zip(estimate.items, lines, strict=True):
            self.assertEqual(item.product.id, line.product_id.wave_id)
            self.assertEqual(item.quantity, Decimal(str(line.product_uom_qty)))
            self.assertEqual(item.subtotal_minor, cents(line.price_subtotal), line.name)
            self.assertEqual(
                sorted(t.sales_tax.id for t in item.taxes), sorted(line.tax_id.mapped("wave_id"))
            )


@tagged("post_install", "-at_install")
class TestEstimatesOutbound(EstimateOutboundMixin, OutboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._estimate_setup()

    def test_quotation_sent_then_confirmed_becomes_accepted_estimate(self):
        # (Wave keeps the customers and products of earlier tests; Odoo forgot them.)
        customers = len(self._named("customers", self.partner_a.name))
        products = len(self._named("products", self.product_a.name))
        order = self._quotation()
        order.action_quotation_sent()
        self.assertTrue(self._export(order))
        estimate = self._wave_estimate(order)
        self.assertEqual(len(self._wave_estimates(order)), 1)
        self.assertEqual(estimate.status, "SENT")
        self.assertEqual(estimate.last_sent_via, "MARKED_SENT")
        self._assert_same_amounts(order, estimate)
        self.assertEqual(order.wave_origin, "odoo")
        self.assertEqual(order.wave_status, "SENT")
        # The customer and products were created in Wave once.
        self.assertEqual(len(self._named("customers", self.partner_a.name)), customers + 1)
        self.assertEqual(len(self._named("products", self.product_a.name)), products + 1)

        order.action_confirm()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.by_operation, {"estimateMarkAccepted": 1})
        estimate = self._wave_estimate(order)
        self.assertEqual(estimate.status, "ACCEPTED")
        self._assert_same_amounts(order, estimate)

        # A second quotation of the same customer and products: no new dependency.
        other = self._quotation(n=1)
        other.action_quotation_sent()
        self.assertTrue(self._export(other))
        self.assertEqual(self._wave_estimate(other).status, "SENT")
        self.assertEqual(len(self._named("customers", self.partner_a.name)), customers + 1)
        self.assertEqual(len(self._named("products", self.product_a.name)), products + 1)
        # Exporting again sends nothing.
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order | other))
        self.assertEqual(self.sandbox.counters.total, 0)

    def _export_jobs(self, order):
        # sudo: queue jobs are readable by job queue managers only; the test reads them.
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("model_name", "=", "wave.api"), ("method_name", "=", "_job_export")])
        )
        return [job for job in jobs if tuple(job.args) == ("sale.order", [order.id])]

    def test_sending_or_confirming_queues_the_export(self):
        order = self._quotation()
        self.assertFalse(self._export_jobs(order))
        order.action_quotation_sent()  # the setting says "when sent"
        self.assertEqual(len(self._export_jobs(order)), 1)
        self.connection.estimate_export = "confirmed"
        sent = self._quotation()
        sent.action_quotation_sent()
        self.assertFalse(self._export_jobs(sent))
        sent.action_confirm()
        self.assertEqual(len(self._export_jobs(sent)), 1)
        self.connection.estimate_export = "never"
        never = self._quotation()
        never.action_confirm()
        self.assertFalse(self._export_jobs(never))

    def test_foreign_currency_quotation(self):
        eur = self.setup_other_currency("EUR")
        pricelist = self.env["product.pricelist"].create(
            {"name": "EUR", "currency_id": eur.id, "company_id": self.env.company.id}
        )
        order = self._quotation(pricelist=pricelist)
        order.action_confirm()
        self.assertEqual(order.currency_id, eur)
        self.assertTrue(self._export(order))
        estimate = self._wave_estimate(order)
        self.assertEqual(estimate.status, "ACCEPTED")
        self.assertTrue(estimate.last_sent_at)  # approved, marked sent, then accepted
        self._assert_same_amounts(order, estimate)
        self.assertEqual(estimate.exchange_rate, Decimal(str(round(1 / order.currency_rate, 6))))

    def test_setting_when_confirmed_or_never(self):
        self.connection.estimate_export = "confirmed"
        order = self._quotation()
        order.action_quotation_sent()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.total, 0)
        self.assertFalse(self._wave_estimates(order))
        order.action_confirm()
        self.assertTrue(self._export(order))
        estimate = self._wave_estimate(order)
        self.assertEqual(estimate.status, "ACCEPTED")

        self.connection.estimate_export = "never"
        never = self._quotation()
        never.action_confirm()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(never))
        self.assertEqual(self.sandbox.counters.total, 0)
        self.assertFalse(self._wave_estimates(never))

    def test_lost_estimate_create_answer_is_found_by_number(self):
        order = self._quotation()
        order.action_quotation_sent()
        known = len(self._wave_estimates(order))
        self._add_fault(kind="drop_after", operation="estimateCreate", count=1)
        # (Rounds: a run that could not settle the lost answer is retried, as the job is.)
        self.assertTrue(self._export(order, rounds=3))
        self.assertEqual(len(self._wave_estimates(order)), known + 1)
        estimate = self._wave_estimate(order)
        self.assertEqual(estimate.status, "SENT")
        self._assert_same_amounts(order, estimate)
        # Later runs (a confirm) never create it again.
        order.action_confirm()
        self.assertTrue(self._export(order))
        self.assertEqual(len(self._wave_estimates(order)), known + 1)
        self.assertEqual(self._wave_estimate(order).status, "ACCEPTED")

    def test_wave_estimate_of_an_unanswered_export_is_not_imported_again(self):
        """A poll or webhook meets the Wave estimate an export created before the export
        has its answer: the import leaves it to the export, which binds it and moves it
        on. One Odoo order, one Wave estimate."""
        order = self._quotation()
        order.action_quotation_sent()
        known = {e.id for e in self._wave_estimates(order)}
        self._add_fault(kind="drop_after", operation="estimateCreate", count=1)
        lookup = self._add_fault(kind="http_error", operation="OdooFindEstimates", status=503)
        # (Not assertRaises: its savepoint would roll the ledger back.)
        self.assertFalse(self._export(order), "the look-up failed: retried later")
        self.assertEqual(self._ledger(order).state, "outcome_unknown")
        created = [e for e in self._wave_estimates(order) if e.id not in known]
        self.assertEqual(len(created), 1)
        wave_id = created[0].id
        self.assertEqual(created[0].status, "DRAFT")
        # The webhook (or the poll) of the new Wave estimate arrives first.
        Importer = self.env["wave.estimate.importer"]
        outcome = Importer._import_by_ids(self.connection, [wave_id], source="webhook")
        self.assertEqual(outcome, {wave_id: "skipped"})
        Order = self.env["sale.order"].with_context(active_test=False)
        self.assertFalse(Order.search([("wave_id", "=", wave_id)]))
        # Wave answers the look-up again: the export binds its estimate and moves it on.
        self.sandbox.faults.remove(lookup.id)
        self.assertTrue(self._export(order))
        self.assertEqual(order.wave_id, wave_id)
        self.assertEqual(self._ledger(order).resolution, "lookup")
        estimate = self._sandbox_estimate(wave_id)
        self.assertEqual((estimate.status, estimate.last_sent_via), ("SENT", "MARKED_SENT"))
        self._assert_same_amounts(order, estimate)
        # Later deliveries update that one order.
        outcome = Importer._import_by_ids(self.connection, [wave_id], source="webhook")
        self.assertNotEqual(outcome[wave_id], "created")
        self.assertEqual(Order.search([("wave_id", "=", wave_id)]), order)
        self.assertEqual(
            [e.id for e in self._wave_estimates(order) if e.id not in known], [wave_id]
        )

    def test_lost_step_answer_is_read_back_not_sent_again(self):
        """The answer of the approve + mark sent request is lost after Wave applied it:
        the estimate is read back, found sent, and nothing is pushed again."""
        order = self._quotation()
        order.action_quotation_sent()
        self._add_fault(kind="drop_after", operation="estimateMarkSent", count=1)
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order), "read back as sent: no retry needed")
        self.assertEqual(self.sandbox.counters.by_operation.get("estimateMarkSent"), 1)
        estimate = self._wave_estimate(order)
        self.assertEqual(estimate.status, "SENT")
        self.assertEqual(order.wave_status, "SENT")
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.total, 0, self.sandbox.counters.as_dict())

    def test_estimate_emailed_by_wave_or_marked_sent_with_the_reason(self):
        """Send mode *Email from Wave*: ``estimateSend`` when the business can email,
        else marked sent, and the quotation says why (as invoices do)."""
        self.connection.invoice_send_mode = "send"
        self.assertTrue(self.wave_us.email_send_enabled)
        order = self._quotation()
        order.action_quotation_sent()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        calls = self.sandbox.counters.by_operation
        self.assertEqual(calls.get("estimateSend"), 1, calls)
        self.assertNotIn("estimateMarkSent", calls)
        estimate = self._wave_estimate(order)
        self.assertEqual((estimate.status, estimate.last_sent_via), ("SENT", "WAVE"))

        def fallback_notes(record):
            log = self.env["wave.audit.log"].search(
                [("res_model", "=", "sale.order"), ("res_id", "=", record.id)]
            )
            return log.filtered(lambda entry: entry.action == "outbound_send_fallback")

        self.assertFalse(fallback_notes(order))
        # The business cannot email: marked sent instead, and said so on the quotation.
        self.wave_us.email_send_enabled = False
        self.addCleanup(setattr, self.wave_us, "email_send_enabled", True)
        other = self._quotation(n=1)
        other.action_quotation_sent()
        self.assertTrue(self._export(other))
        estimate = self._wave_estimate(other)
        self.assertEqual((estimate.status, estimate.last_sent_via), ("SENT", "MARKED_SENT"))
        self.assertTrue(fallback_notes(other))
        self.assertIn("emailSendEnabled", other.message_ids[0].body)
        # A customer without an email address: marked sent, not emailed.
        self.wave_us.email_send_enabled = True
        nomail = self.env["res.partner"].create({"name": "No Mail Quotes Ltd"})
        third = self._quotation(partner=nomail, n=2)
        third.action_quotation_sent()
        self.assertTrue(self._export(third))
        self.assertEqual(self._wave_estimate(third).last_sent_via, "MARKED_SENT")
        self.assertTrue(fallback_notes(third))

    def test_edit_is_patched_until_wave_converts_the_estimate(self):
        order = self._quotation()
        order.action_quotation_sent()
        self.assertTrue(self._export(order))
        wave_id = order.wave_id
        line = order.order_line[0]
        order.write({"order_line": [Command.update(line.id, {"price_unit": 30.0})]})
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.by_operation.get("estimatePatch"), 1)
        self.assertEqual(order.wave_id, wave_id)
        estimate = self._wave_estimate(order)
        self.assertEqual(estimate.status, "SENT")
        self._assert_same_amounts(order, estimate)

        # Wave turned it into an invoice: it cannot change any more; the edit is reviewed.
        from wave_sandbox import ops

        with self.sandbox.state.lock:
            ops.convert_estimate(self.sandbox.state, estimate)
        before = estimate.total_minor
        order.write({"order_line": [Command.update(line.id, {"price_unit": 31.0})]})
        self.assertTrue(self._export(order))
        self.assertEqual(self._wave_estimate(order).total_minor, before)
        review = self.env["wave.quarantine"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )
        self.assertEqual(review.direction, "outbound")
        self.assertIn("CONVERTED", review.reasons)

    def test_quotation_from_wave_is_not_sent_back(self):
        order = self._quotation()
        order.write({"wave_origin": "wave", "wave_id": "QVJFc3RpbWF0ZTox"})
        order.action_confirm()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.total, 0)
        self.assertFalse(self._ledger(order))

    # ------------------------------------------------------------------
    # Cancelled in Odoo
    # ------------------------------------------------------------------
    def _sandbox_estimate(self, wave_id):
        """The sandbox's estimate by id (a deleted one is no longer listed)."""
        return self.sandbox.state.objects[wave_id]

    def test_cancelled_quotation_deletes_its_estimate_once(self):
        order = self._quotation()
        order.action_quotation_sent()
        self.assertTrue(self._export(order))
        wave_id = order.wave_id
        self.assertEqual(self._sandbox_estimate(wave_id).status, "SENT")
        order._action_cancel()
        self.assertEqual(len(self._export_jobs(order)), 1)  # the cancel queued its export
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.by_operation.get("estimateDelete"), 1)
        self.assertEqual(self._sandbox_estimate(wave_id).status, "DELETED")
        self.assertFalse([e for e in self._wave_estimates(order) if e.id == wave_id])
        self.assertEqual(order.wave_status, "DELETED")
        # Exactly once: later runs send nothing (not even a read: the ledger says done).
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.total, 0, self.sandbox.counters.as_dict())

        # A cancelled quotation that never reached Wave sends nothing.
        never = self._quotation(n=2)
        never._action_cancel()
        self.sandbox.counters.reset()
        self.assertTrue(self._export(never))
        self.assertEqual(self.sandbox.counters.total, 0)
        self.assertFalse(self._wave_estimates(never))

    def test_lost_estimate_delete_answer_is_not_sent_again(self):
        order = self._quotation()
        order.action_quotation_sent()
        self.assertTrue(self._export(order))
        wave_id = order.wave_id
        order._action_cancel()
        self._add_fault(kind="drop_after", operation="estimateDelete", count=1)
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order, rounds=3))
        self.assertEqual(self._sandbox_estimate(wave_id).status, "DELETED")
        self.assertEqual(self.sandbox.counters.by_operation.get("estimateDelete"), 1)
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.by_operation.get("estimateDelete"), 1)

    # ------------------------------------------------------------------
    # Invoicing an order whose estimate is in Wave
    # ------------------------------------------------------------------
    def _confirmed_exported(self, n=0):
        order = self._quotation(n=n)
        order.action_quotation_sent()
        order.action_confirm()
        self.assertTrue(self._export(order))
        self.assertEqual(self._sandbox_estimate(order.wave_id).status, "ACCEPTED")
        return order

    def _assert_invoice_is_the_odoo_invoice(self, move, wave_invoice):
        """The Wave invoice has the Odoo invoice's number, totals and items, to the cent."""
        self.assertEqual(wave_invoice.invoice_number, move.name)
        self.assertEqual(wave_invoice.currency_code, move.currency_id.name)
        self.assertEqual(wave_invoice.total_minor, cents(move.amount_total))
        self.assertEqual(wave_invoice.subtotal_minor, cents(move.amount_untaxed))
        self.assertEqual(wave_invoice.tax_total_minor, cents(move.amount_tax))
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        self.assertEqual(len(wave_invoice.items), len(lines))
        for item, line in zip(wave_invoice.items, lines, strict=True):
            self.assertEqual(item.product.id, line.product_id.wave_id)
            self.assertEqual(item.quantity, Decimal(str(line.quantity)))
            self.assertEqual(item.subtotal_minor, cents(line.price_subtotal), line.name)

    def test_invoicing_the_order_converts_its_estimate(self):
        order = self._confirmed_exported()
        estimate_id = order.wave_id
        invoices = len(self.wave_us.invoices)
        move = invoice_by_conversion(self, order)
        # One Wave invoice, made from the estimate, bound to the Odoo invoice.
        wave_invoice = self.sandbox.state.objects[move.wave_id]
        self.assertEqual(wave_invoice.source.id, estimate_id)
        self.assertEqual(move.wave_estimate_id, estimate_id)
        self.assertEqual(self._sandbox_estimate(estimate_id).status, "CONVERTED")
        self.assertEqual(order.wave_status, "CONVERTED")
        self._assert_invoice_is_the_odoo_invoice(move, wave_invoice)
        self.assertTrue(wave_invoice.approved)
        self.assertTrue(wave_invoice.last_sent_at)  # approved and marked sent, as ours
        # Later runs (the invoice, the order) send nothing: nothing doubled.
        self.sandbox.counters.reset()
        self.assertTrue(self._export(move))
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.total, 0, self.sandbox.counters.as_dict())
        self.assertEqual(len(self.wave_us.invoices), invoices + 1)
        # Reading them back from Wave (poll, webhooks) makes no second invoice or order.
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [move.wave_id])
        self.env["wave.estimate.importer"]._import_by_ids(self.connection, [estimate_id])
        self.assertEqual(self.env["account.move"].search_count([("wave_id", "=", move.wave_id)]), 1)
        self.assertEqual(self.env["sale.order"].search_count([("wave_id", "=", estimate_id)]), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.invoice_ids, move)
        self.sandbox.counters.reset()
        self.assertTrue(self._export(move))
        self.assertEqual(self.sandbox.counters.total, 0, self.sandbox.counters.as_dict())

    def test_lost_conversion_answer_is_found_by_its_source(self):
        order = self._confirmed_exported()
        invoices = len(self.wave_us.invoices)
        move = order._create_invoices()
        move.action_post()
        self._add_fault(kind="drop_after", operation="convertEstimateToInvoice", count=1)
        self.sandbox.counters.reset()
        self.assertTrue(self._export(move, rounds=3))
        calls = self.sandbox.counters.by_operation
        self.assertEqual(calls.get("convertEstimateToInvoice"), 1, calls)
        self.assertNotIn("invoiceCreate", calls)
        self.assertEqual(len(self.wave_us.invoices), invoices + 1)
        wave_invoice = self.sandbox.state.objects[move.wave_id]
        self.assertEqual(wave_invoice.source.id, order.wave_id)
        self._assert_invoice_is_the_odoo_invoice(move, wave_invoice)

    def test_invoice_of_an_unanswered_conversion_is_not_imported_again(self):
        """Wave made the invoice from the estimate but the answer is lost and not looked
        up yet: a poll or webhook meeting that Wave invoice (Wave's own number) leaves it to
        the export, which binds it to the Odoo invoice. One invoice on each side."""
        self.connection.import_draft_invoices = True
        order = self._confirmed_exported()
        move = order._create_invoices()
        move.action_post()
        self._add_fault(kind="drop_after", operation="convertEstimateToInvoice", count=1)
        lookup = self._add_fault(
            kind="http_error", operation="OdooFindConvertedInvoices", status=503
        )
        self.assertFalse(self._export(move), "the look-up failed: retried later")
        converted = [i for i in self.wave_us.invoices if i.source and i.source.id == order.wave_id]
        self.assertEqual(len(converted), 1)
        wave_id = converted[0].id
        self.assertNotEqual(converted[0].invoice_number, move.name)  # Wave numbered it
        Move = self._assert_left_to_export(wave_id)
        self.sandbox.faults.remove(lookup.id)
        self.assertTrue(self._export(move, rounds=3))
        self.assertEqual(move.wave_id, wave_id)
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [wave_id])
        self.assertEqual(Move.search([("wave_id", "=", wave_id)]), move)
        self.assertEqual(
            [i.id for i in self.wave_us.invoices if i.source and i.source.id == order.wave_id],
            [wave_id],
        )

    def test_partial_invoice_is_exported_on_its_own(self):
        order = self._confirmed_exported()
        move, wave_invoice = invoice_in_part(self, order)
        self._assert_invoice_is_the_odoo_invoice(move, wave_invoice)
        self.assertEqual(self._sandbox_estimate(order.wave_id).status, "ACCEPTED")

    # ------------------------------------------------------------------
    # Wave-side changes of an estimate made in Odoo
    # ------------------------------------------------------------------
    def _wave_side(self, order, change):
        """The customer (or Wave) changes ``order``'s estimate a moment after our export;
        the poll then reads it (``_import_by_ids``, over HTTP)."""
        from wave_sandbox import ops

        estimate = self._sandbox_estimate(order.wave_id)
        with self.sandbox.state.lock:
            if change == "expire":  # its valid-until date passed
                estimate.due_date = self.sandbox.state.today() - dt.timedelta(days=1)
            else:
                getattr(ops, change)(self.sandbox.state, estimate)
            estimate.modified_at += dt.timedelta(seconds=2)
        self.env["wave.estimate.importer"]._import_by_ids(self.connection, [order.wave_id])
        return estimate

    def _assert_no_echo(self, order):
        """Nothing goes back to Wave: no export queued, an export run sends nothing."""
        self.assertFalse(self._export_jobs(order))
        self.sandbox.counters.reset()
        self.assertTrue(self._export(order))
        self.assertEqual(self.sandbox.counters.total, 0, self.sandbox.counters.as_dict())

    def _sent_exported(self, n=0):
        order = self._quotation(n=n)
        order.action_quotation_sent()
        self.assertTrue(self._export(order))
        # sudo: queue jobs are removed by job queue managers only; the test starts clean.
        self.env["queue.job"].sudo().search([("model_name", "=", "wave.api")]).unlink()
        return order

    def test_accepted_in_wave_confirms_the_order(self):
        order = self._sent_exported()
        self._wave_side(order, "accept_estimate")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.wave_status, "ACCEPTED")
        self._assert_no_echo(order)

        self.connection.estimate_accept_policy = "mark"
        marked = self._sent_exported(n=1)
        self._wave_side(marked, "accept_estimate")
        self.assertEqual(marked.state, "sent")
        self.assertTrue(marked.wave_accepted)
        self._assert_no_echo(marked)

    def test_rejected_or_expired_in_wave_cancels_with_the_reason(self):
        order = self._sent_exported()
        estimate = self._wave_side(order, "reject_estimate")
        self.assertEqual(order.state, "cancel")
        self.assertIn("declined", order.wave_cancel_reason)
        self._assert_no_echo(order)
        self.assertEqual(estimate.status, "REJECTED")  # not deleted by the cancel

        expired = self._sent_exported(n=1)
        self._wave_side(expired, "expire")
        self.assertEqual(expired.wave_status, "EXPIRED")
        self.assertEqual(expired.state, "cancel")
        self.assertIn("expired", expired.wave_cancel_reason)
        self.assertEqual(self._sandbox_estimate(expired.wave_id).status, "EXPIRED")

    def test_closed_in_wave_after_confirm_in_odoo_asks_the_salesperson(self):
        """Confirmed in Odoo (the customer said yes), then declined, expired or deleted in Wave:
        the order stays confirmed, and its salesperson gets one to-do saying so."""
        for n, change in enumerate(("reject_estimate", "expire")):
            order = self._sent_exported(n=n)
            order.action_confirm()  # its export (mark accepted) has not run yet
            self._wave_side(order, change)
            self.assertEqual(order.state, "sale", change)
            self.assertEqual(order.wave_status, "REJECTED" if n == 0 else "EXPIRED")
            self.assertFalse(order.wave_cancel_reason)
            activity = order.activity_ids
            self.assertEqual(len(activity), 1, change)
            self.assertEqual(activity.user_id, order.user_id)
            self.assertIn("already confirmed in Odoo", activity.note)
            self.assertIn("declined" if n == 0 else "expired", activity.note)
            # Read again (a duplicate webhook, the next poll): no second to-do.
            estimate = self._sandbox_estimate(order.wave_id)
            with self.sandbox.state.lock:
                estimate.modified_at += dt.timedelta(seconds=2)
            self.env["wave.estimate.importer"]._import_by_ids(self.connection, [order.wave_id])
            self.assertEqual(len(order.activity_ids), 1)

        # Deleted in Wave, and no longer found at all: the same.
        from wave_sandbox import ops

        order = self._sent_exported(n=2)
        order.action_confirm()
        estimate = self._sandbox_estimate(order.wave_id)
        with self.sandbox.state.lock:
            ops.delete_estimate(self.sandbox.state, estimate)
            del self.sandbox.state.objects[estimate.id]
        for _read in range(2):  # (read again: no second to-do)
            outcome = self.env["wave.estimate.importer"]._import_by_ids(
                self.connection, [order.wave_id]
            )
            self.assertEqual(outcome, {order.wave_id: "deleted"})
            self.assertEqual((order.state, order.wave_status), ("sale", "DELETED"))
            self.assertEqual(len(order.activity_ids), 1)
            self.assertIn("deleted", order.activity_ids.note)

    def test_converted_in_wave_confirms_and_links_the_invoice(self):
        order = self._sent_exported()
        self._wave_side(order, "convert_estimate")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.wave_status, "CONVERTED")
        self._assert_no_echo(order)


@tagged("post_install", "-at_install")
class TestEstimatesOutboundEcho(EstimateOutboundMixin, WebhookEchoCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._estimate_setup()

    def test_echo_of_our_estimate_costs_no_request(self):
        order = self._quotation()
        order.action_quotation_sent()
        first_event = len(self.sandbox.webhooks.events)
        self.assertTrue(self._export(order))
        order.action_confirm()
        self.assertTrue(self._export(order))
        lines = [(line.product_id, line.price_unit) for line in order.order_line]
        # Every estimate event our export caused (created … accepted), delivered.
        self._subscribe()
        self._send_back(first_event)
        delivered = self.wait_deliveries(first_event, {order.wave_id})
        self.assertGreaterEqual(len(delivered), 4)  # created, approved, sent, accepted
        before = self.sandbox.counters.total
        self.assertFalse(self.run_jobs())  # settled by the drain: no processing job
        self.assertEqual(self.sandbox.counters.total, before, self.sandbox.counters.as_dict())
        self.env.invalidate_all()
        events = self.env["wave.webhook.event"].search([("wave_estimate_id", "=", order.wave_id)])
        self.assertEqual(set(events.mapped("state")), {"echo"})

        # The poll reading the same estimate leaves the order as Odoo made it.
        self.env["wave.estimate.importer"]._import_by_ids(self.connection, [order.wave_id])
        self.assertEqual(order.state, "sale")
        self.assertEqual([(line.product_id, line.price_unit) for line in order.order_line], lines)
        reviews = self.env["wave.quarantine"].search(
            [("direction", "=", "inbound"), ("wave_id", "=", order.wave_id)]
        )
        self.assertFalse(reviews, reviews.mapped("reasons"))
