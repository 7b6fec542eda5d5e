# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Historical import: the invoices of a period, one chunk (a month) per queue job.

A chunk (``wave.sync.job`` child of the run) stores the next page to fetch
(``resume_page``) and its counters after every page (committed outside tests),
so a crashed or restarted job resumes where it stopped; Wave ids, unique per
company, keep a re-read page from creating duplicates. A cancelled chunk stops
before its next page. The job that walks the pages is
``wave.sync.job._job_import_chunk`` (``models/wave_jobs_inbound.py``); pages are
walked there, not with ``client.iterate``, because each page is its own
savepoint, commit and resume point.

After every page the run shows the sum of its chunks and the screens showing
it are told over the bus (``wave.sync.job._send_progress``). Cancel sets the
run's ``cancel_requested``: a working chunk sees it between two pages, keeps
what it committed and ends cancelled; Resume goes on from ``resume_page``.
"""

import logging

from psycopg2.errors import TransactionRollbackError

from odoo import api, fields, models
from odoo.tools import SQL

from ..graphql.inbound import ESTIMATES_BY_DATE_QUERY, INVOICES_BY_DATE_QUERY
from ..models.wave_runtime import can_commit
from .inbound_poller import INBOUND_PAGE_SIZE

MAX_PAGE_SIZE = 200
PAGE_SIZE_PARAM = "wave_accounting_integration.import_page_size"
FINISHED_STATES = ("done", "partial", "failed", "cancelled")
SUMMED_FIELDS = (
    "records_done",
    "records_total",
    "records_created",
    "records_updated",
    "records_skipped",
    "records_failed",
    "requests_count",
)

_logger = logging.getLogger(__name__)


class WaveHistoricalImporter(models.AbstractModel):
    _name = "wave.historical.importer"
    _description = "Wave Import of Past Invoices"

    @api.model
    def _page_size(self):
        """Invoices per Wave request of a chunk (system parameter, default 100).

        Change it only between imports: ``resume_page`` counts pages of this size.
        """
        # sudo: a technical setting read by the sync, whoever runs the job
        value = self.env["ir.config_parameter"].sudo().get_param(PAGE_SIZE_PARAM)
        return max(1, min(int(value or INBOUND_PAGE_SIZE), MAX_PAGE_SIZE))

    @api.model
    def _import_next_page(self, connection, chunk, client, page_size):
        """Fetch and import the page ``chunk.resume_page`` of ``chunk``.

        Returns True when it was the chunk's last page.
        """
        _data, nodes, page_info = client.read_page(
            INVOICES_BY_DATE_QUERY,
            {
                "businessId": connection.business_id,
                "start": fields.Date.to_string(chunk.date_from),
                "end": fields.Date.to_string(chunk.date_to),
            },
            "business.invoices",
            page=chunk.resume_page,
            page_size=page_size,
        )
        chunk.requests_count += 1
        self._import_page(connection, chunk, nodes, page_info.get("totalCount") or 0, page_size)
        last = not nodes or chunk.resume_page >= (page_info.get("totalPages") or 0)
        if last and connection._estimates_enabled():
            self._import_estimates(connection, chunk, client, page_size)
        return last

    @api.model
    def _import_estimates(self, connection, chunk, client, page_size):
        """The estimates dated in ``chunk`` (after its invoices; idempotent, so a chunk
        resumed or retried imports them again as "unchanged")."""
        pages = client.iterate_pages(
            ESTIMATES_BY_DATE_QUERY,
            {
                "businessId": connection.business_id,
                "start": fields.Date.to_string(chunk.date_from),
                "end": fields.Date.to_string(chunk.date_to),
            },
            "business.estimates",
            page_size=page_size,
        )
        for _data, nodes, _page_info in pages:
            chunk.requests_count += 1
            if nodes:
                self.env["wave.estimate.importer"]._import_nodes(connection, nodes, source="wizard")

    @api.model
    def _page_done(self, connection, chunk, last):
        """Close the chunk after its last page, else move it to the next page; commit."""
        if last:
            chunk._mark_finished()
            self._close_run(connection, chunk.parent_id)
        else:
            chunk.resume_page += 1
        if can_commit(self.env):
            # A restart resumes from here.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self._show_progress(chunk)

    @api.model
    def _show_progress(self, chunk):
        """The run shows the sum of its chunks; the screens showing them are told.

        Its own short transaction: a Cancel clicked at this very moment writes
        the run too; then this sum waits for the next page (or the run's close)
        instead of failing the job on the concurrent update.
        """
        run = chunk.parent_id
        try:
            with self.env.cr.savepoint():
                if run:
                    run.write(self._chunk_sums(run))
                chunk._send_progress()
        except TransactionRollbackError:
            _logger.info("Wave sync run %s: progress not shown (changed meanwhile).", run.id)
        if can_commit(self.env):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _chunk_sums(self, run):
        chunks = run.child_ids
        return {name: sum(chunks.mapped(name)) for name in SUMMED_FIELDS}

    @api.model
    def _stop_cancelled(self, connection, chunk):
        """End a chunk whose run was cancelled: what it committed stays; sum up the run."""
        if chunk.state != "cancelled":
            chunk.write({"state": "cancelled", "date_finished": fields.Datetime.now()})
        self._close_run(connection, chunk.parent_id)
        if can_commit(self.env):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self._show_progress(chunk)

    @api.model
    def _import_page(self, connection, chunk, nodes, total, page_size):
        """Import one page of ``chunk`` and update its counters idempotently.

        A page read again (a resumed chunk whose last commit was lost, or a
        retried job) must not count twice: ``records_done`` is derived from the
        page number, invoices that already exist come back "unchanged" (not
        "created"), invoices already quarantined by this chunk are not counted
        as failed again, and the skipped count is what remains.
        """
        counted_failed, results = set(), {}
        if nodes:
            counted_failed = set(
                self.env["wave.quarantine"]
                .search_fetch(
                    [
                        ("sync_job_id", "=", chunk.id),
                        ("record_type", "=", "Invoice"),
                        ("state", "=", "open"),
                        ("wave_id", "in", [n.get("id") for n in nodes]),
                    ],
                    ["wave_id"],
                )
                .mapped("wave_id")
            )
            # no chatter tracking for a bulk import of history: the audit log keeps the trail
            results = self.env["wave.invoice.importer"]._import_nodes(
                connection.with_context(tracking_disable=True),
                nodes,
                source="historical_import",
                job=chunk,
                count=False,
            )
        outcomes = list(results.values())
        done = min((chunk.resume_page - 1) * page_size + len(nodes), total)
        created = chunk.records_created + outcomes.count("created")
        updated = chunk.records_updated + outcomes.count("updated")
        failed = chunk.records_failed + sum(
            1
            for wave_id, outcome in results.items()
            if outcome in ("quarantined", "conflict") and wave_id not in counted_failed
        )
        chunk.write(
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

    @api.model
    def _is_cancelled(self, connection, chunk):
        """True when somebody cancelled ``chunk`` or its run (read again from the database)."""
        (chunk | chunk.parent_id).invalidate_recordset(["state", "cancel_requested"])
        return (
            chunk.state == "cancelled" or chunk.cancel_requested or chunk.parent_id.cancel_requested
        )

    @api.model
    def _close_run(self, connection, runs):
        """Sum up and finish the runs whose chunks are all finished.

        Chunks run in parallel on the job workers, so two may finish at the same
        time: each would see the other still running in its own snapshot and
        nobody would close the run. Each finishing chunk therefore updates the
        run's row first: the second one waits for the first one's commit, then
        fails with a serialization error, and its job runs again (queue_job
        retries it; the page it had done is rolled back and done again, its
        ``resume_page`` unchanged) with a snapshot where every chunk is finished.
        """
        if runs:
            runs.flush_recordset()
            self.env.cr.execute(
                SQL(
                    "UPDATE wave_sync_job SET write_date = write_date WHERE id IN %s",
                    tuple(runs.ids),
                )
            )
            runs.child_ids.invalidate_recordset(["state"])
        for run in runs:
            chunks = run.child_ids
            if not chunks or not all(c.state in FINISHED_STATES for c in chunks):
                continue
            run.write(self._chunk_sums(run))
            if run.state != "cancelled":
                run._mark_finished()
