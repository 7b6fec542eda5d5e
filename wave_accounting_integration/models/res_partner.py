# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResPartner(models.Model):
    """A contact can be a Wave customer and a Wave vendor at once: two ids."""

    _name = "res.partner"
    _inherit = ["res.partner", "wave.binding.mixin"]
    _wave_id_fields = ("wave_id", "wave_vendor_id")

    wave_id = fields.Char(string="Wave Customer ID")
    wave_vendor_id = fields.Char(string="Wave Vendor ID", index=True, copy=False, readonly=True)

    def init(self):
        super().init()
        self._wave_create_indexes()
