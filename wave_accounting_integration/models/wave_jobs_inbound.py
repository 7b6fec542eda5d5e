# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Queue jobs of the inbound sync (Wave -> Odoo) and the methods that enqueue them.

Each job: readiness check, then the service's work inside ``job_guard`` (the one
table of what a Wave failure does to a job), then what a stopped job records.
Declared in ``data/queue_job_data.xml``.

* ``wave.api._job_poll``: import what changed at Wave for one entity
  (``wave.inbound.poller``);
* ``wave.sync.job._job_import_chunk``: a historical import chunk, page by page
  (``wave.historical.importer``);
* ``wave.api._job_drain_webhook_events``: the webhook events the route stored,
  each given the job of its invoice;
* ``wave.webhook.event._job_process_webhook``: the invoice of a webhook event
  (``wave.webhook.processor``).
"""

import logging

from odoo import SUPERUSER_ID, _, models
from odoo.addons.queue_job.job import identity_exact
from odoo.tools import SQL

from ..lib import WaveError
from ..services.inbound_poller import POLL_ORDER
from ..services.job_guard import job_guard

_logger = logging.getLogger(__name__)

SYNC_JOB_TRIGGERS = ("cron", "webhook", "manual", "wizard")
# Webhook events given their processing job per drain job run.
DRAIN_BATCH = 500


class WaveApi(models.Model):
    _inherit = "wave.api"

    def _enqueue_poll(self, trigger="cron", eta=None):
        """Enqueue one incremental poll job per entity (deduplicated by identity);
        ``eta``: not before this time (the cron's staggered start)."""
        for connection in self:
            for priority, entity in enumerate(POLL_ORDER):
                if entity == "estimates" and not connection._estimates_enabled():
                    continue
                # company_id (context): the job is counted for the connection's company.
                connection.with_context(company_id=connection.company_id.id).with_delay(
                    channel="root.wave.inbound",
                    identity_key=identity_exact,
                    priority=20 + priority,
                    eta=eta,
                    description=_(
                        "Wave: import %(entity)s changes (%(name)s)",
                        entity=entity,
                        name=connection.name,
                    ),
                )._job_poll(entity, trigger=trigger)
        return True

    def action_poll_now(self):
        self._wave_check_admin()
        self._enqueue_poll(trigger="manual")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": _("Import of Wave changes queued."), "type": "info"},
        }

    def _job_poll(self, entity, trigger="cron"):
        """Queue job: import what changed at Wave for ``entity``; returns the sync job id."""
        self.ensure_one()
        if not (self.sync_inbound and self._is_ready()):
            _logger.info("Wave connection %s is not ready: %s poll skipped.", self.id, entity)
            return False
        labels = dict(self.env["wave.sync.job"]._fields["kind"]._description_selection(self.env))
        # sudo: sync runs are written by the sync only, for this connection's company
        # (a manual poll is checked by action_poll_now, the cron runs as superuser).
        job = (
            self.env["wave.sync.job"]
            .sudo()
            .create(
                {
                    "name": _("Import changes: %s", labels.get(entity, entity)),
                    "connection_id": self.id,
                    "kind": entity,
                    "direction": "inbound",
                    "trigger": trigger if trigger in SYNC_JOB_TRIGGERS else "manual",
                }
            )
        )
        job._mark_running()
        with job_guard(self, on_retry=lambda error: job._mark_finished(error=str(error))) as guard:
            self.env["wave.inbound.poller"]._poll(self, entity, job)
        if guard.stopped:
            job._mark_finished(error=str(guard.error))
            return False
        job._mark_finished()
        return job.id

    def _enqueue_webhook_drain(self):
        """Make sure a drain job of this connection's waiting webhook events is pending.

        Called by the webhook route after it committed its event: queue_job's identity
        key finds a drain job not started yet (one indexed look-up, nothing written),
        else a new one is created. See ``_job_drain_webhook_events``.
        """
        self.ensure_one()
        # As the superuser (OdooBot), in the connection's company: as the event jobs
        # it enqueues (``wave.webhook.event._enqueue``). tracking_disable: the queue.job
        # row needs no chatter work.
        company_id = self.company_id.id
        self.with_user(SUPERUSER_ID).with_context(
            company_id=company_id, allowed_company_ids=[company_id], tracking_disable=True
        ).with_delay(
            channel="root.wave.webhook",
            priority=4,
            identity_key=f"wave-webhook-drain:{self.id}",
            description=self.env._("Wave webhook events waiting (connection %s)", self.id),
        )._job_drain_webhook_events()
        return True

    def _job_drain_webhook_events(self, limit=DRAIN_BATCH):
        """Queue job: give every webhook event of this connection that waits (state
        ``received``) its invoice's processing job (``wave.webhook.event._enqueue``),
        but the echoes of our own export, settled here (``_settle_echoes``).

        The stored events are the queue: a delivery only commits its row and makes sure
        one drain job is pending, so the acknowledgement creates no job per event. Runs
        of ``limit`` events; a longer queue enqueues the next drain. Two drains at
        once (a rare race of the identity look-up) conflict on the same rows and one is
        retried by queue_job, after which it finds them queued.
        """
        self.ensure_one()
        events = self.env["wave.webhook.event"].search(
            [("connection_id", "=", self.id), ("state", "=", "received")],
            order="id",
            limit=limit,
        )
        # the echoes of our own export need no job (nor any Wave request)
        echoes = self.env["wave.webhook.processor"]._settle_echoes(self, events)
        (events - echoes)._enqueue()
        if len(events) == limit:
            self._enqueue_webhook_drain()
        return (
            f"{len(events)} webhook event(s): {len(echoes)} echo(es) of our own export, "
            f"{len(events - echoes)} queued"
        )


