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
from ..lib.wave_enums import unsupported_currency
from ..mappers import invoice_outbound as mapper
from .job_guard import JobRetryLater
from .outbound_ledger_service import format_reasons, payload_hash

LOOKUP_PAGE_SIZE = 100  # invoices per page when looking up lost numbers


class WaveInvoiceExporter(models.AbstractModel):
    _name = "wave.invoice.exporter"
    _description = "Wave Export of Customer Invoices"

    @api.model
    def _export(self, connection, moves):
        connection.ensure_one()
        Service = self.env["wave.outbound.ledger.service"]
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
        invoices = moves - refunds
        if not invoices:
            return True
        client = connection._get_client("bulk")
        entries = {
            move: entry
            for (move, _sub), entry in Service._entries(connection, invoices, "invoice").items()
        }
        lost = {m: e for m, e in entries.items() if e.state in ("sent", "outcome_unknown")}
        if lost:
            self._resolve_lost(connection, client, lost)
        # Failed earlier, fixed since (the invoice or a reference it needs changed):
        # planned again, never skipped silently.
        self._fixed_since_failure(
            self.env["wave.outbound.ledger"].union(*entries.values())
        )._wave_sync_write({"state": "pending"})
        todo = invoices.filtered(lambda m: entries[m].state in ("pending", "confirmed"))
        if not todo:
            return True
        lines = mapper.invoice_product_lines(todo)
        failures, waiting = self.env["wave.outbound.dependencies"]._ensure(
            connection,
            client,
            todo.commercial_partner_id,
            lines.product_id,
            lines.tax_ids.flatten_taxes_hierarchy(),
            need_generic=any(not line.product_id for line in lines),
        )
        creates, updates, advance, retry = self._plan(connection, todo, entries, failures, waiting)
        if creates:
            retry |= self._create(connection, client, creates, entries, advance)
        if updates:
            self._update(connection, client, updates, advance)
        if advance:
            retry |= self.env["wave.invoice.saga"]._advance(connection, client, advance)
        Service._commit(connection)
        if retry:
            raise JobRetryLater(_("Some invoices could not be exported yet; retrying later."))
        return True

    @api.model
    def _fixed_since_failure(self, entries):
        """The ``failed`` invoice entries whose invoice, customer, products or taxes
        were changed (or bound to Wave) after the failure: worth exporting again."""
        fixed = self.env["wave.outbound.ledger"]
        for entry in entries.filtered(lambda e: e.kind == "invoice" and e.state == "failed"):
            move = entry._record()
            if not move or move.state != "posted":
                continue
            lines = mapper.invoice_product_lines(move)
            records = [
                move,
                move.commercial_partner_id,
                *lines.product_id,
                *lines.tax_ids.flatten_taxes_hierarchy(),
            ]
            if any(r.write_date and r.write_date > entry.write_date for r in records):
                fixed |= entry
        return fixed

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
    def _blockers(self, connection, move, failures):
        """Reasons the references ``move`` needs are missing in Wave."""
        move_lines = mapper.invoice_product_lines(move)
        needed = [
            move.commercial_partner_id,
            *move_lines.product_id,
            *move_lines.tax_ids.flatten_taxes_hierarchy(),
        ]
        if any(not line.product_id for line in move_lines):
            needed.append(connection)
        return [failures[rec] for rec in needed if rec in failures]

    @api.model
    def _input_problem(self, connection, move):
        """Why ``move`` cannot be mapped to a Wave invoice, or None."""
        if unsupported_currency(move.currency_id.name):
            return _(
                "Wave does not know the currency %(code)s (it is not in Wave's list of "
                "currencies): invoice %(name)s cannot be sent to Wave. Record it in Wave by "
                "hand, or issue it in another currency, then discard or replay this entry.",
                code=move.currency_id.name,
                name=move.name,
            )
        if not move.commercial_partner_id.wave_id:
            return _("The customer of %s has no Wave customer.", move.name)
        generic = connection.outbound_generic_product_wave_id
        lines = mapper.invoice_product_lines(move).filtered("quantity")
        for line in lines:
            if not (line.product_id.wave_id or generic):
                return _("Line %s has no Wave product.", line.display_name)
        if not lines:
            return _("Invoice %s has no line Wave can invoice.", move.name)
        return None

    @api.model
    def _input(self, connection, move):
        """``InvoiceCreateInput`` of a posted customer invoice (checked first)."""
        items = mapper.invoice_items(move, connection.outbound_generic_product_wave_id)
        business_currency = connection.business_currency or connection.company_id.currency_id.name
        return mapper.invoice_input(move, connection.business_id, items, business_currency)

    @api.model
    def _plan(self, connection, todo, entries, failures, waiting):
        """``(creates, updates, advance, wait)``: what each invoice needs now, and
        whether some invoices wait for a reference not confirmed yet (retry later)."""
        Service = self.env["wave.outbound.ledger.service"]
        creates, updates, advance, wait = [], [], [], False
        for move in todo:
            entry = entries[move]
            with self.env.cr.savepoint():
                blockers = self._blockers(connection, move, failures)
                pending = self._blockers(connection, move, waiting)
                if pending and not blockers:
                    # Not refused: a lost answer is looked up on the next run; the
                    # invoice stays pending (retried), it does not fail.
                    if entry.state == "pending":
                        entry._wave_sync_write({"error_message": "\n".join(pending)})
                    wait = True
                    continue
                if blockers:
                    Service._fail(
                        connection,
                        entry if entry.state == "pending" else None,
                        move,
                        "\n".join(f"- {reason}" for reason in blockers),
                    )
                    continue
                problem = self._input_problem(connection, move)
                if problem:
                    Service._fail(connection, entry, move, problem)
                    continue
                payload = self._input(connection, move)
                if entry.state == "pending":
                    creates.append((entry, payload))
                elif entry.payload_hash and entry.payload_hash != payload_hash(payload):
                    updates.append((move, entry, payload))
                elif entry.saga_step in ("created", "approved"):
                    advance.append((move, entry))
        return creates, updates, advance, wait

    @api.model
    def _create(self, connection, client, creates, entries, advance):
        """``invoiceCreate`` for the batch; returns True when a retry is needed."""
        Service = self.env["wave.outbound.ledger.service"]
        moves_by_entry = {entry: move for move, entry in entries.items()}
        outcome = Service._send(
            connection,
            client,
            creates,
            gql.INVOICE_CREATE_MUTATION,
            gql.INVOICE_RESULT_SELECTION,
            "invoice",
            operation_name="OdooInvoiceCreates",
        )
        payloads = dict(creates)
        retry, unknown = False, {}
        for entry, (status, value) in outcome.items():
            move = moves_by_entry[entry]
            with self.env.cr.savepoint():
                if status == "ok":
                    self._confirmed(connection, move, entry, value, payloads[entry])
                    advance.append((move, entry))
                elif status == "invalid":
                    Service._fail(connection, entry, move, value, payloads[entry])
                elif status == "unknown":
                    Service._mark_unknown(connection, entry, value)
                    unknown[move] = entry
                else:
                    retry |= Service._transient_failure(connection, entry, value)
        Service._commit(connection)
        if unknown:
            self._resolve_lost(connection, client, unknown)
            for move, entry in unknown.items():
                if entry.state == "confirmed":
                    advance.append((move, entry))
                else:
                    retry = True  # not in Wave: safe to create it on the next run
        return retry

    @api.model
    def _confirmed(self, connection, move, entry, node, payload, resolution="response"):
        self.env["wave.outbound.ledger.service"]._mark_confirmed(
            connection,
            entry,
            node.get("id"),
            resolution,
            saga_step=mapper.saga_step_of(node),
            payload_hash=payload_hash(payload) if payload else entry.payload_hash,
        )
        self._bind(connection, move, node)

    @api.model
    def _bind(self, connection, move, node):
        vals = {"wave_origin": "odoo"}
        if node.get("id"):
            vals["wave_id"] = node["id"]
        if node.get("modifiedAt"):
            vals["wave_modified_at"] = parse_wave_datetime(node["modifiedAt"])
        self.env["wave.outbound.ledger.service"]._bind_write(connection, move, vals)

    # ------------------------------------------------------------------
    # Lost create answers
    # ------------------------------------------------------------------
    @api.model
    def _resolve_lost(self, connection, client, lost):
        """Find invoices whose create answer was lost, by number (exact match).

        Wave's ``invoiceNumber`` filter matches substrings: the first page of
        every number travels in one aliased request, and the numbers with more
        matches than a page are paged through (``client.iterate``).
        """
        Service = self.env["wave.outbound.ledger.service"]
        numbers = list(lost)
        variables = {"businessId": connection.business_id}
        variables.update({f"n{i}": move.name for i, move in enumerate(numbers)})
        query = gql.invoices_numbered_query(len(numbers), LOOKUP_PAGE_SIZE)
        business = Service._query(connection, client, query, variables).get("business") or {}
        for i, move in enumerate(numbers):
            entry = lost[move]
            page = business.get(f"f{i}") or {}
            nodes = [e["node"] for e in page.get("edges") or [] if e and e.get("node")]
            if ((page.get("pageInfo") or {}).get("totalPages") or 1) > 1:
                nodes += self._numbered(connection, client, move.name)
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
                    self._confirmed(
                        connection, move, entry, exact[0], entry.request_summary, "lookup"
                    )
                    self.env["wave.audit.log"]._log_many(
                        entry,
                        "outbound_resolved",
                        {"found": exact[0]["id"], "duplicates": len(exact) - 1},
                        "outbound",
                    )
                else:
                    entry._wave_sync_write({"state": "pending"})
        Service._commit(connection)

    @api.model
    def _numbered(self, connection, client, number):
        """Pages 2.. of the invoices whose number contains ``number`` (newest first)."""
        return self.env["wave.outbound.ledger.service"]._read(
            connection,
            lambda: list(
                client.iterate(
                    gql.INVOICES_NUMBERED_PAGE_QUERY,
                    {"businessId": connection.business_id, "number": number},
                    "business.invoices",
                    page_size=LOOKUP_PAGE_SIZE,
                    start_page=2,
                )
            ),
        )

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
