# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Watermarks of the incremental inbound poll: one per connection and Wave entity."""

from odoo import api, fields, models

POLL_ENTITIES = [
    ("accounts", "Chart of accounts"),
    ("sales_taxes", "Sales taxes"),
    ("products", "Products"),
    ("customers", "Customers"),
    ("vendors", "Vendors"),
    ("invoices", "Invoices"),
    ("estimates", "Estimates"),
]


class WaveImportCursor(models.Model):
    _name = "wave.import.cursor"
    _description = "Wave Import Position"
    _inherit = ["wave.server.fields.mixin"]
    # Written by the sync only (as superuser): users read them.
    _wave_server_fields = "__all__"
    _order = "connection_id, entity"
    _rec_name = "entity"

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    entity = fields.Selection(POLL_ENTITIES, string="Records", required=True)
    watermark = fields.Datetime(
        string="Imported up to",
        help="modifiedAt of the newest Wave record imported: the next poll asks for "
        "records modified after this moment minus the overlap window.",
    )
    last_poll = fields.Datetime(string="Last import", readonly=True)
    known_total = fields.Integer(
        string="Records in Wave",
        help="Number of records Wave reported at the last poll (deletions make it shrink).",
    )
    signature = fields.Char(
        help="Change detector of entities without a modifiedAt filter (accounts: "
        "ids and sequences)."
    )

    _sql_constraints = [
        (
            "cursor_uniq",
            "unique(connection_id, entity)",
            "There is one watermark per connection and entity.",
        ),
    ]

    @api.model
    def _get(self, connection, entity):
        """The cursor of ``entity`` for ``connection``, created on first use."""
        # sudo: watermarks are written by the sync only (the poller may run as the
        # administrator who clicked *Import changes now*), for this connection only.
        Cursor = self.sudo()
        cursor = Cursor.search(
            [("connection_id", "=", connection.id), ("entity", "=", entity)], limit=1
        )
        if not cursor:
            cursor = Cursor.create({"connection_id": connection.id, "entity": entity})
        return cursor
