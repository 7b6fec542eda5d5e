# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Choose the Wave business when the token sees several of them."""

from odoo import _, api, fields, models

from ..lib.text import no_doubled_period


class WaveBusinessSelect(models.TransientModel):
    _name = "wave.business.select"
    _description = "Choose the Wave Business"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade")
    line_ids = fields.One2many("wave.business.select.line", "wizard_id", string="Businesses")
    current_business_name = fields.Char(related="connection_id.business_name")
    linked_invoice_count = fields.Integer(compute="_compute_linked_counts")
    linked_payment_count = fields.Integer(compute="_compute_linked_counts")
    linked_contact_count = fields.Integer(compute="_compute_linked_counts")
    linked_title = fields.Char(string="Already linked", compute="_compute_linked_counts")
    linked_detail = fields.Char(string="Linked records", compute="_compute_linked_counts")
    confirm_switch = fields.Boolean(
        string="I understand",
        help="Needed to choose another business while invoices, payments or contacts are "
        "linked to the current one.",
    )

    def _compute_display_name(self):
        # The page title when the selection opens as a full page (OAuth callback).
        for wizard in self:
            wizard.display_name = _("Choose the Wave business")

    @api.depends("connection_id")
    def _compute_linked_counts(self):
        for wizard in self:
            counts = (
                wizard.connection_id._wave_linked_counts()
                if wizard.connection_id
                else dict.fromkeys(("invoices", "payments", "contacts"), 0)
            )
            wizard.linked_invoice_count = counts["invoices"]
            wizard.linked_payment_count = counts["payments"]
            wizard.linked_contact_count = counts["contacts"]
            # "Data is already linked to Acme Widgets Inc." (one period after "Inc.")
            wizard.linked_title = no_doubled_period(
                _("Data is already linked to %(name)s.", name=wizard.current_business_name or "-")
            )
            wizard.linked_detail = (
                _(
                    "%(invoices)s, %(payments)s and %(contacts)s of this company came from or "
                    "were sent to that business.",
                    **wizard.connection_id._wave_linked_words(counts),
                )
                if wizard.connection_id
                else False
            )

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
            },
            confirmed=self.wizard_id.confirm_switch,
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Wave business selected"),
                "message": _("Odoo now syncs with the Wave business %(name)s", name=self.name),
                "type": "success",
                # Back to the connection (the selection may be a full page).
                "next": {
                    "type": "ir.actions.act_window",
                    "res_model": "wave.api",
                    "res_id": connection.id,
                    "views": [[False, "form"]],
                    "target": "main",
                },
            },
        }
