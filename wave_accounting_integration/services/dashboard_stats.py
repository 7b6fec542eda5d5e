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

# Seconds from the change in Wave to the creation of the imported move.
LATENCY_SUBQUERY = """
    SELECT GREATEST(0, EXTRACT(EPOCH FROM (create_date - wave_modified_at))) AS lat
      FROM account_move
     WHERE company_id = %s AND wave_origin = 'wave' AND wave_modified_at IS NOT NULL
"""


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

    @api.model
    def _finished_runs(self, connection, since):
        """Top-level runs finished since ``since`` and the share that went wrong."""
        finished = dict(
            self.env["wave.sync.job"]._read_group(
                [
                    ("connection_id", "=", connection.id),
                    ("parent_id", "=", False),
                    ("date_finished", ">=", since),
                    ("state", "in", ("done", "partial", "failed")),
                ],
                ["state"],
                ["__count"],
            )
        )
        runs_finished = sum(finished.values())
        runs_bad = finished.get("failed", 0) + finished.get("partial", 0)
        return {
            "runs_finished": runs_finished,
            "error_rate": 100.0 * runs_bad / runs_finished if runs_finished else 0.0,
        }

    @api.model
    def _records(self, connection, since):
        """Records synced and failed since ``since``, per day and in total."""
        Job = self.env["wave.sync.job"]
        domain = [
            ("connection_id", "=", connection.id),
            ("create_date", ">=", since),
            ("state", "!=", "cancelled"),
        ]
        per_day = Job._read_group(
            domain,
            ["create_date:day"],
            ["records_done:sum", "records_failed:sum"],
            order="create_date:day desc",
        )
        done, failed, duration = Job._read_group(
            domain, [], ["records_done:sum", "records_failed:sum", "duration:avg"]
        )[0]
        return {
            "per_day": [
                (fields.Date.to_string(day), day_done or 0, day_failed or 0)
                for day, day_done, day_failed in per_day
            ],
            "records_done": done or 0,
            "records_failed": failed or 0,
            "duration_avg": duration or None,
        }

    @api.model
    def _backlog(self, connection):
        """What waits: running runs, open quarantine, unmapped accounts, contacts to review."""
        domain = [("connection_id", "=", connection.id)]
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
        }

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
