# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound sync, Odoo → Wave, exactly once: the engine's core on ``wave.api``.

Protocol for every Wave object we create (see ``wave.outbound.ledger``):

1. a ledger row is written ``pending``, then ``sent`` and COMMITTED (outside
   tests) right before the request leaves;
2. the answer is recorded right after (``confirmed`` + Wave id, ``failed`` +
   quarantine, or ``outcome_unknown``) and committed;
3. a lost answer is never resent blindly: objects Wave lets us search
   (invoices by number, customers by email / our marker in their internal
   notes, products and sales taxes by name, invoice payments through their
   invoice) are looked up first; money transactions, which Wave cannot read
   back, wait in the *Needs confirmation* queue for an accountant.

Several creates travel in one request (GraphQL aliases through
``WaveClient.mutate_many``): each alias result is independent, and a lost
response marks each of them unknown, resolved one by one.

Loop prevention: records imported from Wave (``wave_origin == 'wave'``) are
never sent; exported ones get ``wave_origin = 'odoo'`` and their ``wave_id``
so the inbound poll matches them by id instead of importing them again.
"""

import hashlib
import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models

from ..lib import (
    WaveAuthenticationError,
    WaveConfigurationError,
    WaveError,
    WaveNotFoundError,
    WaveOutcomeUnknownError,
    WaveRateLimitedError,
    WaveScopeError,
    WaveTransportError,
    WaveValidationError,
)
from ..services.job_guard import JobRetryLater, job_guard
from .wave_runtime import in_test_mode

_logger = logging.getLogger(__name__)

MUTATION_CHUNK = 20
LOOKUP_SKEW = timedelta(minutes=10)
BUSINESS_FIELDS_TO_KEEP = ("name", "email", "phone")


class OutboundRetry(JobRetryLater):
    """Transient failure: the job should run again in ``seconds``."""


def payload_hash(payload):
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]


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


class WaveApi(models.Model):
    _inherit = "wave.api"

    outbound_start_date = fields.Date(
        string="Export documents from",
        default=fields.Date.context_today,
        help="The daily catch-up exports documents dated from this day on.",
    )
    outbound_generic_product_name = fields.Char(
        string="Generic Wave product",
        default="Odoo item",
        required=True,
        help="Wave invoice lines need a product: lines without one use this Wave product, "
        "created once.",
    )
    outbound_generic_product_wave_id = fields.Char(readonly=True, copy=False)
    outbound_retry_limit = fields.Integer(
        default=5,
        help="After this many failed attempts an export is compensated (its Wave steps undone).",
    )
    outbound_batch_size = fields.Integer(default=20, help="Records per export job.")
    outbound_ledger_ids = fields.One2many("wave.outbound.ledger", "connection_id")
    outbound_unknown_count = fields.Integer(compute="_compute_outbound_unknown_count")

    @api.depends("outbound_ledger_ids.state")
    def _compute_outbound_unknown_count(self):
        groups = self.env["wave.outbound.ledger"]._read_group(
            [("connection_id", "in", self.ids), ("state", "=", "outcome_unknown")],
            ["connection_id"],
            ["__count"],
        )
        counts = {connection.id: count for connection, count in groups}
        for connection in self:
            connection.outbound_unknown_count = counts.get(connection.id, 0)

    # ------------------------------------------------------------------
    # Enqueueing
    # ------------------------------------------------------------------
    def _outbound_ready(self):
        self.ensure_one()
        return self.sync_outbound and self._is_ready()

    def _outbound_enqueue(self, model, ids, method="_outbound_job_export", priority=20):
        """One export job per chunk of records (identity key: no duplicate pending jobs)."""
        from odoo.addons.queue_job.job import identity_exact

        self.ensure_one()
        ids = sorted(set(ids))
        size = max(self.outbound_batch_size, 1)
        jobs = []
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            delayed = self.with_delay(
                priority=priority,
                identity_key=identity_exact,
                channel="root.wave.outbound",
                description=_("Wave export: %(model)s %(ids)s", model=model, ids=chunk),
            )
            jobs.append(getattr(delayed, method)(model, chunk))
        return jobs

    def _enqueue_outbound_catchup(self):
        """Enqueue the export of everything pending or failed-but-retryable (daily cron)."""
        for connection in self:
            for model, ids in connection._outbound_catchup_targets().items():
                if ids:
                    connection._outbound_enqueue(model, ids)

    def _outbound_catchup_targets(self):
        """``{model: ids}`` still to export for this connection."""
        self.ensure_one()
        company = self.company_id
        start = self.outbound_start_date or fields.Date.today()
        Ledger = self.env["wave.outbound.ledger"]
        done = Ledger.search(
            [
                ("connection_id", "=", self.id),
                ("state", "in", ("confirmed", "outcome_unknown", "failed", "sent")),
            ]
        )
        done_keys = {(e.res_model, e.res_id) for e in done}
        # Pending rows whose transient failures have not yet reached the limit.
        retry = Ledger.search(
            [
                ("connection_id", "=", self.id),
                ("state", "=", "pending"),
                ("attempts", "<", max(self.outbound_retry_limit, 1)),
            ]
        )
        base = [
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("date", ">=", start),
            ("wave_origin", "!=", "wave"),
        ]
        Move = self.env["account.move"]
        invoices = Move.search([*base, ("move_type", "=", "out_invoice"), ("wave_id", "=", False)])
        unfinished = done.filtered(
            lambda e: (
                e.kind == "invoice"
                and e.state == "confirmed"
                and e.saga_step in ("created", "approved")
            )
        )
        entries = Move.search(
            [
                *base,
                ("move_type", "=", "entry"),
                ("origin_payment_id", "=", False),
                ("statement_line_id", "=", False),
            ]
        )
        payments = self.env["account.payment"].search(
            [
                ("company_id", "=", company.id),
                ("state", "in", ("in_process", "paid")),
                ("date", ">=", start),
                ("wave_origin", "!=", "wave"),
            ]
        )
        moves = (invoices | entries).filtered(lambda m: (m._name, m.id) not in done_keys)
        move_ids = set(moves.ids) | set(unfinished.mapped("res_id"))
        payment_ids = {p.id for p in payments if (p._name, p.id) not in done_keys}
        for entry in retry:
            if entry.res_model == "account.move":
                move_ids.add(entry.res_id)
            elif entry.res_model == "account.payment":
                payment_ids.add(entry.res_id)
        # Quarantined records wait for the accountant's fix and replay.
        blocked = self.env["wave.quarantine"].search(
            [
                ("connection_id", "=", self.id),
                ("direction", "=", "outbound"),
                ("state", "=", "open"),
                ("res_model", "in", ("account.move", "account.payment")),
            ]
        )
        blocked_keys = {(q.res_model, q.res_id) for q in blocked}
        move_ids = {i for i in move_ids if ("account.move", i) not in blocked_keys}
        payment_ids = {i for i in payment_ids if ("account.payment", i) not in blocked_keys}
        return {"account.move": sorted(move_ids), "account.payment": sorted(payment_ids)}

    # ------------------------------------------------------------------
    # Queue job entry points (allow_commit: see data/queue_job_data.xml)
    # ------------------------------------------------------------------
    def _outbound_job_export(self, model, ids):
        return self._outbound_run_job(lambda: self._outbound_export(self.env[model].browse(ids)))

    def _outbound_job_invoice_reset(self, model, ids):
        return self._outbound_run_job(
            lambda: self._outbound_reset_invoices(self.env[model].browse(ids))
        )

    def _outbound_job_payment_undo(self, model, ids):
        return self._outbound_run_job(
            lambda: self._outbound_undo_payments(self.env[model].browse(ids))
        )

    def _outbound_run_job(self, work):
        """Run ``work`` under the job guard; the ledger is committed before a retry."""
        self.ensure_one()
        if not self._outbound_ready():
            return _("Export to Wave is off or the connection is not ready: nothing done.")
        with job_guard(self, on_retry=lambda _error: self._outbound_commit()) as guard:
            return work()
        return guard.error and str(guard.error)

    def _outbound_export(self, records):
        """Export ``records`` now (dispatch by model)."""
        self.ensure_one()
        records = records.exists()
        if not records:
            return True
        if records._name == "account.move":
            invoices = records.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
            if invoices:
                self._outbound_export_invoices(invoices)
            others = records - invoices
            if others:
                self._outbound_export_entries(others)
        elif records._name == "account.payment":
            self._outbound_export_payments(records)
        elif records._name == "res.partner":
            self._outbound_sync_customers(records)
        elif records._name == "product.product":
            self._outbound_sync_products(records)
        return True

    # ------------------------------------------------------------------
    # Transactions
    # ------------------------------------------------------------------
    def _outbound_commit(self):
        """Commit the ledger before/after talking to Wave (never in tests)."""
        if in_test_mode(self.env):
            return
        self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------
    # Ledger
    # ------------------------------------------------------------------
    def _outbound_external_id(self, record, sub_key, version):
        # sudo: database.uuid is a system parameter; only 8 characters are used.
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "db"
        model = record._name.replace(".", "_")
        parts = ["odoo", db_uuid.replace("-", "")[:8], model, str(record.id)]
        if sub_key:
            parts.append(sub_key)
        parts.append(f"v{version}")
        return "-".join(parts)

    def _outbound_entries(self, records, kind, sub_keys=None):
        """The current ledger entry of each record (created pending when missing).

        ``sub_keys``: optional ``{record: [sub_key, ...]}``; returns
        ``{(record, sub_key): entry}``. A compensated entry means the Wave
        object was undone: a new version is started.
        """
        self.ensure_one()
        Ledger = self.env["wave.outbound.ledger"]
        existing = Ledger.search(
            [
                ("connection_id", "=", self.id),
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
                to_create.append(
                    {
                        "connection_id": self.id,
                        "kind": kind,
                        "res_model": record._name,
                        "res_id": record.id,
                        "sub_key": sub_key,
                        "version": version,
                        "record_name": record.display_name,
                        "external_id": self._outbound_external_id(record, sub_key, version),
                    }
                )
                keys.append((record, sub_key))
        if to_create:
            # sudo: the ledger is written by the sync for any user who posts documents.
            created = Ledger.sudo().create(to_create).sudo(False)
            result.update(zip(keys, created, strict=True))
        return result

    def _outbound_mark_sent(self, entries_inputs, operation):
        """Mark entries ``sent`` with a summary of their request, then COMMIT."""
        now = fields.Datetime.now()
        for entry, payload in entries_inputs:
            entry.write(
                {
                    "state": "sent",
                    "operation": operation,
                    "sent_at": now,
                    "request_summary": payload,
                }
            )
        self._outbound_commit()

    def _outbound_mark_confirmed(self, entry, wave_id, resolution="response", **extra):
        vals = {
            "state": "confirmed",
            "wave_id": wave_id or entry.wave_id,
            "resolution": resolution,
            "confirmed_at": fields.Datetime.now(),
            "error_message": False,
        }
        vals.update(extra)
        entry.write(vals)

    def _outbound_mark_unknown(self, entry, error):
        evidence = dict(getattr(error, "details", {}) or {})
        now = fields.Datetime.to_string(fields.Datetime.now())
        evidence.update({"error": str(error), "at": now})
        entry.write({"state": "outcome_unknown", "evidence": evidence, "error_message": str(error)})

    def _outbound_transient_failure(self, entry, error):
        """Count a transient failure; True while retries remain, else compensate."""
        attempts = entry.attempts + 1
        vals = {"attempts": attempts, "error_message": str(error)}
        if entry.state == "sent":
            vals["state"] = "pending"
        entry.write(vals)
        if attempts < max(self.outbound_retry_limit, 1):
            return True
        self._outbound_compensate(entry, error)
        return False

    def _outbound_apply_confirmed(self, entry):
        """Bind the Odoo record of an entry an accountant confirmed."""
        record = entry._record()
        if not record or not entry.wave_id:
            return
        if entry.kind in ("customer", "product", "sales_tax", "invoice") and "wave_id" in record:
            vals = {"wave_id": entry.wave_id, "wave_origin": "odoo"}
            if record._name == "product.product":
                vals["wave_company_id"] = self.company_id.id
            record.write(vals)
        elif entry.kind in ("payment", "money_transaction") and not record.wave_id:
            record.write({"wave_id": entry.wave_id, "wave_origin": "odoo"})

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _outbound_send(self, client, items, name, selection, result_key, operation_name=None):
        """Send ``items`` = ``[(entry, input)]`` as aliased ``name`` mutations.

        Returns ``{entry: (status, value)}`` with status ``ok`` (value: the
        created object), ``invalid`` (WaveValidationError), ``unknown`` (the
        outcome is unknown) or ``retry`` (not applied, send again later).
        Rate limiting raises :class:`WaveRateLimitedError` after putting the
        entries back to pending.
        """
        outcome = {}
        for start in range(0, len(items), MUTATION_CHUNK):
            chunk = items[start : start + MUTATION_CHUNK]
            self._outbound_mark_sent(chunk, name)
            aliases = {f"m{i}": entry for i, (entry, _payload) in enumerate(chunk)}
            batch = [(f"m{i}", name, payload, selection) for i, (_e, payload) in enumerate(chunk)]
            try:
                answer = client.mutate_many(
                    batch, operation_name=operation_name or f"Odoo{name[0].upper()}{name[1:]}s"
                )
            except WaveRateLimitedError:
                for entry, _payload in chunk:
                    entry.write({"state": "pending"})
                self._outbound_commit()
                raise
            except (WaveAuthenticationError, WaveScopeError, WaveConfigurationError):
                for entry, _payload in chunk:
                    entry.write({"state": "pending"})
                self._outbound_commit()
                raise
            except WaveOutcomeUnknownError as error:
                outcome.update({entry: ("unknown", error) for entry, _p in chunk})
                continue
            except WaveValidationError as error:
                outcome.update({entry: ("invalid", error) for entry, _p in chunk})
                continue
            except WaveError as error:
                # Never reached Wave (connection refused) or refused before running.
                outcome.update({entry: ("retry", error) for entry, _p in chunk})
                continue
            for alias, entry in aliases.items():
                value = answer.get(alias)
                if isinstance(value, WaveValidationError):
                    outcome[entry] = ("invalid", value)
                elif isinstance(value, WaveNotFoundError):
                    outcome[entry] = ("invalid", value)
                elif isinstance(value, WaveError):
                    outcome[entry] = ("unknown", value)
                else:
                    outcome[entry] = ("ok", (value or {}).get(result_key) or {})
        return outcome

    def _outbound_query(self, client, query, variables):
        """A read: Wave errors other than rate limits become transient retries."""
        try:
            return client.execute(query, variables)
        except (WaveRateLimitedError, WaveAuthenticationError, WaveScopeError):
            raise
        except (WaveTransportError, WaveError) as error:
            raise OutboundRetry(str(error)) from None

    # ------------------------------------------------------------------
    # Quarantine, audit, notification
    # ------------------------------------------------------------------
    def _outbound_quarantine(self, record, reasons, payload=None, suggested_fix=None):
        """Open (or update) the outbound quarantine record of ``record``."""
        self.ensure_one()
        quarantine = self.env["wave.quarantine"]._open_or_bump(
            self,
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

    def _outbound_resolve_quarantine(self, records):
        """Exported fine: close their open outbound quarantine records."""
        self.env["wave.quarantine"]._resolve_open(self, "outbound", records=records)

    def _outbound_fail(self, entry, record, error, payload=None, suggested_fix=None):
        """Wave refused it (or it cannot be sent): ledger failed + quarantine."""
        reasons = error if isinstance(error, str) else format_reasons(error)
        if entry:
            entry.write({"state": "failed", "error_message": reasons})
        return self._outbound_quarantine(record, reasons, payload, suggested_fix)

    # ------------------------------------------------------------------
    # Compensation (saga)
    # ------------------------------------------------------------------
    def _outbound_compensate(self, entry, error):
        """Retries ran out: undo what Wave already has, log, notify administrators."""
        record = entry._record()
        undone = None
        if entry.kind == "invoice" and entry.wave_id:
            undone = self._outbound_compensate_invoice(entry, record)
        entry.write({"state": "compensated" if undone else "failed"})
        note = _(
            "Export of %(name)s to Wave failed %(n)s times (%(error)s). %(undone)s",
            name=entry.record_name,
            n=entry.attempts,
            error=error,
            undone=_("Compensated: %s.", undone)
            if undone
            else _("Nothing could be undone automatically: check Wave."),
        )
        self.env["wave.audit.log"]._log_many(
            entry, "outbound_compensated", {"error": str(error), "undone": undone}, "outbound"
        )
        if record:
            self._outbound_quarantine(
                record,
                note,
                entry.request_summary,
                _("Fix the cause (see the error), then replay this record."),
            )
            self.env["wave.notifier"]._notify_admins(
                self, _("Wave export failed"), note, record=record
            )
        _logger.warning("Wave outbound compensation: %s", note)

    def _outbound_sync_customers(self, partners):
        self._outbound_ensure_dependencies(
            self._get_client("bulk"),
            partners.commercial_partner_id,
            self.env["product.product"],
            self.env["account.tax"],
            patch=True,
        )

    def _outbound_sync_products(self, products):
        self._outbound_ensure_dependencies(
            self._get_client("bulk"),
            self.env["res.partner"],
            products,
            self.env["account.tax"],
            patch=True,
        )
