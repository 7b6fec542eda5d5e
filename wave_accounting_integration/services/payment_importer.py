# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave invoice payments -> posted ``account.payment`` reconciled with the invoice.

Wave lists payments only per invoice: for the invoices of a page whose paid
amount changed, all payments are fetched in one aliased request. A payment
changed or deleted in Wave cancels its Odoo payment (which unreconciles it) and
a new one is created: never two live Odoo payments for one Wave payment.
Overpayments stay as an outstanding credit of the customer.

A voided or reversed Wave payment (``active: false`` / ``state: VOIDED``) counts as
gone: its Odoo payment is cancelled, even if it was imported before the void. A Wave
refund (``transactionType: REFUND``) becomes an outbound customer payment reconciled
with the payment it gives back, so the invoice is open again by the refunded amount.
"""

import logging

from odoo import _, api, models

from ..graphql.inbound import INVOICE_PAYMENTS_SELECTION
from ..mappers.payment_inbound import (
    payment_changed,
    payment_is_refund,
    payment_vals,
    payment_voided,
    refund_origin_id,
)
from .job_guard import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)


class WavePaymentImporter(models.AbstractModel):
    _name = "wave.payment.importer"
    _description = "Wave Import of Invoice Payments"

    @api.model
    def _fetch_payments(self, connection, wave_invoice_ids, job=None, next_page=None):
        """``{wave_invoice_id: [payment nodes] or None (deleted)}`` in one aliased request.

        ``next_page``: a historical chunk's next page of invoices
        (``wave.historical.importer``), asked for in the same request and handed its
        answer, which saves the chunk a request per page.
        """
        if not wave_invoice_ids:
            return {}
        client = connection._get_client(priority="bulk")
        if next_page:
            found, business = client.lookup_with(
                connection.business_id,
                "invoice",
                wave_invoice_ids,
                INVOICE_PAYMENTS_SELECTION,
                next_page.request_part(),
            )
            next_page.take_answer(business)
        else:
            found = client.lookup_many(
                connection.business_id,
                "invoice",
                wave_invoice_ids,
                INVOICE_PAYMENTS_SELECTION,
                chunk_size=max(len(wave_invoice_ids), 1),
            )
        if job:
            job.requests_count += 1
        return {
            wave_id: (node.get("payments") or []) if node else None
            for wave_id, node in found.items()
        }

    @api.model
    def _sync_invoice_payments(
        self, connection, nodes, moves, payments=None, job=None, next_page=None
    ):
        """Sync the payments of the (posted) invoices of ``nodes``.

        ``moves``: ``{wave_invoice_id: account.move}``. Only invoices whose
        ``amountPaid`` differs from the last synced one are looked at, unless
        their ``payments`` (``{wave_invoice_id: [payment nodes]}``) were given.
        ``next_page``: see :meth:`_fetch_payments`.
        """
        todo = []
        for node in nodes:
            move = moves.get(node["id"])
            if not move or move.state != "posted":
                continue
            paid = float((node.get("amountPaid") or {}).get("value") or 0)
            if move.currency_id.compare_amounts(paid, move.wave_amount_paid) or (
                payments is not None and node["id"] in payments
            ):
                todo.append((node, move, paid))
        if not todo:
            return
        if payments is None:
            wave_ids = [node["id"] for node, _move, _paid in todo]
            payments = self._fetch_payments(connection, wave_ids, job, next_page)
        items = [(node, move, paid, payments.get(node["id"]) or []) for node, move, paid in todo]
        try:
            with self.env.cr.savepoint():
                self._sync_items(connection, items)
        except CONCURRENCY_ERRORS:
            raise  # another transaction at the same time: the job guard runs the job again
        except Exception as error:
            _logger.info("Wave payment batch failed (%s); syncing one invoice at a time.", error)
            for item in items:
                try:
                    with self.env.cr.savepoint():
                        self._sync_items(connection, [item])
                except CONCURRENCY_ERRORS:
                    raise
                except Exception as item_error:
                    self._quarantine_payments(connection, item, item_error, job)

    @api.model
    def _quarantine_payments(self, connection, item, error, job):
        node, move, _paid, wave_payments = item
        reason = _(
            "Payments of invoice %(number)s could not be recorded: %(error)s",
            number=node.get("invoiceNumber"),
            error=error,
        )
        self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            "InvoicePayments",
            [reason],
            wave_id=node["id"],
            record=move or None,
            payload={"invoice": node["id"], "payments": wave_payments},
            suggested_fix=_("Check the payment journal mapping of the Wave payment account."),
            sync_job=job,
        )

    @api.model
    def _sync_items(self, connection, items):
        """Cancel changed/deleted payments, create new ones, post and reconcile (batched).

        ``items``: ``[(invoice node, move, amount paid, [payment nodes])]``.
        """
        to_cancel, vals_list, reconcile_with = self._plan_changes(connection, items)
        if to_cancel:
            self._cancel_payments(to_cancel)
        if vals_list:
            self._create_and_reconcile(vals_list, reconcile_with)
        self.env["account.move"]._wave_write_sync_state(
            {move.id: {"wave_amount_paid": paid} for _node, move, paid, _pays in items}
        )

    @api.model
    def _plan_changes(self, connection, items):
        """``(payments to cancel, values of payments to create, their invoices)``."""
        Payment = self.env["account.payment"]
        existing = Payment.search(
            [
                ("wave_invoice_id", "in", [node["id"] for node, *_rest in items]),
                ("company_id", "=", connection.company_id.id),
                ("state", "not in", ("canceled", "rejected")),
            ]
        )
        by_invoice = {}
        for payment in existing:
            by_invoice.setdefault(payment.wave_invoice_id, Payment)
            by_invoice[payment.wave_invoice_id] |= payment
        account_nodes = [p["account"] for *_rest, pays in items for p in pays if p.get("account")]
        self.env["wave.reference.importer"]._resolve_accounts(connection, account_nodes)
        journals = self.env["wave.account.map"]._cached_map(connection.id)
        default_journal = self._default_journal(connection)
        # Made in Wave by our export (its Odoo payment holds, or will hold, the Wave id).
        exported = self.env["wave.outbound.ledger.service"]._exported_payment_ids(
            connection, [p for *_rest, pays in items for p in pays]
        )
        to_cancel = Payment
        vals_list, reconcile_with = [], []
        for node, move, _paid, all_wave_payments in items:
            # voided / reversed payments no longer count: their Odoo payment is cancelled
            wave_payments = [p for p in all_wave_payments if not payment_voided(p)]
            wave_by_id = {p["id"]: p for p in wave_payments}
            keep = set()
            for payment in by_invoice.get(node["id"], Payment):
                wave_payment = wave_by_id.get(payment.wave_id)
                if wave_payment and not payment_changed(payment, wave_payment):
                    keep.add(payment.wave_id)
                else:
                    to_cancel |= payment
            for wave_payment in wave_payments:
                if wave_payment["id"] in keep or wave_payment["id"] in exported:
                    continue
                wave_account_id = (wave_payment.get("account") or {}).get("id")
                journal_id = journals.get(wave_account_id, (False, False))[1]
                journal = self.env["account.journal"].browse(journal_id) or default_journal
                vals_list.append(
                    payment_vals(move, wave_payment, journal, node, connection.company_id)
                )
                reconcile_with.append((move, wave_payment))
        return to_cancel, vals_list, reconcile_with

    @api.model
    def _cancel_payments(self, payments):
        """Cancel Odoo payments replaced at Wave and free their Wave ids."""
        before = {p.id: {"amount": p.amount, "state": p.state} for p in payments}
        payments.action_draft()
        payments.action_cancel()
        self.env["wave.audit.log"]._log_many(
            payments,
            "cancel",
            lambda p: {"state": p.state, "replaced_wave_id": p.wave_id},
            values_before=lambda p: before[p.id],
        )
        payments.write({"wave_id": False})
        payments.flush_recordset(["wave_id"])  # frees the unique Wave id for the new one

    @api.model
    def _create_and_reconcile(self, vals_list, reconcile_with):
        """Create and post payments, then reconcile each with its invoice's receivable.

        ``reconcile_with``: ``[(invoice move, Wave payment node)]``, one per values.
        Payments are reconciled first, then refunds (see :meth:`_reconcile_refunds`).
        """
        created = self.env["account.payment"].create(vals_list)
        created.action_post()
        plan, refunds = [], []
        for payment, (move, wave_payment) in zip(created, reconcile_with, strict=True):
            if payment_is_refund(wave_payment):
                refunds.append((payment, move, wave_payment))
                continue
            if pair := self._open_pair(move, payment):
                plan.append(pair)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        if refunds:
            self._reconcile_refunds(refunds)
            # A payment of the same sync found its invoice paid (the refund had not yet
            # reopened it) and stayed an outstanding credit: match it with the invoice now.
            again = []
            for payment, (move, wave_payment) in zip(created, reconcile_with, strict=True):
                if payment_is_refund(wave_payment):
                    continue
                if pair := self._open_pair(move, payment):
                    again.append(pair)
            if again:
                self.env["account.move.line"]._reconcile_plan(again)
        self.env["wave.audit.log"]._log_many(
            created,
            "create",
            lambda p: {
                "amount": p.amount,
                "currency": p.currency_id.name,
                "journal": p.journal_id.name,
                "date": str(p.date),
            },
        )

    @api.model
    def _open_pair(self, move, payment):
        """The open receivable lines of invoice ``move`` and ``payment``, or None."""
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        counterpart = payment.move_id.line_ids.filtered(
            lambda line, acc=receivable.account_id: line.account_id in acc and not line.reconciled
        )
        return (receivable | counterpart) if receivable and counterpart else None

    @api.model
    def _reconcile_refunds(self, refunds):
        """Reconcile each refund with the payment it gives back, reopening the invoice.

        The refund's receivable debit takes back part of the original payment's credit:
        the partial between that payment and the invoice is undone, the refund is matched
        with the payment, and what is left of the payment is matched with the invoice
        again. The invoice's amount due rises by the refund, as in Wave. Without a known
        original payment, the invoice's latest live Wave payment is used.
        """
        Line = self.env["account.move.line"]
        Payment = self.env["account.payment"]
        for refund, move, wave_payment in refunds:
            receivable = move.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            refund_line = refund.move_id.line_ids.filtered(
                lambda line, acc=receivable.account_id: (
                    line.account_id in acc and not line.reconciled
                )
            )
            origin = Payment.search(
                [
                    ("wave_id", "=", refund_origin_id(wave_payment) or "-"),
                    ("company_id", "=", refund.company_id.id),
                    ("state", "not in", ("canceled", "rejected", "draft")),
                ],
                limit=1,
            ) or Payment.search(
                [
                    ("wave_invoice_id", "=", refund.wave_invoice_id),
                    ("company_id", "=", refund.company_id.id),
                    ("payment_type", "=", "inbound"),
                    ("state", "not in", ("canceled", "rejected", "draft")),
                ],
                order="date desc, id desc",
                limit=1,
            )
            origin_line = origin.move_id.line_ids.filtered(
                lambda line, acc=receivable.account_id: line.account_id in acc
            )
            if not (refund_line and origin_line):
                continue
            partials = (origin_line.matched_debit_ids | origin_line.matched_credit_ids).filtered(
                lambda p, inv=receivable: p.debit_move_id in inv or p.credit_move_id in inv
            )
            partials.unlink()
            Line._reconcile_plan([refund_line | origin_line])
            rest = (receivable | origin_line).filtered(lambda line: not line.reconciled)
            if len(rest) > 1:
                Line._reconcile_plan([rest])

    @api.model
    def _default_journal(self, connection):
        Journal = self.env["account.journal"]
        return Journal.search(
            [*Journal._check_company_domain(connection.company_id), ("type", "=", "bank")],
            limit=1,
        )
