# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave invoice payments -> posted ``account.payment`` reconciled with the invoice.

Wave lists payments only per invoice: for the invoices of a page whose paid
amount changed, all payments are fetched in one aliased request. A payment
changed or deleted in Wave cancels its Odoo payment (which unreconciles it) and
a new one is created: never two live Odoo payments for one Wave payment.
Overpayments stay as an outstanding credit of the customer. A foreign-currency
payment is booked at Wave's exchange rate (``force_balance``).
"""

import logging
from decimal import Decimal

from odoo import _, fields, models

from ..graphql.inbound import INVOICE_PAYMENTS_SELECTION
from ..lib.dates import parse_wave_datetime as wave_datetime

_logger = logging.getLogger(__name__)


class AccountPayment(models.Model):
    _inherit = "account.payment"

    wave_invoice_id = fields.Char(
        string="Wave Invoice ID",
        index=True,
        copy=False,
        readonly=True,
        help="The Wave invoice this payment was recorded on.",
    )


class WaveApi(models.Model):
    _inherit = "wave.api"

    def _fetch_payments(self, wave_invoice_ids, job=None):
        """``{wave_invoice_id: [payment nodes] or None (deleted)}`` in one aliased request."""
        if not wave_invoice_ids:
            return {}
        client = self._get_client(priority="bulk")
        found = client.lookup_many(
            self.business_id,
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

    def _sync_payments_for(self, nodes, moves, payments=None, job=None):
        """Sync the payments of the (posted) invoices of ``nodes``.

        ``moves``: ``{wave_invoice_id: account.move}``. Only invoices whose
        ``amountPaid`` differs from the last synced one are looked at.
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
            payments = self._fetch_payments([node["id"] for node, _move, _paid in todo], job)
        items = [(node, move, paid, payments.get(node["id"]) or []) for node, move, paid in todo]
        try:
            with self.env.cr.savepoint():
                self._sync_payment_items(items)
        except Exception as error:
            _logger.info("Wave payment batch failed (%s); syncing one invoice at a time.", error)
            for item in items:
                try:
                    with self.env.cr.savepoint():
                        self._sync_payment_items([item])
                except Exception as item_error:
                    node = item[0]
                    self._quarantine(
                        "InvoicePayments",
                        node["id"],
                        {"invoice": node["id"], "payments": item[3]},
                        [
                            _(
                                "Payments of invoice %(number)s could not be recorded: %(error)s",
                                number=node.get("invoiceNumber"),
                                error=item_error,
                            )
                        ],
                        _("Check the payment journal mapping of the Wave payment account."),
                        job=job,
                        move=item[1],
                    )

    def _sync_payment_items(self, items):
        """Cancel changed/deleted payments, create new ones, post and reconcile (batched)."""
        Payment = self.env["account.payment"]
        invoice_ids = [node["id"] for node, *_rest in items]
        existing = Payment.search(
            [
                ("wave_invoice_id", "in", invoice_ids),
                ("company_id", "=", self.company_id.id),
                ("state", "not in", ("canceled", "rejected")),
            ]
        )
        by_invoice = {}
        for payment in existing:
            by_invoice.setdefault(payment.wave_invoice_id, Payment)
            by_invoice[payment.wave_invoice_id] |= payment
        account_nodes = [p["account"] for *_rest, pays in items for p in pays if p.get("account")]
        self.env["wave.reference.importer"]._resolve_accounts(self, account_nodes)
        journals = self.env["wave.account.map"]._cached_map(self.id)
        default_journal = self._default_payment_journal()
        to_cancel = Payment
        vals_list, reconcile_with = [], []
        for node, move, _paid, wave_payments in items:
            odoo_payments = by_invoice.get(node["id"], Payment)
            wave_by_id = {p["id"]: p for p in wave_payments}
            keep = set()
            for payment in odoo_payments:
                wave_payment = wave_by_id.get(payment.wave_id)
                if wave_payment and not self._payment_changed(payment, wave_payment):
                    keep.add(payment.wave_id)
                else:
                    to_cancel |= payment
            for wave_payment in wave_payments:
                if wave_payment["id"] in keep:
                    continue
                journal_id = journals.get(
                    (wave_payment.get("account") or {}).get("id"), (False, False)
                )[1]
                journal = self.env["account.journal"].browse(journal_id) or default_journal
                vals_list.append(self._payment_vals(move, wave_payment, journal, node))
                reconcile_with.append(move)
        if to_cancel:
            before = {p.id: {"amount": p.amount, "state": p.state} for p in to_cancel}
            to_cancel.action_draft()
            to_cancel.action_cancel()
            self.env["wave.audit.log"]._log_many(
                to_cancel,
                "cancel",
                lambda p: {"state": p.state, "replaced_wave_id": p.wave_id},
                values_before=lambda p: before[p.id],
            )
            to_cancel.write({"wave_id": False})
            to_cancel.flush_recordset(["wave_id"])  # frees the unique Wave id for the new one
        created = Payment
        if vals_list:
            created = Payment.create(vals_list)
            created.action_post()
            plan = []
            for payment, move in zip(created, reconcile_with, strict=True):
                receivable = move.line_ids.filtered(
                    lambda line: (
                        line.account_id.account_type == "asset_receivable" and not line.reconciled
                    )
                )
                counterpart = payment.move_id.line_ids.filtered(
                    lambda line, acc=receivable.account_id: (
                        line.account_id in acc and not line.reconciled
                    )
                )
                if receivable and counterpart:
                    plan.append(receivable | counterpart)
            if plan:
                self.env["account.move.line"]._reconcile_plan(plan)
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
        self.env["account.move"]._wave_write_sync_state(
            {move.id: {"wave_amount_paid": paid} for _node, move, paid, _pays in items}
        )

    def _payment_changed(self, payment, wave_payment):
        modified = wave_datetime(wave_payment.get("modifiedAt"))
        if modified and payment.wave_modified_at and modified > payment.wave_modified_at:
            return True
        return payment.currency_id.compare_amounts(
            payment.amount, float(wave_payment.get("amount") or 0)
        ) != 0 or fields.Date.to_string(payment.date) != wave_payment.get("paymentDate")

    def _payment_vals(self, move, wave_payment, journal, node):
        amount = Decimal(str(wave_payment.get("amount") or "0"))
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )[:1].account_id
        method = wave_payment.get("paymentMethod") or ""
        vals = {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": move.commercial_partner_id.id,
            "company_id": self.company_id.id,
            "journal_id": journal.id,
            "amount": float(amount),
            "currency_id": move.currency_id.id,
            "date": wave_payment.get("paymentDate") or move.invoice_date,
            "memo": " ".join(
                filter(
                    None, [move.name, method.replace("_", " ").title(), wave_payment.get("memo")]
                )
            ),
            "destination_account_id": receivable.id,
            "wave_id": wave_payment["id"],
            "wave_invoice_id": node["id"],
            "wave_origin": "wave",
            "wave_modified_at": wave_datetime(wave_payment.get("modifiedAt")),
        }
        if move.currency_id != self.company_id.currency_id:
            rate = Decimal(str(wave_payment.get("exchangeRate") or node.get("exchangeRate")))
            vals["force_balance"] = self.company_id.currency_id.round(float(amount * rate))
        return vals

    def _default_payment_journal(self):
        Journal = self.env["account.journal"]
        return Journal.search(
            [*Journal._check_company_domain(self.company_id), ("type", "=", "bank")], limit=1
        )
