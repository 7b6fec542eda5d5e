# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The Wave dashboard: health and throughput of the company's connection.

A transient record rendered as a form: opening the menu computes the figures
once (``action_open``); *Refresh* recomputes them. The figures come from
``wave.dashboard.stats`` (``services/dashboard_stats.py``), which also feeds the
Prometheus endpoint (``controllers/metrics.py``).
"""

from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models


def _format_seconds(seconds):
    if seconds is None:
        return "-"
    seconds = round(float(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _table(headers, rows):
    head = Markup("").join(Markup("<th>%s</th>") % h for h in headers)
    body = Markup("").join(
        Markup("<tr>%s</tr>") % Markup("").join(Markup("<td>%s</td>") % c for c in row)
        for row in rows
    )
    return Markup(
        "<table class='table table-sm o_wave_table'><thead><tr>%s</tr></thead>"
        "<tbody>%s</tbody></table>"
    ) % (head, body)


class WaveDashboard(models.TransientModel):
    _name = "wave.dashboard"
    _description = "Wave Dashboard"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="connection_id.company_id")
    connection_state = fields.Selection(related="connection_id.state", string="Status")
    business_name = fields.Char(related="connection_id.business_name")
    last_connection_check = fields.Datetime(related="connection_id.last_connection_check")
    period_days = fields.Integer(default=7, string="Period (days)")

    connection_error = fields.Text(related="connection_id.last_error", string="Why", readonly=True)

    quarantine_count = fields.Integer(compute="_compute_figures", string="In quarantine")
    unmapped_account_count = fields.Integer(compute="_compute_figures", string="Unmapped accounts")
    partner_review_count = fields.Integer(compute="_compute_figures", string="Contacts to review")
    running_count = fields.Integer(compute="_compute_figures", string="Running")
    quotations_synced = fields.Integer(
        compute="_compute_figures",
        string="Quotations in Wave",
        help="Quotations sent to Wave as estimates.",
    )
    quotations_pending = fields.Integer(
        compute="_compute_figures",
        string="Quotations pending",
        help="Quotations on their way to Wave: not confirmed by Wave yet, refused, or "
        "waiting for an accountant to confirm them.",
    )
    records_synced = fields.Integer(
        compute="_compute_figures",
        string="Records synced",
        help="Records the runs of the period handled (a historical import counts once).",
    )
    records_failed = fields.Integer(
        compute="_compute_figures",
        string="Records failed",
        help="Records put in quarantine during the period, still waiting or fixed since.",
    )
    runs_count = fields.Integer(compute="_compute_figures", string="Runs")
    runs_failed = fields.Integer(
        compute="_compute_figures",
        string="Runs failed",
        help="Runs of the period that stopped on an error.",
    )
    error_rate = fields.Float(
        compute="_compute_figures",
        string="Error rate (%)",
        help="Records failed out of the records synced in the period.",
    )
    queue_depth = fields.Integer(
        compute="_compute_figures", help="Wave background jobs not finished yet."
    )
    latency_avg = fields.Char(
        compute="_compute_figures",
        string="Average latency",
        help="From the change in Wave to the record in Odoo (records of the period; "
        "historical imports are left out).",
    )
    latency_p95 = fields.Char(compute="_compute_figures", string="95th percentile latency")
    job_duration_avg = fields.Char(compute="_compute_figures", string="Average run duration")
    chart_html = fields.Html(compute="_compute_figures", sanitize=False)
    last_sync_html = fields.Html(compute="_compute_figures", sanitize=False)
    per_day_html = fields.Html(compute="_compute_figures", sanitize=False)
    queue_html = fields.Html(compute="_compute_figures", sanitize=False)

    @api.depends("connection_id")
    def _compute_display_name(self):
        for dashboard in self:
            dashboard.display_name = self.env._(
                "Wave Dashboard: %(name)s", name=dashboard.connection_id.display_name or ""
            )

    @api.model
    def action_open(self):
        """Menu entry: a fresh dashboard of the current company's connection."""
        connection = self.env["wave.api"]._for_company()
        if not connection:
            return self.env["ir.actions.act_window"]._for_xml_id(
                "wave_accounting_integration.wave_api_action"
            )
        dashboard = self.create({"connection_id": connection.id})
        return dashboard._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Wave Dashboard"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_refresh(self):
        """Compute the figures again on the same screen (no new breadcrumb: the
        form reloads its record after a button that returns no action)."""
        self.invalidate_recordset()
        return True

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------
    @api.depends("connection_id", "period_days")
    def _compute_figures(self):
        for dashboard in self:
            stats = self.env["wave.dashboard.stats"]._stats(
                dashboard.connection_id, dashboard.period_days or 7
            )
            dashboard.update(
                {
                    "quarantine_count": stats["quarantine_open"],
                    "unmapped_account_count": stats["unmapped_accounts"],
                    "partner_review_count": stats["partners_to_review"],
                    "running_count": stats["running"],
                    "quotations_synced": stats["quotations_synced"],
                    "quotations_pending": stats["quotations_pending"],
                    "records_synced": stats["records_done"],
                    "records_failed": stats["records_failed"],
                    "runs_count": stats["runs_finished"],
                    "runs_failed": stats["runs_failed"],
                    "error_rate": stats["error_rate"],
                    "queue_depth": sum(stats["queue"].values()),
                    "latency_avg": _format_seconds(stats["latency_avg"]),
                    "latency_p95": _format_seconds(stats["latency_p95"]),
                    "job_duration_avg": _format_seconds(stats["duration_avg"]),
                    "last_sync_html": dashboard._render_last_sync(stats["last_sync"]),
                    "chart_html": dashboard._render_chart(stats["per_day"]),
                    "per_day_html": dashboard._render_per_day(stats["per_day"]),
                    "queue_html": dashboard._render_queue(stats["queue"]),
                }
            )

    def _render_last_sync(self, last_sync):
        kinds = dict(self.env["wave.sync.job"]._fields["kind"]._description_selection(self.env))
        rows = [
            (
                kinds.get(kind, kind),
                fields.Datetime.to_string(fields.Datetime.context_timestamp(self, date))
                if date
                else "-",
            )
            for kind, date in sorted(last_sync.items(), key=lambda kv: kinds.get(kv[0], kv[0]))
        ]
        if not rows:
            return Markup("<p class='text-muted'>%s</p>") % self.env._("No successful sync yet.")
        return _table([self.env._("Data"), self.env._("Last successful sync")], rows)

    def _render_per_day(self, per_day):
        rows = [
            (fields.Date.to_string(day), done, failed) for day, done, failed in reversed(per_day)
        ]
        rows = [row for row in rows if row[1] or row[2]]
        if not rows:
            return Markup("<p class='text-muted'>%s</p>") % self.env._("Nothing synced yet.")
        return _table(
            [self.env._("Day"), self.env._("Records synced"), self.env._("Records failed")], rows
        )

    def _render_chart(self, per_day):
        """Bars of records synced and failed per day (last 30 days), as inline SVG."""
        width, height, top, bottom = 600, 160, 12, 22
        synced_label = self.env._("Records synced")
        failed_label = self.env._("Records failed")
        peak = max([max(done, failed) for _day, done, failed in per_day] + [1])
        slot = width / max(len(per_day), 1)
        bar = max(slot / 2 - 1, 1)
        scale = (height - top - bottom) / peak
        base = height - bottom
        parts = []
        for index, (day, done, failed) in enumerate(per_day):
            x = index * slot
            label = Markup("%s: %s %s, %s %s") % (
                fields.Date.to_string(day),
                done,
                synced_label,
                failed,
                failed_label,
            )
            for offset, value, css in (
                (0, done, "o_wave_bar_synced"),
                (bar, failed, "o_wave_bar_failed"),
            ):
                bar_height = value * scale
                parts.append(
                    Markup(
                        "<rect class='%s' x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'>"
                        "<title>%s</title></rect>"
                    )
                    % (
                        css,
                        x + offset,
                        base - bar_height,
                        bar,
                        bar_height,
                        "#017e84" if css == "o_wave_bar_synced" else "#d44c59",
                        label,
                    )
                )
        first = fields.Date.to_string(per_day[0][0]) if per_day else ""
        last = fields.Date.to_string(per_day[-1][0]) if per_day else ""
        legend = Markup(
            "<p class='small mb-1'><span style='color:#017e84'>&#9632;</span> %s &#160; "
            "<span style='color:#d44c59'>&#9632;</span> %s &#160; "
            "<span class='text-muted'>%s</span></p>"
        ) % (synced_label, failed_label, self.env._("highest day: %s", peak))
        return legend + Markup(
            "<svg class='o_wave_chart' role='img' viewBox='0 0 %s %s' width='100%%' "
            "style='max-width:%spx' aria-label='%s'>%s"
            "<line x1='0' y1='%s' x2='%s' y2='%s' stroke='#999' />"
            "<text x='0' y='%s' font-size='11' fill='#666'>%s</text>"
            "<text x='%s' y='%s' font-size='11' fill='#666' text-anchor='end'>%s</text></svg>"
        ) % (
            width,
            height,
            width,
            self.env._("Records synced and failed per day, last 30 days"),
            Markup("").join(parts),
            base,
            width,
            base,
            height - 6,
            first,
            width,
            height - 6,
            last,
        )

    def _render_queue(self, queue):
        if not queue:
            return Markup("<p class='text-muted'>%s</p>") % self.env._("The queue is empty.")
        return _table(
            [self.env._("Channel"), self.env._("State"), self.env._("Jobs")],
            [(channel, state, count) for (channel, state), count in sorted(queue.items())],
        )

    # ------------------------------------------------------------------
    # Navigation
    # ------------------------------------------------------------------
    def _open_xmlid(self, xmlid, domain=None, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        if domain is not None:
            action["domain"] = domain
        if context is not None:
            action["context"] = context
        return action

    def _since(self):
        return fields.Datetime.now() - timedelta(days=self.period_days or 7)

    def action_open_quarantine(self):
        return self._open_xmlid("wave_accounting_integration.wave_quarantine_action")

    def action_open_failed_records(self):
        """The records counted by *Records failed*: quarantined in the period."""
        self.ensure_one()
        Stats = self.env["wave.dashboard.stats"]
        action = self._open_xmlid(
            "wave_accounting_integration.wave_quarantine_action",
            domain=Stats._failed_records_domain(self.connection_id, self._since()),
            context={},
        )
        action["name"] = self.env._("Records failed in the last %s days", self.period_days or 7)
        return action

    def action_open_runs(self):
        """The runs counted by *Runs* and *Records synced*."""
        self.ensure_one()
        Stats = self.env["wave.dashboard.stats"]
        action = self._open_xmlid(
            "wave_accounting_integration.wave_sync_job_action",
            domain=Stats._runs_domain(self.connection_id, self._since()),
            context={},
        )
        action["name"] = self.env._("Runs of the last %s days", self.period_days or 7)
        return action

    def action_open_failed_runs(self):
        """The runs counted by *Runs failed*."""
        self.ensure_one()
        Stats = self.env["wave.dashboard.stats"]
        action = self._open_xmlid(
            "wave_accounting_integration.wave_sync_job_action",
            domain=Stats._failed_runs_domain(self.connection_id, self._since()),
            context={},
        )
        action["name"] = self.env._("Runs failed in the last %s days", self.period_days or 7)
        return action

    def action_reconnect(self):
        """Connect the connection again (administrators: the button is theirs)."""
        self.ensure_one()
        return self.connection_id.action_wave_connect()

    def action_open_sync_graph(self):
        action = self._open_xmlid("wave_accounting_integration.wave_sync_job_action")
        action["view_mode"] = "graph,pivot,list,form"
        action["views"] = [(False, v) for v in ("graph", "pivot", "list", "form")]
        return action

    def action_open_running(self):
        return self._open_xmlid(
            "wave_accounting_integration.wave_sync_job_action",
            context={"search_default_running": 1},
        )

    def action_open_account_map(self):
        return self._open_xmlid(
            "wave_accounting_integration.wave_account_map_action",
            context={"search_default_unmapped": 1},
        )

    def _open_quotations(self, synced):
        self.ensure_one()
        Stats = self.env["wave.dashboard.stats"]
        action = self._open_xmlid(
            "wave_accounting_integration.wave_outbound_ledger_action",
            domain=Stats._quotations_domain(self.connection_id, synced),
            context={},
        )
        action["name"] = (
            self.env._("Quotations in Wave") if synced else self.env._("Quotations pending")
        )
        return action

    def action_open_quotations_synced(self):
        """The quotations counted by *Quotations in Wave*."""
        return self._open_quotations(True)

    def action_open_quotations_pending(self):
        """The quotations counted by *Quotations pending*."""
        return self._open_quotations(False)

    def action_open_partner_map(self):
        return self._open_xmlid("wave_accounting_integration.wave_partner_map_action")

    def action_open_parity(self):
        """Compare with Wave (a button of the dashboard, not a menu)."""
        return self._open_xmlid("wave_accounting_integration.wave_parity_report_wizard_action")

    def action_open_golive(self):
        return self.env["wave.golive.checklist"].action_open(self.connection_id)
