# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The health and throughput figures of a connection: one home for the dashboard
(``wave.dashboard``) and the Prometheus endpoint (``controllers/metrics.py``).

Counts come from ``wave.sync.job``, ``wave.quarantine``, the mapping tables,
``wave.request.log`` and ``queue.job``; latency and duration histograms are one
SQL aggregate each (see the comments there).
"""

from datetime import timedelta

from odoo import api, fields, models

# Sync latency histogram buckets (seconds): Wave change -> Odoo record.
LATENCY_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600)
DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600)
QUEUE_OPEN_STATES = ("wait_dependencies", "pending", "enqueued", "started", "failed")
WAVE_CHANNEL_PREFIX = "root.wave"
CHART_DAYS = 30

# Seconds from the change in Wave to the creation of the imported move (moves
# created by a historical import or by the first listing of a poll are left out:
# see the audit log's source).
LATENCY_SUBQUERY = """
    SELECT GREATEST(0, EXTRACT(EPOCH FROM (create_date - wave_modified_at))) AS lat
      FROM account_move
     WHERE company_id = %s AND wave_origin = 'wave' AND wave_modified_at IS NOT NULL
       -- A historical import or a first listing brings old records: their age is not
       -- a sync delay.
       AND NOT EXISTS (
           SELECT 1 FROM wave_audit_log h
            WHERE h.res_model = 'account.move' AND h.res_id = account_move.id
              AND h.source IN ('historical_import', 'first poll')
       )
