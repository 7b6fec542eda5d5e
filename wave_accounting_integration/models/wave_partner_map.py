# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave customers and vendors and the Odoo contacts they match."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..mappers.partner_inbound import new_partner_vals, partner_id_field

MATCH_METHODS = [
    ("wave_id", "Wave ID"),
    ("email", "Email"),
    ("vat", "Tax number"),
    ("name", "Exact name"),
    ("fuzzy", "Fuzzy name"),
    ("created", "Created"),
    ("manual", "Manual"),
]


class WavePartnerMap(models.Model):
    _name = "wave.partner.map"
    _description = "Wave Contact Mapping"
    _inherit = ["wave.server.fields.mixin"]
    _order = "state, wave_name, id"
    _rec_name = "wave_name"

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    wave_type = fields.Selection([("customer", "Customer"), ("vendor", "Vendor")], required=True)
    wave_id = fields.Char(string="Wave ID", required=True, index=True)
    wave_name = fields.Char(required=True)
    wave_email = fields.Char()
    partner_id = fields.Many2one("res.partner", string="Odoo Contact", index=True)
    candidate_partner_ids = fields.Many2many(
        "res.partner", string="Candidates", help="Contacts that matched equally well."
    )
    review_reason = fields.Char(
        string="Why to review",
        readonly=True,
        help="Why this Wave contact was not linked on its own.",
    )
    match_method = fields.Selection(MATCH_METHODS)
    match_score = fields.Float(help="Similarity of the names, 0 to 100.")
    state = fields.Selection(
        [("matched", "Matched"), ("review", "To review"), ("rejected", "Rejected")],
        default="review",
        required=True,
        index=True,
    )

    _sql_constraints = [
        (
            "wave_partner_uniq",
            "unique(connection_id, wave_type, wave_id)",
            "A Wave contact can be mapped only once per connection.",
        ),
        (
            "score_range",
            "CHECK(match_score >= 0 AND match_score <= 100)",
            "A match score is between 0 and 100.",
        ),
    ]

    def action_confirm(self):
        for mapping in self:
            if not mapping.partner_id:
                raise UserError(_("Choose the Odoo contact of %s first.", mapping.wave_name))
        self.write({"state": "matched", "match_method": "manual"})
        return self._after_contact_fix()

    def action_reject(self):
        self.write({"state": "rejected", "partner_id": False})
        return True

    @api.model
    def action_accept_all_suggestions(self):
        """Confirm every contact waiting for review that has a suggested contact."""
        mappings = self.search([("state", "=", "review"), ("partner_id", "!=", False)])
        if not mappings:
            raise UserError(_("No suggested contact waits for review."))
        mappings.write({"state": "matched", "match_method": "manual"})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _("%s suggested contacts accepted.", len(mappings)),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_create_contact(self):
        """Create an Odoo contact from the Wave customer or vendor and link it."""
        self._wave_check_button_access()
        # sudo: a Wave user may lack the right to create contacts; the contact is made
        # from the Wave customer or vendor as the sync would (its creation policy),
        # in the mapping's own company, checked above (Wave user, own company).
        Partner = self.env["res.partner"].sudo()
        for mapping in self:
            if mapping.partner_id and mapping.state == "matched":
                raise UserError(_("%s already has its Odoo contact.", mapping.wave_name))
            node = {"id": mapping.wave_id, "name": mapping.wave_name, "email": mapping.wave_email}
            vals = new_partner_vals(mapping.company_id, mapping.wave_type, node)
            # The Wave id stays on the contact it already belongs to, if any.
            if Partner.with_context(active_test=False).search_count(
                [(partner_id_field(mapping.wave_type), "=", mapping.wave_id)], limit=1
            ):
                vals.pop(partner_id_field(mapping.wave_type))
            partner = Partner.create(vals)
            self.env["wave.audit.log"]._log_many(
                partner, "create", {"name": partner.name, "email": partner.email or False}
            )
            mapping.write({"partner_id": partner.id, "state": "matched", "match_method": "created"})
        return self._after_contact_fix()

    def _after_contact_fix(self):
        """Opened from a quarantined record: replay it and say how it went."""
        quarantine_id = self.env.context.get("wave_replay_quarantine_id")
        if not quarantine_id:
            return True
        entry = self.env["wave.quarantine"].browse(quarantine_id).exists()
        if not entry or entry.state != "open":
            return {"type": "ir.actions.act_window_close"}
        action = entry.with_context(wave_replay_quarantine_id=False).action_replay()
        action["params"]["next"] = {"type": "ir.actions.act_window_close"}
        return action
