# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: an Odoo invoice of an order whose quotation is a Wave estimate (made in
Odoo and exported, or imported from Wave) becomes Wave's invoice by
``convertEstimateToInvoice``, so Wave links it to the estimate.

Only when the invoice bills the whole estimate (same customer, currency and items:
product, quantity, taxes, amount to the cent, and the same discount to the cent;
``mappers.estimate_outbound.bills_whole_estimate``, against what the export sent, or what
Wave's estimate bills when it came from Wave) and Wave still lets the estimate be
converted (not a draft, not converted or deleted). A Wave estimate's discount (FIXED or
PERCENTAGE) is the order's untaxed discount line (the estimate import's mapping): the
invoice's discount line is compared with Wave's ``discountTotal``, and once converted it
goes to Wave as the invoice's discount (one FIXED discount of that amount), never as an
item. Otherwise (partial invoicing, a down payment, an
estimate Wave refuses to convert) the invoice is exported as a separate Wave invoice, as
any other, and the order says so in its chatter (the invoice is linked to the order in
Odoo only).

Exactly once, through the invoice's own ledger entry: it is committed ``sent`` (operation
``convertEstimateToInvoice``) before the request; a lost answer is looked up by the
invoices whose ``source`` is the estimate (``invoices(sourceId:)``), never by number (Wave
numbered the invoice), and until it is settled the invoice is not created another way.
The converted invoice is a Wave draft, bound to the Odoo invoice; the invoice exporter
then patches it with the Odoo invoice (number, dates, descriptions) and approves and
marks it sent, as its own.
"""

from collections import namedtuple

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import WaveError, WaveValidationError
from ..mappers import estimate_outbound, invoice_outbound
from .outbound_ledger_service import format_reasons

#: The ledger operation of a conversion (an entry ``sent`` by it is looked up by source).
CONVERT_OPERATION = gql.CONVERT_ESTIMATE_MUTATION
#: Estimate statuses Wave converts (all but DRAFT, CONVERTED, DELETED).
CONVERTIBLE = ("APPROVED", "SENT", "VIEWED", "ACCEPTED", "REJECTED", "EXPIRED")
#: The audit action of an invoice exported on its own although its order has an estimate.
SEPARATE_ACTION = "outbound_separate_invoice"

#: The Wave estimate of an invoice's order: the order, the estimate's Wave id, and the
#: confirmed ledger entry of its export (None: the estimate came from Wave).
Source = namedtuple("Source", "order wave_id entry")


class WaveEstimateInvoicing(models.AbstractModel):
    _name = "wave.estimate.invoicing"
    _description = "Wave Invoices Converted from Estimates"

    @api.model
    def _estimate_entries(self, connection, moves):
        """``{move: Source}`` of the invoices of one order whose estimate Wave has: made
        in Odoo (its export's confirmed entry) or imported from Wave."""
        result = {}
        Exporter = self.env["wave.estimate.exporter"]
        for move in moves.filtered(lambda m: m.move_type == "out_invoice"):
            order = move.invoice_line_ids.sale_line_ids.order_id
            if len(order) != 1 or not order.wave_id or order.company_id != move.company_id:
                continue
            if order.wave_origin == "wave":
                result[move] = Source(order, order.wave_id, None)
            elif order.wave_origin == "odoo":
                entry = Exporter._confirmed_entries(connection, order)[:1]
                if entry:
                    result[move] = Source(order, order.wave_id, entry)
        return result

    @api.model
    def _convert(self, connection, moves):
        """Convert the estimates ``moves`` bill whole; returns the moves whose conversion
        is not settled yet (not exported another way this time: retried later)."""
        Service = self.env["wave.outbound.ledger.service"]
        estimates = self._estimate_entries(connection, moves)
        if not estimates:
            return moves.browse()
        records = moves.browse([move.id for move in estimates])
        entries = {m: e for (m, _s), e in Service._entries(connection, records, "invoice").items()}
        client = connection._get_client("bulk")
        lost = {
            m: e
            for m, e in entries.items()
            if e.state in ("sent", "outcome_unknown") and e.operation == CONVERT_OPERATION
        }
        if lost:
            self._find_converted(connection, client, lost, estimates)
        pending = [m for m, e in entries.items() if e.state == "pending"]
        todo = self._convertible(connection, client, pending, estimates, entries)
        if todo:
            self._send(connection, client, todo, entries, estimates)
        Service._commit(connection)
        return records.filtered(
            lambda m: entries[m].state != "confirmed" and entries[m].operation == CONVERT_OPERATION
        )

    @api.model
    def _convertible(self, connection, client, moves, estimates, entries):
        """``[(move, payload)]``: the invoices that bill their whole estimate, still
        convertible in Wave."""
        if not moves:
            return []
        Exporter = self.env["wave.invoice.exporter"]
        discounted = Exporter.with_context(wave_estimate_discount=True)
        nodes = self.env["wave.outbound.ledger.service"]._lookup(
            connection,
            client,
            "estimate",
            [estimates[m].wave_id for m in moves],
            gql.ESTIMATE_BILLED_FIELDS,
        )
        todo = []
        for move in moves:
            estimate = estimates[move]
            node = nodes.get(estimate.wave_id) or {}
            # A Wave estimate's discount is the order's untaxed discount line: compared
            # (and, once converted, sent) as the Wave invoice's discount, not as an item.
            exporter = Exporter if estimate.entry else discounted
            if exporter._input_problem(connection, move):
                continue  # exported the normal way, which says why it cannot be
            status = node.get("status") or "DELETED"
            payload = exporter._input(connection, move)
            wave_total = float((node.get("total") or {}).get("value") or 0)
            billed = (
                estimate.entry.request_summary
                if estimate.entry
                else estimate_outbound.billed_payload_of(node)
            )
            if status not in CONVERTIBLE:
                why = _("Wave no longer lets the estimate be converted (it is %s).", status)
            elif move.currency_id.compare_amounts(
                move.amount_total, wave_total
            ) or not estimate_outbound.bills_whole_estimate(payload, billed):
                why = _("the invoice does not bill the whole estimate (Wave converts one whole).")
            else:
                todo.append((move, payload))
                continue
            if entries[move].operation == CONVERT_OPERATION:
                # Tried before, no longer convertible: exported as a separate invoice.
                entries[move]._wave_sync_write({"operation": False})
            self._note_separate(move, estimate, why)
        return todo

    @api.model
    def _note_separate(self, move, estimate, why):
        """``move`` goes to Wave as a separate invoice although its order has a Wave
        estimate: the order says so (once per invoice), with the reason. In Odoo the
        invoice stays linked to the order (its lines)."""
        # sudo: whether the sync noted this invoice already (its own append-only log,
        # readable by Wave users only; the export may run as whoever posted the invoice);
        # this one invoice of the connection's company.
        done = (
            self.env["wave.audit.log"]
            .sudo()
            .search_count(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", move.id),
                    ("company_id", "=", move.company_id.id),
                    ("action", "=", SEPARATE_ACTION),
                ]
            )
        )
        if done:
            return
        order = estimate.order
        note = _(
            "Invoice %(invoice)s is sent to Wave as a separate invoice, not converted from "
            "this order's Wave estimate %(estimate)s: %(why)s In Odoo it is linked to this "
            "order; in Wave the two are not linked.",
            invoice=move.name,
            estimate=order.wave_estimate_number or estimate.wave_id,
            why=why,
        )
        order.message_post(body=note)
        self.env["wave.audit.log"]._log_many(
            move,
            SEPARATE_ACTION,
            {"order": order.name, "estimate": estimate.wave_id, "reason": why},
            "outbound",
        )

    @api.model
    def _send(self, connection, client, todo, entries, estimates):
        Service = self.env["wave.outbound.ledger.service"]
        Service._mark_sent(
            connection,
            [(entries[m], dict(payload, estimateId=estimates[m].wave_id)) for m, payload in todo],
            CONVERT_OPERATION,
        )
        answers = Service._mutate_each(
            connection,
            client,
            gql.CONVERT_ESTIMATE_MUTATION,
            [{"estimateId": estimates[m].wave_id} for m, _p in todo],
            "invoiceId",
            "OdooEstimateConversions",
        )
        unknown = {}
        for (move, _payload), value in zip(todo, answers, strict=True):
            entry = entries[move]
            with self.env.cr.savepoint():
                if isinstance(value, WaveValidationError):
                    # Wave refused: the invoice is exported as a separate Wave invoice.
                    entry._wave_sync_write(
                        {"state": "pending", "operation": False, "error_message": False}
                    )
                    self.env["wave.audit.log"]._log_many(
                        move,
                        "outbound_skipped",
                        {"reason": format_reasons(value)},
                        "outbound",
                    )
                    self._note_separate(move, estimates[move], format_reasons(value))
                elif isinstance(value, WaveError) or not (value or {}).get("invoiceId"):
                    Service._mark_unknown(connection, entry, value)
                    unknown[move] = entry
                else:
                    self._bound(connection, client, move, entry, estimates[move], value)
        Service._commit(connection)
        if unknown:
            self._find_converted(connection, client, unknown, estimates)

    @api.model
    def _find_converted(self, connection, client, lost, estimates):
        """Conversions whose answer was lost: Wave's invoice whose source is the estimate
        (bound), or none (the entry stays unsettled: converted again on the next run)."""
        Service = self.env["wave.outbound.ledger.service"]
        for move, entry in lost.items():
            estimate = estimates[move]
            business = (
                Service._query(
                    connection,
                    client,
                    gql.INVOICES_BY_SOURCE_QUERY,
                    {"businessId": connection.business_id, "sourceId": estimate.wave_id},
                ).get("business")
                or {}
            )
            nodes = [e["node"] for e in (business.get("invoices") or {}).get("edges") or [] if e]
            with self.env.cr.savepoint():
                if nodes:
                    self._bound(
                        connection, client, move, entry, estimate, {"invoiceId": nodes[0]["id"]}
                    )
                    self.env["wave.audit.log"]._log_many(
                        entry,
                        "outbound_resolved",
                        {"found": nodes[0]["id"], "duplicates": len(nodes) - 1},
                        "outbound",
                    )
                else:
                    entry._wave_sync_write({"state": "pending"})
        Service._commit(connection)

    @api.model
    def _bound(self, connection, client, move, entry, estimate, value):
        """Bind ``move`` to the invoice Wave made from ``estimate``. Its fingerprint is
        the conversion's, not the invoice's: the invoice exporter patches the Wave draft
        with the Odoo invoice next."""
        Service = self.env["wave.outbound.ledger.service"]
        invoice_id = value["invoiceId"]
        node = self.env["wave.invoice.saga"]._read(connection, client, [invoice_id]).get(
            invoice_id
        ) or {"id": invoice_id}
        Service._mark_confirmed(
            connection,
            entry,
            invoice_id,
            "response",
            saga_step=invoice_outbound.saga_step_of(node),
            payload_hash=f"converted:{estimate.wave_id}",
        )
        self.env["wave.invoice.exporter"]._bind(connection, move, node)
        Service._bind_write(connection, move, {"wave_estimate_id": estimate.wave_id})
        if estimate.entry:
            estimate.entry._wave_sync_write({"saga_step": "accepted"})
        Service._bind_write(connection, estimate.order, {"wave_status": "CONVERTED"})
        self.env["wave.audit.log"]._log_many(
            move,
            "outbound_exported",
            {"wave_id": invoice_id, "converted_from": estimate.wave_id},
            "outbound",
        )
