# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prometheus metrics of the Wave integration (text exposition format 0.0.4).

``GET /wave/metrics`` with ``Authorization: Bearer <token>``; the token is the
system parameter ``wave_accounting_integration.metrics_token``. No parameter,
no header or a wrong token: 401 and no data.
"""

import hmac

from odoo import http
from odoo.http import Response, request

from ..models.wave_dashboard import QUEUE_OPEN_STATES, WAVE_CHANNEL_PREFIX

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
    connections = env["wave.api"].with_context(active_test=False).search([])
    Job = env["wave.sync.job"]
    for connection in connections:
        base = {"company": connection.company_id.name, "connection": connection.id}
        out.add(
            "wave_connection_up",
            "gauge",
            "1 when the connection is connected to Wave.",
            1 if connection.state == "connected" and connection.active else 0,
            **base,
        )
        for kind, direction, state, done, failed, count in Job._read_group(
            [("connection_id", "=", connection.id), ("parent_id", "=", False)],
            ["kind", "direction", "state"],
            ["records_done:sum", "records_failed:sum", "__count"],
        ):
            labels = {**base, "kind": kind, "direction": direction}
            out.add(
                "wave_sync_runs_total",
                "counter",
                "Sync runs by kind and final state.",
                count,
                **labels,
                state=state,
            )
            out.add(
                "wave_records_synced_total",
                "counter",
                "Records synced successfully.",
                done or 0,
                **labels,
                state=state,
            )
            out.add(
                "wave_sync_errors_total",
                "counter",
                "Records that failed to sync.",
                failed or 0,
                **labels,
                state=state,
            )
        for kind, (buckets, duration_sum, job_count) in sorted(
            connection._wave_duration_histogram().items()
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
        buckets, latency_sum, latency_count = connection._wave_latency_histogram()
        out.histogram(
            "wave_sync_latency_seconds",
            "From the change in Wave to the record created in Odoo.",
            buckets,
            latency_sum,
            latency_count,
            **base,
        )
        out.add(
            "wave_quarantine_open",
            "gauge",
            "Quarantined records waiting for a fix.",
            env["wave.quarantine"].search_count(
                [("connection_id", "=", connection.id), ("state", "=", "open")]
            ),
            **base,
        )
        if "wave.request.log" in env:
            for outcome, count, waits, wait_ms in env["wave.request.log"]._read_group(
                [("connection_id", "=", connection.id)],
                ["outcome"],
                ["__count", "rate_limit_waits:sum", "rate_limit_wait_ms:sum"],
            ):
                out.add(
                    "wave_requests_total",
                    "counter",
                    "Requests sent to Wave by outcome.",
                    count,
                    **base,
                    outcome=outcome or "unknown",
                )
                out.add(
                    "wave_rate_limit_waits_total",
                    "counter",
                    "Times a request waited for the rate budget or a Wave 429.",
                    waits or 0,
                    **base,
                    outcome=outcome or "unknown",
                )
                out.add(
                    "wave_rate_limit_wait_seconds_total",
                    "counter",
                    "Time spent waiting for the rate budget.",
                    (wait_ms or 0.0) / 1000.0,
                    **base,
                    outcome=outcome or "unknown",
                )
    for channel, state, count in env["queue.job"]._read_group(
        [("channel", "=like", WAVE_CHANNEL_PREFIX + "%"), ("state", "in", QUEUE_OPEN_STATES)],
        ["channel", "state"],
        ["__count"],
    ):
        out.add(
            "wave_queue_jobs",
            "gauge",
            "Unfinished Wave background jobs.",
            count,
            channel=channel,
            state=state,
        )
    if "wave_queue_jobs" not in out.families:
        out.add(
            "wave_queue_jobs",
            "gauge",
            "Unfinished Wave background jobs.",
            0,
            channel=WAVE_CHANNEL_PREFIX,
            state="pending",
        )
    return out.render()


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
