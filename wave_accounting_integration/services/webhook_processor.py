# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Processing of a received Wave webhook event: import its invoice's current state.

The payload is never trusted (a late, older event cannot roll data back): the
invoice is read again from Wave and imported by Wave id, which makes processing
idempotent. Every queued event of the same invoice is settled by the same run.

Echoes of our own export cost no Wave request: an invoice (or a quotation, for
estimate events) we exported (ledger
row confirmed, binding ``wave_origin = 'odoo'``) keeps Wave's ``modifiedAt`` of
our last step on its binding (the payment export's too). An event whose
``modified_at`` is older than that, or the same second with the same total and
either a status our export gives and nothing paid, or exactly the amount paid
Odoo has (the payments we exported) with its status (partial or paid), tells
nothing we do not
know: it is recorded as *Our own change* (``echo``) without reading Wave. Any
other event, or one that does not say when the invoice changed, is read.
The queue job is ``wave.webhook.event._job_process_webhook``
(``models/wave_jobs_inbound.py``). The drain that gives each stored event its job
settles the echoes first (``_settle_echoes``): an echo costs no job either.
"""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from odoo import api, fields, models

# Events still waiting to be settled by a processing run.
PENDING_STATES = ("received", "queued", "failed")
# The statuses our own export leaves a Wave invoice in (create, approve, mark sent).
EXPORT_STATUSES = ("DRAFT", "SAVED", "UNPAID", "SENT")
# The statuses our own export leaves a Wave estimate in (create, approve, mark sent,
# mark accepted).
ESTIMATE_EXPORT_STATUSES = ("DRAFT", "APPROVED", "SENT", "ACCEPTED")


class WaveWebhookProcessor(models.AbstractModel):
    _name = "wave.webhook.processor"
    _description = "Wave Webhook Event Processing"

    @api.model
    def _pending_siblings(self, connection, event):
        """``event`` and the other pending events of the same Wave invoice."""
        subject = (
            ("wave_estimate_id", "=", event.wave_estimate_id)
            if event.wave_estimate_id
            else ("wave_invoice_id", "=", event.wave_invoice_id)
        )
        # sudo: events are written by the sync only (state, attempts); these are the
        # events of this connection only.
        return (
            self.env["wave.webhook.event"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", connection.id),
                    subject,
                    ("state", "in", PENDING_STATES),
                ]
            )
            # the event itself: the job's own record, of this same connection
            | event.sudo()
        )

    @api.model
    def _echo_record(self, connection, events):
        """The invoice or quotation we exported whose binding already knows every change
        ``events`` tell of (our own export's webhooks), or None when Wave must be read."""
        estimate = bool(events[:1].wave_estimate_id)
        field = "wave_estimate_id" if estimate else "wave_invoice_id"
        wave_ids = set(events.mapped(field))
        if len(wave_ids) != 1 or not all(events.mapped("wave_modified_at")):
            return None
        model, kind = ("sale.order", "estimate") if estimate else ("account.move", "invoice")
        record = self.env[model].search(
            [
                ("company_id", "=", connection.company_id.id),
                ("wave_id", "=", wave_ids.pop()),
                ("wave_origin", "=", "odoo"),
            ],
            limit=1,
        )
        if not record or not record.wave_modified_at:
            return None
        exported = self.env["wave.outbound.ledger"].search_count(
            [
                ("connection_id", "=", connection.id),
                ("kind", "=", kind),
                ("res_model", "=", model),
                ("res_id", "=", record.id),
                ("state", "=", "confirmed"),
                ("wave_id", "=", record.wave_id),
            ]
        )
        if not exported:
            return None
        statuses = ESTIMATE_EXPORT_STATUSES if estimate else EXPORT_STATUSES
        for event in events:
            if event.wave_modified_at > record.wave_modified_at:
                return None  # changed in Wave after our last step: read it
            if event.wave_modified_at == record.wave_modified_at and not self._same_facts(
                record, event, statuses, paid_known=not estimate
            ):
                return None  # same second, different document: when unsure, read
        return record

    @api.model
    def _settle_echoes(self, connection, events):
        """Settle now the events of ``events`` that tell only of our own export
        (``_echo_record``, per invoice or estimate); returns them.

        The drain calls it before it gives each event its processing job: an export's
        echoes then cost no Wave request and no queue job. The events of an invoice
        whose echo cannot be told yet (our export's step not committed yet, a change
        made in Wave) get their job, which decides again.
        """
        settled = events.browse()
        if not connection._is_ready():
            return settled  # the job says why it cannot process them
        by_subject = defaultdict(list)
        for event in events:
            subject = event.wave_estimate_id or event.wave_invoice_id
            if subject:
                by_subject[subject].append(event.id)
        for ids in by_subject.values():
            group = events.browse(ids)
            record = self._echo_record(connection, group)
            if record:
                group.write({"attempts": group[:1].attempts + 1})
                self._settle_echo(connection, group, record)
                settled |= group
        return settled

    @api.model
    def _same_facts(self, record, event, statuses=EXPORT_STATUSES, paid_known=True):
        """The event's total is the document's, and either its status is one our export
        gives and it tells of no payment, or (invoices) it tells of exactly the amount
        paid Odoo has, with Wave's status for that amount (our payment export's echo)."""
        try:
            total = Decimal(event.wave_total or "x")
            paid = Decimal(event.wave_amount_paid or "x") if paid_known else 0
        except InvalidOperation:
            return False
        currency = record.currency_id
        if total != Decimal(str(currency.round(record.amount_total))):
            return False
        if not paid:
            return event.wave_status in statuses
        known = Decimal(str(currency.round(record.amount_total - record.amount_residual)))
        return paid == known and event.wave_status == ("PAID" if paid == total else "PARTIAL")

    @api.model
    def _settle_echo(self, connection, events, record):
        """Record ``events`` as the echo of our own export (nothing read from Wave)."""
        events.write(
            {
                "state": "echo",
                "error": False,
                "processed_at": fields.Datetime.now(),
            }
        )
        self.env["wave.audit.log"]._log_many(
            record,
            "webhook_echo",
            {"events": events.mapped("event_id"), "wave_id": record.wave_id},
            "webhook",
        )

    @api.model
    def _import_event(self, connection, event):
        """Import the current state of the event's invoice (and its payments), or of its
        estimate, from Wave."""
        if event.wave_estimate_id:
            return self.env["wave.estimate.importer"]._import_by_ids(
                connection.with_context(wave_source=f"webhook:{event.event_id}"),
                [event.wave_estimate_id],
                source="webhook",
            )
        return self.env["wave.invoice.importer"]._import_by_ids(
            connection.with_context(wave_source=f"webhook:{event.event_id}"),
            [event.wave_invoice_id],
            source="webhook",
        )

    @api.model
    def _settle(self, connection, events, error=None):
        """Mark ``events`` done, or failed with ``error``."""
        if error is not None:
            events.write({"state": "failed", "error": str(error)})
        else:
            events.write({"state": "done", "error": False, "processed_at": fields.Datetime.now()})
