# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The Wave webhook endpoint: ``POST /wave/webhook/<connection id>``.

The request only verifies, stores and enqueues; the import runs in a queue job.
Answers: 202 ``{"status": "accepted"}`` (new event queued), 200 (duplicate, or an
event that is ignored: another business, unknown type), 400 (not JSON, wrong
shape or a value outside the limits of ``wave.webhook.event._validate_payload``),
401 (one answer for every signature failure: missing or invalid signature,
unknown or archived connection), 413 (body over the size limit), 405 (not a POST,
from the route itself).

Steps, one small function each: read the body (size limit) → authenticate (the
signature, before anything of the body is parsed) → parse (JSON) → validate
(types, lengths, characters, optional time window) → record (one row per event,
committed) → make sure the connection's drain job is pending (one look-up of it;
the job itself is created only when none waits). A refused request writes nothing.
The connection is not searched: its signing and routing fields come from each
worker's cache of the active connections (``wave.api._webhook_ack_table``, cleared
when they change).

The signing scheme and its system parameters are described in
``models/wave_webhook_engine.py``; the value limits and the optional time window
in ``models/wave_webhook_event.py``. Log lines carry the connection id, the
reason, the body length and, once validated, the event id and type: never a
secret, a signature or any other value of the body.
"""

import hashlib
import hmac
import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..models.wave_webhook_engine import ESTIMATE_EVENTS, INVOICE_EVENTS
from ..models.wave_webhook_event import WebhookRejected

_logger = logging.getLogger(__name__)

# The one answer of every signature failure (no hint whether the connection exists).
UNAUTHORIZED = "invalid signature"
# Database ids are PostgreSQL integers: a larger id from the URL is unknown.
MAX_CONNECTION_ID = 2**31 - 1


def _reject_constant(value):
    # json.loads calls this for NaN, Infinity and -Infinity: not JSON numbers.
    raise ValueError(f"{value} is not a JSON number")


class WaveWebhookController(http.Controller):
    @http.route(
        "/wave/webhook/<int:connection_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def wave_webhook(self, connection_id, **kwargs):
        # sudo: the webhook settings are administrator-only system parameters; the
        # route runs as the public user and needs them to verify the signature.
        header_name, algorithm, max_body = request.env["wave.api"].sudo()._webhook_settings()
        length = request.httprequest.content_length or 0
        try:
            body = self._read_body(max_body)
            length = len(body)
            connection = self._authenticate(connection_id, body, header_name, algorithm)
            payload = self._parse(body)
            # sudo: the signature is verified; the event model is not readable by the
            # public user.
            Event = request.env["wave.webhook.event"].sudo()
            values = Event._validate_payload(payload)
        except WebhookRejected as rejection:
            return self._reject(connection_id, rejection, length)
        return self._record(connection, values, length)

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------
    @staticmethod
    def _read_body(max_body):
        declared = request.httprequest.content_length
        if declared is not None and declared > max_body:
            raise WebhookRejected(413, "body too large")
        try:
            request.httprequest.max_content_length = max_body
            body = request.httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            raise WebhookRejected(413, "body too large") from None
        if len(body) > max_body:
            raise WebhookRejected(413, "body too large")
        return body

    @staticmethod
    def _authenticate(connection_id, body, header_name, algorithm):
        """The active connection whose secret signed ``body``, else a 401.

        Every failure gives the same answer. An unknown or archived connection
        costs the same work as a known one (an HMAC compared in constant time), so
        neither the answer nor its timing tells which connection ids exist.
        """
        signature = request.httprequest.headers.get(header_name) or ""
        connection = request.env["wave.api"]
        if 0 < connection_id <= MAX_CONNECTION_ID:
            # sudo: the connection is read to verify the signature and route the event,
            # nothing else: from each worker's cache of the active connections, no query.
            connection = connection.sudo()._webhook_ack_connection(connection_id)
        if connection:
            valid = connection._webhook_check_signature(body, signature, algorithm)
        else:
            expected = hmac.new(b"no-such-connection", body, getattr(hashlib, algorithm))
            hmac.compare_digest(expected.hexdigest().encode(), signature.encode(errors="replace"))
            valid = False
        if not valid:
            detail = "missing signature" if not signature else "signature or connection"
            raise WebhookRejected(401, UNAUTHORIZED, detail)
        return connection

    @staticmethod
    def _parse(body):
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            # ValueError: not JSON, not UTF-8 (UnicodeDecodeError), NaN/Infinity, an
            # integer too long to read; RecursionError: nesting deeper than Python's
            # recursion limit.
            raise WebhookRejected(400, "body is not JSON") from None

    def _record(self, connection, values, length):
        """Store the delivery (or count a duplicate); enqueue a new relevant event."""
        ignored = None
        estimate_id = None
        if values["event_type"] in ESTIMATE_EVENTS:
            # the estimate is the subject (a converted one's invoice comes by its own event)
            estimate_id, values["invoice_id"] = values["estimate_id"], None
        if values["business_id"] != connection.business_id:
            ignored = "event of another business"
        elif estimate_id is None and values["event_type"] not in INVOICE_EVENTS:
            ignored = "unsupported event type"
        elif values["event_type"] in ESTIMATE_EVENTS and not estimate_id:
            ignored = "no estimate id"
        elif estimate_id and not connection._estimates_enabled():
            ignored = "estimates are not imported"
        elif not estimate_id and not values["invoice_id"]:
            ignored = "no invoice id"
        # sudo: the signature is verified; the event model is not writable by the public
        # user. The row belongs to the connection's company.
        event, is_new = (
            request.env["wave.webhook.event"]
            .sudo()
            ._register_delivery(
                connection,
                values["event_id"],
                values["event_type"],
                values["business_id"],
                values["invoice_id"],
                state="ignored" if ignored else "received",
                facts=values,
                estimate_id=estimate_id,
                error=ignored,
            )
        )
        log_args = (connection.id, values["event_id"], values["event_type"], length)
        if not is_new:
            if event.state == "received":
                # The first delivery's worker may have stopped between its commit and
                # its drain job (Wave then got no answer and delivers again).
                self._enqueue_drain(connection)
            _logger.info(
                "Wave webhook duplicate: connection=%s event=%s type=%s length=%s", *log_args
            )
            return request.make_json_response({"status": "duplicate"}, status=200)
        if ignored:
            _logger.info(
                "Wave webhook ignored (%s): connection=%s event=%s type=%s length=%s",
                ignored,
                *log_args,
            )
            return request.make_json_response({"status": "ignored"}, status=200)
        return self._enqueue(connection, log_args)

    def _enqueue(self, connection, log_args):
        self._enqueue_drain(connection)
        _logger.info("Wave webhook accepted: connection=%s event=%s type=%s length=%s", *log_args)
        return request.make_json_response({"status": "accepted"}, status=202)

    @staticmethod
    def _enqueue_drain(connection):
        """Commit the event, then make sure a drain job of the connection is pending.

        The stored event is the queue (``wave.api._job_drain_webhook_events`` gives each
        waiting event its invoice's job), so a delivery creates no job of its own. The
        commit comes first: a drain job seen pending after it has not started yet, so it
        will read this event; had it started, the check finds none and enqueues another.
        Either way the event is committed before Wave gets its answer.
        """
        request.env.cr.commit()
        # The commit cleared the ORM cache: the connection's fields again from the
        # worker's table (no query).
        connection._webhook_ack_connection(connection.id)._enqueue_webhook_drain()

    @staticmethod
    def _reject(connection_id, rejection, length):
        # Nothing from a refused body is logged: not even its event id.
        _logger.warning(
            "Wave webhook rejected (%s %s%s): connection=%s length=%s",
            rejection.status,
            rejection.reason,
            f"; {rejection.detail}" if rejection.detail else "",
            connection_id,
            length,
        )
        return request.make_json_response(
            {"status": "rejected", "reason": rejection.reason}, status=rejection.status
        )
