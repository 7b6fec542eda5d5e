# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prometheus metrics of the Wave integration (text exposition format 0.0.4).

``GET /wave/metrics`` with ``Authorization: Bearer <token>``; the token is the
system parameter ``wave_accounting_integration.metrics_token``. No parameter,
no header or a wrong token: 401 and no data. The figures come from
``wave.dashboard.stats`` (``services/dashboard_stats.py``), as the dashboard's do.

The exposition is ``prometheus_client``'s: each request fills a
``CollectorRegistry`` of its own with one collector that reads the figures
(nothing is kept between requests: the figures live in the database, shared by
every worker), and ``generate_latest`` writes the text.
"""

import hmac

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from odoo import http
from odoo.http import Response, request

from ..services.dashboard_stats import WAVE_CHANNEL_PREFIX

TOKEN_PARAM = "wave_accounting_integration.metrics_token"
# generate_latest writes the 0.0.4 text format (newer prometheus_client releases
# name a 1.0.0 type "latest"; its text is the same for our metric names).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

BASE_LABELS = ("company", "connection")
RUN_LABELS = (*BASE_LABELS, "kind", "direction", "state")
OUTCOME_LABELS = (*BASE_LABELS, "outcome")


class WaveCollector:
    """A ``prometheus_client`` collector over the figures of every Wave connection."""

    def __init__(self, env):
        self.env = env

    def _families(self):
        """The metric families, in the order of the exposition."""
        return [
            GaugeMetricFamily(
                "wave_connection_up",
                "1 when the connection is connected to Wave.",
                labels=BASE_LABELS,
            ),
            CounterMetricFamily(
                "wave_sync_runs_total", "Sync runs by kind and final state.", labels=RUN_LABELS
            ),
            CounterMetricFamily(
                "wave_records_synced_total", "Records synced successfully.", labels=RUN_LABELS
            ),
            CounterMetricFamily(
                "wave_sync_errors_total", "Records that failed to sync.", labels=RUN_LABELS
            ),
            HistogramMetricFamily(
                "wave_sync_run_duration_seconds",
                "Duration of finished sync runs.",
                labels=(*BASE_LABELS, "kind"),
            ),
            HistogramMetricFamily(
                "wave_sync_latency_seconds",
                "From the change in Wave to the record created in Odoo.",
                labels=BASE_LABELS,
            ),
            GaugeMetricFamily(
                "wave_quarantine_open",
                "Quarantined records waiting for a fix.",
                labels=BASE_LABELS,
            ),
            CounterMetricFamily(
                "wave_requests_total", "Requests sent to Wave by outcome.", labels=OUTCOME_LABELS
            ),
            CounterMetricFamily(
                "wave_rate_limit_waits_total",
                "Times a request waited for the rate budget or a Wave 429.",
                labels=OUTCOME_LABELS,
            ),
            CounterMetricFamily(
                "wave_rate_limit_wait_seconds_total",
                "Time spent waiting for the rate budget.",
                labels=OUTCOME_LABELS,
            ),
            GaugeMetricFamily(
                "wave_queue_jobs", "Unfinished Wave background jobs.", labels=("channel", "state")
            ),
        ]

    def collect(self):
        families = {family.name: family for family in self._families()}
        stats = self.env["wave.dashboard.stats"]
        for connection in self.env["wave.api"].with_context(active_test=False).search([]):
            base = [str(connection.company_id.name), str(connection.id)]
            up = connection.state == "connected" and connection.active
            families["wave_connection_up"].add_metric(base, 1 if up else 0)
            _add_run_metrics(families, stats._run_totals(connection), base)
            _add_histograms(families, stats, connection, base)
            families["wave_quarantine_open"].add_metric(base, stats._quarantine_open(connection))
            _add_request_metrics(families, stats._request_totals(connection), base)
        # Every company's jobs: the metrics token reads the whole database.
        _add_queue_metrics(families["wave_queue_jobs"], stats._queue_depth())
        # A family without samples is left out, as no connection means no series.
        yield from (family for family in families.values() if family.samples)


def collect_metrics(env):
    """All metrics of every Wave connection, as Prometheus text."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WaveCollector(env))
    return generate_latest(registry).decode()


def _add_run_metrics(families, run_totals, base):
    """Runs, records synced and records failed per kind, direction and final state."""
    for kind, direction, state, done, failed, count in run_totals:
        labels = [*base, str(kind), str(direction), str(state)]
        families["wave_sync_runs"].add_metric(labels, count)
        families["wave_records_synced"].add_metric(labels, done or 0)
        families["wave_sync_errors"].add_metric(labels, failed or 0)


def _buckets(buckets, count):
    """Cumulative ``(bound, count)`` pairs as ``prometheus_client`` takes them (+Inf last)."""
    return [(f"{bound:g}", cumulative) for bound, cumulative in buckets] + [("+Inf", count)]


def _add_histograms(families, stats, connection, base):
    """Run durations per kind and the import latency of ``connection``."""
    durations = families["wave_sync_run_duration_seconds"]
    for kind, (buckets, duration_sum, job_count) in sorted(
        stats._duration_histogram(connection).items()
    ):
        durations.add_metric([*base, str(kind)], _buckets(buckets, job_count), duration_sum)
    buckets, latency_sum, latency_count = stats._latency_histogram(connection)
    families["wave_sync_latency_seconds"].add_metric(
        base, _buckets(buckets, latency_count), latency_sum
    )


def _add_request_metrics(families, request_totals, base):
    """Requests sent to Wave and rate-limit waits, per outcome."""
    for outcome, count, waits, wait_ms in request_totals:
        labels = [*base, outcome or "unknown"]
        families["wave_requests"].add_metric(labels, count)
        families["wave_rate_limit_waits"].add_metric(labels, waits or 0)
        families["wave_rate_limit_wait_seconds"].add_metric(labels, (wait_ms or 0.0) / 1000.0)


def _add_queue_metrics(family, queue_depth):
    """Unfinished Wave queue jobs per channel and state (a zero sample when none)."""
    for channel, state in sorted(queue_depth):
        family.add_metric([channel, state], queue_depth[(channel, state)])
    if not queue_depth:
        family.add_metric([WAVE_CHANNEL_PREFIX, "pending"], 0)


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
