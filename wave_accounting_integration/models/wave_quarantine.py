# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Records that failed validation, kept with their payload until an accountant fixes them."""

import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WaveQuarantine(models.Model):
    _name = "wave.quarantine"
    _description = "Wave Quarantined Record"
    _inherit = ["mail.thread"]
    _order = "state, create_date desc, id desc"

    name = fields.Char(required=True)
    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    direction = fields.Selection(
        [("inbound", "Wave → Odoo"), ("outbound", "Odoo → Wave")], required=True
    )
    record_type = fields.Char(
        required=True, help="Wave type (Invoice, Customer, ...) or Odoo model."
    )
    wave_id = fields.Char(string="Wave ID", index=True)
    res_model = fields.Char(string="Odoo Model")
    res_id = fields.Many2oneReference(model_field="res_model", string="Odoo Record")
    payload = fields.Json(help="The data as received from (or to be sent to) Wave.")
    payload_display = fields.Text(compute="_compute_payload_display", string="Readable payload")
    reasons = fields.Text(required=True)
    suggested_fix = fields.Text()
    attempts = fields.Integer(default=1)
    state = fields.Selection(
        [("open", "To fix"), ("resolved", "Resolved"), ("discarded", "Discarded")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    discard_reason = fields.Text()
    sync_job_id = fields.Many2one("wave.sync.job", ondelete="set null")

    @api.depends("payload")
    def _compute_payload_display(self):
        for record in self:
            record.payload_display = (
                json.dumps(record.payload, indent=2, sort_keys=True, ensure_ascii=False)
                if record.payload
                else ""
            )

    def action_discard(self):
        for record in self:
            if not record.discard_reason:
                raise UserError(_("Give a reason before discarding %s.", record.name))
        self.write({"state": "discarded"})
        self.env["wave.audit.log"]._log_many(
            self, "discard", lambda r: {"reason": r.discard_reason}
        )
        return True
