# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: Odoo quotations (``sale.order``) become Wave estimates, kept in step.

The setting *Send quotations to Wave as estimates* (``wave.api.estimate_export``)
says when: never, when the quotation is sent, or when it is confirmed. The shared
steps (ledger, dependencies exported once, a lost ``estimateCreate`` answer looked
up by the estimate number) are ``wave.document.exporter``'s; here:

* the state is pushed in one request per chunk, in order: ``estimateApprove``,
  ``estimateMarkSent`` (``MARKED_SENT``: Odoo sent the quotation) or, when the
  connection sends by email (*Email from Wave*) and the business has
  ``emailSendEnabled``, ``estimateSend`` (Wave emails it; else marked sent, and the
  quotation says so, as invoices do), and ``estimateMarkAccepted`` when the order is
  confirmed; a step whose answer is lost is checked by reading the estimate back;
* an exported quotation changed in Odoo is patched (``estimatePatch``, the status
  restated, as Wave requires) while Wave still lets it change: not once it is
  converted to an invoice or deleted (then it goes to review). Odoo's version
  wins: an estimate made in Odoo is edited in Odoo.

A quotation cancelled in Odoo (not by Wave) whose estimate is in Wave is deleted
there (``estimateDelete``), once: its confirmed ledger entry becomes ``compensated``
(a lost answer is checked by reading the estimate back); a converted estimate cannot
be deleted (review). A cancelled quotation that never reached Wave sends nothing.

