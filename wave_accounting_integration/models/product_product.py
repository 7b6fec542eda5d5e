# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``product.product`` for the Wave sync: its binding to Wave, and the changes of an
exported product that are sent to Wave."""

from odoo import fields, models

#: Product fields that Wave's product holds: a change is exported.
TRACKED_PRODUCT_FIELDS = {"name", "list_price", "lst_price", "active"}


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

    def write(self, vals):
        result = super().write(vals)
        if TRACKED_PRODUCT_FIELDS & set(vals):
            self.env["wave.outbound.runner"]._enqueue_changed_products(
                self.with_context(active_test=False)
            )
        return result
