# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook signature checks (on ``wave.api``) and the job that processes an event.

Signing scheme (an ASSUMPTION: Wave's real scheme is undocumented). By default a
delivery carries ``X-Wave-Signature: <hex HMAC-SHA256 of the raw body>``, keyed with
the connection's ``webhook_secret``; an ``sha256=`` prefix is accepted. Two system
parameters change the scheme without code:

* ``wave_accounting_integration.webhook_signature_header``: the header name
  (default ``X-Wave-Signature``);
* ``wave_accounting_integration.webhook_signature_algorithm``: a ``hashlib`` HMAC
  digest, one of ``sha256`` (default), ``sha384``, ``sha512``, ``sha1``;
* ``wave_accounting_integration.webhook_max_body_size``: the largest accepted body
  in bytes (default 1 MiB).

During a secret rotation the previous secret (``webhook_secret_previous``) is also
accepted while ``webhook_secret_previous_until`` lies in the future.
"""

import hashlib
import hmac
import logging

from odoo import fields, models

from ..services.job_guard import job_guard

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "wave_accounting_integration."
PARAM_HEADER = PARAM_PREFIX + "webhook_signature_header"
PARAM_ALGORITHM = PARAM_PREFIX + "webhook_signature_algorithm"
PARAM_MAX_BODY = PARAM_PREFIX + "webhook_max_body_size"
DEFAULT_HEADER = "X-Wave-Signature"
DEFAULT_ALGORITHM = "sha256"
DEFAULT_MAX_BODY = 1024 * 1024
ALGORITHMS = ("sha256", "sha384", "sha512", "sha1")

# Events that change an invoice (or its payments): the job re-reads the invoice.
INVOICE_EVENTS = frozenset(
    {
        "invoice.created",
        "invoice.updated",
        "invoice.approved",
        "invoice.sent",
        "invoice.viewed",
        "invoice.overdue",
        "invoice.partially_paid",
        "invoice.paid",
        "invoice.overpaid",
        "invoice.deleted",
    }
)


class WaveApi(models.Model):
    _inherit = "wave.api"

    def _webhook_settings(self):
        """``(header name, algorithm, max body size)`` from the system parameters."""
        # sudo: system parameters are readable by administrators only; the webhook
        # route runs as the public user and needs these three values.
        params = self.env["ir.config_parameter"].sudo()
        header = (params.get_param(PARAM_HEADER) or DEFAULT_HEADER).strip()
        algorithm = (params.get_param(PARAM_ALGORITHM) or DEFAULT_ALGORITHM).strip().lower()
        if algorithm not in ALGORITHMS:
            _logger.warning(
                "Unsupported webhook signature algorithm %r, using %s", algorithm, DEFAULT_ALGORITHM
            )
            algorithm = DEFAULT_ALGORITHM
        try:
            max_body = int(params.get_param(PARAM_MAX_BODY) or DEFAULT_MAX_BODY)
        except ValueError:
            max_body = DEFAULT_MAX_BODY
        return header, algorithm, max_body

    def _webhook_check_signature(self, body, signature, algorithm=DEFAULT_ALGORITHM):
        """True when ``signature`` is the HMAC of ``body`` under a valid secret.

        Compares in constant time against the current secret and, during a
        rotation, the previous one. Nothing here is logged: neither secret nor body.
        """
        self.ensure_one()
        if not signature:
            return False
        signature = signature.strip()
        prefix = algorithm + "="
        if signature.lower().startswith(prefix):
            signature = signature[len(prefix) :]
        signature = signature.lower().encode()
        # sudo: the secrets are administrator-only fields; they are only compared here.
        connection = self.sudo()
        secrets = [connection.webhook_secret]
        until = connection.webhook_secret_previous_until
        if connection.webhook_secret_previous and until and until > fields.Datetime.now():
            secrets.append(connection.webhook_secret_previous)
        digest = getattr(hashlib, algorithm)
        valid = False
        for secret in filter(None, secrets):
            expected = hmac.new(secret.encode(), body, digest).hexdigest().encode()
            # no short-circuit: every secret is compared, in constant time
            valid |= hmac.compare_digest(expected, signature)
        return valid


class WaveWebhookEvent(models.Model):
    _inherit = "wave.webhook.event"

    def _identity_key(self):
        self.ensure_one()
        subject = self.wave_invoice_id or self.event_id
        return f"wave-webhook:{self.connection_id.id}:{subject}"

    def _enqueue(self):
        """Queue the processing job; one pending job per invoice is enough, since the
        job reads the invoice's current state from Wave whatever event triggered it."""
        for event in self:
            job = event.with_delay(
                channel="root.wave.webhook",
                priority=5,
                identity_key=event._identity_key(),
                description=self.env._(
                    "Wave webhook %(type)s (%(event)s)",
                    type=event.event_type,
                    event=event.event_id,
                ),
            )._process_webhook_event()
            event.write({"state": "queued", "queue_job_uuid": getattr(job, "uuid", False)})
        return True

    def _process_webhook_event(self):
        """Job: import the current state of the event's invoice from Wave.

        Idempotent: the payload is never trusted (a late, older event cannot roll
        data back) and the invoice import is keyed by Wave id. Every queued event of
        the same invoice is settled by the same run.
        """
        # imported here: the client library is loaded only when a job runs
        from ..lib import WaveError

        self.ensure_one()
        if self.state in ("done", "ignored", "duplicate"):
            return "already processed"
        connection = self.connection_id
        siblings = (
            self.search(
                [
                    ("connection_id", "=", connection.id),
                    ("wave_invoice_id", "=", self.wave_invoice_id),
                    ("state", "in", ("received", "queued", "failed")),
                ]
            )
            | self
        )
        siblings.write({"attempts": self.attempts + 1})
        if not connection._is_ready():
            siblings.write(
                {"state": "failed", "error": self.env._("The Wave connection is not ready.")}
            )
            return "connection not ready"
        try:
            with job_guard(connection) as guard:
                connection.with_context(
                    wave_source=f"webhook:{self.event_id}"
                )._import_invoices_by_ids([self.wave_invoice_id], source="webhook")
        except WaveError as exc:
            # Not for a retry (the guard lets only those through): Wave refused it.
            _logger.warning(
                "Wave webhook event %s (connection %s) failed: %s",
                self.event_id,
                connection.id,
                type(exc).__name__,
            )
            siblings.write({"state": "failed", "error": str(exc)})
            return "failed"
        if guard.stopped:
            siblings.write({"state": "failed", "error": str(guard.error)})
            return "connection disconnected"
        siblings.write({"state": "done", "error": False, "processed_at": fields.Datetime.now()})
        return f"imported invoice for {len(siblings)} event(s)"
