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
import os
import random
import time

from psycopg2.errors import TransactionRollbackError

from odoo import api, fields, models
from odoo.addons.queue_job.jobrunner.channels import ChannelManager
from odoo.tools import SQL, config

from ..graphql.inbound import (
    ESTIMATES_BY_DATE_QUERY,
    INVOICES_BY_DATE_QUERY,
    NEXT_PAGE_ALIAS,
    NEXT_PAGE_OF_INVOICES,
)
from ..lib.graphql import connection_nodes
from ..models.wave_runtime import can_commit

# Invoices per Wave request of a chunk. Wave documents no largest pageSize: 200 is our
# assumption (clients use 100-200; the sandbox clamps larger sizes to it, see the README's
# documented assumptions). A Wave that clamps to less is still followed: the pages are
# walked to Wave's own ``totalPages``. Each page costs one request (its payments are read
# with the next page), so the default is the largest size: the fewest requests.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE
PAGE_SIZE_PARAM = "wave_accounting_integration.import_page_size"
# The queue channel of the chunks, and the system parameter that says how many of them
# the job runner takes at once when this server's configuration cannot tell.
IMPORT_CHANNEL = "root.wave.import"
PARALLEL_CHUNKS_PARAM = "wave_accounting_integration.import_parallel_chunks"
FINISHED_STATES = ("done", "partial", "failed", "cancelled")
# A run closed by a chunk (a cancelled run is summed up again by each stopping chunk).
CLOSED_STATES = ("done", "partial", "failed")
# Tries to close a run whose row other transactions write at the same time.
CLOSE_ATTEMPTS = 10
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


class NextPage:
    """A chunk's next page of invoices, read in the request that fetches the current
    page's payments (``wave.payment.importer._fetch_payments``): a chunk whose pages
    have payments to read costs one request per page instead of two.

    Kept in memory only: the chunk still resumes from its committed ``resume_page``.
    """

    def __init__(self, variables, page, page_size):
        self.page = page
        self.variables = dict(variables, page=page, pageSize=page_size)
        self.answered = False
        self.nodes, self.page_info = [], {}

    def request_part(self):
        """``(declarations, fields, variables)`` to add to the payments request."""
        declarations, selection = NEXT_PAGE_OF_INVOICES
        return declarations, selection, self.variables

    def take_answer(self, business):
        listing = (business or {}).get(NEXT_PAGE_ALIAS)
        if listing is None:
            return
        self.nodes = connection_nodes(listing)
        self.page_info = listing.get("pageInfo") or {}
        self.answered = True


