# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound sync engine (Wave -> Odoo): incremental polls and imports by id.

The hourly cron enqueues one poll job per entity (``_enqueue_poll``). Each
poll asks Wave for the records modified after the entity's watermark minus an
overlap window, oldest first, one page (``INBOUND_PAGE_SIZE``) per request; a
poll where nothing changed costs one request. Accounts have no such filter:
they are listed in full and compared by ``sequence``.
"""

import datetime
import logging

from odoo import _, fields, models
from odoo.addons.queue_job.job import identity_exact

from ..graphql.inbound import INVOICE_WITH_PAYMENTS_SELECTION, MODIFIED_SINCE_QUERIES
from ..lib.dates import parse_wave_datetime
from ..services.job_guard import job_guard

_logger = logging.getLogger(__name__)

INBOUND_PAGE_SIZE = 100
OVERLAP = datetime.timedelta(minutes=5)
POLL_ORDER = ("accounts", "sales_taxes", "products", "customers", "vendors", "invoices")


class WaveApi(models.Model):
    _inherit = "wave.api"

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------
    def _enqueue_poll(self, trigger="cron"):
        """Enqueue one incremental poll job per entity (deduplicated by identity)."""
        for connection in self:
            for priority, entity in enumerate(POLL_ORDER):
                connection.with_delay(
                    channel="root.wave.inbound",
                    identity_key=identity_exact,
                    priority=20 + priority,
                    description=_(
                        "Wave: import %(entity)s changes (%(name)s)",
                        entity=entity,
                        name=connection.name,
                    ),
                )._job_poll(entity, trigger=trigger)
        return True

    def action_poll_now(self):
        self._enqueue_poll(trigger="manual")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": _("Import of Wave changes queued."), "type": "info"},
        }

    def _job_poll(self, entity, trigger="cron"):
        """Queue job: import what changed at Wave for ``entity``."""
        self.ensure_one()
        if not (self.sync_inbound and self._is_ready()):
            _logger.info("Wave connection %s is not ready: %s poll skipped.", self.id, entity)
            return False
        job = self.env["wave.sync.job"].create(
            {
                "name": _("Poll %s", entity),
                "connection_id": self.id,
                "kind": entity,
                "direction": "inbound",
                "trigger": trigger
                if trigger in ("cron", "webhook", "manual", "wizard")
                else "manual",
            }
        )
        job._mark_running()
        with job_guard(self, on_retry=lambda error: job._mark_finished(error=str(error))) as guard:
            if entity == "accounts":
                changed = self.env["wave.reference.importer"]._sync_accounts(self, job=job)
                job.write({"records_done": changed, "records_updated": changed})
            else:
                self._poll_entity(entity, job)
        if guard.stopped:
            job._mark_finished(error=str(guard.error))
            return False
        job._mark_finished()
        return job.id

    # ------------------------------------------------------------------
    # Incremental poll
    # ------------------------------------------------------------------
    def _poll_entity(self, entity, job):
        cursor = self.env["wave.import.cursor"]._get(self, entity)
        after = cursor.watermark - OVERLAP if cursor.watermark else None
        client = self._get_client(priority="bulk")
        document = MODIFIED_SINCE_QUERIES[entity]
        newest = cursor.watermark
        page, wave_total, created_since = 1, None, 0
        while True:
            variables = {
                "businessId": self.business_id,
                "after": after and after.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "page": page,
                "pageSize": INBOUND_PAGE_SIZE,
            }
            data = client.execute(document, variables)
            job.requests_count += 1
            business = data.get("business") or {}
            connection = business.get("changed") or {}
            if wave_total is None and business.get("everything"):
                wave_total = business["everything"]["pageInfo"]["totalCount"]
            nodes = [e["node"] for e in connection.get("edges") or [] if e.get("node")]
            if page == 1:
                job.records_total = (connection.get("pageInfo") or {}).get("totalCount") or 0
            for node in nodes:
                modified = parse_wave_datetime(node.get("modifiedAt"))
                if modified and (not newest or modified > newest):
                    newest = modified
                created = parse_wave_datetime(node.get("createdAt"))
                if created and cursor.watermark and created > cursor.watermark:
                    created_since += 1
            if nodes:
                self._import_entity_nodes(entity, nodes, job)
            page_info = connection.get("pageInfo") or {}
            if not nodes or page >= (page_info.get("totalPages") or 0):
                break
            page += 1
        if entity == "invoices" and wave_total is not None:
            self._detect_invoice_deletions(cursor, wave_total, created_since, job)
        cursor.write({"watermark": newest, "last_poll": fields.Datetime.now()})

    def _import_entity_nodes(self, entity, nodes, job):
        if entity == "invoices":
            self.env["wave.invoice.importer"]._import_nodes(
                self, nodes, source=job.trigger, job=job
            )
            return
        if entity == "sales_taxes":
            self.env["wave.reference.importer"]._resolve_taxes(self, nodes)
        elif entity == "products":
            self.env["wave.reference.importer"]._resolve_products(self, nodes)
        elif entity in ("customers", "vendors"):
            self.env["wave.partner.matcher"]._match_contacts(self, entity[:-1], nodes)
        job.records_done += len(nodes)

    def _detect_invoice_deletions(self, cursor, wave_total, created_since, job):
        """Wave's invoice count shrank: look up the invoices Odoo knows to find the deleted.

        Drafts are checked first (Wave only deletes drafts); all others only
        if drafts do not explain the difference. No extra request otherwise.
        """
        known = cursor.known_total
        cursor.known_total = wave_total
        if not cursor.last_poll or wave_total >= known + created_since:
            return
        missing = known + created_since - wave_total
        Move = self.env["account.move"]
        domain = [
            ("wave_id", "!=", False),
            ("company_id", "=", self.company_id.id),
            ("move_type", "=", "out_invoice"),
            ("state", "!=", "cancel"),
        ]
        for extra in ([("state", "=", "draft")], [("state", "=", "posted")]):
            wave_ids = Move.search(domain + extra).mapped("wave_id")
            if not wave_ids:
                continue
            found = self._get_client(priority="bulk").lookup_many(
                self.business_id, "invoice", wave_ids, "id"
            )
            job.requests_count += -(-len(wave_ids) // 50)
            deleted = [wave_id for wave_id, node in found.items() if not node]
            if deleted:
                self.env["wave.invoice.updater"]._apply_deletions(self, deleted, job=job)
                missing -= len(deleted)
            if missing <= 0:
                return

    # ------------------------------------------------------------------
    # Import by id (webhooks, replay)
    # ------------------------------------------------------------------
    def _import_invoices_by_ids(self, wave_invoice_ids, source=None):
        """Import or update these Wave invoices (and their payments) now.

        One aliased request fetches them all with their payments; invoices
        Wave no longer has (NOT_FOUND) follow the deletion policy. Returns
        ``{wave_id: outcome}``.
        """
        self.ensure_one()
        wave_invoice_ids = list(dict.fromkeys(wave_invoice_ids or []))
        if not wave_invoice_ids:
            return {}
        client = self._get_client(priority="webhook" if source == "webhook" else "interactive")
        results = {}
        for start in range(0, len(wave_invoice_ids), 50):
            chunk = wave_invoice_ids[start : start + 50]
            found = client.lookup_many(
                self.business_id,
                "invoice",
                chunk,
                INVOICE_WITH_PAYMENTS_SELECTION,
                chunk_size=50,
            )
            nodes = [node for node in found.values() if node]
            payments = {node["id"]: node.get("payments") or [] for node in nodes}
            results.update(
                self.env["wave.invoice.importer"]._import_nodes(
                    self, nodes, source=source, payments=payments
                )
            )
            deleted = [wave_id for wave_id, node in found.items() if not node]
            if deleted:
                results.update(
                    dict.fromkeys(deleted, "not_found"),
                )
                results.update(self.env["wave.invoice.updater"]._apply_deletions(self, deleted))
        return results
