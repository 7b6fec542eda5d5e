# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ProductProduct(models.Model):
    _name = "product.product"
    _inherit = ["product.product", "wave.binding.mixin"]
    # A variant's company lives on its template (not stored on the variant):
    # the sync stores the company of the Wave business it bound the product to.
    _wave_company_column = "wave_company_id"

    wave_company_id = fields.Many2one("res.company", copy=False, readonly=True, index=True)

    def init(self):
        super().init()
        self._wave_create_indexes()
