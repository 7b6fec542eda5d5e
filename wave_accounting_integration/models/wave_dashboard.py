# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The Wave dashboard: health and throughput of the company's connection.

A transient record rendered as a form: opening the menu computes the figures
once (``action_open``); *Refresh* recomputes them. The figures come from
``wave.dashboard.stats`` (``services/dashboard_stats.py``), which also feeds the
Prometheus endpoint (``controllers/metrics.py``).
"""

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

    quarantine_count = fields.Integer(compute="_compute_figures", string="In quarantine")
    unmapped_account_count = fields.Integer(compute="_compute_figures", string="Unmapped accounts")
    partner_review_count = fields.Integer(compute="_compute_figures", string="Contacts to review")
    running_count = fields.Integer(compute="_compute_figures", string="Running")
    records_synced = fields.Integer(compute="_compute_figures", string="Records synced")
    records_failed = fields.Integer(compute="_compute_figures", string="Records failed")
    runs_count = fields.Integer(compute="_compute_figures", string="Runs")
    error_rate = fields.Float(
        compute="_compute_figures",
        string="Error rate (%)",
        help="Share of the finished runs of the period that failed or had failed records.",
    )
    queue_depth = fields.Integer(
        compute="_compute_figures", help="Wave background jobs not finished yet."
    )
    latency_avg = fields.Char(
        compute="_compute_figures",
        string="Average latency",
        help="From the change in Wave to the record in Odoo (imported records of the period).",
    )
    latency_p95 = fields.Char(compute="_compute_figures", string="95th percentile latency")
    job_duration_avg = fields.Char(compute="_compute_figures", string="Average run duration")
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
        self.invalidate_recordset()
        return self._reopen()

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
                    "records_synced": stats["records_done"],
                    "records_failed": stats["records_failed"],
                    "runs_count": stats["runs_finished"],
                    "error_rate": stats["error_rate"],
                    "queue_depth": sum(stats["queue"].values()),
                    "latency_avg": _format_seconds(stats["latency_avg"]),
                    "latency_p95": _format_seconds(stats["latency_p95"]),
                    "job_duration_avg": _format_seconds(stats["duration_avg"]),
                    "last_sync_html": dashboard._render_last_sync(stats["last_sync"]),
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
        if not per_day:
            return Markup("<p class='text-muted'>%s</p>") % self.env._("Nothing synced yet.")
        return _table(
            [self.env._("Day"), self.env._("Records synced"), self.env._("Failed")],
            [(day, done, failed) for day, done, failed in per_day],
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

    def action_open_quarantine(self):
        return self._open_xmlid("wave_accounting_integration.wave_quarantine_action")

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

    def action_open_partner_map(self):
        return self._open_xmlid("wave_accounting_integration.wave_partner_map_action")

    def action_open_golive(self):
        return self.env["wave.golive.checklist"].action_open(self.connection_id)
