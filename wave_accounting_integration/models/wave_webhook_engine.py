# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook signature checks (on ``wave.api``) and the events the webhook route accepts.

The job that processes an accepted event is ``wave.webhook.event._job_process_webhook``
(``models/wave_jobs_inbound.py``).

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

from odoo import api, fields, models, tools

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "wave_accounting_integration."
PARAM_HEADER = PARAM_PREFIX + "webhook_signature_header"
PARAM_ALGORITHM = PARAM_PREFIX + "webhook_signature_algorithm"
PARAM_MAX_BODY = PARAM_PREFIX + "webhook_max_body_size"
DEFAULT_HEADER = "X-Wave-Signature"
DEFAULT_ALGORITHM = "sha256"
DEFAULT_MAX_BODY = 1024 * 1024
ALGORITHMS = ("sha256", "sha384", "sha512", "sha1")
# The connection fields the acknowledgement reads: signature check (secrets), routing
# (business, company) and whether estimate events are taken.
ACK_CONNECTION_FIELDS = (
    "business_id",
    "company_id",
    "webhook_secret",
    "webhook_secret_previous",
    "webhook_secret_previous_until",
    "sync_inbound",
    "sync_estimates",
    "auth_method",
    "granted_scopes",
)
# Writing one of these changes what the acknowledgement must see (``active``: archived
# connections are refused).
ACK_CACHE_FIELDS = frozenset(ACK_CONNECTION_FIELDS) | {"active"}

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
# Events that change an estimate: the job re-reads the estimate (names as unverified as
# the invoice ones; Wave delivers them only with the estimate:read permission).
ESTIMATE_EVENTS = frozenset(
    {
        "estimate.created",
        "estimate.updated",
        "estimate.approved",
        "estimate.sent",
        "estimate.viewed",
        "estimate.accepted",
        "estimate.rejected",
        "estimate.expired",
        "estimate.converted",
        "estimate.deleted",
    }
)


class WaveApi(models.Model):
    _inherit = "wave.api"

    @api.model_create_multi
    def create(self, vals_list):
        connections = super().create(vals_list)
        self.env.registry.clear_cache()  # _webhook_ack_table
        return connections

    def write(self, vals):
        result = super().write(vals)
        if ACK_CACHE_FIELDS.intersection(vals):
            self.env.registry.clear_cache()  # _webhook_ack_table
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()  # _webhook_ack_table
        return result

    @api.model
    @tools.ormcache()
    def _webhook_ack_table(self):
        """``{connection id: ((field, value), ...)}`` of every active connection: what the
        webhook acknowledgement reads (``ACK_CONNECTION_FIELDS``), so that a delivery
        costs no search of its connection.

        One entry for all connections, in each worker's registry cache: a known and an
        unknown id from the URL cost the same look-up in it, and no URL adds an entry.
        Cleared in every worker (Odoo's cache signalling) when a connection is created,
        deleted, archived or one of these fields is written (``write``); the companies
        are the connections' own, and a rotated secret's end of validity
        (``webhook_secret_previous_until``) is compared with the clock at each request.
        """
        # sudo: the acknowledgement runs as the public user; the secrets leave this
        # method only for _webhook_ack_connection, to be compared in
        # _webhook_check_signature. Every company's connections: the URL names one.
        connections = self.sudo().search_fetch([], ACK_CONNECTION_FIELDS, order="id")
        return {
            connection.id: tuple(
                (name, connection._fields[name].convert_to_write(connection[name], connection))
                for name in ACK_CONNECTION_FIELDS
            )
            for connection in connections
        }

    @api.model
    def _webhook_ack_connection(self, connection_id):
        """The active connection ``connection_id`` with what the acknowledgement reads
        already in its cache (``_webhook_ack_table``), else an empty recordset."""
        values = self._webhook_ack_table().get(connection_id)
        if values is None:
            return self.browse()
        # sudo: as _webhook_ack_table; this recordset serves the acknowledgement only.
        connection = self.sudo().browse(connection_id)
        connection._update_cache(dict(values), validate=False)
        return connection

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

    def _webhook_secrets_accepted(self, now=None):
        """The webhook secrets a signature may currently be made with, newest first.

        The one list of accepted secrets: the signature check below and the secret
        rotation (``services/secret_rotation.py``) both rely on it.
        """
        self.ensure_one()
        now = now or fields.Datetime.now()
        # sudo: the webhook route runs as the public user; the secrets are
        # administrator-only fields of this one connection and leave this method
        # only to be compared in _webhook_check_signature.
        connection = self.sudo()
        accepted = [connection.webhook_secret] if connection.webhook_secret else []
        until = connection.webhook_secret_previous_until
        if connection.webhook_secret_previous and until and until > now:
            accepted.append(connection.webhook_secret_previous)
        return accepted

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
        digest = getattr(hashlib, algorithm)
        valid = False
        for secret in self._webhook_secrets_accepted():
            expected = hmac.new(secret.encode(), body, digest).hexdigest().encode()
            # no short-circuit: every secret is compared, in constant time
            valid |= hmac.compare_digest(expected, signature)
        return valid
