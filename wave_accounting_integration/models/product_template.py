# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``product.template``: a change of an exported product's template is sent to Wave."""

from odoo import models

from .product_product import TRACKED_PRODUCT_FIELDS


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        result = super().write(vals)
        if TRACKED_PRODUCT_FIELDS & set(vals):
            variants = self.with_context(active_test=False).product_variant_ids
            self.env["wave.outbound.runner"]._enqueue_changed_products(variants)
        return result
