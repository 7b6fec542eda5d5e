# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: what every exported sales document (invoice, estimate) goes through.

``wave.document.exporter`` is the shared base of ``wave.invoice.exporter`` and
``wave.estimate.exporter``. For a batch of documents of one connection:

1. each document gets its ledger entry (``wave.outbound.ledger``); an entry whose
   create answer was lost (``sent`` / ``outcome_unknown``) is looked up in Wave by
   the document's number (exact match, same customer) before anything is sent;
2. the customers, products and sales taxes the documents need are exported first,
   exactly once (``wave.outbound.dependencies``);
3. each document is planned: created (one aliased request for the batch), patched
   (changed since its last export), moved on in Wave (approve, send…), or refused
   into the quarantine with the reason;
4. a create whose answer is lost is looked up at once; never sent twice.

A subclass names its ledger kind, its mutations and lookups, and says how a
document maps to Wave's input (``_input``), what it needs (``_document_lines``,
``_line_taxes``), how far Wave got (``_saga_step_of``) and what comes after the
create (``_advance``, whose lost answers ``_check_steps`` reads back with ``_read``)
or a change (``_update``).
"""

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib.dates import parse_wave_datetime
from ..lib.wave_enums import unsupported_currency
from .job_guard import JobRetryLater
from .outbound_ledger_service import payload_hash

LOOKUP_PAGE_SIZE = 100  # documents per page when looking up lost numbers


class WaveDocumentExporter(models.AbstractModel):
    _name = "wave.document.exporter"
    _description = "Wave Export of Sales Documents (shared steps)"

    #: ``wave.outbound.ledger`` kind of the documents.
    _document_kind = None
    #: Wave's create mutation, its result selection and key, and the request's name.
    _create_mutation = None
    _result_selection = None
    _result_key = None
    _create_operation = None
    #: Lookup of lost creates: ``business.<collection>(<number_arg>:)``.
    _lookup_collection = None
    _lookup_number_field = None
    #: The quantity field of a line (lines without quantity are left out).
    _quantity_field = None

    # ------------------------------------------------------------------
    # Hooks (subclasses)
    # ------------------------------------------------------------------
    @api.model
    def _document_lines(self, record):
        """The lines of ``record`` that become Wave items."""
        raise NotImplementedError

    @api.model
    def _line_taxes(self, lines):
        """The (flattened) taxes of ``lines``."""
        raise NotImplementedError

    @api.model
    def _customers(self, records):
        """The Wave customers (commercial partners) of ``records``."""
        return records.commercial_partner_id

    @api.model
    def _document_number(self, record):
        return record.name

    @api.model
    def _still_exportable(self, record):
        """Whether a failed document may be planned again (e.g. still posted)."""
        return True

    @api.model
    def _currency_problem(self, record):
        """Why a document in a currency Wave does not know is not sent."""
        raise NotImplementedError

    @api.model
    def _no_lines_problem(self, record):
        """Why a document without a line Wave can take is not sent."""
        raise NotImplementedError

    @api.model
    def _input_problem(self, connection, record):
        """Why ``record`` cannot be mapped to Wave's input, or None."""
        if unsupported_currency(record.currency_id.name):
            return self._currency_problem(record)
        if not self._customers(record).wave_id:
            return _("The customer of %s has no Wave customer.", record.name)
        generic = connection.outbound_generic_product_wave_id
        lines = self._document_lines(record).filtered(self._quantity_field)
        for line in lines:
            if not (line.product_id.wave_id or generic):
                return _("Line %s has no Wave product.", line.display_name)
        if not lines:
            return self._no_lines_problem(record)
        return None

    @api.model
    def _input(self, connection, record):
        raise NotImplementedError

    @api.model
    def _saga_step_of(self, node):
        raise NotImplementedError

    @api.model
    def _needs_advance(self, record, entry):
        """Whether an exported, unchanged document has steps left in Wave."""
        return False

    @api.model
    def _advance(self, connection, client, advance):
        """Move ``[(record, entry)]`` on in Wave; True when a retry is needed."""
        return False

    @api.model
    def _update(self, connection, client, updates, advance):
        """``[(record, entry, payload)]`` changed in Odoo since their export."""
        raise NotImplementedError

    @api.model
    def _read(self, connection, client, wave_ids):
        """``{wave_id: node or None}``: the documents as Wave has them now (their status,
        amounts and sending)."""
        raise NotImplementedError

    @api.model
    def _bind_vals(self, node):
        """Binding values written on the Odoo document from Wave's ``node``."""
        vals = {"wave_origin": "odoo"}
        if node.get("id"):
            vals["wave_id"] = node["id"]
        if node.get("modifiedAt"):
            vals["wave_modified_at"] = parse_wave_datetime(node["modifiedAt"])
        return vals

    @api.model
    def _numbered_query(self, count):
        raise NotImplementedError

    @api.model
    def _numbered_page_query(self):
        raise NotImplementedError

    @api.model
    def _retry_message(self):
        """What the retried job says (some documents could not be exported yet)."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # The export of a batch
    # ------------------------------------------------------------------
    @api.model
    def _export_documents(self, connection, records):
        """Export ``records`` (already filtered: of this connection, exportable)."""
        connection.ensure_one()
        if not records:
            return True
        Service = self.env["wave.outbound.ledger.service"]
        client = connection._get_client("bulk")
        entries = {
            record: entry
            for (record, _sub), entry in Service._entries(
                connection, records, self._document_kind
            ).items()
        }
        lost = {r: e for r, e in entries.items() if e.state in ("sent", "outcome_unknown")}
        if lost:
            self._resolve_lost(connection, client, lost)
        # Failed earlier, fixed since (the document or a reference it needs changed):
        # planned again, never skipped silently.
        self._fixed_since_failure(
            self.env["wave.outbound.ledger"].union(*entries.values())
        )._wave_sync_write({"state": "pending"})
        todo = records.filtered(lambda r: entries[r].state in ("pending", "confirmed"))
        if not todo:
            return True
        lines = self._document_lines(todo)
        failures, waiting = self.env["wave.outbound.dependencies"]._ensure(
            connection,
            client,
            self._customers(todo),
            lines.product_id,
            self._line_taxes(lines),
            need_generic=any(not line.product_id for line in lines),
        )
        creates, updates, advance, retry = self._plan(connection, todo, entries, failures, waiting)
        if creates:
            retry |= self._create(connection, client, creates, entries, advance)
        if updates:
            self._update(connection, client, updates, advance)
        if advance:
            retry |= self._advance(connection, client, advance)
        Service._commit(connection)
        if retry:
            raise JobRetryLater(self._retry_message())
        return True

    @api.model
    def _fixed_since_failure(self, entries):
        """The ``failed`` entries of this kind whose document, customer, products or
        taxes were changed (or bound to Wave) after the failure: worth exporting again."""
        fixed = self.env["wave.outbound.ledger"]
        for entry in entries.filtered(
            lambda e: e.kind == self._document_kind and e.state == "failed"
        ):
            record = entry._record()
            if not record or not self._still_exportable(record):
                continue
            lines = self._document_lines(record)
            records = [
                record,
                self._customers(record),
                *lines.product_id,
                *self._line_taxes(lines),
            ]
            if any(r.write_date and r.write_date > entry.write_date for r in records):
                fixed |= entry
        return fixed

    @api.model
    def _blockers(self, connection, record, failures):
        """Reasons the references ``record`` needs are missing in Wave."""
        lines = self._document_lines(record)
        needed = [self._customers(record), *lines.product_id, *self._line_taxes(lines)]
        if any(not line.product_id for line in lines):
            needed.append(connection)
        return [failures[rec] for rec in needed if rec in failures]

    @api.model
    def _plan(self, connection, todo, entries, failures, waiting):
        """``(creates, updates, advance, wait)``: what each document needs now, and
        whether some wait for a reference not confirmed yet (retry later)."""
        Service = self.env["wave.outbound.ledger.service"]
        creates, updates, advance, wait = [], [], [], False
        for record in todo:
            entry = entries[record]
            with self.env.cr.savepoint():
                blockers = self._blockers(connection, record, failures)
                pending = self._blockers(connection, record, waiting)
                if pending and not blockers:
                    # Not refused: a lost answer is looked up on the next run; the
                    # document stays pending (retried), it does not fail.
                    if entry.state == "pending":
                        entry._wave_sync_write({"error_message": "\n".join(pending)})
                    wait = True
                    continue
                if blockers:
                    Service._fail(
                        connection,
                        entry if entry.state == "pending" else None,
                        record,
                        "\n".join(f"- {reason}" for reason in blockers),
                    )
                    continue
                problem = self._input_problem(connection, record)
                if problem:
                    Service._fail(connection, entry, record, problem)
                    continue
                payload = self._input(connection, record)
                if entry.state == "pending":
                    creates.append((entry, payload))
                elif entry.payload_hash and entry.payload_hash != payload_hash(payload):
                    updates.append((record, entry, payload))
                elif self._needs_advance(record, entry):
                    advance.append((record, entry))
        return creates, updates, advance, wait

    @api.model
    def _create(self, connection, client, creates, entries, advance):
        """The create mutation for the batch; returns True when a retry is needed."""
        Service = self.env["wave.outbound.ledger.service"]
        records_by_entry = {entry: record for record, entry in entries.items()}
        outcome = Service._send(
            connection,
            client,
            creates,
            self._create_mutation,
            self._result_selection,
            self._result_key,
            operation_name=self._create_operation,
        )
        payloads = dict(creates)
        retry, unknown = False, {}
        for entry, (status, value) in outcome.items():
            record = records_by_entry[entry]
            with self.env.cr.savepoint():
                if status == "ok":
                    self._confirmed(connection, record, entry, value, payloads[entry])
                    advance.append((record, entry))
                elif status == "invalid":
                    Service._fail(connection, entry, record, value, payloads[entry])
                elif status == "unknown":
                    Service._mark_unknown(connection, entry, value)
                    unknown[record] = entry
                else:
                    retry |= Service._transient_failure(connection, entry, value)
        Service._commit(connection)
        if unknown:
            self._resolve_lost(connection, client, unknown)
            for record, entry in unknown.items():
                if entry.state == "confirmed":
                    advance.append((record, entry))
                else:
                    retry = True  # not in Wave: safe to create it on the next run
        return retry

    @api.model
    def _send_fallback_reason(self, why):
        """What is said on a document marked sent instead of emailed by Wave: ``why`` is
        ``"business"`` (the Wave business cannot send emails) or ``"customer"`` (no
        email address)."""
        raise NotImplementedError

    @api.model
    def _send_by_email(self, connection, client, records):
        """Whether the sending step emails ``records`` from Wave (``invoiceSend``,
        ``estimateSend``): the connection's send mode is *Email from Wave* and the
        business has ``emailSendEnabled``. When it cannot, they are marked sent instead
        and each says so."""
        if connection.invoice_send_mode != "send":
            return False
        data = self.env["wave.outbound.ledger.service"]._query(
            connection, client, gql.BUSINESS_EMAIL_QUERY, {"id": connection.business_id}
        )
        if (data.get("business") or {}).get("emailSendEnabled"):
            return True
        self._log_send_fallback(records, self._send_fallback_reason("business"))
        return False

    @api.model
    def _send_email_of(self, record, send_by_email):
        """The address Wave emails ``record`` to, or None: marked sent (said so on the
        document when an email was asked but the customer has no address)."""
        if not send_by_email:
            return None
        email = record.partner_id.email or record.partner_id.commercial_partner_id.email
        if not email:
            self._log_send_fallback([record], self._send_fallback_reason("customer"))
        return email or None

    @api.model
    def _log_send_fallback(self, records, reason):
        """Sending by Wave's email was asked but cannot be used: say so on each document
        (audit log and chatter)."""
        if not records:
            return
        records = self.env[records[0]._name].union(*records)
        self.env["wave.audit.log"]._log_many(
            records, "outbound_send_fallback", {"reason": reason}, "outbound"
        )
        for record in records:
            record.message_post(body=reason)

    @api.model
    def _check_steps(self, connection, client, to_check):
        """Steps after the create whose answer was lost or failed (``{record: (entry,
        error)}``): the documents are read back to see how far they got; those with
        steps left are retried. True when a retry is needed."""
        Service = self.env["wave.outbound.ledger.service"]
        nodes = self._read(connection, client, [e.wave_id for e, _v in to_check.values()])
        retry = False
        for record, (entry, error) in to_check.items():
            with self.env.cr.savepoint():
                node = nodes.get(entry.wave_id)
                if node:
                    entry._wave_sync_write({"saga_step": self._saga_step_of(node)})
                    self._bind(connection, record, node)
                if self._needs_advance(record, entry):
                    retry |= Service._transient_failure(connection, entry, error)
        return retry

    @api.model
    def _confirmed(self, connection, record, entry, node, payload, resolution="response"):
        self.env["wave.outbound.ledger.service"]._mark_confirmed(
            connection,
            entry,
            node.get("id"),
            resolution,
            saga_step=self._saga_step_of(node),
            payload_hash=payload_hash(payload) if payload else entry.payload_hash,
        )
        self._bind(connection, record, node)

    @api.model
    def _bind(self, connection, record, node):
        self.env["wave.outbound.ledger.service"]._bind_write(
            connection, record, self._bind_vals(node)
        )

    # ------------------------------------------------------------------
    # Lost create answers
    # ------------------------------------------------------------------
    @api.model
    def _resolve_lost(self, connection, client, lost):
        """Find documents whose create answer was lost, by number (exact match).

        Wave's number filters match substrings: the first page of every number
        travels in one aliased request, and the numbers with more matches than a
        page are paged through (``client.iterate``).
        """
        Service = self.env["wave.outbound.ledger.service"]
        records = list(lost)
        variables = {"businessId": connection.business_id}
        variables.update(
            {f"n{i}": self._document_number(record) for i, record in enumerate(records)}
        )
        query = self._numbered_query(len(records))
        business = Service._query(connection, client, query, variables).get("business") or {}
        for i, record in enumerate(records):
            entry = lost[record]
            number = self._document_number(record)
            page = business.get(f"f{i}") or {}
            nodes = [e["node"] for e in page.get("edges") or [] if e and e.get("node")]
            if ((page.get("pageInfo") or {}).get("totalPages") or 1) > 1:
                nodes += self._numbered(connection, client, number)
            # Exact number (the filter matches substrings) and same customer; newest first.
            customer = (entry.request_summary or {}).get("customerId")
            exact = [
                node
                for node in nodes
                if node[self._lookup_number_field] == number
                and (not customer or (node.get("customer") or {}).get("id") == customer)
            ]
            with self.env.cr.savepoint():
                if exact:
                    self._confirmed(
                        connection, record, entry, exact[0], entry.request_summary, "lookup"
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
        """Pages 2.. of the documents whose number contains ``number`` (newest first)."""
        return self.env["wave.outbound.ledger.service"]._read(
            connection,
            lambda: list(
                client.iterate(
                    self._numbered_page_query(),
                    {"businessId": connection.business_id, "number": number},
                    f"business.{self._lookup_collection}",
                    page_size=LOOKUP_PAGE_SIZE,
                    start_page=2,
                )
            ),
        )
