# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The outbound ledger's protocol: exactly once, Odoo → Wave.

For every Wave object we create (see ``wave.outbound.ledger``):

1. a ledger row is written ``pending``, then ``sent`` and COMMITTED (outside
   tests) right before the request leaves;
2. the answer is recorded right after (``confirmed`` + Wave id, ``failed`` +
   quarantine, or ``outcome_unknown``) and committed;
3. a lost answer is never resent blindly: the exporters look up what Wave lets
   us search first; money transactions, which Wave cannot read back, wait in
   the *Needs confirmation* queue for an accountant.

Several creates travel in one request (GraphQL aliases through
``WaveClient.mutate_many``, :meth:`WaveOutboundLedgerService._send`): each alias
result is independent, and a lost response marks each of them unknown.
"""

import hashlib
import json
import logging
import re

from odoo import _, api, fields, models, sql_db
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib import (
    WaveAuthenticationError,
    WaveConfigurationError,
    WaveError,
    WaveNotFoundError,
    WaveOutcomeUnknownError,
    WaveRateLimitedError,
    WaveScopeError,
    WaveValidationError,
)
from ..lib.text import by_count
from ..models.wave_runtime import in_test_mode
from .job_guard import JobRetryLater

_logger = logging.getLogger(__name__)

#: The ledger entry's external id in the memo of an exported payment ("INV/1 [<id>]").
MEMO_MARKER = re.compile(r"\[([^\[\]\s]+)\]")

MUTATION_CHUNK = 20
LOOKUP_PAGE_SIZE = 100


def payload_hash(payload):
    """Short stable hash of a Wave input (tells whether an export changed)."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def format_reasons(error):
    """Readable reasons of a Wave error: one line per input error, with its path."""
    if isinstance(error, WaveValidationError) and error.input_errors:
        lines = []
        for item in error.input_errors:
            path = ".".join(str(p) for p in item.get("path") or [])
            text = item.get("message") or item.get("code") or _("invalid value")
            lines.append(f"- {text} ({path})" if path else f"- {text}")
        return "\n".join(lines)
    return str(error)


def alias_outcome(value, result_key):
    """``(status, value)`` of one alias of a ``mutate_many`` answer."""
    if isinstance(value, (WaveValidationError, WaveNotFoundError)):
        return "invalid", value
    if isinstance(value, WaveError):
        return "unknown", value
    return "ok", (value or {}).get(result_key) or {}


