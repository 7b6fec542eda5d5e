# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.tax``: its binding to a Wave sales tax (``wave_id``, unique per company)."""

from odoo import models


class AccountTax(models.Model):
    _name = "account.tax"
    _inherit = ["account.tax", "wave.binding.mixin"]

    def init(self):
        super().init()
        self._wave_create_indexes()