Quotations imported from Wave are never sent back.
"""

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import WaveError, WaveValidationError
from ..mappers import estimate_outbound as mapper
from .document_exporter import LOOKUP_PAGE_SIZE
from .job_guard import JobRetryLater
from .outbound_ledger_service import format_reasons, payload_hash

SAGA_CHUNK = 20  # estimates per approve + mark sent + accept request
#: step reached -> (mutation, input of the estimate id); "sent": ``mapper.estimate_send_input``
STEP_MUTATIONS = {
    "approved": (gql.ESTIMATE_APPROVE_MUTATION, lambda wave_id: {"estimateId": wave_id}),
    "accepted": (gql.ESTIMATE_MARK_ACCEPTED_MUTATION, lambda wave_id: {"estimateId": wave_id}),
}
#: Wave statuses in which an estimate can no longer be changed.
CLOSED_STATUSES = ("CONVERTED", "DELETED")


class WaveEstimateExporter(models.AbstractModel):
    _name = "wave.estimate.exporter"
    _inherit = "wave.document.exporter"
    _description = "Wave Export of Quotations as Estimates"
    _saga_chunk = SAGA_CHUNK

    _document_kind = "estimate"
    _create_mutation = gql.ESTIMATE_CREATE_MUTATION
    _result_selection = gql.ESTIMATE_RESULT_SELECTION
    _result_key = "estimate"
    _create_operation = "OdooEstimateCreates"
    _lookup_collection = "estimates"
    _lookup_number_field = "estimateNumber"
    _quantity_field = "product_uom_qty"

    @api.model
    def _due(self, connection, orders):
        """The orders the setting sends now: confirmed ones, sent ones when the setting
        says so, and those already in Wave (their changes follow)."""
        policy = connection.estimate_export
        if policy == "never":
            return orders.browse()
        return orders.filtered(
            lambda o: (
                o.company_id == connection.company_id
                and o.wave_origin != "wave"
                and (o.state == "sale" or (o.state == "sent" and (policy == "sent" or o.wave_id)))
            )
        )

    @api.model
    def _export(self, connection, orders):
        connection.ensure_one()
        orders = orders.filtered(lambda o: o.company_id == connection.company_id)
        from_wave = orders.filtered(lambda o: o.wave_origin == "wave")
        if from_wave:
            self.env["wave.audit.log"]._log_many(
                from_wave, "outbound_skipped", {"reason": "imported from Wave"}, "outbound"
            )
        cancelled = (orders - from_wave).filtered(lambda o: o.state == "cancel")
        if cancelled:
            self._cancel(connection, cancelled)
        return self._export_documents(
            connection, self._due(connection, orders - from_wave - cancelled)
        )

    # ------------------------------------------------------------------
    # The shared export's hooks (wave.document.exporter)
    # ------------------------------------------------------------------
    @api.model
    def _customers(self, records):
        return records.partner_id.commercial_partner_id

    @api.model
    def _document_lines(self, record):
        return mapper.order_product_lines(record)

    @api.model
    def _line_taxes(self, lines):
        return lines.tax_id.flatten_taxes_hierarchy()

    @api.model
    def _still_exportable(self, record):
        return record.state in ("sent", "sale")

    @api.model
    def _saga_step_of(self, node):
        return mapper.step_of(node)

    @api.model
    def _needs_advance(self, record, entry):
        steps = mapper.STEPS
        return steps.index(entry.saga_step) < steps.index(mapper.target_step(record))

    @api.model
    def _bind_vals(self, node):
        vals = super()._bind_vals(node)
        if node.get("status"):
            vals["wave_status"] = node["status"]
        if node.get("estimateNumber"):
            vals["wave_estimate_number"] = node["estimateNumber"]
        return vals

    @api.model
    def _numbered_query(self, count):
        return gql.estimates_numbered_query(count, LOOKUP_PAGE_SIZE)

    @api.model
    def _numbered_page_query(self):
        return gql.ESTIMATES_NUMBERED_PAGE_QUERY

    @api.model
    def _retry_message(self):
        return _("Some quotations could not be sent to Wave yet; retrying later.")

    @api.model
    def _currency_problem(self, order):
        return _(
            "Wave does not know the currency %(code)s (it is not in Wave's list of "
            "currencies): quotation %(name)s cannot be sent to Wave.",
            code=order.currency_id.name,
            name=order.name,
        )

    @api.model
    def _no_lines_problem(self, order):
        return _("Quotation %s has no line Wave can put on an estimate.", order.name)

    @api.model
    def _input(self, connection, order):
        """``EstimateCreateInput`` of a quotation (checked first)."""
        business_currency = connection.business_currency or connection.company_id.currency_id.name
        return mapper.estimate_input(
            order,
            connection.business_id,
            connection.outbound_generic_product_wave_id,
            business_currency,
        )

    @api.model
    def _read(self, connection, client, wave_ids):
        """``{wave_id: estimate node or None}`` (status, amounts, sending)."""
        return self.env["wave.outbound.ledger.service"]._lookup(
            connection, client, "estimate", wave_ids, gql.ESTIMATE_STATE_FIELDS
        )

    # ------------------------------------------------------------------
    # State pushed: approve, mark sent, mark accepted
    # ------------------------------------------------------------------
    @api.model
    def _advance(self, connection, client, advance):
        """Push each order's state in one request per chunk; True when a retry is needed."""
        pending = [
            (o, e) for o, e in advance if e.state == "confirmed" and self._needs_advance(o, e)
        ]
        sending = [o for o, e in pending if "sent" in self._steps_left(o, e)]
        send_by_email = bool(sending) and self._send_by_email(connection, client, sending)
        return self.env["wave.outbound.ledger.service"]._advance_in_chunks(
            connection, client, pending, self, send_by_email, "OdooEstimateSteps"
        )

    @api.model
    def _steps_left(self, order, entry):
        """The steps ``order``'s estimate still needs in Wave, in order (after the create)."""
        steps = mapper.STEPS
        first = steps.index(entry.saga_step) + 1
        last = steps.index(mapper.target_step(order))
        return steps[max(first, 2) : last + 1]

    @api.model
    def _saga_batch(self, chunk, send_by_email=False):
        """``(batch, owners)``: the aliases of the steps each order still needs, in order."""
        batch, owners = [], {}
        for i, (order, entry) in enumerate(chunk):
            for step in self._steps_left(order, entry):
                if step == "sent":
                    email = self._send_email_of(order, send_by_email)
                    name, payload = mapper.estimate_send_input(entry.wave_id, email)
                else:
                    name, make_input = STEP_MUTATIONS[step]
                    payload = make_input(entry.wave_id)
                alias = f"{step[:2]}{i}"
                batch.append((alias, name, payload, gql.ESTIMATE_RESULT_SELECTION))
                owners[alias] = (order, entry, step)
        return batch, owners

    @api.model
    def _send_fallback_reason(self, why):
        if why == "business":
            return _(
                "The Wave business cannot send emails (emailSendEnabled is off): the "
                "estimate is marked as sent instead; send the quotation from Odoo."
            )
        return _(
            "The customer has no email address: the estimate is marked as sent in Wave "
            "instead of being emailed."
        )

    @api.model
    def _saga_results(self, connection, client, chunk, owners, answer):
        Service = self.env["wave.outbound.ledger.service"]
        refused, to_check = set(), {}
        for alias, (order, entry, step) in owners.items():
            if order in refused or order in to_check:
                continue  # a step before it failed: the later ones could not run
            value = answer.get(alias)
            if isinstance(value, WaveValidationError):
                refused.add(order)
                with self.env.cr.savepoint():
                    Service._quarantine(
                        connection,
                        order,
                        _(
                            "Wave refused to %(step)s estimate %(name)s:\n%(reasons)s",
                            name=order.name,
                            step={
                                "approved": _("approve"),
                                "sent": _("send"),
                                "accepted": _("mark as accepted"),
                            }[step],
                            reasons=format_reasons(value),
                        ),
                        {"estimateId": entry.wave_id, "step": step},
                    )
            elif isinstance(value, Exception):
                to_check[order] = (entry, value)
            else:
                node = (value or {}).get("estimate") or {}
                entry._wave_sync_write({"saga_step": mapper.step_of(node) if node else step})
                self._bind(connection, order, node)
        retry = self._check_steps(connection, client, to_check) if to_check else False
        for order, entry in chunk:
            if entry.state == "confirmed" and not self._needs_advance(order, entry):
                entry._wave_sync_write({"attempts": 0, "error_message": False})
                Service._resolve_quarantine(connection, order)
                self.env["wave.audit.log"]._log_many(
                    order,
                    "outbound_exported",
                    {"wave_id": entry.wave_id, "step": entry.saga_step},
                    "outbound",
                )
        return retry

    # ------------------------------------------------------------------
    # Changes
    # ------------------------------------------------------------------
    @api.model
    def _update(self, connection, client, updates, advance):
        """Exported quotations changed in Odoo: ``estimatePatch`` while Wave allows it."""
        Service = self.env["wave.outbound.ledger.service"]
        nodes = self._read(connection, client, [e.wave_id for _o, e, _p in updates])
        patches = []
        for order, entry, payload in updates:
            node = nodes.get(entry.wave_id)
            with self.env.cr.savepoint():
                if not node or node.get("status") in CLOSED_STATUSES:
                    Service._quarantine(
                        connection,
                        order,
                        _(
                            "Quotation %(name)s changed in Odoo, but its Wave estimate is "
                            "%(status)s: Wave no longer lets it be changed. Change it in Wave "
                            "by hand, then discard this entry.",
                            name=order.name,
                            # not found: deleted (Wave's own status name)
                            status=(node or {}).get("status") or "DELETED",
                        ),
                        payload,
                    )
                    continue
            rate = (entry.request_summary or {}).get("exchangeRate")
            patch = mapper.estimate_patch_input(payload, entry.wave_id, node["status"], rate)
            patches.append((entry, patch, order, payload))
        if not patches:
            return
        answers = Service._mutate_each(
            connection,
            client,
            gql.ESTIMATE_PATCH_MUTATION,
            [patch for _e, patch, _o, _p in patches],
            gql.ESTIMATE_RESULT_SELECTION,
            "OdooEstimatePatches",
        )
        for (entry, patch, order, payload), value in zip(patches, answers, strict=True):
            with self.env.cr.savepoint():
                if isinstance(value, WaveError):
                    # A patch is idempotent: sent again once the entry is replayed.
                    Service._quarantine(connection, order, format_reasons(value), patch)
                    continue
                node = value.get("estimate") or {}
                entry._wave_sync_write(
                    {
                        "payload_hash": payload_hash(payload),
                        "saga_step": mapper.step_of(node),
                        "request_summary": payload,
                    }
                )
                self._bind(connection, order, node)
                self.env["wave.audit.log"]._log_many(
                    order, "outbound_patched", {"wave_id": entry.wave_id}, "outbound"
                )
                advance.append((order, entry))

    # ------------------------------------------------------------------
    # Cancelled in Odoo
    # ------------------------------------------------------------------
    @api.model
    def _confirmed_entries(self, connection, orders):
        """The confirmed estimate ledger entries of ``orders`` (their estimates in Wave)."""
        return self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", "estimate"),
                ("res_model", "=", "sale.order"),
                ("res_id", "in", orders.ids),
                ("state", "=", "confirmed"),
            ]
        )

    @api.model
    def _cancelled_entries(self, connection, orders):
        """The confirmed estimate entries of quotations cancelled in Odoo (not by Wave:
        those carry Wave's reason and are never sent back)."""
        return self._confirmed_entries(connection, orders).filtered(
            lambda e: e._record().state == "cancel" and not e._record().wave_cancel_reason
        )

    @api.model
    def _cancel(self, connection, orders):
        """``estimateDelete`` of the Wave estimates of quotations cancelled in Odoo."""
        entries = self._cancelled_entries(connection, orders)
        if not entries:
            return
        Service = self.env["wave.outbound.ledger.service"]
        client = connection._get_client("bulk")
        nodes = self._read(connection, client, entries.mapped("wave_id"))
        deletes = []
        for entry in entries:
            node = nodes.get(entry.wave_id)
            status = (node or {}).get("status") or "DELETED"
            if status == "DELETED":
                self._deleted(connection, entry, _("already deleted in Wave"))
            elif status == "CONVERTED":
                with self.env.cr.savepoint():
                    Service._quarantine(
                        connection,
                        entry._record(),
                        _(
                            "Quotation %(name)s was cancelled in Odoo, but Wave already "
                            "turned its estimate into an invoice: Wave cannot delete it. "
                            "Handle the invoice in Wave by hand, then discard this entry.",
                            name=entry._record().name,
                        ),
                        {"estimateId": entry.wave_id, "status": status},
                    )
            else:
                deletes.append(entry)
        if deletes:
            answers = Service._mutate_each(
                connection,
                client,
                gql.ESTIMATE_DELETE_MUTATION,
                [{"estimateId": e.wave_id} for e in deletes],
                "",
                "OdooEstimateDeletes",
            )
            unclear = [
                (e, value)
                for e, value in zip(deletes, answers, strict=True)
                if isinstance(value, WaveError)
            ]
            # A lost or refused answer: read the estimate back before anything is sent again.
            unclear_ids = [e.wave_id for e, _v in unclear]
            alive = self._read(connection, client, unclear_ids) if unclear else {}
            retry = False
            for entry in deletes:
                error = dict(unclear).get(entry)
                node = alive.get(entry.wave_id) if error else None
                if node and node.get("status") != "DELETED":
                    retry |= Service._transient_failure(connection, entry, error)
                    continue
                self._deleted(connection, entry, _("estimate deleted in Wave"))
            Service._commit(connection)
            if retry:
                raise JobRetryLater(self._retry_message())

    @api.model
    def _deleted(self, connection, entry, note):
        """The estimate of ``entry`` is gone from Wave: its entry is settled (never sent
        again), the order shows Wave's status."""
        entry._wave_sync_write({"state": "compensated", "error_message": note})
        self.env["wave.outbound.ledger.service"]._bind_write(
            connection, entry._record(), {"wave_status": "DELETED"}
        )
        self.env["wave.audit.log"]._log_many(entry, "outbound_undone", {"note": note}, "outbound")