class WaveHistoricalImporter(models.AbstractModel):
    _name = "wave.historical.importer"
    _description = "Wave Import of Past Invoices"

    @api.model
    def _page_size(self):
        """Invoices per Wave request of a chunk (system parameter, default 200, at most 200).

        Change it only between imports: ``resume_page`` counts pages of this size.
        """
        # sudo: a technical setting read by the sync, whoever runs the job
        value = self.env["ir.config_parameter"].sudo().get_param(PAGE_SIZE_PARAM)
        return max(1, min(int(value or DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE))

    @api.model
    def _parallel_chunks(self):
        """How many chunks the job runner imports at once: the system parameter
        ``import_parallel_chunks`` when set (a job runner configured on another server),
        else the capacity of the import channel (``root.wave.import``) in queue_job's
        configuration of this server (``ODOO_QUEUE_JOB_CHANNELS``, or ``channels`` of
        the ``[queue_job]`` section), else 1. It only shapes the plan of a run's chunks
        (``wave.historical.import._plan_chunks``).
        """
        # sudo: a technical setting read by the sync, whoever starts the import
        value = self.env["ir.config_parameter"].sudo().get_param(PARALLEL_CHUNKS_PARAM) or ""
        if value.strip().isdigit():
            return max(1, int(value))
        channels = os.environ.get("ODOO_QUEUE_JOB_CHANNELS") or (
            config.misc.get("queue_job", {}).get("channels")
        )
        try:
            parsed = ChannelManager.parse_simple_config(channels or "")
        except ValueError:  # the job runner refuses it too, and says so in its log
            parsed = []
        for channel in parsed:
            if channel["name"] in (IMPORT_CHANNEL, IMPORT_CHANNEL.removeprefix("root.")):
                return max(1, channel["capacity"])
        return 1

    @api.model
    def _import_next_page(
        self, connection, chunk, client, page_size, fetched=None, look_ahead=True
    ):
        """Fetch and import the page ``chunk.resume_page`` of ``chunk``.

        ``fetched``: the :class:`NextPage` read with the previous page's payments; when
        it answered this very page, it is not read again. ``look_ahead``: the request
        of this page's payments (if any) also reads the next page.

        Returns ``(last, next_page)``: True when it was the chunk's last page, and the
        next page if it was read already (else None).
        """
        page = chunk.resume_page
        variables = {
            "start": fields.Date.to_string(chunk.date_from),
            "end": fields.Date.to_string(chunk.date_to),
        }
        if fetched and fetched.answered and fetched.page == page:
            nodes, page_info = fetched.nodes, fetched.page_info
        else:
            _data, nodes, page_info = client.read_page(
                INVOICES_BY_DATE_QUERY,
                dict(variables, businessId=connection.business_id),
                "business.invoices",
                page=page,
                page_size=page_size,
            )
            chunk.requests_count += 1
        last = not nodes or page >= (page_info.get("totalPages") or 0)
        next_page = NextPage(variables, page + 1, page_size) if look_ahead and not last else None
        self._import_page(
            connection, chunk, nodes, page_info.get("totalCount") or 0, page_size, next_page
        )
        if last and connection._estimates_enabled():
            self._import_estimates(connection, chunk, client, page_size)
        return last, next_page if next_page and next_page.answered else None

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
        """Close the chunk after its last page, else move it to the next page; commit.

        After the last page the run is closed at once, in a short transaction of its
        own (``_close_run_now``): the page stays committed whatever happens there.
        """
        if last:
            chunk._mark_finished()
        else:
            chunk.resume_page += 1
        if can_commit(self.env):
            # A restart resumes from here.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        if last:
            self._close_run_now(connection, chunk.parent_id)
        self._show_progress(chunk)

    @api.model
    def _close_run_now(self, connection, runs):
        """``_close_run`` in its own transaction, retried at once on a serialization
        failure (another chunk or a progress update wrote the run meanwhile): the run
        is closed as soon as its last chunk has committed its last page.

        The chunk's own work is committed before: a failure here leaves only the
        run's close to do, which the chunk's next job run does (``_job_import_chunk``).
        """
        if not can_commit(self.env):
            # tests: one transaction, nobody else writes the run
            self._close_run(connection, runs)
            return
        for attempt in range(1, CLOSE_ATTEMPTS + 1):
            try:
                self._close_run(connection, runs)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                return
            except TransactionRollbackError:
                self.env.cr.rollback()
                if attempt == CLOSE_ATTEMPTS:
                    raise
                _logger.info("Wave sync run %s: closed again (changed meanwhile).", runs.ids)
                time.sleep(random.uniform(0.05, 0.2) * attempt)

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
        if can_commit(self.env):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self._close_run_now(connection, chunk.parent_id)
        self._show_progress(chunk)

    @api.model
    def _import_page(self, connection, chunk, nodes, total, page_size, next_page=None):
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
                next_page=next_page,
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
        runs.invalidate_recordset(["state"])
        for run in runs:
            chunks = run.child_ids
            if run.state in CLOSED_STATES:
                continue  # closed already, by another chunk's job
            if not chunks or not all(c.state in FINISHED_STATES for c in chunks):
                continue
            run.write(self._chunk_sums(run))
            if run.state != "cancelled":
                run._mark_finished()
                self._start_invoice_polls(connection, run)

    @api.model
    def _start_invoice_polls(self, connection, run):
        """After a run that read every Wave invoice, the invoices' first poll asks only
        for the changes made since the run started, not for every invoice again.

        Only when the run planned every Wave invoice (``poll_start``, see the wizard),
        every part read all its pages (none failed or cancelled), and the parts found
        as many invoices as Wave had at the start (an invoice deleted while a part read
        its pages may have moved another one to a page already read): then every
        invoice changed before ``poll_start`` was read by the run, and those changed
        since are after the watermark. Otherwise the first poll lists every invoice
        (those outside the period too). A quarantined invoice waits in the quarantine.
        """
        if run.state not in ("done", "partial") or not run.poll_start:
            return
        if any(chunk.state not in ("done", "partial") for chunk in run.child_ids):
            return
        if run.records_total != run.planned_total:
            return
        self.env["wave.inbound.poller"]._start_from(connection, "invoices", run.poll_start)
