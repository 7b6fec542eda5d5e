# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave customers and vendors and the Odoo contacts they match."""

from odoo import _, fields, models
from odoo.exceptions import UserError

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
        return True

    def action_reject(self):
        self.write({"state": "rejected", "partner_id": False})
        return True
