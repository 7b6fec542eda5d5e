# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Choose the Wave business when the token sees several of them."""

from odoo import _, api, fields, models


class WaveBusinessSelect(models.TransientModel):
    _name = "wave.business.select"
    _description = "Choose the Wave Business"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade")
    line_ids = fields.One2many("wave.business.select.line", "wizard_id", string="Businesses")

    @api.model
    def _create_for(self, connection, businesses):
        """A wizard listing ``businesses`` (dicts of ``wave.api._wave_list_businesses``)."""
        return self.create(
            {
                "connection_id": connection.id,
                "line_ids": [
                    fields.Command.create(
                        {
                            "business_id": business["id"],
                            "name": business["name"],
                            "currency": business.get("currency"),
                            "is_classic": business.get("is_classic", False),
                            "is_personal": business.get("is_personal", False),
                            "is_current": business["id"] == connection.business_id,
                        }
                    )
                    for business in businesses
                ],
            }
        )


class WaveBusinessSelectLine(models.TransientModel):
    _name = "wave.business.select.line"
    _description = "Wave Business to Choose"
    _order = "is_current desc, name, id"

    wizard_id = fields.Many2one("wave.business.select", required=True, ondelete="cascade")
    business_id = fields.Char(string="Wave Business ID", required=True)
    name = fields.Char(required=True)
    currency = fields.Char()
    is_classic = fields.Boolean(string="Classic accounting")
    is_personal = fields.Boolean(string="Personal")
    is_current = fields.Boolean(string="Current")

    def action_select(self):
        """Work on this business."""
        self.ensure_one()
        connection = self.wizard_id.connection_id
        connection._wave_check_admin()
        connection._wave_select_business(
            {
                "id": self.business_id,
                "name": self.name,
                "currency": self.currency,
                "is_classic": self.is_classic,
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Wave business selected"),
                "message": _("Odoo now works with %(name)s.", name=self.name),
                "type": "success",
                # Back to the connection (the selection may be a full page).
                "next": {
                    "type": "ir.actions.act_window",
                    "res_model": "wave.api",
                    "res_id": connection.id,
                    "views": [[False, "form"]],
                    "target": "current",
                },
            },
        }
