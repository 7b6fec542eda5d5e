# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.payment.register``: payments it creates enter the Wave export once
they are reconciled with their invoices."""

from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        payments = super(
            AccountPaymentRegister, self.with_context(wave_payment_register=True)
        )._create_payments()
        self.env["wave.outbound.runner"]._enqueue_records(
            payments.filtered(lambda p: p.wave_origin != "wave")
        )
        return payments
