# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.move`` for the Wave sync: its binding to Wave, and where invoices and
entries enter the export (posting, reset to draft, cancel: jobs are enqueued, the
work runs in ``wave.outbound.runner`` / ``wave.invoice.saga``)."""

from odoo import models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "wave.binding.mixin"]

    def init(self):
        super().init()
        self._wave_create_indexes()

    def _wave_exportable(self):
        """Customer invoices, credit notes and plain entries not imported from Wave."""
        return self.filtered(
            lambda m: (
                m.wave_origin != "wave"
                and (
                    m.move_type in ("out_invoice", "out_refund")
                    or (
                        m.move_type == "entry"
                        and not m.origin_payment_id
                        and not m.statement_line_id
                    )
                )
            )
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        self.env["wave.outbound.runner"]._enqueue_records(
            posted._wave_exportable(), only_on_post=True
        )
        return posted

    def button_draft(self):
        exported = self.filtered(lambda m: m.wave_origin == "odoo" and m.wave_id)
        result = super().button_draft()
        self.env["wave.outbound.runner"]._enqueue_records(exported, method="_job_reset_invoices")
        return result

    def button_cancel(self):
        exported = self.filtered(lambda m: m.wave_origin == "odoo" and m.wave_id)
        result = super().button_cancel()
        self.env["wave.outbound.runner"]._enqueue_records(exported, method="_job_reset_invoices")
        return result