def _chunk_order(chunk):
    """Sort key of a chunk: day of its year it starts on, then the year (see
    ``wave.sync.job._enqueue_chunks``); chunks without dates keep their id order."""
    start = chunk.date_from
    if not start:
        return (0, 0, chunk.id)
    return (start.timetuple().tm_yday, start.year, chunk.id)


class WaveSyncJob(models.Model):
    _inherit = "wave.sync.job"

    def _enqueue_chunks(self):
        """Enqueue one import job per pending or interrupted chunk of this run.

        Chunks run side by side on the job workers (channel ``root.wave.import``).
        Invoice and payment numbers are sequences per journal and year, and Odoo holds
        a year's sequence from a page's first posting to its commit: two chunks of the
        same year would mostly wait for each other. So the chunks are enqueued (and
        taken by the runner) by their place within their year first, then by year:
        January of each year, then February of each year, ... and chunks running at
        the same time post into different sequences whenever the history spans years.
        """
        todo = self.child_ids.filtered(lambda c: c.state in ("pending", "running"))
        for chunk in todo.sorted(_chunk_order):
            job = (
                chunk.with_context(company_id=chunk.company_id.id)
                .with_delay(
                    channel="root.wave.import",
                    identity_key=identity_exact,
                    priority=50,
                    description=_(
                        "Wave historical import %(from)s - %(to)s",
                        **{"from": chunk.date_from, "to": chunk.date_to},
                    ),
                )
                ._job_import_chunk()
            )
            if hasattr(job, "uuid"):
                chunk.queue_job_uuid = job.uuid
        return True

    def action_resume(self):
        """Go on with interrupted or cancelled historical imports, from their last page.

        A run (or a part, for its run) is reopened if it was cancelled, then one
        job per unfinished part is enqueued; each part goes on from its
        ``resume_page`` (committed after each page), so nothing is imported twice
        nor skipped.
        """
        self.connection_id._wave_check_admin()
        # sudo: chunks record their queue job (server-owned); checked above: a Wave
        # administrator of the runs' companies.
        runs = self.sudo().mapped(lambda job: job.parent_id or job).filtered("child_ids")
        for run in runs.filtered(lambda r: r.state == "cancelled" or r.cancel_requested):
            for chunk in run.child_ids.filtered(lambda c: c.state == "cancelled"):
                started = chunk.resume_page > 1 or chunk.records_done
                chunk.write({"state": "running" if started else "pending", "date_finished": False})
            run.write({"state": "running", "cancel_requested": False, "date_finished": False})
        runs._enqueue_chunks()
        runs._send_progress()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _(
                    "Import resumed: it goes on from where it stopped, "
                    "without importing anything twice."
                ),
                "type": "info",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _job_import_chunk(self, max_pages=None):
        """Queue job: import the invoices of this chunk from ``resume_page`` on.

        ``max_pages`` bounds the pages done in this call (a time slice); the
        chunk then stays running and is resumed by the next call. Returns True
        once the chunk is done.
        """
        self.ensure_one()
        # sudo: a run's counters and state are written by the sync only; this is the
        # job's own run, on its connection's company.
        run = self.sudo()
        connection = self.connection_id
        Importer = self.env["wave.historical.importer"]
        if self.state in ("done", "cancelled", "failed"):
            # run again after its last page committed: only the run's close may be left
            Importer._close_run_now(connection, run.parent_id)
            return False
        if Importer._is_cancelled(connection, run):
            Importer._stop_cancelled(connection, run)
            return False
        if not connection._is_ready():
            run.write({"error_message": _("The Wave connection is not ready.")})
            return False
        if self.state == "pending":
            run._mark_running()
        client = connection._get_client(priority="bulk")
        page_size = Importer._page_size()
        pages = 0
        fetched = None  # the next page, when read with this page's payments
        while True:
            if Importer._is_cancelled(connection, run):
                # Cancelled between two pages: the pages done stay, committed.
                Importer._stop_cancelled(connection, run)
                return False
            # Budget or Wave trouble (the page or its payments) → the job is retried
            # later; a revoked grant → the connection is disconnected and this chunk
            # stops cleanly at this page (reconnecting resumes it, see
            # ``wave.api._wave_select_business``). Either way the savepoint drops the
            # page's unfinished work.
            look_ahead = not max_pages or pages + 1 < max_pages
            with job_guard(connection) as guard, self.env.cr.savepoint():
                last, fetched = Importer._import_next_page(
                    connection, run, client, page_size, fetched, look_ahead
                )
            if guard.stopped:
                run.write(
                    {
                        "error_message": _(
                            "Stopped at page %(page)s: the Wave connection was disconnected. "
                            "It resumes when an administrator connects again.",
                            page=self.resume_page,
                        )
                    }
                )
                return False
            Importer._page_done(connection, run, last)
            if last:
                return True
            pages += 1
            if max_pages and pages >= max_pages:
                return False


