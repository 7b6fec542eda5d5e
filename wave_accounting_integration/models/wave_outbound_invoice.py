# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: customer invoices and their payments.

An invoice is a saga: ``invoiceCreate`` (DRAFT) → ``invoiceApprove`` →
``invoiceMarkSent`` (or ``invoiceSend`` when the connection sends by email and
the business has ``emailSendEnabled``). Many invoices travel together: one
request creates the whole batch (aliases), one request approves and marks
them all sent. A step whose answer is lost is checked by reading the invoice
back; an invoice whose creation answer is lost is found by its number.

State mapping (Odoo ↔ Wave), used both ways:

====================  =========================================================
Odoo                  Wave
====================  =========================================================
draft                 not exported; a Wave DRAFT (saga stopped after create)
                      is deleted when the Odoo invoice goes back to draft
posted, not paid      SAVED (approved) → SENT / UNPAID (marked sent) /
                      VIEWED / OVERDUE (past due date, Wave-side only)
posted, partial       PARTIAL (``amountPaid`` < total)
posted, paid          PAID (OVERPAID when Wave received more)
cancel                DRAFT → ``invoiceDelete``; approved → review (quarantine):
                      Wave's API cannot void an approved invoice
====================  =========================================================

Credit notes (``out_refund``): Wave's public API has no credit notes, and a
negative-quantity invoice would put a negative receivable on the customer
that Wave's payment flow cannot settle. They are refused into the quarantine
with that reason; the accountant records the credit in Wave by hand.

