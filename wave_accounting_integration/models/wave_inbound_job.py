# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Historical import: one queue job per chunk (a month of invoices), page by page.

A chunk stores the next page to fetch (``resume_page``) and its counters after
every page (committed outside tests), so a crashed or restarted job resumes
where it stopped; Wave ids, unique per company, keep a re-read page from
creating duplicates. A cancelled chunk stops before its next page.
"""

import logging

from odoo import _, fields, models
from odoo.addons.queue_job.job import identity_exact

from ..graphql.inbound import INVOICES_BY_DATE_QUERY
from ..services.job_guard import job_guard
from .wave_inbound import INBOUND_PAGE_SIZE
from .wave_runtime import can_commit

_logger = logging.getLogger(__name__)


class WaveSyncJob(models.Model):
    _inherit = "wave.sync.job"

    def _enqueue_chunks(self):
        """Enqueue one import job per pending or interrupted chunk of this run."""
        for chunk in self.child_ids.filtered(lambda c: c.state in ("pending", "running")):
            job = chunk.with_delay(
                channel="root.wave.import",
                identity_key=identity_exact,
                priority=50,
                description=_(
                    "Wave historical import %(from)s - %(to)s",
                    **{"from": chunk.date_from, "to": chunk.date_to},
                ),
            )._job_import_chunk()
            if hasattr(job, "uuid"):
                chunk.queue_job_uuid = job.uuid
        return True

    def action_resume(self):
        """Re-enqueue interrupted chunks (after a server restart, for instance)."""
        for job in self:
            if job.child_ids:
                job._enqueue_chunks()
            elif job.parent_id:
                job.parent_id._enqueue_chunks()
        return True

    def _job_import_chunk(self, max_pages=None):
        """Queue job: import the invoices of this chunk from ``resume_page`` on.

        ``max_pages`` bounds the pages done in this call (a time slice); the
        chunk then stays running and is resumed by the next call.
        """
        self.ensure_one()
        connection = self.connection_id
        if self.state in ("done", "cancelled", "failed"):
            return False
        if not connection._is_ready():
            self.write({"error_message": _("The Wave connection is not ready.")})
            return False
        if self.state == "pending":
            self._mark_running()
        client = connection._get_client(priority="bulk")
        page_size = self._chunk_page_size()
        pages = 0
        while True:
            if self._cancelled():
                return False
            variables = {
                "businessId": connection.business_id,
                "start": fields.Date.to_string(self.date_from),
                "end": fields.Date.to_string(self.date_to),
                "page": self.resume_page,
                "pageSize": page_size,
            }
            # Budget or Wave trouble (the page or its payments) → the job is retried
            # later; a revoked grant → the connection is disconnected and this chunk
            # stops cleanly at this page (reconnecting resumes it, see
            # ``wave.api._wave_select_business``). Either way the savepoint drops the
            # page's unfinished work.
            with job_guard(connection) as guard, self.env.cr.savepoint():
                data = client.execute(INVOICES_BY_DATE_QUERY, variables)
                invoices = (data.get("business") or {}).get("invoices") or {}
                page_info = invoices.get("pageInfo") or {}
                nodes = [e["node"] for e in invoices.get("edges") or [] if e.get("node")]
                self.requests_count += 1
                self._import_chunk_page(nodes, page_info.get("totalCount") or 0, page_size)
            if guard.stopped:
                self.write(
                    {
                        "error_message": _(
                            "Stopped at page %(page)s: the Wave connection was disconnected. "
                            "It resumes when an administrator connects again.",
                            page=self.resume_page,
                        )
                    }
                )
                return False
            last = not nodes or self.resume_page >= (page_info.get("totalPages") or 0)
            if last:
                self._mark_finished()
                self.parent_id._finish_if_children_done()
            else:
                self.resume_page += 1
            if can_commit(self.env):
                # Progress is visible live, and a restart resumes from here.
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if last:
                return True
            pages += 1
            if max_pages and pages >= max_pages:
                return False

    def _chunk_page_size(self):
        """Invoices per Wave request of a chunk (system parameter, default 100).

        Change it only between imports: ``resume_page`` counts pages of this size.
        """
        # sudo: a technical setting read by the sync, whoever runs the job
        params = self.env["ir.config_parameter"].sudo()
        value = params.get_param("wave_accounting_integration.import_page_size")
        return max(1, min(int(value or INBOUND_PAGE_SIZE), 200))

    def _import_chunk_page(self, nodes, total, page_size):
        """Import one page of this chunk and update its counters idempotently.

        A page read again (a resumed chunk whose last commit was lost, or a
        retried job) must not count twice: ``records_done`` is derived from the
        page number, invoices that already exist come back "unchanged" (not
        "created"), invoices already quarantined by this chunk are not counted
        as failed again, and the skipped count is what remains.
        """
        self.ensure_one()
        counted_failed = set()
        if nodes:
            counted_failed = set(
                self.env["wave.quarantine"]
                .search_fetch(
                    [
                        ("sync_job_id", "=", self.id),
                        ("record_type", "=", "Invoice"),
                        ("state", "=", "open"),
                        ("wave_id", "in", [n.get("id") for n in nodes]),
                    ],
                    ["wave_id"],
                )
                .mapped("wave_id")
            )
        results = {}
        if nodes:
            # no chatter tracking for a bulk import of history: the audit log keeps the trail
            connection = self.connection_id.with_context(tracking_disable=True)
            results = self.env["wave.invoice.importer"]._import_nodes(
                connection, nodes, source="historical_import", job=self, count=False
            )
        outcomes = list(results.values())
        done = min((self.resume_page - 1) * page_size + len(nodes), total)
        created = self.records_created + outcomes.count("created")
        updated = self.records_updated + outcomes.count("updated")
        failed = self.records_failed + sum(
            1
            for wave_id, outcome in results.items()
            if outcome in ("quarantined", "conflict") and wave_id not in counted_failed
        )
        self.write(
            {
                "records_total": total,
                "records_done": done,
                "records_created": created,
                "records_updated": updated,
                "records_failed": failed,
                "records_skipped": max(done - created - updated - failed, 0),
            }
        )
        return results

    def _cancelled(self):
        self.invalidate_recordset(["state"])
        return self.state == "cancelled"

    def _finish_if_children_done(self):
        for parent in self:
            if parent.child_ids and all(
                c.state in ("done", "partial", "failed", "cancelled") for c in parent.child_ids
            ):
                parent.write(
                    {
                        "records_done": sum(parent.child_ids.mapped("records_done")),
                        "records_total": sum(parent.child_ids.mapped("records_total")),
                        "records_created": sum(parent.child_ids.mapped("records_created")),
                        "records_failed": sum(parent.child_ids.mapped("records_failed")),
                        "requests_count": sum(parent.child_ids.mapped("requests_count")),
                    }
                )
                if parent.state != "cancelled":
                    parent._mark_finished()
