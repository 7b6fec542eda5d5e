# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Initial import of Wave's history: a date range cut into monthly chunks."""

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WaveHistoricalImport(models.TransientModel):
    _name = "wave.historical.import"
    _description = "Wave Historical Import"

    connection_id = fields.Many2one(
        "wave.api",
        required=True,
        default=lambda self: self.env["wave.api"]._for_company(),
    )
    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.today() - relativedelta(years=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.today)
    chunk_count = fields.Integer(compute="_compute_chunk_count", string="Monthly chunks")

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

    def action_import(self):
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The start date must be before the end date."))
        connection = self.connection_id
        if not connection._is_ready():
            raise UserError(_("Connect %s to Wave first.", connection.name))
        # the chart of accounts first: its first listing maps the obvious accounts
        connection._sync_accounts()
        SyncJob = self.env["wave.sync.job"]
        parent = SyncJob.create(
            {
                "name": _("Historical import %(from)s - %(to)s",
                          **{"from": self.date_from, "to": self.date_to}),
                "connection_id": connection.id,
                "kind": "historical_import",
                "direction": "inbound",
                "trigger": "wizard",
                "date_from": self.date_from,
                "date_to": self.date_to,
            }
        )
        SyncJob.create(
            [
                {
                    "name": _("Invoices %(from)s - %(to)s", **{"from": start, "to": end}),
                    "connection_id": connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                    "trigger": "wizard",
                    "parent_id": parent.id,
                    "date_from": start,
                    "date_to": end,
                }
                for start, end in self._chunks()
            ]
        )
        parent._mark_running()
        parent._enqueue_chunks()
        return {
            "type": "ir.actions.act_window",
            "res_model": "wave.sync.job",
            "res_id": parent.id,
            "view_mode": "form",
            "target": "current",
        }
