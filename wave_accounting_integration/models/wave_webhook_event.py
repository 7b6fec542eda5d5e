# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook deliveries received from Wave: the delivery log and its deduplication key.

One row per (connection, Wave event id). A second delivery of the same event does
not create a row: it only bumps ``delivery_count`` of the first one, so the event is
processed once however often (or concurrently) Wave delivers it.

Limits on a delivery's body (``_validate_payload``; anything else is refused with
400 before a row is written):

* ``event_id``: 1 to 200 printable ASCII characters, no space (Wave's ids are
  UUIDs or base64 global ids);
* ``event_type``: 1 to 100 characters among letters, digits and ``. _ : -``;
* ``business_id``, ``data.invoice_id`` and ``data.estimate_id``: absent, or up to 200
  printable ASCII characters, no space;
* ``data``: an object, or absent;
* anywhere in the body: no NUL character and no lone surrogate (in text or in
  keys), no integer beyond 64 bits, no ``NaN``/``Infinity``, at most 32 levels of
  nesting.

Optional time window (off by default): the system parameter
``wave_accounting_integration.webhook_timestamp_tolerance`` (seconds, ``0`` = off).
When set, the signed body's ``occurred_at`` (ISO 8601, e.g.
``2026-01-31T12:00:00.000Z``) must lie within that many seconds of the server's
clock, else the delivery is refused (400). The signature covers the whole body, so
the time cannot be changed without the secret: a captured delivery can only be
replayed inside the window, where its event id still deduplicates it.

Purge (daily cron, off by default): ``wave_accounting_integration.
webhook_event_retention_days`` (``0`` = keep every event). Processed events
(done, ignored, duplicate, failed) older than the retention are deleted, but
never before twice the time window (an event id must outlive every replay the
window lets through), and never while the window is off: without it, the stored
event ids are the only replay protection.
"""

import datetime
import logging
import math
import re

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

PARAM_TOLERANCE = "wave_accounting_integration.webhook_timestamp_tolerance"
PARAM_RETENTION = "wave_accounting_integration.webhook_event_retention_days"
MAX_ID_LENGTH = 200
MAX_TYPE_LENGTH = 100
MAX_DEPTH = 32
MAX_INTEGER = 2**63
ID_RE = re.compile(r"[\x21-\x7e]{1,%d}" % MAX_ID_LENGTH)
TYPE_RE = re.compile(r"[A-Za-z0-9._:-]{1,%d}" % MAX_TYPE_LENGTH)
# A NUL character or a UTF-16 surrogate: JSON decodes a valid pair into one code
# point, so any surrogate left in a decoded string is a lone one. PostgreSQL
# cannot store either.
BAD_TEXT_RE = re.compile("[\x00\ud800-\udfff]")
PURGE_STATES = ("done", "ignored", "duplicate", "failed", "echo")


class WebhookRejected(Exception):
    """A delivery refused before anything is stored: HTTP status and plain reason.

    ``detail`` goes to the server log only, never to the answer.
    """

    def __init__(self, status, reason, detail=None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail


def check_values(payload):
    """Refuse NUL, lone surrogates, huge or non-finite numbers and deep nesting.

    Iterative (no recursion whatever the depth); the body size limit bounds the work.
    """
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise WebhookRejected(400, "nesting too deep")
        if isinstance(value, str):
            if BAD_TEXT_RE.search(value):
                raise WebhookRejected(400, "text with a NUL character or a lone surrogate")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) >= MAX_INTEGER:
                raise WebhookRejected(400, "number out of range")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise WebhookRejected(400, "number out of range")
        elif isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _optional_id(value, name):
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise WebhookRejected(400, f"invalid {name}")
    return value


def _optional_datetime(value):
    """A naive UTC datetime (Odoo's convention) from an ISO 8601 text, or None."""
    moment = parse_timestamp(value)
    if moment is None:
        return None
    # Seconds, as the bindings keep Wave's modifiedAt (lib.dates.parse_wave_datetime).
    return moment.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)


