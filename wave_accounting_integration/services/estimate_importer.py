# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave estimates -> Odoo quotations (``sale.order``): validation, creation, status.

The status table is in ``mappers/estimate_inbound.py``. A page of Wave estimate nodes
is resolved with the invoice import's references (taxes, products, customers through
the partner matcher, currencies), each estimate is validated (reasons collected, then
it goes to quarantine as record type ``Estimate``), mapped and written: the page's new
quotations together, in one savepoint (one create, the totals checked, the states set by
group, one audit; on any error each again in its own savepoint, so a bad one goes to the
quarantine alone), a known one updated in its own savepoint (lines only while it is a
quotation: a confirmed order whose estimate changed in Wave goes to quarantine). The
Odoo total must equal Wave's ``total`` to the cent. Every write is audited.

An invoice converted from an estimate names it as its ``source``; the imported
invoice keeps that id (``account.move.wave_estimate_id``) and its lines are linked to
the order's (``sale_line_ids``), whichever of the two arrives first, so the order's
invoiced quantities and invoice status are Odoo's own.
"""

import logging

from markupsafe import escape

from odoo import Command, _, api, models

from ..graphql.inbound import ESTIMATE_NODE_SELECTION
from ..lib.dates import parse_wave_datetime
from ..mappers.estimate_inbound import (
    ESTIMATE_STATUSES,
    header_vals,
    invoice_line_links,
    line_vals_list,
    lines_fingerprint,
    order_fingerprint,
    order_vals,
    target_state,
)
from ..mappers.estimate_outbound import STEPS
from ..mappers.estimate_outbound import step_of as outbound_step_of
from ..mappers.invoice_inbound import source_estimate_id
from .invoice_importer import BY_ID_CHUNK, SYNCED, InvoiceRejected
from .job_guard import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

RECORD_TYPE = "Estimate"
#: Wave statuses of an estimate made in Odoo that only Wave's side gives (the customer
#: accepted or declined it, Wave invoiced, expired or deleted it): they move its order.
WAVE_SIDE_STATUSES = ("ACCEPTED", "CONVERTED", "REJECTED", "EXPIRED", "DELETED")
#: Wave statuses that would cancel a quotation: an order already confirmed in Odoo is
#: left confirmed, and its salesperson gets an activity to decide.
CLOSING_STATUSES = ("REJECTED", "EXPIRED", "DELETED")


class WaveEstimateImporter(models.AbstractModel):
    _name = "wave.estimate.importer"
    _description = "Wave Import of Estimates"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _import_by_ids(self, connection, wave_estimate_ids, source=None):
        """Import these Wave estimates now (webhooks, replays, deletion checks).

        A deleted estimate reads ``DELETED`` at Wave (or is not found at all): its
        quotation is cancelled. Returns ``{wave_id: outcome}``.
        """
        ids = list(dict.fromkeys(wave_estimate_ids or []))
        if not ids:
            return {}
        priority = "webhook" if source == "webhook" else "interactive"
        client = connection._get_client(priority=priority)
        results = {}
        for start in range(0, len(ids), BY_ID_CHUNK):
            found = client.lookup_many(
                connection.business_id,
                "estimate",
                ids[start : start + BY_ID_CHUNK],
                ESTIMATE_NODE_SELECTION,
                chunk_size=BY_ID_CHUNK,
            )
            nodes = [node for node in found.values() if node]
            results.update(self._import_nodes(connection, nodes, source=source))
            gone = [wave_id for wave_id, node in found.items() if not node]
            if gone:
                results.update(self._apply_deletions(connection, gone))
        return results

    @api.model
    def _import_nodes(self, connection, nodes, source=None, job=None):
        """Import a page of Wave estimate nodes; returns ``{wave_id: outcome}``."""
        connection = connection.with_company(connection.company_id).with_context(wave_source=source)
        importer = self.with_env(connection.env)
        nodes = list({n["id"]: n for n in nodes if n and n.get("id")}.values())
        results = importer._import_page(connection, nodes, job) if nodes else {}
        self.env["wave.invoice.importer"]._count_outcomes(connection, job, results)
        return results

    @api.model
    def _apply_deletions(self, connection, wave_ids):
        """Cancel the quotations of estimates Wave no longer has (an order made and
        confirmed in Odoo stays confirmed: its salesperson gets a to-do)."""
        orders = self._orders(connection, wave_ids)
        results = {}
        for order in orders:
            with self.env.cr.savepoint():
                before = order.state
                if order.wave_origin == "odoo" and order.state == "sale":
                    if order.wave_status != "DELETED":
                        order.with_context(wave_no_outbound=True).wave_status = "DELETED"
                        self._closed_after_confirm(order, "DELETED", None)
                else:
                    self._set_state(order, "DELETED", connection.estimate_accept_policy)
                    order.wave_status = "DELETED"
                self._audit(order, "delete", before)
            results[order.wave_id] = "deleted"
        return results

    # ------------------------------------------------------------------
    # A page
    # ------------------------------------------------------------------
    @api.model
    def _orders(self, connection, wave_ids):
        return (
            self.env["sale.order"]
            .with_context(active_test=False)
            .search(
                [("wave_id", "in", list(wave_ids)), ("company_id", "=", connection.company_id.id)]
            )
        )

    @api.model
    def _import_page(self, connection, nodes, job):
        refs = self.env["wave.invoice.importer"]._resolve_refs(connection, nodes)
        refs["pricelists"] = self._pricelists(connection, refs["currencies"])
        refs["discount_product"] = self.env["product.product"]
        existing = {o.wave_id: o for o in self._orders(connection, [n["id"] for n in nodes])}
        # Created in Wave by an export whose answer is not committed yet: the export binds them.
        exported = self.env["wave.outbound.ledger.service"]._left_to_export(
            connection, "estimate", [n for n in nodes if n["id"] not in existing], "estimateNumber"
        )
        results, synced = dict.fromkeys(exported, "skipped"), self.env["sale.order"]
        new_items = []
        for node in nodes:
            if node["id"] in exported:
                continue
            order = existing.get(node["id"])
            try:
                if not order:
                    # New quotations are created together, below.
                    vals = self._new_order_vals(connection, node, refs)
                    if vals is None:
                        results[node["id"]] = "skipped"
                    else:
                        new_items.append((node, vals))
                    continue
                with self.env.cr.savepoint():
                    outcome, order = self._sync_one(connection, node, refs, order)
            except InvoiceRejected as error:
                self._quarantine(connection, node, error.reasons, error.suggested_fix, job)
                results[node["id"]] = "quarantined"
                continue
            except CONCURRENCY_ERRORS:
                raise  # the job guard retries the whole page
            except Exception as error:
                _logger.info("Wave estimate %s not imported: %s", node.get("id"), error)
                self._quarantine(connection, node, [str(error)], None, job)
                results[node["id"]] = "quarantined"
                continue
            results[node["id"]] = outcome
            if order:
                synced |= order
        if new_items:
            created = self._create_orders(connection, new_items, job)
            for node, _vals in new_items:
                order = created.get(node["id"])
                results[node["id"]] = "created" if order else "quarantined"
                synced |= order or synced.browse()
        if synced:
            self._link_invoices(connection, orders=synced)
        self.env["wave.quarantine"]._resolve_open(
            connection,
            "inbound",
            record_type=RECORD_TYPE,
            wave_ids=[wave_id for wave_id, outcome in results.items() if outcome in SYNCED],
        )
        return results

    @api.model
    def _pricelists(self, connection, currencies):
        """A pricelist per Wave currency (an order's currency is its pricelist's)."""
        Pricelist = self.env["product.pricelist"]
        company = connection.company_id
        found = {}
        for code, currency in currencies.items():
            pricelist = Pricelist.search(
                [("currency_id", "=", currency.id), ("company_id", "in", (company.id, False))],
                order="company_id, sequence, id",
                limit=1,
            )
            if not pricelist:
                pricelist = Pricelist.create(
                    {
                        "name": _("Wave %s", code),
                        "currency_id": currency.id,
                        "company_id": company.id,
                    }
                )
            found[code] = pricelist
        return found

    @api.model
    def _discount_product(self, connection, refs):
        """The company's sale discount product (made once, as Odoo's discount wizard does)."""
        if refs["discount_product"]:
            return refs["discount_product"]
        company = connection.company_id
        product = company.sale_discount_product_id
        if not product:
            product = self.env["product.product"].create(
                {
                    "name": _("Discount"),
                    "type": "service",
                    "invoice_policy": "order",
                    "list_price": 0.0,
                    "company_id": company.id,
                    "taxes_id": [Command.clear()],
                }
            )
            company.sale_discount_product_id = product
        refs["discount_product"] = product
        return product

    # ------------------------------------------------------------------
    # One estimate
    # ------------------------------------------------------------------
    @api.model
    def _validate(self, connection, node, refs):
        missing = [
            key
            for key in ("estimateDate", "currency", "customer", "total", "status")
            if not node.get(key)
        ]
        if missing:
            raise InvoiceRejected(
                [_("Wave sent no %s.", key) for key in missing],
                _("Check the estimate in Wave, then replay."),
            )
        if node["status"] not in ESTIMATE_STATUSES:
            raise InvoiceRejected([_("Unknown Wave estimate status %s.", node["status"])])
        reasons, fixes = self.env["wave.invoice.importer"]._reference_reasons(node, refs)
        if reasons:
            raise InvoiceRejected(reasons, "\n".join(fixes) or None)

    @api.model
    def _sync_one(self, connection, node, refs, order):
        """Update the quotation ``order`` of ``node`` (new ones: ``_create_orders``);
        returns ``(outcome, order)``."""
        status = node.get("status")
        if order.wave_origin == "odoo":
            return self._sync_exported(connection, order, node)
        self._validate(connection, node, refs)
        discount_name = _("Discount")
        self._ensure_discount_product(connection, node, refs)
        policy = connection.estimate_accept_policy
        before = order.state
        lines = line_vals_list(node, refs, discount_name)
        lines_changed = lines_fingerprint(lines) != order_fingerprint(order)
        header = header_vals(node, refs)
        target, _accepted = target_state(status, policy)
        if order.state == "cancel" and target != "cancel":
            order.action_draft()
        if lines_changed and order.state not in ("draft", "sent"):
            raise InvoiceRejected(
                [_("The estimate changed in Wave after its order was confirmed in Odoo.")],
                _("Change the order in Odoo by hand (or cancel it), then replay."),
            )
        changed = lines_changed or any(
            order[key] != value
            for key, value in header.items()
            # the note is compared after Odoo's HTML cleaning: written, not compared
            if key not in ("wave_modified_at", "date_order", "pricelist_id", "partner_id", "note")
        )
        if order.state in ("draft", "sent"):
            if lines_changed:
                header["order_line"] = [Command.clear()] + [Command.create(v) for v in lines]
            order.write(header)
        else:
            order.write(
                {k: v for k, v in header.items() if k not in ("date_order", "pricelist_id")}
            )
        self._check_total(order, node)
        self._set_state(order, status, policy, node)
        if not changed and order.state == before:
            return "unchanged", order
        self._audit(order, "update", before)
        return "updated", order

    @api.model
    def _new_order_vals(self, connection, node, refs):
        """The ``sale.order`` values of an estimate Odoo has no quotation of (validated;
        raises ``InvoiceRejected``), or None: never seen and already deleted in Wave,
        nothing to keep."""
        if node.get("status") == "DELETED":
            return None
        self._validate(connection, node, refs)
        self._ensure_discount_product(connection, node, refs)
        return order_vals(node, refs, connection.company_id, _("Discount"))

    @api.model
    def _ensure_discount_product(self, connection, node, refs):
        """The company's discount product, when ``node`` has a discount (its line's)."""
        if node.get("discountTotal") and float(node["discountTotal"].get("value") or 0):
            self._discount_product(connection, refs)

    @api.model
    def _create_orders(self, connection, items, job):
        """Create the quotations of ``items`` ``[(node, vals)]``: ``{wave_id: order}``.

        The page is tried as a batch in one savepoint (one create, the totals checked
        against Wave's, the states set by group, one audit); on any error each estimate
        is created again in its own savepoint, so a bad one never rolls back the others
        and goes to the quarantine alone."""
        try:
            with self.env.cr.savepoint():
                orders = self._create_batch(connection, items)
        except CONCURRENCY_ERRORS:
            raise  # the job guard retries the whole page
        except Exception as error:
            _logger.info("Wave estimate batch failed (%s); importing one by one.", error)
            return self._create_one_by_one(connection, items, job)
        return dict(zip([node["id"] for node, _vals in items], orders, strict=True))

    @api.model
    def _create_one_by_one(self, connection, items, job):
        created = {}
        for node, vals in items:
            try:
                with self.env.cr.savepoint():
                    created[node["id"]] = self._create_batch(connection, [(node, vals)])
            except InvoiceRejected as error:
                self._quarantine(connection, node, error.reasons, error.suggested_fix, job)
            except CONCURRENCY_ERRORS:
                raise  # the job guard retries the whole page
            except Exception as error:
                _logger.info("Wave estimate %s not imported: %s", node.get("id"), error)
                self._quarantine(connection, node, [str(error)], None, job)
        return created

    @api.model
    def _create_batch(self, connection, items):
        """The quotations of ``items`` ``[(node, vals)]``, created, their totals checked
        against Wave's, brought to Wave's states and audited."""
        orders = self._new_orders([vals for _node, vals in items])
        for (node, _vals), order in zip(items, orders, strict=True):
            self._check_total(order, node)
        self._set_new_states(
            connection, list(zip(orders, [node for node, _vals in items], strict=True))
        )
        self._audit(orders, "create")
        return orders

    @api.model
    def _new_orders(self, vals_list):
        # Created as an import does (no "quotation created" message, no tracking of the
        # initial values): the audit log records the creation; later changes (the state
        # Wave gives, below, and every update) are tracked in the chatter as usual.
        return (
            self.env["sale.order"]
            .with_context(
                mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
            )
            .create(vals_list)
            .with_env(self.env)
        )

    @api.model
    def _set_new_states(self, connection, pairs):
        """``_set_state`` of new quotations ``[(order, node)]``, by group: one confirmation
        for those Wave accepted, one write for those sent, one cancellation for those
        closed (each with its reason in the chatter), one write per set of Wave values."""
        policy = connection.estimate_accept_policy
        Order = self.env["sale.order"]
        targets, values, notes = {}, {}, []
        for order, node in pairs:
            status = node.get("status")
            target, accepted = target_state(status, policy)
            vals = {"wave_accepted": accepted, "wave_status": status, "wave_cancel_reason": False}
            if target == "cancel":
                vals["wave_cancel_reason"] = self._cancel_reason(status, node)
                notes.append((order, vals["wave_cancel_reason"]))
            targets.setdefault(target, []).append(order.id)
            values.setdefault(tuple(sorted(vals.items())), []).append(order.id)
        if targets.get("cancel"):
            Order.browse(targets["cancel"])._action_cancel()
            Order.browse(targets["cancel"])._message_log_batch(
                bodies={order.id: escape(reason) for order, reason in notes}
            )
        if targets.get("sent"):
            Order.browse(targets["sent"]).write({"state": "sent"})
        if targets.get("sale"):
            Order.browse(targets["sale"]).action_confirm()
        for vals, ids in values.items():
            Order.browse(ids).write(dict(vals))

    @api.model
    def _sync_exported(self, connection, order, node):
        """A quotation made in Odoo and sent to Wave (``wave.estimate.exporter``): its
        lines are Odoo's and Wave's status is recorded. What only Wave's side can say
        moves the quotation (still a quotation in Odoo) as for Wave's own estimates:
        accepted (confirmed, or marked by the setting), converted (confirmed; Wave's
        invoice is linked), rejected, expired or deleted (cancelled with the reason; an
        order already confirmed in Odoo stays confirmed and its salesperson gets a
        to-do). Nothing of it is exported back; the echo of our own change (not newer
        than the binding) changes nothing."""
        modified = parse_wave_datetime(node.get("modifiedAt"))
        if order.wave_modified_at and modified and modified <= order.wave_modified_at:
            return "unchanged", order
        before, status_before = order.state, order.wave_status
        status = node.get("status")
        # The sync writes: no export is queued (no echo back to Wave).
        order = order.with_context(wave_no_outbound=True)
        order.write({"wave_status": status, "wave_modified_at": modified})
        if status in WAVE_SIDE_STATUSES and order.state in ("draft", "sent"):
            self._set_state(order, status, connection.estimate_accept_policy, node)
        elif status in CLOSING_STATUSES and order.state == "sale" and status != status_before:
            self._closed_after_confirm(order, status, node)
        # Wave is past the steps the export would push: they are not pushed again.
        entry = self.env["wave.estimate.exporter"]._confirmed_entries(connection, order)[:1]
        step = outbound_step_of(node)
        if entry and STEPS.index(step) > STEPS.index(entry.saga_step or "none"):
            entry._wave_sync_write({"saga_step": step})
        self._audit(order, "update", before)
        return "updated", order

    @api.model
    def _check_total(self, order, node):
        wave_total = float((node.get("total") or {}).get("value") or 0)
        if order.currency_id.compare_amounts(order.amount_total, wave_total):
            raise InvoiceRejected(
                [
                    _(
                        "Odoo total %(odoo)s differs from Wave total %(wave)s.",
                        odoo=order.amount_total,
                        wave=wave_total,
                    )
                ],
                _("Check the Wave sales taxes and their mapped rates."),
            )

    @api.model
    def _cancel_reason(self, status, node=None):
        """Why Wave's ``status`` (REJECTED, EXPIRED, DELETED) closes the estimate."""
        if status == "REJECTED":
            return _("The customer declined the estimate in Wave.")
        if status == "EXPIRED":
            return _(
                "The estimate expired in Wave (valid until %s).",
                (node or {}).get("dueDate") or "?",
            )
        return _("The estimate was deleted in Wave.")

    @api.model
    def _closed_after_confirm(self, order, status, node):
        """Wave closed (declined, expired, deleted) the estimate of an order already
        confirmed in Odoo: the order is not cancelled behind the salesperson's back, it
        stays confirmed and they get a to-do saying what happened (and the chatter)."""
        note = _(
            "%(reason)s Order %(name)s was already confirmed in Odoo, so it stays "
            "confirmed: check it with the customer, then cancel it by hand or keep it.",
            reason=self._cancel_reason(status, node),
            name=order.name,
        )
        order.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Wave closed the estimate of a confirmed order"),
            note=note,
            user_id=order.user_id.id or self.env.uid,
        )
        order.message_post(body=note)
        self.env["wave.audit.log"]._log_many(
            order, "review_requested", {"wave_status": status, "state": order.state}
        )

    @api.model
    def _set_state(self, order, status, policy, node=None):
        """Bring ``order`` to the state Wave's ``status`` maps to (see the mapper)."""
        target, accepted = target_state(status, policy)
        vals = {"wave_accepted": accepted, "wave_status": status}
        if target == "cancel":
            vals["wave_cancel_reason"] = self._cancel_reason(status, node)
        else:
            vals["wave_cancel_reason"] = False
        if order.state == target:
            order.write(vals)
            return
        if target == "cancel":
            order._action_cancel()
            order.message_post(body=vals["wave_cancel_reason"])
        elif target in ("draft", "sent"):
            if order.state == "sale":
                if order.invoice_ids.filtered(lambda move: move.state != "cancel"):
                    raise InvoiceRejected(
                        [_("Wave reopened an estimate whose order is already invoiced in Odoo.")]
                    )
                order._action_cancel()
            if order.state == "cancel":
                order.action_draft()
            order.write({"state": target})
        else:  # sale
            if order.state == "cancel":
                order.action_draft()
            order.action_confirm()
        order.write(vals)

    @api.model
    def _audit(self, orders, action, state_before=None):
        self.env["wave.audit.log"]._log_many(
            orders,
            action,
            lambda o: {
                "state": o.state,
                "amount_total": o.amount_total,
                "partner": o.partner_id.display_name,
                "wave_status": o.wave_status,
            },
            values_before={"state": state_before} if state_before else None,
        )

    # ------------------------------------------------------------------
    # Invoices converted from estimates
    # ------------------------------------------------------------------
    @api.model
    def _note_invoice_sources(self, connection, nodes, moves):
        """Keep on each imported invoice the estimate it came from; link it to the
        estimate's order when Odoo has it. ``moves``: ``{wave invoice id: move}``."""
        linked = self.env["account.move"]
        for node in nodes:
            estimate_id = source_estimate_id(node)
            move = moves.get(node["id"])
            if not (estimate_id and move):
                continue
            if move.wave_estimate_id != estimate_id:
                move.wave_estimate_id = estimate_id
            linked |= move
        if linked:
            orders = self._orders(connection, set(linked.mapped("wave_estimate_id")))
            if orders:
                self._link_invoices(connection, orders=orders, moves=linked)

    @api.model
    def _link_invoices(self, connection, orders, moves=None):
        """Link the invoice lines of Wave invoices converted from these orders' estimates
        to the order lines (Odoo's invoiced quantities then count them)."""
        if moves is None:
            moves = self.env["account.move"].search(
                [
                    ("wave_estimate_id", "in", orders.mapped("wave_id")),
                    ("company_id", "=", connection.company_id.id),
                    ("move_type", "=", "out_invoice"),
                ]
            )
        by_wave = {order.wave_id: order for order in orders}
        discount = connection.company_id.sale_discount_product_id
        for move in moves:
            order = by_wave.get(move.wave_estimate_id)
            if not order or order.state != "sale":
                continue
            invoice_lines = move.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            )
            order_lines = order.order_line.filtered(lambda line: not line.display_type)
            pairs = invoice_line_links(invoice_lines, order_lines, discount)
            todo = [(il, sl) for il, sl in pairs if il.sale_line_ids != sl]
            for invoice_line, order_line in todo:
                invoice_line.sale_line_ids = [Command.set(order_line.ids)]
            if not move.invoice_origin:
                move.invoice_origin = order.name
            if todo:
                self.env["wave.audit.log"]._log_many(
                    move, "link_order", {"order": order.name, "lines": len(todo)}
                )

    # ------------------------------------------------------------------
    # Quarantine
    # ------------------------------------------------------------------
    @api.model
    def _quarantine(self, connection, node, reasons, suggested_fix, job):
        return self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            RECORD_TYPE,
            reasons,
            wave_id=node.get("id"),
            payload=node,
            suggested_fix=suggested_fix,
            name=_("Estimate %s", node.get("estimateNumber") or node.get("id")),
            sync_job=job,
        )
