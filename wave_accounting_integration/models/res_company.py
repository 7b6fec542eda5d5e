# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``res.company``: the Wave connections of a company (one active at a time)."""

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    wave_connection_ids = fields.One2many("wave.api", "company_id", string="Wave Connections")
