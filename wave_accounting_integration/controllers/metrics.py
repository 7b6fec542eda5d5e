# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prometheus metrics of the Wave integration (text exposition format 0.0.4).

``GET /wave/metrics`` with ``Authorization: Bearer <token>``; the token is the
system parameter ``wave_accounting_integration.metrics_token``. No parameter,
no header or a wrong token: 401 and no data. The figures come from
``wave.dashboard.stats`` (``services/dashboard_stats.py``), as the dashboard's do.
"""

import hmac

from odoo import http
from odoo.http import Response, request

from ..services.dashboard_stats import WAVE_CHANNEL_PREFIX

TOKEN_PARAM = "wave_accounting_integration.metrics_token"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels):
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class MetricsWriter:
    """Collects samples grouped by metric family."""

    def __init__(self):
        self.families = {}

    def add(self, name, metric_type, help_text, value, /, **labels):
        family = self.families.setdefault(
            name, {"kind": metric_type, "help": help_text, "samples": []}
        )
        family["samples"].append((name, labels, value))

    def histogram(self, name, help_text, buckets, total, count, /, **labels):
        family = self.families.setdefault(
            name, {"kind": "histogram", "help": help_text, "samples": []}
        )
        for bound, cumulative in buckets:
            family["samples"].append((f"{name}_bucket", {**labels, "le": f"{bound:g}"}, cumulative))
        family["samples"].append((f"{name}_bucket", {**labels, "le": "+Inf"}, count))
        family["samples"].append((f"{name}_sum", labels, total))
        family["samples"].append((f"{name}_count", labels, count))

    def render(self):
        lines = []
        for name, family in self.families.items():
            lines.append(f"# HELP {name} {family['help']}")
            lines.append(f"# TYPE {name} {family['kind']}")
            for sample, labels, value in family["samples"]:
                lines.append(f"{sample}{_labels(labels)} {float(value or 0):g}")
        return "\n".join(lines) + "\n"


def collect_metrics(env):
    """All metrics of every Wave connection, as Prometheus text."""
    out = MetricsWriter()
    stats = env["wave.dashboard.stats"]
    for connection in env["wave.api"].with_context(active_test=False).search([]):
        base = {"company": connection.company_id.name, "connection": connection.id}
        out.add(
            "wave_connection_up",
            "gauge",
            "1 when the connection is connected to Wave.",
            1 if connection.state == "connected" and connection.active else 0,
            **base,
        )
        _add_run_metrics(out, stats._run_totals(connection), base)
        _add_histograms(out, stats, connection, base)
        out.add(
            "wave_quarantine_open",
            "gauge",
            "Quarantined records waiting for a fix.",
            stats._quarantine_open(connection),
            **base,
        )
        _add_request_metrics(out, stats._request_totals(connection), base)
    # Every company's jobs: the metrics token reads the whole database.
    _add_queue_metrics(out, stats._queue_depth())
    return out.render()


def _add_run_metrics(out, run_totals, base):
    """Runs, records synced and records failed per kind, direction and final state."""
    for kind, direction, state, done, failed, count in run_totals:
        labels = {**base, "kind": kind, "direction": direction, "state": state}
        out.add(
            "wave_sync_runs_total", "counter", "Sync runs by kind and final state.", count, **labels
        )
        out.add(
            "wave_records_synced_total",
            "counter",
            "Records synced successfully.",
            done or 0,
            **labels,
        )
        out.add(
            "wave_sync_errors_total",
            "counter",
            "Records that failed to sync.",
            failed or 0,
            **labels,
        )


def _add_histograms(out, stats, connection, base):
    """Run durations per kind and the import latency of ``connection``."""
    for kind, (buckets, duration_sum, job_count) in sorted(
        stats._duration_histogram(connection).items()
    ):
        out.histogram(
            "wave_sync_run_duration_seconds",
            "Duration of finished sync runs.",
            buckets,
            duration_sum,
            job_count,
            **base,
            kind=kind,
        )
    buckets, latency_sum, latency_count = stats._latency_histogram(connection)
    out.histogram(
        "wave_sync_latency_seconds",
        "From the change in Wave to the record created in Odoo.",
        buckets,
        latency_sum,
        latency_count,
        **base,
    )


def _add_request_metrics(out, request_totals, base):
    """Requests sent to Wave and rate-limit waits, per outcome."""
    for outcome, count, waits, wait_ms in request_totals:
        labels = {**base, "outcome": outcome or "unknown"}
        out.add(
            "wave_requests_total", "counter", "Requests sent to Wave by outcome.", count, **labels
        )
        out.add(
            "wave_rate_limit_waits_total",
            "counter",
            "Times a request waited for the rate budget or a Wave 429.",
            waits or 0,
            **labels,
        )
        out.add(
            "wave_rate_limit_wait_seconds_total",
            "counter",
            "Time spent waiting for the rate budget.",
            (wait_ms or 0.0) / 1000.0,
            **labels,
        )


def _add_queue_metrics(out, queue_depth):
    """Unfinished Wave queue jobs per channel and state (a zero sample when none)."""
    help_text = "Unfinished Wave background jobs."
    for channel, state in sorted(queue_depth):
        count = queue_depth[(channel, state)]
        out.add("wave_queue_jobs", "gauge", help_text, count, channel=channel, state=state)
    if not queue_depth:
        out.add(
            "wave_queue_jobs", "gauge", help_text, 0, channel=WAVE_CHANNEL_PREFIX, state="pending"
        )


class WaveMetricsController(http.Controller):
    @http.route(
        "/wave/metrics",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def wave_metrics(self, **kwargs):
        # sudo: the parameter is readable by administrators only; it is compared, never shown.
        expected = request.env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM) or ""
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, given = header.partition(" ")
        if not (
            expected
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), expected.encode())
        ):
            return Response(
                "Unauthorized\n",
                status=401,
                content_type="text/plain; charset=utf-8",
                headers=[("WWW-Authenticate", 'Bearer realm="wave-metrics"')],
            )
        # sudo: the bearer token authorizes reading aggregated figures of every company.
        body = collect_metrics(request.env(su=True))
        return Response(body, status=200, content_type=CONTENT_TYPE)
