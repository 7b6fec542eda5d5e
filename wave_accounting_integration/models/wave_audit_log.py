# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every change the sync made, with the key fields before and after."""

from odoo import _, api, fields, models


class WaveAuditLog(models.Model):
    _name = "wave.audit.log"
    _description = "Wave Audit Log"
    _order = "id desc"
    _log_access = True

    company_id = fields.Many2one("res.company", index=True, default=lambda s: s.env.company)
    res_model = fields.Char(string="Model", required=True, index=True)
    res_id = fields.Many2oneReference(model_field="res_model", string="Record", index=True)
    record_name = fields.Char()
    action = fields.Char(required=True, help="create, update, cancel, discard, conflict, ...")
    source = fields.Char(help="What caused the change: poll, webhook event id, wizard, user.")
    wave_id = fields.Char(string="Wave ID", index=True)
    values_before = fields.Json()
    values_after = fields.Json()
    note = fields.Text()
    # Shown instead of the technical model and action names.
    record_type = fields.Char(string="Record type", compute="_compute_labels")
    action_label = fields.Char(string="Change", compute="_compute_labels")

    @api.depends("res_model", "action")
    def _compute_labels(self):
        actions = {
            "create": _("Created"),
            "update": _("Updated"),
            "cancel": _("Cancelled"),
            "discard": _("Discarded"),
            "conflict": _("Conflict"),
            "replay": _("Replayed"),
            "resolve": _("Resolved"),
            "outbound_undone": _("Undone in Wave"),
        }
        IrModel = self.env["ir.model"]
        for line in self:
            model = IrModel._get(line.res_model) if line.res_model else IrModel
            line.record_type = model.name or line.res_model
            action = line.action or ""
            line.action_label = actions.get(action) or action.replace("_", " ").capitalize()

    @api.model
    def _log_many(self, records, action, values_after=None, source=None, values_before=None):
        """One audit line per record; ``values_after`` / ``values_before`` may be a dict or
        a function of the record."""
        vals_list = []
        for record in records:
            after = values_after(record) if callable(values_after) else values_after
            before = values_before(record) if callable(values_before) else values_before
            vals_list.append(
                {
                    "company_id": getattr(record, "company_id", self.env.company).id or False,
                    "res_model": record._name,
                    "res_id": record.id,
                    "record_name": record.display_name,
                    "action": action,
                    "source": source or self.env.context.get("wave_source"),
                    "wave_id": getattr(record, "wave_id", False) or False,
                    "values_after": after,
                    "values_before": before,
                }
            )
        return self.sudo().create(vals_list)  # sudo: the log is append-only, written by the sync
