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
Vendors and sales taxes cannot be sorted at Wave, so their pages may shift while
they are read: a poll reads the window again, skipping the ids it has seen, until
it holds as many records as Wave counts (``_poll_entity``).
"""

import datetime
import logging

from psycopg2 import IntegrityError

from odoo import api, fields, models

from ..graphql.inbound import MODIFIED_SINCE_QUERIES
from ..lib.dates import format_wave_datetime, parse_wave_datetime

_logger = logging.getLogger(__name__)

INBOUND_PAGE_SIZE = 100
# Passes over a window whose pages moved while they were read (see ``_poll_entity``).
MAX_PASSES = 12
# Records Wave changed shortly before the last poll may be indexed late: read again.
OVERLAP = datetime.timedelta(minutes=5)
POLL_ORDER = (
    "accounts",
    "sales_taxes",
    "products",
    "customers",
    "vendors",
    "invoices",
    "estimates",
)

#: Audit source of the records of a first listing (no earlier poll of the entity).
FIRST_LISTING_SOURCE = "first poll"  # shown as is in the audit log


class WaveInboundPoller(models.AbstractModel):
    _name = "wave.inbound.poller"
    _description = "Wave Incremental Import"

    @api.model
    def _poll(self, connection, entity, job):
        """Import what changed at Wave for ``entity``; counters go to ``job``."""
        if entity == "accounts":
            changed = self.env["wave.reference.importer"]._sync_accounts(connection, job=job)
            job.write({"records_done": changed, "records_updated": changed})
        elif entity == "estimates" and not connection._estimates_enabled():
            return  # switched off, or Wave did not grant estimate:read
        else:
            self._poll_entity(connection, entity, job)

    @api.model
    def _poll_entity(self, connection, entity, job):
        cursor = self.env["wave.import.cursor"]._get(connection, entity)
        after = cursor.watermark - OVERLAP if cursor.watermark else None
        walk = {
            "client": connection._get_client(priority="bulk"),
            "seen": set(),
            "newest": cursor.watermark,
            "wave_total": None,
            "created_since": 0,
        }
        variables = {
            "businessId": connection.business_id,
            "after": after and format_wave_datetime(after),
        }
        # Vendors and sales taxes have no sort argument at Wave: their pages may
        # shift between two requests. Every pass reads all pages; the ids already
        # seen are skipped; the walk ends once Wave's count of the window is
        # reached (one pass when nothing moved).
        complete = False
        for _attempt in range(MAX_PASSES):
            announced = self._poll_pass(connection, entity, job, cursor, variables, walk)
            if len(walk["seen"]) >= announced:
                complete = True
                break
        if entity == "invoices" and walk["wave_total"] is not None:
            self._detect_invoice_deletions(
                connection, cursor, walk["wave_total"], walk["created_since"], job
            )
        if entity == "estimates" and walk["wave_total"] is not None:
            self._detect_estimate_deletions(
                connection, cursor, walk["wave_total"], walk["created_since"], job
            )
        vals = {"last_poll": fields.Datetime.now()}
        if complete:
            # otherwise the watermark stays: the next poll reads the window again
            vals["watermark"] = walk["newest"]
        else:
            _logger.warning(
                "Wave poll of %s: %s records of %s read after %s passes; read again next time.",
                entity,
                len(walk["seen"]),
                job.records_total,
                MAX_PASSES,
            )
        cursor.write(vals)

    @api.model
    def _start_from(self, connection, entity, watermark):
        """The first poll of ``entity`` asks only for the records changed after
        ``watermark`` (minus the overlap) instead of listing them all: those changed
        before were read already (a historical import of every record). A cursor that
        has a watermark keeps it.
        """
        Cursor = self.env["wave.import.cursor"]
        try:
            with self.env.cr.savepoint():
                cursor = Cursor._get(connection, entity)
                if not cursor.watermark:
                    cursor.watermark = watermark
        except IntegrityError:
            # A poll created the cursor meanwhile: it lists every record itself.
            _logger.info("Wave poll of %s: first listing already under way.", entity)

    @api.model
    def _poll_pass(self, connection, entity, job, cursor, variables, walk):
        """Read every page of the window once; import the records not seen yet.

        Returns the number of records Wave announced for the window (its latest count).
        """
        announced = 0
        pages = walk["client"].iterate_pages(
            MODIFIED_SINCE_QUERIES[entity],
            variables,
            "business.changed",
            page_size=INBOUND_PAGE_SIZE,
        )
        for data, nodes, page_info in pages:
            job.requests_count += 1
            announced = page_info.get("totalCount") or 0
            business = data.get("business") or {}
            if walk["wave_total"] is None and business.get("everything"):
                walk["wave_total"] = business["everything"]["pageInfo"]["totalCount"]
            job.records_total = max(job.records_total, announced)
            fresh = [node for node in nodes if node.get("id") not in walk["seen"]]
            walk["seen"].update(node.get("id") for node in fresh)
            for node in fresh:
                modified = parse_wave_datetime(node.get("modifiedAt"))
                if modified and (not walk["newest"] or modified > walk["newest"]):
                    walk["newest"] = modified
                created = parse_wave_datetime(node.get("createdAt"))
                if created and cursor.watermark and created > cursor.watermark:
                    walk["created_since"] += 1
            if fresh:
                # The first listing brings the whole history: recorded as such (its
                # records' age is not a sync delay, see wave.dashboard.stats).
                source = job.trigger if cursor.last_poll else FIRST_LISTING_SOURCE
                self._import_entity_nodes(connection, entity, fresh, job, source)
        return announced

    @api.model
    def _import_entity_nodes(self, connection, entity, nodes, job, source=None):
        source = source or job.trigger
        if entity == "estimates":
            self.env["wave.estimate.importer"]._import_nodes(
                connection, nodes, source=source, job=job
            )
            return
        if entity == "invoices":
            self.env["wave.invoice.importer"]._import_nodes(
                connection, nodes, source=source, job=job
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

    @api.model
    def _detect_estimate_deletions(self, connection, cursor, wave_total, created_since, job):
        """Wave no longer lists deleted estimates: when their count shrank, the quotations
        still open in Odoo are read again by id (a deleted one reads DELETED, or is not
        found) and cancelled. No extra request otherwise."""
        known = cursor.known_total
        cursor.known_total = wave_total
        if not cursor.last_poll or wave_total >= known + created_since:
            return
        orders = self.env["sale.order"].search(
            [
                ("wave_id", "!=", False),
                ("company_id", "=", connection.company_id.id),
                ("state", "!=", "cancel"),
            ]
        )
        if orders:
            results = self.env["wave.estimate.importer"]._import_by_ids(
                connection, orders.mapped("wave_id"), source=job.trigger
            )
            job.requests_count += -(-len(orders) // 50)
            job.records_updated += sum(1 for r in results.values() if r == "updated")
