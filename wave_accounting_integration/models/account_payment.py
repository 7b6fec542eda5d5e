# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "wave.binding.mixin"]

    def init(self):
        super().init()
        self._wave_create_indexes()
