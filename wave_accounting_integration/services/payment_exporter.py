# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: customer payments → Wave invoice payments, and their undoing.

A payment's share of each exported invoice it settles (its partial
reconciliations) becomes one ``invoicePaymentCreateManual``; only invoices
Wave approved can be paid. A lost answer is settled by reading the invoice's
payments back and finding our marker in their memo. Payments cancelled, reset
or unreconciled in Odoo are deleted in Wave. Vendor bill payments go to
``wave.money.exporter`` (Wave has no bills).
"""

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import WaveError, WaveValidationError
from ..lib.dates import parse_wave_datetime
from ..mappers import payment_outbound as mapper
from .job_guard import JobRetryLater
from .outbound_ledger_service import format_reasons

RECONCILED_ACCOUNT_TYPES = ("asset_receivable", "liability_payable")


def invoice_of(entry):
    """The invoice a payment ledger entry pays (its sub key is ``inv<id>``)."""
    return entry.env["account.move"].browse(int(entry.sub_key[3:]))


class WavePaymentExporter(models.AbstractModel):
    _name = "wave.payment.exporter"
    _description = "Wave Export of Customer Payments"

    @api.model
    def _export(self, connection, payments):
        connection.ensure_one()
        payments = payments.filtered(
            lambda p: (
                p.company_id == connection.company_id
                and p.state in ("in_process", "paid")
                and p.wave_origin != "wave"
            )
        )
        customer = payments.filtered(lambda p: p.partner_type == "customer")
        supplier = payments - customer
        if customer:
            self._export_customer_payments(connection, customer)
        if supplier:
            self.env["wave.money.exporter"]._export_bill_payments(connection, supplier)
        return True

    # ------------------------------------------------------------------
    # What a payment pays
    # ------------------------------------------------------------------
    @api.model
    def _documents(self, payment):
        """The documents ``payment`` settles now: those reconciled with its entry.

        ``invoice_ids`` (and, in Odoo 18, ``reconciled_invoice_ids``, which
        includes it) keeps the invoices a payment was registered for even after
        it is unreconciled: the partial reconciliations are read instead.
        ``invoice_ids`` only counts for payments without a journal entry
        (journals without outstanding accounts).
        """
        if not payment.move_id:
            return payment.invoice_ids
        lines = payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type in RECONCILED_ACCOUNT_TYPES
        )
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        moves = (partials.debit_move_id | partials.credit_move_id).move_id - payment.move_id
        return moves.filtered(lambda m: m.is_invoice(include_receipts=True))

    @api.model
    def _allocations(self, payment, documents):
        """``{document: amount}`` of ``payment`` over the posted ``documents`` it pays.

        Amounts come from the partial reconciliations, in each document's
        currency (what Wave records on the invoice); a payment without journal
        entry pays its single document in full.
        """
        documents = documents.filtered(lambda m: m.state == "posted")
        if not documents:
            return {}
        if not payment.move_id:
            return {documents: payment.amount} if len(documents) == 1 else {}
        allocations = {}
        lines = payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type in RECONCILED_ACCOUNT_TYPES
        )
        for partial in lines.matched_debit_ids | lines.matched_credit_ids:
            if partial.credit_move_id in lines:
                other, amount = partial.debit_move_id, partial.debit_amount_currency
            else:
                other, amount = partial.credit_move_id, partial.credit_amount_currency
            if other.move_id in documents:
                allocations[other.move_id] = allocations.get(other.move_id, 0.0) + amount
        return allocations

    @api.model
    def _allocations_of(self, payments, documents_filter, prefix):
        """``(allocations, sub_keys)`` of ``payments`` over the documents that pass the filter."""
        allocations, sub_keys = {}, {}
        for payment in payments:
            documents = self._documents(payment).filtered(documents_filter)
            alloc = self._allocations(payment, documents)
            if alloc:
                allocations[payment] = alloc
                sub_keys[payment] = [f"{prefix}{document.id}" for document in alloc]
        return allocations, sub_keys

    # ------------------------------------------------------------------
    # Customer payments
    # ------------------------------------------------------------------
    @api.model
    def _export_customer_payments(self, connection, payments):
        Service = self.env["wave.outbound.ledger.service"]
        # Invoices exported, or whose export started (still waiting for a reference):
        # the payment gets its ledger row now and is sent once the invoice is approved.
        started = self._started_invoice_ids(connection, payments)
        allocations, sub_keys = self._allocations_of(
            payments,
            lambda m: (
                m.move_type == "out_invoice"
                and m.wave_origin != "wave"
                and ((m.wave_origin == "odoo" and m.wave_id) or m.id in started)
            ),
            "inv",
        )
        if not allocations:
            return True
        payments = self.env["account.payment"].union(*allocations)
        entries = Service._entries(connection, payments, "payment", sub_keys)
        client = connection._get_client("bulk")
        lost = {k: e for k, e in entries.items() if e.state in ("sent", "outcome_unknown")}
        if lost:
            self._resolve_lost(connection, client, lost)
        items, targets, waiting = self._items(connection, entries, allocations)
        retry = waiting
        if items:
            retry |= self._send(connection, client, items, targets)
        Service._commit(connection)
        if retry and not waiting:
            raise JobRetryLater(_("Some payments could not be exported yet; retrying later."))
        return True

    @api.model
    def _started_invoice_ids(self, connection, payments):
        """Ids of the invoices ``payments`` settle whose export has a live ledger row."""
        invoices = self.env["account.move"].union(*[self._documents(p) for p in payments])
        if not invoices:
            return set()
        started = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", "invoice"),
                ("res_id", "in", invoices.ids),
                ("state", "in", ("pending", "sent", "outcome_unknown", "confirmed")),
            ]
        )
        return set(started.mapped("res_id"))

    @api.model
    def _enqueue_waiting(self, connection, moves):
        """``moves`` were just approved in Wave: export the payments that waited for them."""
        waiting = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", "payment"),
                ("state", "=", "pending"),
                ("sub_key", "in", [f"inv{move.id}" for move in moves]),
            ]
        )
        if waiting:
            self.env["wave.outbound.runner"]._enqueue(
                connection, "account.payment", waiting.mapped("res_id")
            )

    @api.model
    def _approved_invoice_ids(self, connection, allocations):
        """Ids of the allocated invoices Wave approved (only those can be paid)."""
        saga = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", "invoice"),
                ("state", "=", "confirmed"),
                ("saga_step", "in", ("approved", "sent")),
                ("res_id", "in", [inv.id for alloc in allocations.values() for inv in alloc]),
            ]
        )
        return set(saga.mapped("res_id"))

    @api.model
    def _items(self, connection, entries, allocations):
        """``(items, targets, waiting)``: the inputs to send now, and whether some wait."""
        Service = self.env["wave.outbound.ledger.service"]
        ready = self._approved_invoice_ids(connection, allocations)
        payments = self.env["account.payment"].union(*allocations)
        maps = self.env["wave.account.map"].search(
            [("connection_id", "=", connection.id), ("journal_id", "in", payments.journal_id.ids)]
        )
        account_of = {m.journal_id: m.wave_account_id for m in maps}
        business_currency = connection.business_currency or connection.company_id.currency_id.name
        items, targets, waiting = [], {}, False
        for (payment, _sub_key), entry in entries.items():
            if entry.state != "pending":
                continue
            invoice = invoice_of(entry)
            if invoice.id not in ready:
                waiting = True
                continue
            with self.env.cr.savepoint():
                account = account_of.get(payment.journal_id)
                if not account:
                    Service._fail(
                        connection,
                        entry,
                        payment,
                        _(
                            "The journal %(journal)s is not mapped to a Wave payment account "
                            "(Wave → Review → Accounts: set the journal on a bank account).",
                            journal=payment.journal_id.display_name,
                        ),
                    )
                    continue
                amount = allocations[payment][invoice]
                payload = mapper.payment_input(
                    payment, invoice, entry.external_id, account, amount, business_currency
                )
                items.append((entry, payload))
                targets[entry] = (payment, invoice)
        return items, targets, waiting

    @api.model
    def _send(self, connection, client, items, targets):
        """``invoicePaymentCreateManual`` of the items; True when a retry is needed."""
        Service = self.env["wave.outbound.ledger.service"]
        outcome = Service._send(
            connection,
            client,
            items,
            gql.INVOICE_PAYMENT_CREATE_MUTATION,
            gql.INVOICE_PAYMENT_RESULT_SELECTION,
            "invoicePayment",
            operation_name="OdooInvoicePayments",
        )
        retry, unknown = False, {}
        for entry, (status, value) in outcome.items():
            payment, invoice = targets[entry]
            with self.env.cr.savepoint():
                if status == "ok":
                    self._confirmed(connection, payment, invoice, entry, value)
                elif status == "invalid":
                    Service._fail(connection, entry, payment, value, dict(items)[entry])
                elif status == "unknown":
                    Service._mark_unknown(connection, entry, value)
                    unknown[(payment, entry.sub_key)] = entry
                else:
                    retry |= Service._transient_failure(connection, entry, value)
        Service._commit(connection)
        if unknown:
            self._resolve_lost(connection, client, unknown)
            retry |= any(e.state == "pending" for e in unknown.values())
        return retry

    @api.model
    def _confirmed(self, connection, payment, invoice, entry, node, resolution="response"):
        Service = self.env["wave.outbound.ledger.service"]
        Service._mark_confirmed(connection, entry, node.get("id"), resolution)
        if not payment.wave_id:
            Service._bind_write(
                connection, payment, {"wave_id": node.get("id"), "wave_origin": "odoo"}
            )
        wave_invoice = node.get("invoice") or {}
        if wave_invoice.get("modifiedAt"):
            Service._bind_write(
                connection,
                invoice,
                {"wave_modified_at": parse_wave_datetime(wave_invoice["modifiedAt"])},
            )
        Service._resolve_quarantine(connection, payment)

    @api.model
    def _read_invoices(self, connection, client, wave_ids):
        """``{invoice wave_id: node with its payments}``."""
        return self.env["wave.outbound.ledger.service"]._lookup(
            connection, client, "invoice", wave_ids, gql.INVOICE_WITH_PAYMENTS_FIELDS
        )

    @api.model
    def _resolve_lost(self, connection, client, lost):
        """Lost ``invoicePaymentCreateManual`` answers: look for our marker on the invoice."""
        invoices = {key: invoice_of(entry) for key, entry in lost.items()}
        wave_ids = [inv.wave_id for inv in invoices.values()]
        nodes = self._read_invoices(connection, client, wave_ids)
        for key, entry in lost.items():
            invoice = invoices[key]
            payments = (nodes.get(invoice.wave_id) or {}).get("payments") or []
            match = [p for p in payments if p and entry.external_id in (p.get("memo") or "")]
            with self.env.cr.savepoint():
                if match:
                    self._confirmed(connection, key[0], invoice, entry, match[0], "lookup")
                else:
                    entry._wave_sync_write({"state": "pending"})
        self.env["wave.outbound.ledger.service"]._commit(connection)

    # ------------------------------------------------------------------
    # Undo
    # ------------------------------------------------------------------
    @api.model
    def _stale_entries(self, connection, payments):
        """Confirmed Wave payments of ``payments`` that no longer pay their invoice in Odoo."""
        entries = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", "payment"),
                ("res_model", "=", "account.payment"),
                ("res_id", "in", payments.ids),
                ("state", "=", "confirmed"),
            ]
        )
        stale = self.env["wave.outbound.ledger"]
        for entry in entries:
            payment = entry._record()
            linked = (
                payment
                and payment.state in ("in_process", "paid")
                and invoice_of(entry) in self._documents(payment)
            )
            if not linked:
                stale |= entry
        return stale

    @api.model
    def _undo(self, connection, payments):
        """Payments cancelled, reset or unreconciled in Odoo: ``invoicePaymentDelete``."""
        stale = self._stale_entries(connection, payments)
        if not stale:
            return True
        client = connection._get_client("bulk")
        Service = self.env["wave.outbound.ledger.service"]
        answers = Service._mutate_each(
            connection,
            client,
            gql.INVOICE_PAYMENT_DELETE_MUTATION,
            [{"id": e.wave_id} for e in stale],
            "",
            "OdooInvoicePaymentDeletes",
        )
        still_there = self._still_in_wave(connection, client, stale, answers)
        retry = False
        for entry, value in zip(stale, answers, strict=True):
            with self.env.cr.savepoint():
                if isinstance(value, WaveValidationError):
                    Service._quarantine(
                        connection, entry._record(), format_reasons(value), {"id": entry.wave_id}
                    )
                elif entry.wave_id in still_there:
                    retry = True
                else:
                    entry._wave_sync_write(
                        {"state": "compensated", "error_message": _("Payment deleted in Wave")}
                    )
                    self.env["wave.audit.log"]._log_many(
                        entry, "outbound_undone", {"deleted": entry.wave_id}, "outbound"
                    )
        Service._commit(connection)
        if retry:
            raise JobRetryLater(_("Some Wave payments could not be deleted yet."))
        return True

    @api.model
    def _still_in_wave(self, connection, client, entries, answers):
        """Wave ids of the payments whose delete answer was unclear and that Wave still has."""
        unclear = [
            entry
            for entry, value in zip(entries, answers, strict=True)
            if isinstance(value, WaveError) and not isinstance(value, WaveValidationError)
        ]
        still_there = set()
        if unclear:
            invoices = [invoice_of(e).wave_id for e in unclear]
            nodes = self._read_invoices(connection, client, invoices)
            for node in nodes.values():
                still_there |= {p["id"] for p in (node or {}).get("payments") or [] if p}
        return still_there
