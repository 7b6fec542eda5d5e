# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``res.partner`` for the Wave sync: its Wave customer and vendor ids, and the
changes of an exported customer that are sent to Wave."""

from odoo import fields, models

#: Contact fields that Wave's customer holds: a change is exported.
TRACKED_CUSTOMER_FIELDS = {
    "name",
    "email",
    "phone",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
}


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

    def write(self, vals):
        result = super().write(vals)
        if TRACKED_CUSTOMER_FIELDS & set(vals):
            self.env["wave.outbound.runner"]._enqueue_changed_partners(self)
        return result
