# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The Wave webhook endpoint: ``POST /wave/webhook/<connection id>``.

The request only verifies, stores and enqueues; the import runs in a queue job.
Answers: 202 ``{"status": "accepted"}`` (new event queued), 200 (duplicate, or an
event that is ignored: another business, unknown type), 400 (not JSON / wrong
shape), 401 (missing or invalid signature, unknown connection), 413 (body over
the size limit), 405 (not a POST, from the route itself).

The signing scheme and its system parameters are described in
``models/wave_webhook_engine.py``. Log lines carry the connection id, the reason,
the body length and the event id once parsed: never a secret, a signature or the
payload.
"""

import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..models.wave_webhook_engine import INVOICE_EVENTS

_logger = logging.getLogger(__name__)


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
        # sudo: reading the connection and the webhook settings is needed to verify
        # the signature; nothing else is read or written before it is verified.
        connection = request.env["wave.api"].sudo().browse(connection_id).exists()
        Api = request.env["wave.api"].sudo()
        header_name, algorithm, max_body = Api._webhook_settings()

        declared = request.httprequest.content_length
        if declared is not None and declared > max_body:
            return self._reject(connection_id, 413, "body too large", declared)
        try:
            request.httprequest.max_content_length = max_body
            body = request.httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            return self._reject(connection_id, 413, "body too large", declared or 0)
        if len(body) > max_body:
            return self._reject(connection_id, 413, "body too large", len(body))

        signature = request.httprequest.headers.get(header_name)
        if not signature:
            return self._reject(connection_id, 401, "missing signature", len(body))
        if not connection or not connection.active:
            return self._reject(connection_id, 401, "unknown or archived connection", len(body))
        if not connection._webhook_check_signature(body, signature, algorithm):
            return self._reject(connection_id, 401, "invalid signature", len(body))

        # The signature is valid from here on.
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError too; RecursionError: deep nesting
            return self._reject(connection_id, 400, "body is not JSON", len(body))
        event_id = payload.get("event_id") if isinstance(payload, dict) else None
        event_type = payload.get("event_type") if isinstance(payload, dict) else None
        data = payload.get("data") if isinstance(payload, dict) else None
        if (
            not isinstance(event_id, str)
            or not event_id.strip()
            or len(event_id) > 200
            or not isinstance(event_type, str)
            or not isinstance(data, dict | None)
        ):
            return self._reject(connection_id, 400, "unexpected JSON shape", len(body))
        business_id = payload.get("business_id")
        invoice_id = (data or {}).get("invoice_id")
        if not isinstance(business_id, str | None) or not isinstance(invoice_id, str | None):
            return self._reject(connection_id, 400, "unexpected JSON shape", len(body))

        ignored = None
        if business_id != connection.business_id:
            ignored = "event of another business"
        elif event_type not in INVOICE_EVENTS:
            ignored = "unsupported event type"
        elif not invoice_id:
            ignored = "no invoice id"

        Event = request.env["wave.webhook.event"].sudo()  # sudo: the signature is verified
        event, is_new = Event._register_delivery(
            connection,
            event_id,
            event_type,
            business_id,
            invoice_id,
            state="ignored" if ignored else "received",
        )
        log_args = (connection_id, event_id, event_type, len(body))
        if not is_new:
            _logger.info(
                "Wave webhook duplicate: connection=%s event=%s type=%s length=%s", *log_args
            )
            return request.make_json_response({"status": "duplicate"}, status=200)
        if ignored:
            event.error = ignored
            _logger.info(
                "Wave webhook ignored (%s): connection=%s event=%s type=%s length=%s",
                ignored,
                *log_args,
            )
            return request.make_json_response({"status": "ignored"}, status=200)
        event._enqueue()
        _logger.info("Wave webhook accepted: connection=%s event=%s type=%s length=%s", *log_args)
        return request.make_json_response({"status": "accepted"}, status=202)

    @staticmethod
    def _reject(connection_id, status, reason, length):
        # Nothing from a refused body is logged: not even its event id.
        _logger.warning(
            "Wave webhook rejected (%s %s): connection=%s length=%s",
            status,
            reason,
            connection_id,
            length,
        )
        return request.make_json_response({"status": "rejected", "reason": reason}, status=status)
