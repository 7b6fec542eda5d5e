# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Initial import of Wave's history: a date range cut into chunks of whole months."""

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..graphql.inbound import PLAN_ALL_INVOICES_ALIAS, import_plan_query
from ..lib import WaveError
from ..lib.dates import parse_wave_datetime
from ..lib.graphql import connection_nodes
from ..services.reference_importer import ACCOUNTS_PAGE_SIZE

# months are merged into chunks of up to this many pages (fewer, fuller pages)
CHUNK_PAGES = 4


class WaveHistoricalImport(models.TransientModel):
    _name = "wave.historical.import"
    _description = "Wave Historical Import"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one(
        "wave.api",
        required=True,
        default=lambda self: self.env["wave.api"]._for_company(),
    )
    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.today() - relativedelta(years=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.today)
    chunk_count = fields.Integer(
        compute="_compute_chunk_count",
        string="Months",
        help="Months of the range; sparse months are imported together.",
    )

    currency_preview = fields.Text(
        string="Currencies",
        readonly=True,
        help="The currencies of the Wave invoices of the range, and what happens to those "
        "that are not active in Odoo (see Preview).",
    )

    @api.depends("date_from", "date_to")
    def _compute_chunk_count(self):
        for wizard in self:
            wizard.chunk_count = len(wizard._chunks()) if wizard.date_from and wizard.date_to else 0

    def _chunks(self):
        """``[(first day, last day)]`` per calendar month of the range."""
        self.ensure_one()
        chunks, start = [], self.date_from
        while start <= self.date_to:
            end = min(start + relativedelta(day=31), self.date_to)
            chunks.append((start, end))
            start = end + relativedelta(days=1)
        return chunks

    def _read_plan(self, months):
        """ONE request for the start of the import: the first page of Wave's chart of
        accounts and the number of Wave invoices of each month.

        Returns ``(accounts, counts, everything)``: the ``accounts`` connection of that
        page (for ``wave.reference.importer._sync_accounts``), one count per month and
        ``(number of all Wave invoices, modifiedAt of the latest changed one)``.
        """
        connection = self.connection_id
        variables = {
            "businessId": connection.business_id,
            "page": 1,
            "pageSize": ACCOUNTS_PAGE_SIZE,
        }
        for i, (start, end) in enumerate(months):
            variables[f"s{i}"] = fields.Date.to_string(start)
            variables[f"e{i}"] = fields.Date.to_string(end)
        data = connection._get_client(priority="interactive").execute(
            import_plan_query(len(months)), variables
        )
        business = data.get("business") or {}
        counts = [
            ((business.get(f"m{i}") or {}).get("pageInfo") or {}).get("totalCount") or 0
            for i in range(len(months))
        ]
        everything = business.get(PLAN_ALL_INVOICES_ALIAS) or {}
        latest = connection_nodes(everything)
        return (
            business.get("accounts") or {},
            counts,
            (
                (everything.get("pageInfo") or {}).get("totalCount") or 0,
                parse_wave_datetime(latest[0].get("modifiedAt")) if latest else None,
            ),
        )

    @api.model
    def _poll_start(self, counts, everything):
        """Values of a run that reads every Wave invoice (its months hold as many
        invoices as Wave has): its invoices' first poll can start at the latest change
        Wave had when it started (``wave.historical.importer._start_invoice_polls``).
        Nothing for a run of part of the history: the first poll lists every invoice.
        """
        total, latest = everything
        if not latest or sum(counts) != total:
            return {}
        return {"poll_start": latest, "planned_total": total}

    def _plan_chunks(self, months, counts):
        """Consecutive ``months`` merged into chunks of about the same number of invoices
        (``counts``: Wave's invoices of each month), each of up to about
        ``CHUNK_PAGES`` pages.

        Sparse history would otherwise cost two requests per month (its page and its
        payments) for a handful of invoices. The chunks share the invoices evenly, and
        their number is a multiple of the chunks the job runner imports at once
        (``wave.historical.importer._parallel_chunks``) when each still holds a full
        page: every job worker gets the same work, none is left alone with a large
        last chunk. A month is never split (each goes to the chunk where the middle of
        its invoices falls), the chunks cover the whole range, and a range without any
        invoice is one chunk.
        """
        Importer = self.env["wave.historical.importer"]
        page_size = Importer._page_size()
        total = sum(counts)
        wanted = -(-total // (CHUNK_PAGES * page_size)) or 1
        parallel = Importer._parallel_chunks()
        shared = -(-wanted // parallel) * parallel
        if total >= shared * page_size:
            wanted = shared
        share = total / wanted
        chunks, before = [], 0
        for (start, end), count in zip(months, counts, strict=True):
            index = min(wanted - 1, int((before + count / 2) / share)) if count else None
            before += count
            if chunks and (index is None or chunks[-1][2] in (None, index)):
                chunks[-1][1] = end  # an empty month joins the chunk before it
                chunks[-1][2] = chunks[-1][2] if index is None else index
            else:
                chunks.append([start, end, index])
        return [(start, end) for start, end, _index in chunks]

    def _currency_preview(self):
        """Plain words: the currencies of the range's invoices, and those not active in Odoo."""
        connection = self.connection_id
        Setup = self.env["wave.books.setup"]
        codes = Setup._wave_currency_codes(connection, self.date_from, self.date_to)
        inactive, unknown = Setup._currencies_by_state(codes)
        lines = [_("Currencies of these Wave invoices: %s.", ", ".join(codes) or "-")]
        if inactive and connection.currency_policy == "activate":
            lines.append(
                _(
                    'Will be activated in Odoo: %s (setting "Currencies used in Wave").',
                    ", ".join(inactive.mapped("name")),
                )
            )
        elif inactive:
            lines.append(
                _(
                    "Not active in Odoo: %s. Their invoices will wait in the quarantine until "
                    'you activate the currency (setting "Currencies used in Wave" is Ask).',
                    ", ".join(inactive.mapped("name")),
                )
            )
        if unknown:
            lines.append(
                _(
                    "Odoo has no currency %s: those invoices will wait in the quarantine.",
                    ", ".join(unknown),
                )
            )
        if not inactive and not unknown:
            lines.append(_("All are active in Odoo."))
        return "\n".join(lines)

    def action_preview(self):
        """Show what the import needs before it starts (currencies), then stay open."""
        self.ensure_one()
        connection = self.connection_id
        connection._wave_check_admin()
        if not connection._is_ready():
            raise UserError(_("Connect %s to Wave first.", connection.name))
        try:
            self.currency_preview = self._currency_preview()
        except WaveError as error:
            # Wave unreachable or the token refused: a plain message, not a crash.
            raise UserError(error.message) from None
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_import(self):
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The start date must be before the end date."))
        connection = self.connection_id
        connection._wave_check_admin()
        if not connection._is_ready():
            raise UserError(_("Connect %s to Wave first.", connection.name))
        # the chart of accounts first: its first listing maps the obvious accounts; its
        # first page comes with the invoice counts that plan the chunks
        months = self._chunks()
        try:
            accounts, counts, everything = self._read_plan(months)
            self.env["wave.reference.importer"]._sync_accounts(connection, first_page=accounts)
        except WaveError as error:
            # Wave unreachable or the token refused: a plain message, not a crash.
            raise UserError(error.message) from None
        # sudo: sync runs are written by the sync only; the caller administers this
        # connection (checked above), whose company the runs take.
        SyncJob = self.env["wave.sync.job"].sudo()
        parent = SyncJob.create(
            {
                "name": _(
                    "Historical import %(from)s - %(to)s",
                    **{"from": self.date_from, "to": self.date_to},
                ),
                "connection_id": connection.id,
                "kind": "historical_import",
                "direction": "inbound",
                "trigger": "wizard",
                "date_from": self.date_from,
                "date_to": self.date_to,
                **self._poll_start(counts, everything),
            }
        )
        SyncJob.create(
            [
                {
                    "name": self.env._("Invoices %(from)s - %(to)s", **{"from": start, "to": end}),
                    "connection_id": connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                    "trigger": "wizard",
                    "parent_id": parent.id,
                    "date_from": start,
                    "date_to": end,
                }
                for start, end in self._plan_chunks(months, counts)
            ]
        )
        parent._mark_running()
        parent._enqueue_chunks()
        return {
            "type": "ir.actions.act_window",
            "res_model": "wave.sync.job",
            "res_id": parent.id,
            "view_mode": "form",
            "target": "main",
        }