class WaveOutboundLedgerService(models.AbstractModel):
    _name = "wave.outbound.ledger.service"
    _description = "Wave Export Ledger Protocol"

    # ------------------------------------------------------------------
    # Transactions and keys
    # ------------------------------------------------------------------
    @api.model
    def _commit(self, connection):
        """Commit the ledger before/after talking to Wave (never in tests)."""
        if in_test_mode(self.env):
            return
        self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _external_id(self, connection, record, sub_key, version):
        # sudo: database.uuid is a system parameter; only 8 characters are used.
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "db"
        model = record._name.replace(".", "_")
        parts = ["odoo", db_uuid.replace("-", "")[:8], model, str(record.id)]
        if sub_key:
            parts.append(sub_key)
        parts.append(f"v{version}")
        return "-".join(parts)

    @api.model
    def _entries(self, connection, records, kind, sub_keys=None):
        """The current ledger entry of each record (created pending when missing).

        ``sub_keys``: optional ``{record: [sub_key, ...]}``; returns
        ``{(record, sub_key): entry}``. A compensated entry means the Wave
        object was undone: a new version is started.
        """
        connection.ensure_one()
        Ledger = self.env["wave.outbound.ledger"]
        existing = Ledger.search(
            [
                ("connection_id", "=", connection.id),
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
            ],
            order="version desc, id desc",
        )
        latest = {}
        for entry in existing:
            latest.setdefault((entry.res_id, entry.sub_key or ""), entry)
        result, to_create, keys = {}, [], []
        for record in records:
            for sub_key in (sub_keys or {}).get(record, [""]):
                entry = latest.get((record.id, sub_key))
                if entry and entry.state != "compensated":
                    result[(record, sub_key)] = entry
                    continue
                version = entry.version + 1 if entry else 1
                to_create.append(self._entry_vals(connection, record, kind, sub_key, version))
                keys.append((record, sub_key))
        if to_create:
            # The ledger's fields are server-owned: created through the sync's path
            # (the connection's company checked against the job's user, then superuser).
            created = Ledger._wave_sync_create(to_create)
            result.update(zip(keys, created, strict=True))
        return result

    @api.model
    def _bind_write(self, connection, records, vals):
        """Write Wave binding fields (``wave_id``, ``wave_origin``, ``wave_modified_at``)
        on Odoo records the sync exported: the one path, with its company check."""
        company = connection.company_id
        # sudo: only the records' companies are read, to compare them.
        foreign = records.sudo().filtered(
            lambda r: "company_id" in r and r.company_id and company not in r.company_id.parent_ids
        )
        if foreign:
            raise AccessError(
                _(
                    "%(name)s does not belong to %(company)s: Wave's answer is not bound to it.",
                    name=foreign[0].display_name,
                    company=company.display_name,
                )
            )
        # sudo: binding fields are written by the sync whoever posted the document
        # (users may not write them); checked just above: the records are of the
        # connection's company (or a branch of it), or shared (no company).
        records.sudo()._wave_write_binding(vals)

    @api.model
    def _entry_vals(self, connection, record, kind, sub_key, version):
        return {
            "connection_id": connection.id,
            "kind": kind,
            "res_model": record._name,
            "res_id": record.id,
            "sub_key": sub_key,
            "version": version,
            "record_name": record.display_name,
            "external_id": self._external_id(connection, record, sub_key, version),
        }

    # ------------------------------------------------------------------
    # Documents an export made: never imported as new ones
    # ------------------------------------------------------------------
    @api.model
    def _left_to_export(self, connection, kind, nodes, number_field, source_of=None):
        """The Wave ids of ``nodes`` (not bound in Odoo) that an export of ``connection``
        created or may have created: the export binds them, an import must not create them.

        A document's ``invoiceCreate`` reaches Wave before the export commits its answer,
        and a lost answer is only looked up on the export's next run: meanwhile a poll or a
        webhook sees the new Wave document. It belongs to the export when a ``sent`` or
        ``outcome_unknown`` entry of ``kind`` sent the same number for the same customer,
        or a ``confirmed`` entry holds its id; ``source_of(node)``, when given, is the Wave
        document ``node`` was made from: an unanswered ``convertEstimateToInvoice`` of that
        estimate (Wave numbers the invoice) claims it too. Both this transaction's snapshot
        and what is committed now are read: the export commits after this import's
        snapshot began.
        """
        nodes = [node for node in nodes if node and node.get("id")]
        if not nodes:
            return set()
        rows = self._ledger_rows_now(
            SQL(
                """SELECT wave_id, state IN ('sent', 'outcome_unknown'),
                          request_summary->>%s, request_summary->>'customerId',
                          request_summary->>'estimateId'
                     FROM wave_outbound_ledger
                    WHERE connection_id = %s AND kind = %s
                      AND (state IN ('sent', 'outcome_unknown') OR wave_id = ANY(%s))""",
                number_field,
                connection.id,
                kind,
                [node["id"] for node in nodes],
            )
        )
        ids = {row[0] for row in rows if row[0]}
        # Only an unanswered entry claims by number or source: a confirmed one claims its
        # own id, never another Wave document that happens to share its number.
        unanswered = [row for row in rows if row[1]]
        sent = {(row[2], row[3]) for row in unanswered if row[2]}
        sources = {row[4] for row in unanswered if row[4]}
        return {
            node["id"]
            for node in nodes
            if node["id"] in ids
            or (node.get(number_field), (node.get("customer") or {}).get("id")) in sent
            or (source_of and source_of(node) in sources)
        }

    @api.model
    def _exported_payment_ids(self, connection, wave_payments):
        """The ids of ``wave_payments`` (Wave invoice payments) that an export of
        ``connection`` made or may have made: the export binds them, an import must not
        create them again (the exported Odoo payment holds the Wave id, or will).

        A payment the export sent carries its ledger entry's external id in its memo
        (``<payment> [<external id>]``), whatever became of the answer; a ``confirmed``
        entry holds its id. Read in this transaction's snapshot and in what is committed
        now, as :meth:`_left_to_export`.
        """
        payments = [p for p in wave_payments if p and p.get("id")]
        if not payments:
            return set()
        markers = {p["id"]: set(MEMO_MARKER.findall(p.get("memo") or "")) for p in payments}
        rows = self._ledger_rows_now(
            SQL(
                """SELECT wave_id, external_id FROM wave_outbound_ledger
                    WHERE connection_id = %s AND kind = 'payment'
                      AND (wave_id = ANY(%s) OR external_id = ANY(%s))""",
                connection.id,
                list(markers),
                sorted(set().union(*markers.values())),
            )
        )
        ids = {wave_id for wave_id, _external_id in rows if wave_id}
        sent = {external_id for _wave_id, external_id in rows}
        return {wave_id for wave_id, marks in markers.items() if wave_id in ids or marks & sent}

    @api.model
    def _ledger_rows_now(self, query):
        """The rows of ``query`` (on the ledger) in this transaction's snapshot and in what
        is committed now: an export commits its entries after an import's snapshot began."""
        self.env["wave.outbound.ledger"].flush_model()
        self.env.cr.execute(query)
        rows = self.env.cr.fetchall()
        # Raw SQL: the same query runs on a second, fresh transaction (whose snapshot sees
        # what the export committed after this one began), which has no ORM environment.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as committed:
            committed.execute(query)
            rows += committed.fetchall()
        return rows

    # ------------------------------------------------------------------
    # States
    # ------------------------------------------------------------------
    @api.model
    def _mark_sent(self, connection, entries_inputs, operation):
        """Mark entries ``sent`` with a summary of their request, then COMMIT."""
        now = fields.Datetime.now()
        for entry, payload in entries_inputs:
            entry._wave_sync_write(
                {
                    "state": "sent",
                    "operation": operation,
                    "sent_at": now,
                    "request_summary": payload,
                }
            )
        self._commit(connection)

    @api.model
    def _mark_pending(self, connection, entries, error=None):
        """Put entries back to pending (not applied by Wave), then COMMIT."""
        vals = {"state": "pending"}
        if error is not None:
            vals["error_message"] = str(error)
        for entry in entries:
            entry._wave_sync_write(vals)
        self._commit(connection)

    @api.model
    def _mark_confirmed(self, connection, entry, wave_id, resolution="response", **extra):
        vals = {
            "state": "confirmed",
            "wave_id": wave_id or entry.wave_id,
            "resolution": resolution,
            "confirmed_at": fields.Datetime.now(),
            "error_message": False,
        }
        vals.update(extra)
        entry._wave_sync_write(vals)

    @api.model
    def _mark_unknown(self, connection, entry, error):
        evidence = dict(getattr(error, "details", {}) or {})
        now = fields.Datetime.to_string(fields.Datetime.now())
        evidence.update({"error": str(error), "at": now})
        entry._wave_sync_write(
            {"state": "outcome_unknown", "evidence": evidence, "error_message": str(error)}
        )

    @api.model
    def _transient_failure(self, connection, entry, error):
        """Count a transient failure; True while retries remain, else compensate."""
        attempts = entry.attempts + 1
        vals = {"attempts": attempts, "error_message": str(error)}
        if entry.state == "sent":
            vals["state"] = "pending"
        entry._wave_sync_write(vals)
        if attempts < max(connection.outbound_retry_limit, 1):
            return True
        self._compensate(connection, entry, error)
        return False

    @api.model
    def _apply_confirmed(self, connection, entry):
        """Bind the Odoo record of an entry an accountant confirmed."""
        record = entry._record()
        if not record or not entry.wave_id:
            return
        if (
            entry.kind in ("customer", "product", "sales_tax", "invoice", "estimate")
            and "wave_id" in record
        ):
            vals = {"wave_id": entry.wave_id, "wave_origin": "odoo"}
            if record._name == "product.product":
                vals["wave_company_id"] = connection.company_id.id
            record._wave_write_binding(vals)
        elif entry.kind in ("payment", "money_transaction") and not record.wave_id:
            record._wave_write_binding({"wave_id": entry.wave_id, "wave_origin": "odoo"})

    @api.model
    def _compensate(self, connection, entry, error):
        """Retries ran out: undo what Wave already has, log, notify administrators."""
        record = entry._record()
        undone = None
        if entry.kind == "invoice" and entry.wave_id:
            undone = self.env["wave.invoice.saga"]._compensate(connection, entry, record)
        entry._wave_sync_write({"state": "compensated" if undone else "failed"})
        note = by_count(
            entry.attempts,
            _("Export of %(name)s to Wave failed once (%(error)s). %(undone)s"),
            _("Export of %(name)s to Wave failed %(count)s times (%(error)s). %(undone)s"),
            name=entry.record_name,
            error=error,
            undone=_("Compensated: %s.", undone)
            if undone
            else _("Nothing could be undone automatically: check Wave."),
        )
        self.env["wave.audit.log"]._log_many(
            entry, "outbound_compensated", {"error": str(error), "undone": undone}, "outbound"
        )
        if record:
            self._quarantine(
                connection,
                record,
                note,
                entry.request_summary,
                _("Fix the cause (see the error), then replay this record."),
            )
            self.env["wave.notifier"]._notify_admins(
                connection, _("Wave export failed"), note, record=record
            )
        _logger.warning("Wave outbound compensation: %s", note)

    # ------------------------------------------------------------------
    # Quarantine
    # ------------------------------------------------------------------
    @api.model
    def _quarantine(self, connection, record, reasons, payload=None, suggested_fix=None):
        """Open (or update) the outbound quarantine record of ``record``."""
        connection.ensure_one()
        quarantine = self.env["wave.quarantine"]._open_or_bump(
            connection,
            "outbound",
            record._name,
            reasons,
            record=record,
            payload=payload,
            suggested_fix=suggested_fix,
        )
        if quarantine.attempts == 1:
            self.env["wave.audit.log"]._log_many(
                record, "outbound_quarantined", {"reasons": reasons}, source="outbound"
            )
        return quarantine

    @api.model
    def _resolve_quarantine(self, connection, records):
        """Exported fine: close their open outbound quarantine records."""
        self.env["wave.quarantine"]._resolve_open(connection, "outbound", records=records)

    @api.model
    def _fail(self, connection, entry, record, error, payload=None, suggested_fix=None):
        """Wave refused it (or it cannot be sent): ledger failed + quarantine."""
        reasons = error if isinstance(error, str) else format_reasons(error)
        if entry:
            entry._wave_sync_write({"state": "failed", "error_message": reasons})
        return self._quarantine(connection, record, reasons, payload, suggested_fix)

    # ------------------------------------------------------------------
    # Talking to Wave
    # ------------------------------------------------------------------
    @api.model
    def _send(self, connection, client, items, name, selection, result_key, operation_name=None):
        """Send ``items`` = ``[(entry, input)]`` as aliased ``name`` mutations.

        Returns ``{entry: (status, value)}`` with status ``ok`` (value: the
        created object), ``invalid`` (WaveValidationError), ``unknown`` (the
        outcome is unknown) or ``retry`` (not applied, send again later).
        Rate limiting and refused authorizations put the entries back to
        pending and reach the job guard.
        """
        operation_name = operation_name or f"Odoo{name[0].upper()}{name[1:]}s"
        outcome = {}
        for start in range(0, len(items), MUTATION_CHUNK):
            chunk = items[start : start + MUTATION_CHUNK]
            self._mark_sent(connection, chunk, name)
            batch = [(f"m{i}", name, payload, selection) for i, (_e, payload) in enumerate(chunk)]
            try:
                answer = client.mutate_many(batch, operation_name=operation_name)
            except (
                WaveRateLimitedError,
                WaveAuthenticationError,
                WaveScopeError,
                WaveConfigurationError,
            ):
                self._mark_pending(connection, [entry for entry, _payload in chunk])
                raise
            except WaveOutcomeUnknownError as error:
                outcome.update({entry: ("unknown", error) for entry, _p in chunk})
            except WaveValidationError as error:
                outcome.update({entry: ("invalid", error) for entry, _p in chunk})
            except WaveError as error:
                # Never reached Wave (connection refused) or refused before running.
                outcome.update({entry: ("retry", error) for entry, _p in chunk})
            else:
                for i, (entry, _payload) in enumerate(chunk):
                    outcome[entry] = alias_outcome(answer.get(f"m{i}"), result_key)
        return outcome

    @api.model
    def _mutate_each(self, connection, client, name, inputs, selection, operation_name):
        """Send ``name`` once per input, in one aliased request, without ledger rows
        (patches and deletes: the caller checks what happened). Returns the answers in
        order: a payload, or the WaveError of that input (a failed request counts for
        each); rate limiting reaches the job guard."""
        batch = [(f"x{i}", name, payload, selection) for i, payload in enumerate(inputs)]
        try:
            answer = client.mutate_many(batch, operation_name=operation_name)
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            return [error] * len(inputs)
        return [answer.get(f"x{i}") for i in range(len(inputs))]

    @api.model
    def _advance_in_chunks(self, connection, client, pending, saga, send_by_email, operation_name):
        """Push the next steps of ``pending`` ``(record, entry)`` pairs, ``saga._saga_chunk``
        documents a request: ``saga`` (the document's saga service) builds each chunk's
        aliases and reads their answers; committed after each chunk. True when a retry is
        needed."""
        retry = False
        for start in range(0, len(pending), saga._saga_chunk):
            chunk = pending[start : start + saga._saga_chunk]
            batch, owners = saga._saga_batch(chunk, send_by_email)
            answer = self._mutate_steps(client, batch, operation_name)
            retry |= saga._saga_results(connection, client, chunk, owners, answer)
            self._commit(connection)
        return retry

    @api.model
    def _mutate_steps(self, client, batch, operation_name):
        """Send the next steps of exported documents (``mutate_many`` aliases); returns
        ``{alias: answer}``. A lost or refused request counts for every alias, a request
        that did not reach Wave becomes a retry later; rate limits reach the job guard."""
        try:
            return client.mutate_many(batch, operation_name=operation_name)
        except WaveRateLimitedError:
            raise
        except (WaveOutcomeUnknownError, WaveValidationError) as error:
            return {alias: error for alias, *_rest in batch}
        except WaveError as error:
            return {alias: JobRetryLater(str(error)) for alias, *_rest in batch}

    @api.model
    def _read(self, connection, read):
        """Run ``read()`` (a Wave query): Wave errors other than rate limits and refused
        authorizations become a retry later."""
        try:
            return read()
        except (WaveRateLimitedError, WaveAuthenticationError, WaveScopeError):
            raise
        except WaveError as error:
            raise JobRetryLater(str(error)) from None

    @api.model
    def _query(self, connection, client, query, variables):
        """A read of one document (see :meth:`_read`)."""
        return self._read(connection, lambda: client.execute(query, variables))

    @api.model
    def _find(self, connection, client, query, variables, field):
        """All ``business.<field>`` nodes matching ``query``, page after page."""
        return self._read(
            connection,
            lambda: list(
                client.iterate(query, variables, f"business.{field}", page_size=LOOKUP_PAGE_SIZE)
            ),
        )

    @api.model
    def _lookup(self, connection, client, field, wave_ids, selection):
        """``{wave_id: node or None}`` of ``business.<field>(id:)`` objects."""
        return self._read(
            connection,
            lambda: client.lookup_many(connection.business_id, field, wave_ids, selection),
        )