class WaveWebhookEvent(models.Model):
    _inherit = "wave.webhook.event"

    def _identity_key(self):
        self.ensure_one()
        subject = self.wave_invoice_id or self.wave_estimate_id or self.event_id
        return f"wave-webhook:{self.connection_id.id}:{subject}"

    def _enqueue(self):
        """Queue the processing job; one pending job per invoice is enough, since the
        job reads the invoice's current state from Wave whatever event triggered it."""
        # As the superuser (OdooBot): the job, and the chatter notes it writes on the
        # invoice, are the integration's, not the public user's of the webhook route.
        # In the event's company (allowed_company_ids, kept with the job): the job works
        # on that company's books, and the enqueue needs no read of the user's company.
        # tracking_disable (not kept with the job): the queue.job row is created without
        # the chatter's follower and tracking work, which it does not use.
        for event in self.with_user(SUPERUSER_ID):
            company_id = event.company_id.id
            job = (
                event.with_context(
                    company_id=company_id, allowed_company_ids=[company_id], tracking_disable=True
                )
                .with_delay(
                    channel="root.wave.webhook",
                    priority=5,
                    identity_key=event._identity_key(),
                    description=self.env._(
                        "Wave webhook %(type)s (%(event)s)",
                        type=event.event_type,
                        event=event.event_id,
                    ),
                )
                ._job_process_webhook()
            )
            event._mark_queued(getattr(job, "uuid", None))
        return True

    def _mark_queued(self, job_uuid):
        """Record the queued job on the event: one UPDATE of two columns.

        Raw SQL: this runs on the webhook's acknowledgement path, whose latency Wave
        waits on; the ORM write would check, flush and recompute for two plain
        server-owned columns of a row this request has just inserted.
        """
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "UPDATE wave_webhook_event SET state = 'queued', queue_job_uuid = %s, "
                "write_uid = %s, write_date = now() at time zone 'UTC' WHERE id = %s",
                job_uuid,
                self.env.uid,
                self.id,
            )
        )
        self.invalidate_recordset(["state", "queue_job_uuid", "write_uid", "write_date"])

    def _job_process_webhook(self):
        """Queue job: import the current state of the event's invoice from Wave.

        Idempotent (see ``wave.webhook.processor``); settles every pending event
        of the same invoice.
        """
        self.ensure_one()
        if self.state in ("done", "ignored", "duplicate", "echo"):
            return "already processed"
        connection = self.connection_id
        Processor = self.env["wave.webhook.processor"]
        siblings = Processor._pending_siblings(connection, self)
        siblings.write({"attempts": self.attempts + 1})
        if not connection._is_ready():
            Processor._settle(connection, siblings, self.env._("The Wave connection is not ready."))
            return "connection not ready"
        echo = Processor._echo_record(connection, siblings)
        if echo:
            Processor._settle_echo(connection, siblings, echo)
            return f"echo of our own export for {len(siblings)} event(s)"
        try:
            with job_guard(connection) as guard:
                Processor._import_event(connection, self)
        except WaveError as exc:
            # Not for a retry (the guard lets only those through): Wave refused it.
            _logger.warning(
                "Wave webhook event %s (connection %s) failed: %s",
                self.event_id,
                connection.id,
                type(exc).__name__,
            )
            Processor._settle(connection, siblings, exc)
            return "failed"
        if guard.stopped:
            Processor._settle(connection, siblings, guard.error)
            return "connection disconnected"
        Processor._settle(connection, siblings)
        what = "estimate" if self.wave_estimate_id else "invoice"
        return f"imported {what} for {len(siblings)} event(s)"
