# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: customer invoices, created in Wave (the first step of their saga).

Many invoices travel together: one request creates the whole batch (aliases);
``wave.invoice.saga`` then approves and marks them sent. An invoice whose
creation answer is lost is found by its number. An exported invoice changed in
Odoo patches the Wave draft, or goes to review when Wave changed too (conflict
policies) or already approved it.

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
"""

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import WaveError
from ..lib.dates import parse_wave_datetime
from ..mappers import invoice_outbound as mapper
from .job_guard import JobRetryLater
from .outbound_ledger_service import format_reasons, payload_hash

LOOKUP_PAGE_SIZE = 100  # invoices per page when looking up lost numbers


class WaveInvoiceExporter(models.AbstractModel):
    _name = "wave.invoice.exporter"
    _inherit = "wave.document.exporter"
    _description = "Wave Export of Customer Invoices"

    _document_kind = "invoice"
    _create_mutation = gql.INVOICE_CREATE_MUTATION
    _result_selection = gql.INVOICE_RESULT_SELECTION
    _result_key = "invoice"
    _create_operation = "OdooInvoiceCreates"
    _lookup_collection = "invoices"
    _lookup_number_field = "invoiceNumber"
    _quantity_field = "quantity"

    @api.model
    def _export(self, connection, moves):
        connection.ensure_one()
        moves = moves.filtered(lambda m: m.company_id == connection.company_id)
        from_wave = moves.filtered(lambda m: m.wave_origin == "wave")
        if from_wave:
            self.env["wave.audit.log"]._log_many(
                from_wave, "outbound_skipped", {"reason": "imported from Wave"}, "outbound"
            )
        moves = (moves - from_wave).filtered(lambda m: m.state == "posted")
        refunds = moves.filtered(lambda m: m.move_type == "out_refund")
        for refund in refunds:
            self._refuse_refund(connection, refund)
        # Invoices of an order whose estimate is in Wave: Wave converts the estimate.
        converting = self.env["wave.estimate.invoicing"]._convert(connection, moves - refunds)
        done = self._export_documents(connection, moves - refunds - converting)
        if converting:
            raise JobRetryLater(self._retry_message())
        return done

    # ------------------------------------------------------------------
    # The shared export's hooks (wave.document.exporter)
    # ------------------------------------------------------------------
    @api.model
    def _document_lines(self, record):
        return mapper.invoice_product_lines(record) - self._estimate_discount_lines(record)

    @api.model
    def _estimate_discount_lines(self, moves):
        """The lines of ``moves`` that are their Wave estimate's discount, once an invoice
        is (or is being) converted from that estimate (``wave.estimate.invoicing``):
        they go to Wave as the invoice's discount, not as items."""
        converting = self.env.context.get("wave_estimate_discount")
        lines = moves.invoice_line_ids.browse()
        for move in moves.filtered(lambda m: converting or m.wave_estimate_id):
            lines |= mapper.estimate_discount_lines(move, move.company_id.sale_discount_product_id)
        return lines

    @api.model
    def _line_taxes(self, lines):
        return lines.tax_ids.flatten_taxes_hierarchy()

    @api.model
    def _still_exportable(self, record):
        return record.state == "posted"

    @api.model
    def _saga_step_of(self, node):
        return mapper.saga_step_of(node)

    @api.model
    def _needs_advance(self, record, entry):
        return entry.saga_step in ("created", "approved")

    @api.model
    def _advance(self, connection, client, advance):
        return self.env["wave.invoice.saga"]._advance(connection, client, advance)

    @api.model
    def _read(self, connection, client, wave_ids):
        return self.env["wave.invoice.saga"]._read(connection, client, wave_ids)

    @api.model
    def _send_fallback_reason(self, why):
        if why == "business":
            return _(
                "The Wave business cannot send emails (emailSendEnabled is off): "
                "the invoice is marked as sent instead; send it from Odoo."
            )
        return _(
            "The customer has no email address: the invoice is marked as sent "
            "in Wave instead of being emailed."
        )

    @api.model
    def _numbered_query(self, count):
        return gql.invoices_numbered_query(count, LOOKUP_PAGE_SIZE)

    @api.model
    def _numbered_page_query(self):
        return gql.INVOICES_NUMBERED_PAGE_QUERY

    @api.model
    def _retry_message(self):
        return _("Some invoices could not be exported yet; retrying later.")

    @api.model
    def _refuse_refund(self, connection, refund):
        self.env["wave.outbound.ledger.service"]._quarantine(
            connection,
            refund,
            _(
                "Wave's public API has no credit notes: credit note %(name)s is not "
                "exported. Record the credit in Wave by hand, then discard this entry.",
                name=refund.name,
            ),
            {"move_type": "out_refund", "amount_total": refund.amount_total},
        )

    @api.model
    def _currency_problem(self, move):
        return _(
            "Wave does not know the currency %(code)s (it is not in Wave's list of "
            "currencies): invoice %(name)s cannot be sent to Wave. Record it in Wave by "
            "hand, or issue it in another currency, then discard or replay this entry.",
            code=move.currency_id.name,
            name=move.name,
        )

    @api.model
    def _no_lines_problem(self, move):
        return _("Invoice %s has no line Wave can invoice.", move.name)

    @api.model
    def _input(self, connection, move):
        """``InvoiceCreateInput`` of a posted customer invoice (checked first)."""
        discount_lines = self._estimate_discount_lines(move)
        items = mapper.invoice_items(
            move,
            connection.outbound_generic_product_wave_id,
            mapper.invoice_product_lines(move) - discount_lines,
        )
        business_currency = connection.business_currency or connection.company_id.currency_id.name
        payload = mapper.invoice_input(move, connection.business_id, items, business_currency)
        if discount_lines:
            payload["discounts"] = [mapper.discount_input(discount_lines)]
        return payload

    # ------------------------------------------------------------------
    # Changes and conflicts
    # ------------------------------------------------------------------
    @api.model
    def _update(self, connection, client, updates, advance):
        """An exported invoice changed in Odoo: patch Wave drafts, review the rest."""
        Saga = self.env["wave.invoice.saga"]
        nodes = Saga._read(connection, client, [e.wave_id for _m, e, _p in updates])
        patches = []
        for move, entry, payload in updates:
            with self.env.cr.savepoint():
                if self._may_patch(connection, move, entry, payload, nodes.get(entry.wave_id)):
                    patch = mapper.invoice_patch_input(payload, entry.wave_id)
                    patches.append((entry, patch, move, payload))
        if patches:
            self._send_patches(connection, client, patches, advance)

    @api.model
    def _may_patch(self, connection, move, entry, payload, node):
        """Whether the Wave draft may take Odoo's change (else logged or reviewed)."""
        Service = self.env["wave.outbound.ledger.service"]
        if not node:
            Service._quarantine(
                connection,
                move,
                _("The Wave invoice %s no longer exists.", entry.wave_id),
                payload,
            )
            return False
        wave_changed = (
            move.wave_modified_at
            and parse_wave_datetime(node.get("modifiedAt")) > move.wave_modified_at
        )
        groups = mapper.changed_groups(entry.request_summary, payload)
        policy = self._conflict_policy(connection, groups) if wave_changed else "odoo"
        if wave_changed and policy == "wave":
            self.env["wave.audit.log"]._log_many(
                move,
                "conflict",
                {"policy": "wave", "kept": "wave", "changed": sorted(groups)},
                "outbound",
            )
            return False
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
            Service._quarantine(connection, move, reason, payload)
            return False
        return True

    @api.model
    def _send_patches(self, connection, client, patches, advance):
        """``invoicePatch`` of the drafts; a refused patch is reviewed (sent again later)."""
        Service = self.env["wave.outbound.ledger.service"]
        answers = Service._mutate_each(
            connection,
            client,
            gql.INVOICE_PATCH_MUTATION,
            [patch for _e, patch, _m, _p in patches],
            gql.INVOICE_RESULT_SELECTION,
            "OdooInvoicePatches",
        )
        for (entry, patch, move, payload), value in zip(patches, answers, strict=True):
            with self.env.cr.savepoint():
                if isinstance(value, WaveError):
                    # A patch is idempotent: a later run sends it again.
                    Service._quarantine(connection, move, format_reasons(value), patch)
                else:
                    node = value.get("invoice") or {}
                    entry._wave_sync_write(
                        {
                            "payload_hash": payload_hash(payload),
                            "saga_step": mapper.saga_step_of(node),
                            "request_summary": payload,
                        }
                    )
                    self._bind(connection, move, node)
                    advance.append((move, entry))

    @api.model
    def _conflict_policy(self, connection, groups):
        """Policy for an invoice changed on both sides: the strictest of the changed groups.

        ``review`` beats ``wave`` (Wave's version is kept), which beats ``odoo``.
        """
        policies = {connection[f"conflict_policy_{group}"] for group in groups}
        for policy in ("review", "wave", "odoo"):
            if policy in policies:
                return policy
        return "review"
