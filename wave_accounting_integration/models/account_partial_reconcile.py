# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.partial.reconcile``: an exported payment unreconciled in Odoo is undone in Wave."""

from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        payments = moves.origin_payment_id.filtered(lambda p: p.wave_origin == "odoo")
        result = super().unlink()
        self.env["wave.outbound.runner"]._enqueue_records(
            payments.exists(), method="_job_undo_payments"
        )
        return result