STATUS_RE = re.compile(r"[A-Z_]{1,30}")
AMOUNT_RE = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,8})?")


def _optional_amount(value):
    """An amount the event tells (a decimal text), or None when absent or odd."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value)
    return text if AMOUNT_RE.fullmatch(text) else None


def _optional_status(value):
    """The invoice status the event tells (Wave's upper-case names), or None."""
    if isinstance(value, str) and STATUS_RE.fullmatch(value):
        return value
    return None


def parse_timestamp(value):
    """An aware UTC datetime from an ISO 8601 text, or None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


EVENT_STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("duplicate", "Duplicate"),
    ("ignored", "Ignored"),
    ("echo", "Our own change"),
]


class WaveWebhookEvent(models.Model):
    _name = "wave.webhook.event"
    _description = "Wave Webhook Event"
    _inherit = ["wave.server.fields.mixin"]
    # Written by the sync only (as superuser): users read them.
    _wave_server_fields = "__all__"
    _order = "received_at desc, id desc"
    _rec_name = "event_id"

    connection_id = fields.Many2one(
        "wave.api", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(readonly=True, index=True)
    business_id = fields.Char(string="Wave Business ID", readonly=True)
    wave_invoice_id = fields.Char(string="Wave Invoice ID", readonly=True, index=True)
    wave_estimate_id = fields.Char(string="Wave Estimate ID", readonly=True, index="btree_not_null")
    received_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    processed_at = fields.Datetime(readonly=True)
    state = fields.Selection(EVENT_STATES, default="received", required=True, index=True)
    delivery_count = fields.Integer(
        default=1, readonly=True, help="How many times Wave delivered this event."
    )
    attempts = fields.Integer(readonly=True, help="How many times the job processed it.")
    error = fields.Text(readonly=True)
    wave_modified_at = fields.Datetime(
        string="Wave Change Time",
        readonly=True,
        help="When Wave says the invoice changed (from the event, if it says so).",
    )
    wave_status = fields.Char(readonly=True)
    wave_total = fields.Char(readonly=True)
    wave_amount_paid = fields.Char(readonly=True)
    queue_job_uuid = fields.Char(string="Job UUID", readonly=True, copy=False)

    _sql_constraints = [
        (
            "event_uniq",
            "unique(connection_id, event_id)",
            "A Wave webhook event is stored once per connection.",
        ),
    ]

    @api.model
    def _validate_payload(self, payload):
        """The stored values of a parsed delivery, or ``WebhookRejected`` (400).

        Nothing of the payload is logged or stored before this passed.
        """
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "unexpected JSON shape")
        check_values(payload)
        event_id, event_type = payload.get("event_id"), payload.get("event_type")
        if not isinstance(event_id, str) or not ID_RE.fullmatch(event_id):
            raise WebhookRejected(400, "invalid event id")
        if not isinstance(event_type, str) or not TYPE_RE.fullmatch(event_type):
            raise WebhookRejected(400, "invalid event type")
        data = payload.get("data")
        if not isinstance(data, dict | None):
            raise WebhookRejected(400, "unexpected JSON shape")
        values = {
            "event_id": event_id,
            "event_type": event_type,
            "business_id": _optional_id(payload.get("business_id"), "business id"),
            "invoice_id": _optional_id((data or {}).get("invoice_id"), "invoice id"),
            "estimate_id": _optional_id((data or {}).get("estimate_id"), "estimate id"),
            # What the event says of the invoice (never trusted for importing: only to
            # recognise the echo of our own export, see wave.webhook.processor).
            "modified_at": _optional_datetime((data or {}).get("modified_at")),
            "status": _optional_status((data or {}).get("status")),
            "total": _optional_amount((data or {}).get("total")),
            "amount_paid": _optional_amount((data or {}).get("amount_paid")),
        }
        self._check_time_window(payload.get("occurred_at"))
        return values

    @api.model
    def _timestamp_tolerance(self):
        """The time window in seconds (0: off), from the system parameter."""
        # sudo: system parameters are administrator-only; the route runs as public.
        raw = self.env["ir.config_parameter"].sudo().get_param(PARAM_TOLERANCE) or "0"
        try:
            return max(int(raw), 0)
        except ValueError:
            _logger.warning("Invalid %s %r: the time window is off", PARAM_TOLERANCE, raw)
            return 0

    @api.model
    def _check_time_window(self, occurred_at):
        tolerance = self._timestamp_tolerance()
        if not tolerance:
            return
        moment = parse_timestamp(occurred_at)
        now = datetime.datetime.now(datetime.UTC)
        if moment is None or abs((now - moment).total_seconds()) > tolerance:
            raise WebhookRejected(400, "event time missing or outside the accepted window")

    @api.model
    def _cron_purge_events(self):
        """Delete processed events older than the retention (see the module doc)."""
        # sudo: system parameters (no company); the cron purges every company's
        # old events, as the retention is one setting of the database.
        params = self.env["ir.config_parameter"].sudo()
        try:
            days = int(params.get_param(PARAM_RETENTION) or 0)
        except ValueError:
            days = 0
        tolerance = self._timestamp_tolerance()
        if days <= 0 or not tolerance:
            return 0
        keep = max(datetime.timedelta(days=days), datetime.timedelta(seconds=2 * tolerance))
        cutoff = fields.Datetime.now() - keep
        old = self.search([("received_at", "<", cutoff), ("state", "in", PURGE_STATES)])
        count = len(old)
        old.unlink()
        _logger.info("Wave webhook events purged: %s older than %s", count, cutoff)
        return count

    @api.model
    def _register_delivery(
        self,
        connection,
        event_id,
        event_type,
        business_id,
        invoice_id,
        state="received",
        facts=None,
        estimate_id=None,
        error=None,
    ):
        """Store a delivery; return ``(event, is_new)``, the event's ``state`` in cache.

        ``facts``: optional ``{"modified_at", "status", "total", "amount_paid"}`` the event
        tells of its invoice; ``error``: why an ignored event is ignored.

        Raw SQL: ``INSERT ... ON CONFLICT`` is the one race-free way to deduplicate
        concurrent deliveries of the same event (a second transaction waits for the
        first and then only bumps the counter), and it avoids the ORM logging a failed
        INSERT when the unique constraint fires.
        """
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO wave_webhook_event (
                connection_id, company_id, event_id, event_type, business_id,
                wave_invoice_id, wave_estimate_id, received_at, state, delivery_count, attempts,
                wave_modified_at, wave_status, wave_total, wave_amount_paid, error,
                create_uid, create_date, write_uid, write_date
            )
            VALUES (%s, %s, %s, %s, %s, %s, %s, now() at time zone 'UTC', %s, 1, 0,
                    %s, %s, %s, %s, %s,
                    %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
            ON CONFLICT (connection_id, event_id) DO UPDATE
                SET delivery_count = wave_webhook_event.delivery_count + 1,
                    write_date = now() at time zone 'UTC'
            RETURNING id, (xmax = 0) AS inserted, state
            """,
            (
                connection.id,
                connection.company_id.id,
                event_id,
                event_type,
                business_id,
                invoice_id,
                estimate_id,
                state,
                (facts or {}).get("modified_at"),
                (facts or {}).get("status"),
                (facts or {}).get("total"),
                (facts or {}).get("amount_paid"),
                error,
                self.env.uid,
                self.env.uid,
            ),
        )
        event_id_db, inserted, stored_state = self.env.cr.fetchone()
        event = self.browse(event_id_db)
        event.invalidate_recordset()
        # the duplicate path reads whether the first delivery still waits for its drain
        event._update_cache({"state": stored_state}, validate=False)
        return event, inserted
