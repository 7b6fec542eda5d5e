# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.payment`` for the Wave sync: its binding to Wave, the Wave invoice a payment
was on, and where payments enter the export (posted: exported; reset or cancelled:
undone in Wave)."""

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

    def action_post(self):
        result = super().action_post()
        # Payments of the register wizard are enqueued once reconciled with their invoices.
        if not self.env.context.get("wave_payment_register"):
            self.env["wave.outbound.runner"]._enqueue_records(
                self.filtered(lambda p: p.wave_origin != "wave")
            )
        return result

    def action_draft(self):
        exported = self.filtered(lambda p: p.wave_origin == "odoo")
        result = super().action_draft()
        self.env["wave.outbound.runner"]._enqueue_records(exported, method="_job_undo_payments")
        return result

    def action_cancel(self):
        exported = self.filtered(lambda p: p.wave_origin == "odoo")
        result = super().action_cancel()
        self.env["wave.outbound.runner"]._enqueue_records(exported, method="_job_undo_payments")
        return result
