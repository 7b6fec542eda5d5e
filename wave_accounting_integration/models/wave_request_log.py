# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One line per request sent to Wave: what, how long, how it ended.

Lines are written by the client's ``request_logger`` hook in a cursor of their
own (committed at once), so that the log of a job that rolls back is kept:
it is the evidence of what was actually sent to Wave. Variables are redacted
(lib.redact) before they are stored; tokens never reach this table.
"""

import datetime as dt
import json

from odoo import api, fields, models

from ..lib import redact

OUTCOMES = [
    ("success", "Success"),
    ("error", "Error"),
    ("outcome_unknown", "Outcome unknown"),
]
PRIORITIES = [
    ("interactive", "Interactive"),
    ("webhook", "Webhook"),
    ("bulk", "Scheduled"),
]
MAX_VARIABLES_CHARS = 4000


class WaveRequestLog(models.Model):
    _name = "wave.request.log"
    _description = "Wave Request Log"
    _inherit = ["wave.server.fields.mixin"]
    # Written by the sync only (as superuser): users read them.
    _wave_server_fields = "__all__"
    _order = "id desc"
    _rec_name = "operation_name"

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    operation_name = fields.Char(string="Operation", index=True)
    kind = fields.Selection(
        [("query", "Query"), ("mutation", "Mutation"), ("subscription", "Subscription")]
    )
    variables = fields.Text(help="Variables sent, with every secret replaced by ***.")
    duration_ms = fields.Float(string="Duration (ms)", digits=(16, 1))
    http_status = fields.Integer(string="HTTP Status")
    error_codes = fields.Char(help="Wave error codes of the last answer.")
    error = fields.Char(help="Kind of failure, when the request failed.")
    retries = fields.Integer()
    outcome = fields.Selection(OUTCOMES, index=True)
    priority = fields.Selection(PRIORITIES)
    rate_limit_waits = fields.Integer(
        help="Times the request waited for the shared budget or a Wave 429 pause."
    )
    rate_limit_wait_ms = fields.Float(string="Budget Wait (ms)", digits=(16, 1))

    @api.model
    def _values_from_record(self, connection_id, record, waits=0, waited=0.0, penalties=0):
        """Turn the client's request record into field values (redacting again)."""
        variables = json.dumps(redact(record.get("variables") or {}), default=str, sort_keys=True)
        if len(variables) > MAX_VARIABLES_CHARS:
            variables = variables[:MAX_VARIABLES_CHARS] + "…"
        kind = record.get("kind")
        priority = record.get("priority")
        return {
            "connection_id": connection_id,
            "operation_name": record.get("operation_name"),
            "kind": kind if kind in ("query", "mutation", "subscription") else False,
            "variables": variables,
            "duration_ms": record.get("duration_ms") or 0.0,
            "http_status": record.get("http_status") or 0,
            "error_codes": ", ".join(record.get("error_codes") or []) or False,
            "error": record.get("error") or False,
            "retries": record.get("retries") or 0,
            "outcome": record.get("outcome"),
            "priority": priority if priority in dict(PRIORITIES) else False,
            "rate_limit_waits": waits + penalties,
            "rate_limit_wait_ms": round(waited * 1000.0, 1),
        }

    # ------------------------------------------------------------------
    # Metrics
    # ------------------------------------------------------------------
    @api.model
    def _request_stats(self, since=None, connection=None):
        """Counters for a metrics screen, over the lines created after ``since``.

        Returns ``{"total", "by_operation": {op: {outcome: n}}, "by_outcome":
        {outcome: n}, "retries", "rate_limit_waits", "rate_limit_wait_ms",
        "avg_duration_ms"}``. Two grouped queries, whatever the volume.
        """
        domain = []
        if since:
            domain.append(("create_date", ">=", since))
        if connection:
            domain.append(("connection_id", "in", connection.ids))
        by_operation = {}
        by_outcome = {}
        total = 0
        for operation, outcome, count in self._read_group(
            domain, ["operation_name", "outcome"], ["__count"]
        ):
            by_operation.setdefault(operation or "", {})[outcome or ""] = count
            by_outcome[outcome or ""] = by_outcome.get(outcome or "", 0) + count
            total += count
        [[retries, waits, wait_ms, duration]] = self._read_group(
            domain,
            [],
            ["retries:sum", "rate_limit_waits:sum", "rate_limit_wait_ms:sum", "duration_ms:avg"],
        )
        return {
            "total": total,
            "by_operation": by_operation,
            "by_outcome": by_outcome,
            "retries": retries or 0,
            "rate_limit_waits": waits or 0,
            "rate_limit_wait_ms": wait_ms or 0.0,
            "avg_duration_ms": duration or 0.0,
        }

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------
    @api.model
    def _cron_cleanup(self):
        """Delete the lines older than their connection's retention (daily cron)."""
        # Every connection (a handful of rows): each keeps its own retention.
        connections = (
            self.env["wave.api"].with_context(active_test=False).search([])  # pylint: disable=no-search-all
        )
        now = fields.Datetime.now()
        deleted = 0
        for connection in connections:
            days = max(connection.request_log_retention_days, 1)
            limit = now - dt.timedelta(days=days)
            # Raw SQL: the log may hold millions of lines and nothing depends on
            # them; loading them into the ORM to unlink them would be wasteful.
            self.env.cr.execute(
                "DELETE FROM wave_request_log WHERE connection_id = %s AND create_date < %s",
                (connection.id, limit),
            )
            deleted += self.env.cr.rowcount
        self.invalidate_model()
        self.env["ir.cron"]._notify_progress(done=deleted, remaining=0)
        return deleted
