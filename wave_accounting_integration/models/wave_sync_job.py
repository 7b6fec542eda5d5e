# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One sync run, or one chunk of a larger run (e.g. a month of a historical import)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.text import by_count
from .wave_import_cursor import POLL_ENTITIES

SYNC_KINDS = [
    *POLL_ENTITIES,
    ("payments", "Invoice payments"),
    ("historical_import", "Historical import"),
    ("expense_file", "Export file (expenses and bills)"),
    ("webhook", "Webhook event"),
    ("export_customers", "Export customers"),
    ("export_products", "Export products"),
    ("export_invoices", "Export invoices"),
    ("export_payments", "Export payments"),
    ("export_bills", "Export bills and entries"),
]


class WaveSyncJob(models.Model):
    _name = "wave.sync.job"
    _description = "Wave Sync Run"
    _inherit = ["wave.server.fields.mixin"]
    # Written by the sync only (as superuser): users read them.
    _wave_server_fields = "__all__"
    _order = "create_date desc, id desc"

    name = fields.Char(required=True)
    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    kind = fields.Selection(SYNC_KINDS, required=True, index=True)
    direction = fields.Selection(
        [("inbound", "Wave → Odoo"), ("outbound", "Odoo → Wave")], required=True
    )
    trigger = fields.Selection(
        [
            ("cron", "Scheduled"),
            ("webhook", "Webhook"),
            ("manual", "Manual"),
            ("wizard", "Import wizard"),
            ("on_post", "On posting"),
        ],
        default="manual",
        required=True,
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("running", "Running"),
            ("done", "Done"),
            ("partial", "Done with errors"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        index=True,
    )
    parent_id = fields.Many2one("wave.sync.job", ondelete="cascade", index=True)
    child_ids = fields.One2many("wave.sync.job", "parent_id", string="Chunks")
    date_from = fields.Date(help="First day of the chunk (historical imports).")
    date_to = fields.Date(help="Last day of the chunk (historical imports).")
    resume_page = fields.Integer(
        default=1, help="Next Wave page to fetch: a restarted chunk resumes here."
    )
    watermark = fields.Datetime(
        string="Newest change seen",
        help="When the newest Wave record this run has seen was last changed.",
    )
    poll_start = fields.Datetime(
        string="Changes polled from",
        help="Historical import of every Wave invoice: when Wave's latest changed invoice "
        "was changed as the run started. Once the run is done, the first poll of invoices "
        "asks Wave only for the changes made since (minus the overlap window) instead of "
        "listing every invoice again.",
    )
    planned_total = fields.Integer(
        string="Invoices in Wave at the start",
        help="Wave's invoices of the period as the run started.",
    )
    records_total = fields.Integer()
    records_done = fields.Integer()
    records_created = fields.Integer()
    records_updated = fields.Integer()
    records_skipped = fields.Integer()
    records_failed = fields.Integer()
    requests_count = fields.Integer(string="Wave requests")
    progress = fields.Float(compute="_compute_progress", help="Percentage of records done.")
    date_started = fields.Datetime()
    date_finished = fields.Datetime()
    duration = fields.Float(compute="_compute_duration", string="Duration (s)", store=True)
    error_message = fields.Text()
    queue_job_uuid = fields.Char(index=True, copy=False)
    cancel_requested = fields.Boolean(
        copy=False,
        help="Set by Cancel on a run: its parts stop before their next page of Wave records.",
    )

    _sql_constraints = [
        (
            "counts_positive",
            "CHECK(records_done >= 0 AND records_total >= 0 AND records_failed >= 0)",
            "Record counts cannot be negative.",
        ),
        (
            "chunk_range",
            "CHECK(date_from IS NULL OR date_to IS NULL OR date_from <= date_to)",
            "A chunk must start before it ends.",
        ),
    ]

    @api.depends(
        "records_done", "records_total", "child_ids.records_done", "child_ids.records_total"
    )
    def _compute_progress(self):
        for job in self:
            done, total = job.records_done, job.records_total
            if job.child_ids:
                done = sum(job.child_ids.mapped("records_done"))
                total = sum(job.child_ids.mapped("records_total"))
            job.progress = (
                100.0 * done / total if total else (100.0 if job.state == "done" else 0.0)
            )

    @api.depends("date_started", "date_finished")
    def _compute_duration(self):
        for job in self:
            if job.date_started and job.date_finished:
                job.duration = (job.date_finished - job.date_started).total_seconds()
            else:
                job.duration = 0.0

    def write(self, vals):
        newly_failed = self.browse()
        if vals.get("state") == "failed":
            newly_failed = self.filtered(lambda j: j.state != "failed" and not j.parent_id)
        result = super().write(vals)
        # A failed top-level run may complete a streak of failures to notify.
        notified = set()
        for job in newly_failed:
            if (job.connection_id, job.kind) not in notified:
                notified.add((job.connection_id, job.kind))
                self.env["wave.notifier"]._check_failure_streak(job.connection_id, job)
        return result

    def _mark_running(self):
        self.write({"state": "running", "date_started": fields.Datetime.now()})

    def _mark_finished(self, error=None):
        for job in self:
            if error:
                state = "failed"
            elif job.records_failed:
                state = "partial"
            else:
                state = "done"
            job.write(
                {
                    "state": state,
                    "date_finished": fields.Datetime.now(),
                    "error_message": error or False,
                }
            )

    def action_cancel(self):
        """Cancel runs (a part cancels its whole run); say what happened.

        Parts whose queue job is not working are cancelled here. A part whose job
        is working is left to that job: it sees the run's ``cancel_requested``
        between two pages, keeps the page it finished and stops (writing the part
        from here as well would make that job fail on a concurrent update).
        """
        self._wave_check_button_access()
        runs = (self.parent_id | self.filtered(lambda j: not j.parent_id)).filtered(
            lambda j: j.state in ("pending", "running")
        )
        if not runs:
            raise UserError(_("Only pending or running sync runs can be cancelled."))
        # sudo: the state is server-owned; checked above (Wave user, own company).
        runs = runs.sudo()
        now = fields.Datetime.now()
        runs.write({"state": "cancelled", "cancel_requested": True, "date_finished": now})
        parts = runs.child_ids.filtered(lambda j: j.state in ("pending", "running"))
        working = parts._with_working_job()
        idle = parts - working
        idle.write({"state": "cancelled", "date_finished": now})
        idle._cancel_queued_jobs()
        imported = sum(runs.child_ids.mapped("records_done")) or sum(runs.mapped("records_done"))
        if working:
            message = by_count(
                imported,
                _(
                    "Import cancelled. The record already imported stays in Odoo; "
                    "the part being imported stops after its current page. "
                    "Resume continues from where it stopped."
                ),
                _(
                    "Import cancelled. The %(count)s records already imported stay in Odoo; "
                    "the part being imported stops after its current page. "
                    "Resume continues from where it stopped."
                ),
            )
        else:
            message = by_count(
                imported,
                _(
                    "Import cancelled. The record already imported stays in Odoo. "
                    "Resume continues from where it stopped."
                ),
                _(
                    "Import cancelled. The %(count)s records already imported stay in Odoo. "
                    "Resume continues from where it stopped."
                ),
            )
        runs._send_progress()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "warning",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _queue_jobs(self):
        # sudo: queue jobs are technical records; these are the runs' own jobs.
        return (
            self.env["queue.job"]
            .sudo()
            .search([("uuid", "in", [u for u in self.mapped("queue_job_uuid") if u])])
        )

    def _with_working_job(self):
        """The parts whose queue job is being run (or about to be) by a worker."""
        working = {job.uuid for job in self._queue_jobs() if job.state in ("enqueued", "started")}
        return self.filtered(lambda j: j.queue_job_uuid in working)

    def _cancel_queued_jobs(self):
        """Cancel the waiting queue jobs of these parts (they would only stop at once)."""
        self._queue_jobs().filtered(
            lambda job: job.state in ("pending", "wait_dependencies")
        ).button_cancelled()

    def _send_progress(self):
        """Tell the screens of the runs' company that these runs moved (the bus).

        Only ids go out; a screen showing one of them reads it again, with the
        reader's own access rights.
        """
        runs = self | self.parent_id
        group = self.env.ref("wave_accounting_integration.group_wave_user")
        for company in runs.company_id:
            # sudo: who may see this company's runs (the job's user may not read
            # users); limited to Wave users of this very company.
            users = (
                self.env["res.users"]
                .sudo()
                .search([("groups_id", "in", group.ids), ("company_ids", "in", company.ids)])
            )
            ids = runs.filtered(lambda r, c=company: r.company_id == c).ids
            for partner in users.partner_id:
                partner._bus_send("wave_sync_progress", {"ids": ids})