"""


def _day(value):
    """The date of a ``create_date:day`` group (a datetime at midnight)."""
    return value.date() if hasattr(value, "date") else value


class WaveDashboardStats(models.AbstractModel):
    _name = "wave.dashboard.stats"
    _description = "Wave Dashboard Figures"

    @api.model
    def _stats(self, connection, period_days=7):
        """Figures of ``connection`` over the last ``period_days`` days."""
        connection.ensure_one()
        since = fields.Datetime.now() - timedelta(days=period_days)
        latency = self._latency_stats(connection, since)
        return {
            "last_sync": self._last_sync(connection),
            **self._finished_runs(connection, since),
            **self._records(connection, since),
            **self._backlog(connection),
            "per_day": self._per_day(connection),
            "queue": self._queue_depth(connection.company_id),
            "latency_avg": latency["avg"],
            "latency_p95": latency["p95"],
        }

    @api.model
    def _last_sync(self, connection):
        """``{kind: date}`` of the last successful run of each kind."""
        return dict(
            self.env["wave.sync.job"]._read_group(
                [("connection_id", "=", connection.id), ("state", "in", ("done", "partial"))],
                ["kind"],
                ["date_finished:max"],
            )
        )

    # The domains below are the ones the dashboard's buttons open: a figure and
    # the list behind it always count the same records.
    @api.model
    def _runs_domain(self, connection, since):
        """Runs (not their chunks) started in the period."""
        return [
            ("connection_id", "=", connection.id),
            ("parent_id", "=", False),
            ("create_date", ">=", since),
        ]

    @api.model
    def _failed_runs_domain(self, connection, since):
        """Runs of the period that stopped on an error."""
        return [*self._runs_domain(connection, since), ("state", "=", "failed")]

    @api.model
    def _failed_records_domain(self, connection, since):
        """Records quarantined in the period, still open or fixed since."""
        return [("connection_id", "=", connection.id), ("create_date", ">=", since)]

    @api.model
    def _finished_runs(self, connection, since):
        """Runs of the period, and those that stopped on an error."""
        Job = self.env["wave.sync.job"]
        return {
            "runs_finished": Job.search_count(self._runs_domain(connection, since)),
            "runs_failed": Job.search_count(self._failed_runs_domain(connection, since)),
        }

    @api.model
    def _records(self, connection, since):
        """Records synced and records that failed in the period, and their ratio.

        Synced: the records the runs of the period handled (a historical import
        counts once, not once more for each of its chunks). Failed: the records
        put in quarantine in the period, the list the figure opens.
        """
        done, duration = self.env["wave.sync.job"]._read_group(
            self._runs_domain(connection, since), [], ["records_done:sum", "duration:avg"]
        )[0]
        failed = self.env["wave.quarantine"].search_count(
            self._failed_records_domain(connection, since)
        )
        done = done or 0
        handled = max(done, failed)
        return {
            "records_done": done,
            "records_failed": failed,
            "error_rate": 100.0 * failed / handled if handled else 0.0,
            "duration_avg": duration or None,
        }

    @api.model
    def _per_day(self, connection, days=CHART_DAYS):
        """``[(date, records synced, records failed)]`` of the last ``days`` days, oldest
        first, every day present (zero when nothing happened)."""
        today = fields.Date.context_today(self)
        first = today - timedelta(days=days - 1)
        since = fields.Datetime.to_datetime(first)
        done = dict(
            self.env["wave.sync.job"]._read_group(
                self._runs_domain(connection, since), ["create_date:day"], ["records_done:sum"]
            )
        )
        failed = dict(
            self.env["wave.quarantine"]._read_group(
                self._failed_records_domain(connection, since), ["create_date:day"], ["__count"]
            )
        )
        done = {_day(key): value for key, value in done.items()}
        failed = {_day(key): value for key, value in failed.items()}
        days_list = [first + timedelta(days=offset) for offset in range(days)]
        return [(day, done.get(day) or 0, failed.get(day) or 0) for day in days_list]

    @api.model
    def _backlog(self, connection):
        """What waits: running runs, open quarantine, unmapped accounts, contacts to review."""
        domain = [("connection_id", "=", connection.id)]
        Ledger = self.env["wave.outbound.ledger"]
        return {
            "running": self.env["wave.sync.job"].search_count(
                [*domain, ("parent_id", "=", False), ("state", "in", ("pending", "running"))]
            ),
            "quarantine_open": self._quarantine_open(connection),
            "unmapped_accounts": self.env["wave.account.map"].search_count(
                [*domain, ("account_id", "=", False), ("wave_archived", "=", False)]
            ),
            "partners_to_review": self.env["wave.partner.map"].search_count(
                [*domain, ("state", "=", "review")]
            ),
            "quotations_synced": Ledger.search_count(self._quotations_domain(connection, True)),
            "quotations_pending": Ledger.search_count(self._quotations_domain(connection, False)),
        }

    @api.model
    def _quotations_domain(self, connection, synced):
        """Quotations sent to Wave as estimates (``synced``), or on their way: not
        confirmed by Wave yet, refused or waiting for an accountant (outbound ledger)."""
        states = ("confirmed",) if synced else ("pending", "sent", "outcome_unknown", "failed")
        return [
            ("connection_id", "=", connection.id),
            ("kind", "=", "estimate"),
            ("state", "in", states),
        ]

    @api.model
    def _quarantine_open(self, connection):
        return self.env["wave.quarantine"].search_count(
            [("connection_id", "=", connection.id), ("state", "=", "open")]
        )

    @api.model
    def _run_totals(self, connection):
        """``[(kind, direction, state, records done, records failed, runs)]`` of all time."""
        return self.env["wave.sync.job"]._read_group(
            [("connection_id", "=", connection.id), ("parent_id", "=", False)],
            ["kind", "direction", "state"],
            ["records_done:sum", "records_failed:sum", "__count"],
        )

    @api.model
    def _request_totals(self, connection):
        """``[(outcome, requests, rate-limit waits, wait ms)]`` of the request log."""
        return self.env["wave.request.log"]._read_group(
            [("connection_id", "=", connection.id)],
            ["outcome"],
            ["__count", "rate_limit_waits:sum", "rate_limit_wait_ms:sum"],
        )

    @api.model
    def _latency_stats(self, connection, since=None):
        """Average and 95th percentile of (Odoo creation - Wave modifiedAt), in seconds.

        Raw SQL: percentiles over every imported move are one aggregate in
        PostgreSQL, the ORM would have to load each move.
        """
        self.env["account.move"].flush_model(["create_date", "wave_modified_at", "wave_origin"])
        query = f"""
            SELECT avg(lat), percentile_cont(0.95) WITHIN GROUP (ORDER BY lat), count(*)
              FROM ({LATENCY_SUBQUERY}
                    AND (%s::timestamp IS NULL OR create_date >= %s::timestamp)) AS l
        """  # only constant SQL is interpolated, the values are parameters
        self.env.cr.execute(query, (connection.company_id.id, since, since))
        avg, p95, count = self.env.cr.fetchone()
        return {"avg": avg, "p95": p95, "count": count}

    @api.model
    def _latency_histogram(self, connection, buckets=LATENCY_BUCKETS):
        """Cumulative counts per bucket, sum and count of the import latency (all time).

        Raw SQL for the same reason as :meth:`_latency_stats`.
        """
        self.env["account.move"].flush_model(["create_date", "wave_modified_at", "wave_origin"])
        filters = ", ".join("count(*) FILTER (WHERE lat <= %s)" for _b in buckets)
        query = f"""
            SELECT {filters}, coalesce(sum(lat), 0), count(*) FROM ({LATENCY_SUBQUERY}) AS l
        """  # only the %s placeholders and constant SQL are interpolated, never values
        self.env.cr.execute(query, (*buckets, connection.company_id.id))
        row = self.env.cr.fetchone()
        return list(zip(buckets, row[: len(buckets)], strict=True)), float(row[-2]), row[-1]

    @api.model
    def _duration_histogram(self, connection, buckets=DURATION_BUCKETS):
        """{kind: (cumulative bucket counts, sum, count)} of finished top-level runs.

        Raw SQL: one pass with FILTER aggregates instead of a count per bucket.
        """
        self.env["wave.sync.job"].flush_model(
            ["connection_id", "parent_id", "kind", "duration", "date_finished"]
        )
        filters = ", ".join("count(*) FILTER (WHERE duration <= %s)" for _b in buckets)
        query = f"""
            SELECT kind, {filters}, coalesce(sum(duration), 0), count(*)
              FROM wave_sync_job
             WHERE connection_id = %s AND parent_id IS NULL AND date_finished IS NOT NULL
          GROUP BY kind
        """  # only the %s placeholders are interpolated, never values
        self.env.cr.execute(query, (*buckets, connection.id))
        return {
            row[0]: (
                list(zip(buckets, row[1 : len(buckets) + 1], strict=True)),
                float(row[-2]),
                row[-1],
            )
            for row in self.env.cr.fetchall()
        }

    @api.model
    def _queue_depth(self, company=None):
        """{(channel, state): count} of the unfinished Wave queue jobs of ``company``
        (the jobs are tagged with their connection's company when enqueued); every
        company's only for the metrics endpoint, which is database-wide."""
        domain = [
            ("channel", "=like", WAVE_CHANNEL_PREFIX + "%"),
            ("state", "in", QUEUE_OPEN_STATES),
        ]
        if company is not None:
            domain.append(("company_id", "=", company.id))
        # sudo: only counts are shown; accountants have no access to queue.job; the
        # company check is the domain above (the dashboard passes its company).
        groups = (
            self.env["queue.job"]
            .sudo()
            ._read_group(
                domain,
                ["channel", "state"],
                ["__count"],
            )
        )
        return {(channel, state): count for channel, state, count in groups}
