# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: an exported invoice's saga after its creation, and its undoing.

``invoiceCreate`` (DRAFT, ``wave.invoice.exporter``) → ``invoiceApprove`` →
``invoiceMarkSent`` (or ``invoiceSend`` when the connection sends by email and
the business has ``emailSendEnabled``). One request approves and marks a whole
chunk of invoices sent; a step whose answer is lost is checked by reading the
invoice back. Invoices reset or cancelled in Odoo delete their Wave draft (an
approved Wave invoice cannot be voided through the API: it goes to review), and
a saga whose retries ran out is compensated the same way.
"""

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import WaveError, WaveValidationError
from ..mappers import invoice_outbound as mapper
from .job_guard import JobRetryLater
from .outbound_ledger_service import format_reasons

SAGA_CHUNK = 20  # invoices per approve + markSent request (2 aliases each)


class WaveInvoiceSaga(models.AbstractModel):
    _name = "wave.invoice.saga"
    _description = "Wave Invoice Approval, Sending and Undoing"
    _saga_chunk = SAGA_CHUNK

    @api.model
    def _read(self, connection, client, wave_ids):
        """``{wave_id: invoice node or None}`` (their status, amounts and sending)."""
        return self.env["wave.outbound.ledger.service"]._lookup(
            connection, client, "invoice", wave_ids, gql.INVOICE_STATE_FIELDS
        )

    # ------------------------------------------------------------------
    # Approve + mark sent (or send)
    # ------------------------------------------------------------------
    @api.model
    def _advance(self, connection, client, advance):
        """Approve and mark sent many invoices in one request; True when a retry is needed."""
        pending = [(m, e) for m, e in advance if e.state == "confirmed" and e.saga_step != "sent"]
        if not pending:
            return False
        send_by_email = self.env["wave.invoice.exporter"]._send_by_email(
            connection, client, [m for m, _e in pending]
        )
        return self.env["wave.outbound.ledger.service"]._advance_in_chunks(
            connection, client, pending, self, send_by_email, "OdooInvoiceApproveSend"
        )

    @api.model
    def _saga_batch(self, chunk, send_by_email):
        """``(batch, owners)``: the approve (drafts only) and send aliases of a chunk."""
        batch, owners = [], {}
        for i, (move, entry) in enumerate(chunk):
            if entry.saga_step == "created":
                approve = {"invoiceId": entry.wave_id}
                selection = gql.INVOICE_RESULT_SELECTION
                batch.append((f"a{i}", gql.INVOICE_APPROVE_MUTATION, approve, selection))
                owners[f"a{i}"] = (move, entry, "approved")
            email = self.env["wave.invoice.exporter"]._send_email_of(move, send_by_email)
            name, payload = mapper.invoice_send_input(entry.wave_id, email)
            batch.append((f"s{i}", name, payload, gql.INVOICE_RESULT_SELECTION))
            owners[f"s{i}"] = (move, entry, "sent")
        return batch, owners

    @api.model
    def _saga_results(self, connection, client, chunk, owners, answer):
        Service = self.env["wave.outbound.ledger.service"]
        Exporter = self.env["wave.invoice.exporter"]
        retry = False
        to_check = {}
        for alias, (move, entry, step) in owners.items():
            value = answer.get(alias)
            if isinstance(value, WaveValidationError):
                if step == "sent" and entry.saga_step == "created":
                    continue  # failed because the approval before it failed
                with self.env.cr.savepoint():
                    Service._quarantine(
                        connection,
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
                entry._wave_sync_write({"saga_step": step})
                Exporter._bind(connection, move, (value or {}).get("invoice") or {})
        if to_check:
            retry = Exporter._check_steps(connection, client, to_check)
        exported = self.env["account.move"]
        for move, entry in chunk:
            if entry.state == "confirmed" and entry.saga_step == "sent":
                entry._wave_sync_write({"attempts": 0, "error_message": False})
                Service._resolve_quarantine(connection, move)
                self.env["wave.audit.log"]._log_many(
                    move, "outbound_exported", {"wave_id": entry.wave_id}, "outbound"
                )
                exported |= move
        if exported:
            self.env["wave.payment.exporter"]._enqueue_waiting(connection, exported)
        return retry

    # ------------------------------------------------------------------
    # Reset / cancel in Odoo, compensation
    # ------------------------------------------------------------------
    @api.model
    def _reset(self, connection, moves):
        """Odoo invoices reset to draft or cancelled: delete Wave drafts, review others."""
        Service = self.env["wave.outbound.ledger.service"]
        entries = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("res_model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                ("state", "=", "confirmed"),
            ]
        )
        entries = entries.filtered(lambda e: e._record() and e._record().state != "posted")
        if not entries:
            return True
        client = connection._get_client("bulk")
        invoice_entries = entries.filtered(lambda e: e.kind == "invoice")
        nodes = self._read(connection, client, invoice_entries.mapped("wave_id"))
        for entry in entries - invoice_entries:
            Service._quarantine(
                connection,
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
                self._unbind(connection, entry, move, _("already gone from Wave"))
            elif node["status"] == "DRAFT":
                deletes.append(entry)
            else:
                Service._quarantine(
                    connection,
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
            self._delete(connection, client, deletes)
        Service._commit(connection)
        return True

    @api.model
    def _delete(self, connection, client, entries):
        """``invoiceDelete`` of Wave drafts; returns the entries actually deleted."""
        answers = self.env["wave.outbound.ledger.service"]._mutate_each(
            connection,
            client,
            gql.INVOICE_DELETE_MUTATION,
            [{"invoiceId": e.wave_id} for e in entries],
            "",
            "OdooInvoiceDeletes",
        )
        done = self.env["wave.outbound.ledger"]
        unclear = [
            e for e, value in zip(entries, answers, strict=True) if isinstance(value, WaveError)
        ]
        gone = set()
        if unclear:
            try:
                nodes = self._read(connection, client, [e.wave_id for e in unclear])
            except JobRetryLater:
                nodes = {e.wave_id: True for e in unclear}
            gone = {e.wave_id for e in unclear if not nodes.get(e.wave_id)}
        for entry in entries:
            if entry in unclear and entry.wave_id not in gone:
                continue
            self._unbind(connection, entry, entry._record(), _("Wave draft deleted"))
            done |= entry
        return done

    @api.model
    def _unbind(self, connection, entry, move, note):
        entry._wave_sync_write({"state": "compensated", "error_message": note})
        if move:
            self.env["wave.outbound.ledger.service"]._bind_write(
                connection,
                move,
                {"wave_id": False, "wave_origin": False, "wave_modified_at": False},
            )
        self.env["wave.audit.log"]._log_many(entry, "outbound_undone", {"note": note}, "outbound")

    @api.model
    def _compensate(self, connection, entry, move):
        """Undo an invoice saga in Wave; a text of what was undone, or None."""
        client = connection._get_client("bulk")
        try:
            node = self._read(connection, client, [entry.wave_id]).get(entry.wave_id)
        except JobRetryLater:
            return None
        if node and node["status"] != "DRAFT":
            return None
        if node and not self._delete(connection, client, [entry]):
            return None
        undone = _("Wave draft invoice deleted")
        if move and connection.compensate_odoo_side and move.state == "posted":
            move.with_context(wave_no_outbound=True).button_draft()
            undone = _("Wave draft invoice deleted and Odoo invoice reset to draft")
        return undone