Odoo line discounts are folded into the unit price sent to Wave (Wave only
has an invoice-level discount, applied after its per-line taxes, which would
not give Odoo's tax amounts), so the subtotal, taxes and total match to the cent.
"""

from decimal import Decimal

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..lib import WaveError, WaveOutcomeUnknownError, WaveRateLimitedError, WaveValidationError
from ..lib.dates import parse_wave_datetime as wave_datetime
from .wave_outbound import OutboundRetry, format_reasons, payload_hash

INVOICE_FIELDS = (
    "id invoiceNumber status modifiedAt lastSentAt total { value } amountPaid { value }"
)
INVOICE_SELECTION = "invoice { " + INVOICE_FIELDS + " }"
PAYMENT_SELECTION = (
    "invoicePayment { id amount invoice { id status modifiedAt amountPaid { value } } }"
)
SAGA_CHUNK = 20  # invoices per approve + markSent request (2 aliases each)
LOOKUP_PAGE_SIZE = 100  # invoices per page when looking up lost numbers


def changed_groups(before, after):
    """Conflict-policy groups (``amounts``, ``taxes``, ``partner``, ``other``) of the
    fields that differ between two ``InvoiceCreateInput`` payloads."""
    if not before:
        return {"amounts"}

    def split(payload):
        items = payload.get("items") or []
        return {
            "partner": payload.get("customerId"),
            "amounts": (
                payload.get("currency"),
                payload.get("exchangeRate"),
                [(i.get("productId"), i.get("quantity"), i.get("unitPrice")) for i in items],
            ),
            "taxes": [
                sorted(t.get("salesTaxId") or "" for t in i.get("taxes") or []) for i in items
            ],
            "other": (
                payload.get("invoiceNumber"),
                payload.get("invoiceDate"),
                payload.get("dueDate"),
                payload.get("poNumber"),
                [i.get("description") for i in items],
            ),
        }

    old, new = split(before), split(after)
    return {group for group in new if old[group] != new[group]}


def saga_step_of(node):
    """Saga step reached by a Wave invoice, from its status."""
    if not node:
        return "none"
    if node.get("status") == "DRAFT":
        return "created"
    if node.get("lastSentAt") or node.get("status") in ("SENT", "VIEWED", "PAID", "OVERPAID"):
        return "sent"
    return "approved"


class WaveApi(models.Model):
    _inherit = "wave.api"

    # ------------------------------------------------------------------
    # Invoices
    # ------------------------------------------------------------------
    def _outbound_export_invoices(self, moves):
        self.ensure_one()
        moves = moves.filtered(lambda m: m.company_id == self.company_id)
        from_wave = moves.filtered(lambda m: m.wave_origin == "wave")
        if from_wave:
            self.env["wave.audit.log"]._log_many(
                from_wave, "outbound_skipped", {"reason": "imported from Wave"}, "outbound"
            )
        moves = (moves - from_wave).filtered(lambda m: m.state == "posted")
        refunds = moves.filtered(lambda m: m.move_type == "out_refund")
        for refund in refunds:
            self._outbound_quarantine(
                refund,
                _(
                    "Wave's public API has no credit notes: credit note %(name)s is not "
                    "exported. Record the credit in Wave by hand, then discard this entry.",
                    name=refund.name,
                ),
                {"move_type": "out_refund", "amount_total": refund.amount_total},
            )
        invoices = moves - refunds
        if not invoices:
            return True
        client = self._get_client("bulk")
        entries = {
            move: entry
            for (move, _sub), entry in self._outbound_entries(invoices, "invoice").items()
        }
        lost = {m: e for m, e in entries.items() if e.state in ("sent", "outcome_unknown")}
        if lost:
            self._outbound_resolve_invoices(client, lost)
        todo = invoices.filtered(lambda m: entries[m].state in ("pending", "confirmed"))
        if not todo:
            return True
        lines = todo.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        failures = self._outbound_ensure_dependencies(
            client,
            todo.commercial_partner_id,
            lines.product_id,
            lines.tax_ids.flatten_taxes_hierarchy(),
            need_generic=any(not line.product_id for line in lines),
        )
        creates, updates, advance = [], [], []
        for move in todo:
            entry = entries[move]
            with self.env.cr.savepoint():
                move_lines = move.invoice_line_ids.filtered(
                    lambda line: line.display_type == "product"
                )
                needed = [
                    move.commercial_partner_id,
                    *move_lines.product_id,
                    *move_lines.tax_ids.flatten_taxes_hierarchy(),
                ]
                if any(not line.product_id for line in move_lines):
                    needed.append(self)
                blockers = [failures[rec] for rec in needed if rec in failures]
                if blockers:
                    self._outbound_fail(
                        entry if entry.state == "pending" else None,
                        move,
                        "\n".join(f"- {reason}" for reason in blockers),
                    )
                    continue
                try:
                    payload = self._outbound_invoice_input(move)
                except UserError as error:
                    self._outbound_fail(entry, move, str(error))
                    continue
                if entry.state == "pending":
                    creates.append((entry, payload))
                elif entry.payload_hash and entry.payload_hash != payload_hash(payload):
                    updates.append((move, entry, payload))
                elif entry.saga_step in ("created", "approved"):
                    advance.append((move, entry))
        retry = False
        if creates:
            retry |= self._outbound_create_invoices(client, creates, entries, advance)
        if updates:
            self._outbound_update_invoices(client, updates, advance)
        if advance:
            retry |= self._outbound_advance_invoices(client, advance)
        self._outbound_commit()
        if retry:
            raise OutboundRetry(_("Some invoices could not be exported yet; retrying later."))
        return True

    def _outbound_create_invoices(self, client, creates, entries, advance):
        """``invoiceCreate`` for the batch; returns True when a retry is needed."""
        moves_by_entry = {entry: move for move, entry in entries.items()}
        outcome = self._outbound_send(
            client,
            creates,
            "invoiceCreate",
            INVOICE_SELECTION,
            "invoice",
            operation_name="OdooInvoiceCreates",
        )
        payloads = dict(creates)
        retry, unknown = False, {}
        for entry, (status, value) in outcome.items():
            move = moves_by_entry[entry]
            with self.env.cr.savepoint():
                if status == "ok":
                    self._outbound_invoice_confirmed(move, entry, value, payloads[entry])
                    advance.append((move, entry))
                elif status == "invalid":
                    self._outbound_fail(entry, move, value, payloads[entry])
                elif status == "unknown":
                    self._outbound_mark_unknown(entry, value)
                    unknown[move] = entry
                else:
                    retry |= self._outbound_transient_failure(entry, value)
        self._outbound_commit()
        if unknown:
            self._outbound_resolve_invoices(client, unknown)
            for move, entry in unknown.items():
                if entry.state == "confirmed":
                    advance.append((move, entry))
                else:
                    retry = True  # not in Wave: safe to create it on the next run
        return retry

    def _outbound_invoice_confirmed(self, move, entry, node, payload, resolution="response"):
        self._outbound_mark_confirmed(
            entry,
            node.get("id"),
            resolution,
            saga_step=saga_step_of(node),
            payload_hash=payload_hash(payload) if payload else entry.payload_hash,
        )
        self._outbound_bind_invoice(move, node)

    def _outbound_bind_invoice(self, move, node):
        vals = {"wave_origin": "odoo"}
        if node.get("id"):
            vals["wave_id"] = node["id"]
        if node.get("modifiedAt"):
            vals["wave_modified_at"] = wave_datetime(node["modifiedAt"])
        # sudo: binding fields are written by the sync, whoever posted the invoice.
        move.sudo().write(vals)

    def _outbound_invoice_input(self, move):
        """``InvoiceCreateInput`` of a posted customer invoice."""
        if not move.commercial_partner_id.wave_id:
            raise UserError(_("The customer of %s has no Wave customer.", move.name))
        items = []
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            if not line.quantity:
                continue
            taxes = line.tax_ids.flatten_taxes_hierarchy()
            item = {
                "productId": line.product_id.wave_id or self.outbound_generic_product_wave_id,
                "description": line.name or line.product_id.display_name or "",
                "quantity": str(Decimal(str(line.quantity)).normalize()),
                "unitPrice": self._outbound_unit_price(line),
                "taxes": [{"salesTaxId": tax.wave_id} for tax in taxes],
            }
            if not item["productId"]:
                raise UserError(_("Line %s has no Wave product.", line.display_name))
            items.append(item)
        if not items:
            raise UserError(_("Invoice %s has no line Wave can invoice.", move.name))
        payload = {
            "businessId": self.business_id,
            "customerId": move.commercial_partner_id.wave_id,
            "status": "DRAFT",
            "invoiceNumber": move.name,
            "invoiceDate": fields.Date.to_string(move.invoice_date),
            "dueDate": fields.Date.to_string(move.invoice_date_due or move.invoice_date),
            "currency": move.currency_id.name,
            "items": items,
        }
        if move.ref:
            payload["poNumber"] = move.ref[:100]
        business_currency = self.business_currency or self.company_id.currency_id.name
        if move.currency_id.name != business_currency and move.invoice_currency_rate:
            payload["exchangeRate"] = str(round(1.0 / move.invoice_currency_rate, 6))
        return payload

    def _outbound_unit_price(self, line):
        """Unit price without tax and after the line discount, exact to the cent."""
        currency = line.currency_id
        quantity = Decimal(str(line.quantity))
        subtotal = Decimal(str(currency.round(line.price_subtotal)))
        price = Decimal(str(line.price_unit)) * (1 - Decimal(str(line.discount or 0)) / 100)
        exponent = Decimal(1).scaleb(-currency.decimal_places)
        if (quantity * price).quantize(exponent) == subtotal.quantize(exponent):
            return str(price.normalize())
        return str((subtotal / quantity).quantize(Decimal("0.0000000001")).normalize())

    # ------------------------------------------------------------------
    # Saga: approve + mark sent (or send)
    # ------------------------------------------------------------------
    def _outbound_email_enabled(self, client):
        data = self._outbound_query(
            client,
            "query OdooBusinessEmail($id: ID!) { business(id: $id) { id emailSendEnabled } }",
            {"id": self.business_id},
        )
        return bool((data.get("business") or {}).get("emailSendEnabled"))

    def _outbound_advance_invoices(self, client, advance):
        """Approve and mark sent many invoices in one request; True when a retry is needed."""
        pending = [(m, e) for m, e in advance if e.state == "confirmed" and e.saga_step != "sent"]
        if not pending:
            return False
        send_by_email = False
        if self.invoice_send_mode == "send":
            send_by_email = self._outbound_email_enabled(client)
            if not send_by_email:
                self._outbound_log_send_fallback(
                    [m for m, _e in pending],
                    _(
                        "The Wave business cannot send emails (emailSendEnabled is off): "
                        "the invoice is marked as sent instead; send it from Odoo."
                    ),
                )
        retry = False
        for start in range(0, len(pending), SAGA_CHUNK):
            chunk = pending[start : start + SAGA_CHUNK]
            batch, owners = [], {}
            for i, (move, entry) in enumerate(chunk):
                if entry.saga_step == "created":
                    batch.append(
                        (f"a{i}", "invoiceApprove", {"invoiceId": entry.wave_id}, INVOICE_SELECTION)
                    )
                    owners[f"a{i}"] = (move, entry, "approved")
                email = move.partner_id.email or move.commercial_partner_id.email
                if send_by_email and not email:
                    self._outbound_log_send_fallback(
                        [move],
                        _(
                            "The customer has no email address: the invoice is marked as sent "
                            "in Wave instead of being emailed."
                        ),
                    )
                if send_by_email and email:
                    send = (
                        "invoiceSend",
                        {"invoiceId": entry.wave_id, "to": [email], "attachPDF": True},
                    )
                else:
                    send = (
                        "invoiceMarkSent",
                        {"invoiceId": entry.wave_id, "sendMethod": "MARKED_SENT"},
                    )
                batch.append((f"s{i}", send[0], send[1], INVOICE_SELECTION))
                owners[f"s{i}"] = (move, entry, "sent")
            try:
                answer = client.mutate_many(batch, operation_name="OdooInvoiceApproveSend")
            except WaveRateLimitedError:
                raise
            except WaveOutcomeUnknownError as error:
                answer = dict.fromkeys(owners, error)
            except WaveValidationError as error:
                answer = dict.fromkeys(owners, error)
            except WaveError as error:
                answer = {alias: OutboundRetry(str(error)) for alias in owners}
            retry |= self._outbound_saga_results(client, chunk, owners, answer)
            self._outbound_commit()
        return retry

    def _outbound_log_send_fallback(self, moves, reason):
        """``invoiceSend`` was asked but cannot be used: say so on each invoice."""
        moves = self.env["account.move"].union(*moves)
        self.env["wave.audit.log"]._log_many(
            moves, "outbound_send_fallback", {"reason": reason}, "outbound"
        )
        for move in moves:
            move.message_post(body=reason)

    def _outbound_saga_results(self, client, chunk, owners, answer):
        retry = False
        to_check = {}
        for alias, (move, entry, step) in owners.items():
            value = answer.get(alias)
            if isinstance(value, WaveValidationError):
                if step == "sent" and entry.saga_step == "created":
                    continue  # failed because the approval before it failed
                with self.env.cr.savepoint():
                    self._outbound_quarantine(
                        move,
                        _(
                            "Wave refused to %(step)s the invoice:\n%(reasons)s",
                            step=_("approve") if step == "approved" else _("send"),
                            reasons=format_reasons(value),
                        ),
                        {"invoiceId": entry.wave_id, "step": step},
                    )
            elif isinstance(value, Exception):
                to_check[move] = (entry, value)
            else:
                node = (value or {}).get("invoice") or {}
                entry.saga_step = step
                self._outbound_bind_invoice(move, node)
        if to_check:
            # Lost or failed answers: read the invoices back to see how far they got.
            nodes = self._outbound_read_invoices(client, [e.wave_id for e, _v in to_check.values()])
            for move, (entry, error) in to_check.items():
                with self.env.cr.savepoint():
                    node = nodes.get(entry.wave_id)
                    if node:
                        entry.saga_step = saga_step_of(node)
                        self._outbound_bind_invoice(move, node)
                    if entry.saga_step != "sent":
                        retry |= self._outbound_transient_failure(entry, error)
        for move, entry in chunk:
            if entry.state == "confirmed" and entry.saga_step == "sent":
                entry.write({"attempts": 0, "error_message": False})
                self._outbound_resolve_quarantine(move)
                self.env["wave.audit.log"]._log_many(
                    move, "outbound_exported", {"wave_id": entry.wave_id}, "outbound"
                )
        return retry

    def _outbound_read_invoices(self, client, wave_ids):
        from ..lib import WaveError as _WaveError

        try:
            return client.lookup_many(self.business_id, "invoice", wave_ids, INVOICE_FIELDS)
        except WaveRateLimitedError:
            raise
        except _WaveError as error:
            raise OutboundRetry(str(error)) from None

    def _outbound_resolve_invoices(self, client, lost):
        """Find invoices whose create answer was lost, by number (exact match).

        Wave's ``invoiceNumber`` filter matches substrings: the first page of
        every number travels in one aliased request, and the numbers with more
        matches than a page are paged through (``client.iterate``).
        """
        numbers = list(lost)
        node_fields = f"{INVOICE_FIELDS} customer {{ id }}"
        params = ", ".join(["$businessId: ID!"] + [f"$n{i}: String" for i in range(len(numbers))])
        body = " ".join(
            f"f{i}: invoices(invoiceNumber: $n{i}, page: 1, pageSize: {LOOKUP_PAGE_SIZE}) "
            f"{{ pageInfo {{ currentPage totalPages }} edges {{ node {{ {node_fields} }} }} }}"
            for i in range(len(numbers))
        )
        query = f"query OdooFindInvoices({params}) {{ business(id: $businessId) {{ {body} }} }}"
        variables = {"businessId": self.business_id}
        variables.update({f"n{i}": move.name for i, move in enumerate(numbers)})
        data = self._outbound_query(client, query, variables)
        business = data.get("business") or {}
        for i, move in enumerate(numbers):
            entry = lost[move]
            connection = business.get(f"f{i}") or {}
            nodes = [e["node"] for e in connection.get("edges") or [] if e and e.get("node")]
            if ((connection.get("pageInfo") or {}).get("totalPages") or 1) > 1:
                nodes += self._outbound_invoices_numbered(client, move.name, node_fields)
            # Exact number (the filter matches substrings) and same customer; newest first.
            customer = (entry.request_summary or {}).get("customerId")
            exact = [
                node
                for node in nodes
                if node["invoiceNumber"] == move.name
                and (not customer or (node.get("customer") or {}).get("id") == customer)
            ]
            with self.env.cr.savepoint():
                if exact:
                    self._outbound_invoice_confirmed(
                        move, entry, exact[0], entry.request_summary, resolution="lookup"
                    )
                    self.env["wave.audit.log"]._log_many(
                        entry,
                        "outbound_resolved",
                        {"found": exact[0]["id"], "duplicates": len(exact) - 1},
                        "outbound",
                    )
                else:
                    entry.write({"state": "pending"})
        self._outbound_commit()

    def _outbound_invoices_numbered(self, client, number, node_fields):
        """Pages 2.. of the invoices whose number contains ``number`` (newest first)."""
        query = (
            "query OdooFindInvoicesPage($businessId: ID!, $number: String, $page: Int, "
            "$pageSize: Int) { business(id: $businessId) { invoices(invoiceNumber: $number, "
            "page: $page, pageSize: $pageSize) { pageInfo { currentPage totalPages totalCount } "
            f"edges {{ node {{ {node_fields} }} }} }} }} }}"
        )
        try:
            return list(
                client.iterate(
                    query,
                    {"businessId": self.business_id, "number": number},
                    "business.invoices",
                    page_size=LOOKUP_PAGE_SIZE,
                    start_page=2,
                )
            )
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            raise OutboundRetry(str(error)) from None

    # ------------------------------------------------------------------
    # Changes, conflicts, reset / cancel
    # ------------------------------------------------------------------
    def _outbound_update_invoices(self, client, updates, advance):
        """An exported invoice changed in Odoo: patch Wave drafts, review the rest."""
        nodes = self._outbound_read_invoices(client, [e.wave_id for _m, e, _p in updates])
        patches = []
        for move, entry, payload in updates:
            node = nodes.get(entry.wave_id)
            with self.env.cr.savepoint():
                if not node:
                    self._outbound_quarantine(
                        move, _("The Wave invoice %s no longer exists.", entry.wave_id), payload
                    )
                    continue
                wave_changed = (
                    move.wave_modified_at
                    and wave_datetime(node.get("modifiedAt")) > move.wave_modified_at
                )
                groups = changed_groups(entry.request_summary, payload)
                policy = self._outbound_conflict_policy(groups) if wave_changed else "odoo"
                if wave_changed and policy == "wave":
                    self.env["wave.audit.log"]._log_many(
                        move,
                        "conflict",
                        {"policy": "wave", "kept": "wave", "changed": sorted(groups)},
                        "outbound",
                    )
                    continue
                if (wave_changed and policy == "review") or node.get("status") != "DRAFT":
                    reason = (
                        _("The invoice changed in Odoo and in Wave since the last export.")
                        if wave_changed
                        else _(
                            "The invoice changed in Odoo but is already approved in Wave "
                            "(status %s): Wave only lets drafts be changed.",
                            node["status"],
                        )
                    )
                    self._outbound_quarantine(move, reason, payload)
                    continue
                patch = dict(payload)
                patch.pop("businessId", None)
                patch["id"] = entry.wave_id
                patches.append((entry, patch, move, payload))
        if not patches:
            return
        batch = [
            (f"u{i}", "invoicePatch", p, INVOICE_SELECTION)
            for i, (_e, p, _m, _x) in enumerate(patches)
        ]
        try:
            answer = client.mutate_many(batch, operation_name="OdooInvoicePatches")
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            answer = {f"u{i}": error for i in range(len(patches))}
        for i, (entry, patch, move, payload) in enumerate(patches):
            value = answer.get(f"u{i}")
            with self.env.cr.savepoint():
                if isinstance(value, WaveError):
                    # A patch is idempotent: a later run sends it again.
                    self._outbound_quarantine(move, format_reasons(value), patch)
                else:
                    node = value.get("invoice") or {}
                    entry.write(
                        {
                            "payload_hash": payload_hash(payload),
                            "saga_step": saga_step_of(node),
                            "request_summary": payload,
                        }
                    )
                    self._outbound_bind_invoice(move, node)
                    advance.append((move, entry))

    def _outbound_conflict_policy(self, groups):
        """Policy for an invoice changed on both sides: the strictest of the changed groups.

        ``review`` beats ``wave`` (Wave's version is kept), which beats ``odoo``.
        """
        policies = {getattr(self, f"conflict_policy_{group}") for group in groups}
        for policy in ("review", "wave", "odoo"):
            if policy in policies:
                return policy
        return "review"

    def _outbound_reset_invoices(self, moves):
        """Odoo invoices reset to draft or cancelled: delete Wave drafts, review others."""
        entries = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", self.id),
                ("res_model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                ("state", "=", "confirmed"),
            ]
        )
        entries = entries.filtered(lambda e: e._record() and e._record().state != "posted")
        if not entries:
            return True
        client = self._get_client("bulk")
        invoice_entries = entries.filtered(lambda e: e.kind == "invoice")
        nodes = self._outbound_read_invoices(client, invoice_entries.mapped("wave_id"))
        for entry in entries - invoice_entries:
            self._outbound_quarantine(
                entry._record(),
                _(
                    "This entry was sent to Wave as money transaction %s, which Wave's API cannot "
                    "delete: delete it by hand in Wave, then discard this.",
                    entry.wave_id,
                ),
            )
        deletes = []
        for entry in invoice_entries:
            node = nodes.get(entry.wave_id)
            move = entry._record()
            if not node:
                self._outbound_unbind_invoice(entry, move, _("already gone from Wave"))
            elif node["status"] == "DRAFT":
                deletes.append(entry)
            else:
                self._outbound_quarantine(
                    move,
                    _(
                        "Invoice %(name)s was reset or cancelled in Odoo but is %(status)s "
                        "in Wave; Wave's API cannot void it: adjust it in Wave.",
                        name=move.name,
                        status=node["status"],
                    ),
                    {"wave_id": entry.wave_id, "status": node["status"]},
                )
        if deletes:
            self._outbound_delete_invoices(client, deletes)
        self._outbound_commit()
        return True

    def _outbound_delete_invoices(self, client, entries):
        """``invoiceDelete`` of Wave drafts; returns the entries actually deleted."""
        batch = [
            (f"x{i}", "invoiceDelete", {"invoiceId": e.wave_id}, "") for i, e in enumerate(entries)
        ]
        try:
            answer = client.mutate_many(batch, operation_name="OdooInvoiceDeletes")
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            answer = {f"x{i}": error for i in range(len(entries))}
        done = self.env["wave.outbound.ledger"]
        unclear = [e for i, e in enumerate(entries) if isinstance(answer.get(f"x{i}"), WaveError)]
        gone = set()
        if unclear:
            try:
                nodes = self._outbound_read_invoices(client, [e.wave_id for e in unclear])
            except OutboundRetry:
                nodes = {e.wave_id: True for e in unclear}
            gone = {e.wave_id for e in unclear if not nodes.get(e.wave_id)}
        for entry in entries:
            if entry in unclear and entry.wave_id not in gone:
                continue
            self._outbound_unbind_invoice(entry, entry._record(), _("Wave draft deleted"))
            done |= entry
        return done

    def _outbound_unbind_invoice(self, entry, move, note):
        entry.write({"state": "compensated", "error_message": note})
        if move:
            # sudo: binding fields are written by the sync.
            move.sudo().write({"wave_id": False, "wave_origin": False, "wave_modified_at": False})
        self.env["wave.audit.log"]._log_many(entry, "outbound_undone", {"note": note}, "outbound")

    def _outbound_compensate_invoice(self, entry, move):
        """Undo an invoice saga in Wave; a text of what was undone, or None."""
        client = self._get_client("bulk")
        try:
            node = self._outbound_read_invoices(client, [entry.wave_id]).get(entry.wave_id)
        except OutboundRetry:
            return None
        if node and node["status"] != "DRAFT":
            return None
        if node and not self._outbound_delete_invoices(client, entry):
            return None
        undone = _("Wave draft invoice deleted")
        if move and self.compensate_odoo_side and move.state == "posted":
            move.with_context(wave_no_outbound=True).button_draft()
            undone = _("Wave draft invoice deleted and Odoo invoice reset to draft")
        return undone

    # ------------------------------------------------------------------
    # Customer payments
    # ------------------------------------------------------------------
    def _outbound_payment_documents(self, payment):
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
            lambda line: line.account_id.account_type in ("asset_receivable", "liability_payable")
        )
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        moves = (partials.debit_move_id | partials.credit_move_id).move_id - payment.move_id
        return moves.filtered(lambda m: m.is_invoice(include_receipts=True))

    def _outbound_payment_allocations(self, payment, documents):
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
            lambda line: line.account_id.account_type in ("asset_receivable", "liability_payable")
        )
        for partial in lines.matched_debit_ids | lines.matched_credit_ids:
            if partial.credit_move_id in lines:
                other, amount = partial.debit_move_id, partial.debit_amount_currency
            else:
                other, amount = partial.credit_move_id, partial.credit_amount_currency
            if other.move_id in documents:
                allocations[other.move_id] = allocations.get(other.move_id, 0.0) + amount
        return allocations

    def _outbound_export_payments(self, payments):
        self.ensure_one()
        payments = payments.filtered(
            lambda p: (
                p.company_id == self.company_id
                and p.state in ("in_process", "paid")
                and p.wave_origin != "wave"
            )
        )
        customer = payments.filtered(lambda p: p.partner_type == "customer")
        supplier = payments - customer
        if customer:
            self._outbound_export_customer_payments(customer)
        if supplier:
            self._outbound_export_bill_payments(supplier)
        return True

    def _outbound_export_customer_payments(self, payments):
        allocations, sub_keys = {}, {}
        for payment in payments:
            invoices = self._outbound_payment_documents(payment).filtered(
                lambda m: m.move_type == "out_invoice" and m.wave_origin == "odoo" and m.wave_id
            )
            alloc = self._outbound_payment_allocations(payment, invoices)
            if alloc:
                allocations[payment] = alloc
                sub_keys[payment] = [f"inv{inv.id}" for inv in alloc]
        if not allocations:
            return True
        payments = self.env["account.payment"].union(*allocations)
        # Only invoices Wave approved can be paid.
        saga = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", self.id),
                ("kind", "=", "invoice"),
                ("state", "=", "confirmed"),
                ("saga_step", "in", ("approved", "sent")),
                ("res_id", "in", [inv.id for alloc in allocations.values() for inv in alloc]),
            ]
        )
        ready = set(saga.mapped("res_id"))
        entries = self._outbound_entries(payments, "payment", sub_keys)
        client = self._get_client("bulk")
        lost = {k: e for k, e in entries.items() if e.state in ("sent", "outcome_unknown")}
        if lost:
            self._outbound_resolve_payments(client, lost)
        maps = self.env["wave.account.map"].search(
            [("connection_id", "=", self.id), ("journal_id", "in", payments.journal_id.ids)]
        )
        account_of = {m.journal_id: m.wave_account_id for m in maps}
        items, targets, waiting = [], {}, False
        for (payment, sub_key), entry in entries.items():
            if entry.state != "pending":
                continue
            invoice = self.env["account.move"].browse(int(sub_key[3:]))
            if invoice.id not in ready:
                waiting = True
                continue
            with self.env.cr.savepoint():
                account = account_of.get(payment.journal_id)
                if not account:
                    self._outbound_fail(
                        entry,
                        payment,
                        _(
                            "The journal %(journal)s is not mapped to a Wave payment account "
                            "(Wave → Mapping → Accounts: set the journal on a bank account).",
                            journal=payment.journal_id.display_name,
                        ),
                    )
                    continue
                payload = self._outbound_payment_input(
                    payment, invoice, entry, account, allocations[payment][invoice]
                )
                items.append((entry, payload))
                targets[entry] = (payment, invoice)
        retry = waiting
        if items:
            outcome = self._outbound_send(
                client,
                items,
                "invoicePaymentCreateManual",
                PAYMENT_SELECTION,
                "invoicePayment",
                operation_name="OdooInvoicePayments",
            )
            unknown = {}
            for entry, (status, value) in outcome.items():
                payment, invoice = targets[entry]
                with self.env.cr.savepoint():
                    if status == "ok":
                        self._outbound_payment_confirmed(payment, invoice, entry, value)
                    elif status == "invalid":
                        self._outbound_fail(entry, payment, value, dict(items)[entry])
                    elif status == "unknown":
                        self._outbound_mark_unknown(entry, value)
                        unknown[(payment, entry.sub_key)] = entry
                    else:
                        retry |= self._outbound_transient_failure(entry, value)
            self._outbound_commit()
            if unknown:
                self._outbound_resolve_payments(client, unknown)
                retry |= any(e.state == "pending" for e in unknown.values())
        self._outbound_commit()
        if retry and not waiting:
            raise OutboundRetry(_("Some payments could not be exported yet; retrying later."))
        return True

    def _outbound_payment_input(self, payment, invoice, entry, account, amount):
        methods = {"cash": "CASH", "bank": "BANK_TRANSFER", "credit": "CREDIT_CARD"}
        payload = {
            "invoiceId": invoice.wave_id,
            "paymentAccountId": account,
            "amount": f"{amount:.{invoice.currency_id.decimal_places}f}",
            "paymentDate": fields.Date.to_string(payment.date),
            "paymentMethod": methods.get(payment.journal_id.type, "OTHER"),
            "exchangeRate": "1",
            "memo": f"{payment.name} [{entry.external_id}]",
        }
        business_currency = self.business_currency or self.company_id.currency_id.name
        if invoice.currency_id.name != business_currency and invoice.invoice_currency_rate:
            payload["exchangeRate"] = str(round(1.0 / invoice.invoice_currency_rate, 6))
        return payload

    def _outbound_payment_confirmed(self, payment, invoice, entry, node, resolution="response"):
        self._outbound_mark_confirmed(entry, node.get("id"), resolution)
        if not payment.wave_id:
            # sudo: binding fields are written by the sync.
            payment.sudo().write({"wave_id": node.get("id"), "wave_origin": "odoo"})
        wave_invoice = node.get("invoice") or {}
        if wave_invoice.get("modifiedAt"):
            invoice.sudo().wave_modified_at = wave_datetime(wave_invoice["modifiedAt"])
        self._outbound_resolve_quarantine(payment)

    def _outbound_resolve_payments(self, client, lost):
        """Lost ``invoicePaymentCreateManual`` answers: look for our marker on the invoice."""
        invoices = {
            key: self.env["account.move"].browse(int(entry.sub_key[3:]))
            for key, entry in lost.items()
        }
        nodes = self._outbound_read_payments(client, [inv.wave_id for inv in invoices.values()])
        for key, entry in lost.items():
            invoice = invoices[key]
            payments = (nodes.get(invoice.wave_id) or {}).get("payments") or []
            match = [p for p in payments if p and entry.external_id in (p.get("memo") or "")]
            with self.env.cr.savepoint():
                if match:
                    self._outbound_payment_confirmed(key[0], invoice, entry, match[0], "lookup")
                else:
                    entry.write({"state": "pending"})
        self._outbound_commit()

    def _outbound_read_payments(self, client, wave_ids):
        try:
            return client.lookup_many(
                self.business_id,
                "invoice",
                wave_ids,
                "id modifiedAt status amountPaid { value } payments { id amount memo }",
            )
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            raise OutboundRetry(str(error)) from None

    def _outbound_undo_payments(self, payments):
        """Payments cancelled, reset or unreconciled in Odoo: ``invoicePaymentDelete``."""
        entries = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", self.id),
                ("kind", "=", "payment"),
                ("res_model", "=", "account.payment"),
                ("res_id", "in", payments.ids),
                ("state", "=", "confirmed"),
            ]
        )
        stale = self.env["wave.outbound.ledger"]
        for entry in entries:
            payment = entry._record()
            invoice = self.env["account.move"].browse(int(entry.sub_key[3:]))
            linked = (
                payment
                and payment.state in ("in_process", "paid")
                and invoice in self._outbound_payment_documents(payment)
            )
            if not linked:
                stale |= entry
        if not stale:
            return True
        client = self._get_client("bulk")
        batch = [
            (f"x{i}", "invoicePaymentDelete", {"id": e.wave_id}, "") for i, e in enumerate(stale)
        ]
        try:
            answer = client.mutate_many(batch, operation_name="OdooInvoicePaymentDeletes")
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            answer = {f"x{i}": error for i in range(len(stale))}
        unclear = [
            e
            for i, e in enumerate(stale)
            if isinstance(answer.get(f"x{i}"), WaveError)
            and not isinstance(answer.get(f"x{i}"), WaveValidationError)
        ]
        still_there = set()
        if unclear:
            invoices = [
                self.env["account.move"].browse(int(e.sub_key[3:])).wave_id for e in unclear
            ]
            nodes = self._outbound_read_payments(client, invoices)
            for node in nodes.values():
                still_there |= {p["id"] for p in (node or {}).get("payments") or [] if p}
        retry = False
        for i, entry in enumerate(stale):
            value = answer.get(f"x{i}")
            with self.env.cr.savepoint():
                if isinstance(value, WaveValidationError):
                    self._outbound_quarantine(
                        entry._record(), format_reasons(value), {"id": entry.wave_id}
                    )
                elif entry.wave_id in still_there:
                    retry = True
                else:
                    entry.write(
                        {"state": "compensated", "error_message": _("Payment deleted in Wave")}
                    )
                    self.env["wave.audit.log"]._log_many(
                        entry, "outbound_undone", {"deleted": entry.wave_id}, "outbound"
                    )
        self._outbound_commit()
        if retry:
            raise OutboundRetry(_("Some Wave payments could not be deleted yet."))
        return True
