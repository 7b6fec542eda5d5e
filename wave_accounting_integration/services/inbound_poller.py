# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Incremental polls (Wave -> Odoo): what changed at Wave since the last poll.

The hourly cron enqueues one poll job per entity (``POLL_ORDER``, see
``models/wave_jobs_inbound.py``). Each poll asks Wave for the records modified
after the entity's watermark minus an overlap window, oldest first, one page
(``INBOUND_PAGE_SIZE``) per request; a poll where nothing changed costs one
request. Accounts have no such filter: they are listed in full and compared by
``sequence`` (``wave.reference.importer``).

Pages come from ``client.iterate_pages``, which gives each whole answer: the
invoice poll reads, in the same request, the number of all Wave invoices (to
notice deletions), and every poll counts its requests and the records Wave announces.
"""

import datetime

from odoo import api, fields, models

from ..graphql.inbound import MODIFIED_SINCE_QUERIES
from ..lib.dates import format_wave_datetime, parse_wave_datetime

INBOUND_PAGE_SIZE = 100
# Records Wave changed shortly before the last poll may be indexed late: read again.
OVERLAP = datetime.timedelta(minutes=5)
POLL_ORDER = ("accounts", "sales_taxes", "products", "customers", "vendors", "invoices")


class WaveInboundPoller(models.AbstractModel):
    _name = "wave.inbound.poller"
    _description = "Wave Incremental Import"

    @api.model
    def _poll(self, connection, entity, job):
        """Import what changed at Wave for ``entity``; counters go to ``job``."""
        if entity == "accounts":
            changed = self.env["wave.reference.importer"]._sync_accounts(connection, job=job)
            job.write({"records_done": changed, "records_updated": changed})
        else:
            self._poll_entity(connection, entity, job)

    @api.model
    def _poll_entity(self, connection, entity, job):
        cursor = self.env["wave.import.cursor"]._get(connection, entity)
        after = cursor.watermark - OVERLAP if cursor.watermark else None
        client = connection._get_client(priority="bulk")
        newest = cursor.watermark
        wave_total, created_since = None, 0
        pages = client.iterate_pages(
            MODIFIED_SINCE_QUERIES[entity],
            {
                "businessId": connection.business_id,
                "after": after and format_wave_datetime(after),
            },
            "business.changed",
            page_size=INBOUND_PAGE_SIZE,
        )
        for data, nodes, page_info in pages:
            job.requests_count += 1
            business = data.get("business") or {}
            if wave_total is None and business.get("everything"):
                wave_total = business["everything"]["pageInfo"]["totalCount"]
                job.records_total = page_info.get("totalCount") or 0
            elif job.requests_count == 1:
                job.records_total = page_info.get("totalCount") or 0
            for node in nodes:
                modified = parse_wave_datetime(node.get("modifiedAt"))
                if modified and (not newest or modified > newest):
                    newest = modified
                created = parse_wave_datetime(node.get("createdAt"))
                if created and cursor.watermark and created > cursor.watermark:
                    created_since += 1
            if nodes:
                self._import_entity_nodes(connection, entity, nodes, job)
        if entity == "invoices" and wave_total is not None:
            self._detect_invoice_deletions(connection, cursor, wave_total, created_since, job)
        cursor.write({"watermark": newest, "last_poll": fields.Datetime.now()})

    @api.model
    def _import_entity_nodes(self, connection, entity, nodes, job):
        if entity == "invoices":
            self.env["wave.invoice.importer"]._import_nodes(
                connection, nodes, source=job.trigger, job=job
            )
            return
        if entity in ("sales_taxes", "products"):
            self._import_reference_nodes(connection, entity, nodes)
        elif entity in ("customers", "vendors"):
            self.env["wave.partner.matcher"]._match_contacts(connection, entity[:-1], nodes)
        job.records_done += len(nodes)

    @api.model
    def _import_reference_nodes(self, connection, entity, nodes):
        """Sales taxes and products of a poll (archived ones included, see the queries).

        An archived Wave tax or product already bound is updated like any other; one
        never seen is not created: it gets its Odoo record when an (old) invoice that
        uses it is imported.
        """
        Importer = self.env["wave.reference.importer"]
        model = "account.tax" if entity == "sales_taxes" else "product.product"
        archived = [n["id"] for n in nodes if n.get("isArchived")]
        bound = set()
        if archived:
            domain = [("wave_id", "in", archived)]
            if model == "account.tax":
                domain.append(("company_id", "=", connection.company_id.id))
            else:
                domain.append(("wave_company_id", "=", connection.company_id.id))
            records = self.env[model].with_context(active_test=False).search(domain)
            bound = set(records.mapped("wave_id"))
        nodes = [n for n in nodes if not n.get("isArchived") or n["id"] in bound]
        if entity == "sales_taxes":
            Importer._resolve_taxes(connection, nodes)
        else:
            Importer._resolve_products(connection, nodes)

    @api.model
    def _detect_invoice_deletions(self, connection, cursor, wave_total, created_since, job):
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
            ("company_id", "=", connection.company_id.id),
            ("move_type", "=", "out_invoice"),
            ("state", "!=", "cancel"),
        ]
        for extra in ([("state", "=", "draft")], [("state", "=", "posted")]):
            wave_ids = Move.search(domain + extra).mapped("wave_id")
            if not wave_ids:
                continue
            found = connection._get_client(priority="bulk").lookup_many(
                connection.business_id, "invoice", wave_ids, "id"
            )
            job.requests_count += -(-len(wave_ids) // 50)
            deleted = [wave_id for wave_id, node in found.items() if not node]
            if deleted:
                self.env["wave.invoice.updater"]._apply_deletions(connection, deleted, job=job)
                missing -= len(deleted)
            if missing <= 0:
                return
