# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.payment`` extensions: the Wave binding and the Wave invoice a payment was on."""

from odoo import fields, models


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "wave.binding.mixin"]

    # Inbound: set on the payments imported from Wave.
    wave_invoice_id = fields.Char(
        string="Wave Invoice ID",
        index=True,
        copy=False,
        readonly=True,
        help="The Wave invoice this payment was recorded on.",
    )

    def init(self):
        super().init()
        self._wave_create_indexes()
