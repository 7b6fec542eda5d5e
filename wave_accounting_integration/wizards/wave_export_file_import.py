# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wizard: upload Wave's accounting transactions export and book it (or try it: dry run)."""

import base64

from odoo import api, fields, models
from odoo.exceptions import UserError


class WaveExportFileImport(models.TransientModel):
    _name = "wave.export.file.import"
    _description = "Import a Wave Export File"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one(
        "wave.api",
        required=True,
        default=lambda self: self.env["wave.api"]._for_company(),
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    data_file = fields.Binary(string="Export File", required=True, attachment=False)
    filename = fields.Char()
    dry_run = fields.Boolean(
        help="Check the file and show what would be imported, without booking anything."
    )
    state = fields.Selection([("draft", "Upload"), ("done", "Result")], default="draft")
    encoding = fields.Char(readonly=True, help="Character encoding the file was read with.")
    rows_count = fields.Integer(string="Rows", readonly=True)
    transactions_count = fields.Integer(string="Transactions", readonly=True)
    bills_count = fields.Integer(string="Vendor Bills", readonly=True)
    payments_count = fields.Integer(string="Payments", readonly=True)
    entries_count = fields.Integer(string="Journal Entries", readonly=True)
    existing_count = fields.Integer(string="Already Imported", readonly=True)
    skipped_count = fields.Integer(
        string="Skipped",
        readonly=True,
        help="Invoice transactions (the API imports them) "
        "and transactions of vendors the policy says not to import.",
    )
    quarantined_count = fields.Integer(string="Quarantined", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    message_ids = fields.One2many(
        "wave.export.file.import.message", "wizard_id", string="Errors and Warnings", readonly=True
    )

    def action_import(self):
        self.ensure_one()
        if not self.data_file:
            raise UserError(self.env._("Choose the export file first."))
        Importer = self.env["wave.export.file"]
        # the size limit is checked on the upload before it is decoded (3 bytes per
        # 4 base64 characters), then again on the bytes
        Importer._check_file_size(len(self.data_file) * 3 // 4)
        try:
            data = base64.b64decode(self.data_file)
        except ValueError:  # binascii.Error: broken base64
            raise UserError(self.env._("The uploaded file could not be read.")) from None
        result = Importer._import_file(self.connection_id, data, dry_run=self.dry_run)
        self._store_result(result)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Wave Export File"),
        }

    def _store_result(self, result):
        messages = [
            {"level": level, **message}
            for level, key in (("error", "errors"), ("warning", "warnings"))
            for message in result[key]
        ]
        self.write(
            {
                "state": "done",
                "encoding": result["encoding"],
                "rows_count": result["rows"],
                "transactions_count": result["transactions"],
                "bills_count": result["bills"],
                "payments_count": result["payments"],
                "entries_count": result["entries"],
                "existing_count": result["existing"],
                "skipped_count": result["skipped"],
                "quarantined_count": result["quarantined"],
                "error_count": len(result["errors"]),
                "message_ids": [fields.Command.clear()]
                + [
                    fields.Command.create(
                        {
                            "level": message["level"],
                            "row_number": message["row"],
                            "transaction_id": message["transaction_id"],
                            "reason": message["reason"],
                        }
                    )
                    for message in messages
                ],
            }
        )

    @api.model
    def action_open(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Import Wave Export File"),
        }


class WaveExportFileImportMessage(models.TransientModel):
    _name = "wave.export.file.import.message"
    _description = "Wave Export File Import Message"
    _order = "level, row_number, id"

    wizard_id = fields.Many2one("wave.export.file.import", required=True, ondelete="cascade")
    level = fields.Selection([("error", "Error"), ("warning", "Warning")], required=True)
    row_number = fields.Integer(string="Row")
    transaction_id = fields.Char(string="Transaction ID")
    reason = fields.Text(required=True)
