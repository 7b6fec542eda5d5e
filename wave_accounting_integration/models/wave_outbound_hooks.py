# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Where Odoo documents enter the outbound sync: posting, reset, cancel, payments.

The hooks only enqueue queue jobs (identity keys avoid duplicates); the work
runs in the jobs. Nothing is enqueued for records imported from Wave, nor
while the sync itself writes (context ``wave_no_outbound`` or ``wave_source``).
"""

from odoo import api, models

CUSTOMER_FIELDS = {"name", "email", "phone", "street", "street2", "city", "zip", "country_id"}
PRODUCT_FIELDS = {"name", "list_price", "lst_price", "active"}


def _outbound_allowed(env):
    return not (env.context.get("wave_no_outbound") or env.context.get("wave_source"))


def _connections_for(env, companies):
    """``{company: connection}`` of the companies whose connection exports."""
    result = {}
    for company in companies:
        connection = env["wave.api"].sudo()._for_company(company)  # sudo: any poster enqueues
        if connection and connection._outbound_ready():
            result[company] = connection
    return result


def _enqueue_by_company(records, method="_outbound_job_export", only_on_post=False):
    if not records or not _outbound_allowed(records.env):
        return
    connections = _connections_for(records.env, records.mapped("company_id"))
    for company, connection in connections.items():
        if only_on_post and not connection.export_on_post:
            continue
        todo = records.filtered(lambda r, c=company: r.company_id == c)
        if todo:
            connection._outbound_enqueue(todo._name, todo.ids, method=method)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        exportable = posted.filtered(
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
        _enqueue_by_company(exportable, only_on_post=True)
        return posted

    def button_draft(self):
        exported = self.filtered(lambda m: m.wave_origin == "odoo" and m.wave_id)
        result = super().button_draft()
        _enqueue_by_company(exported, method="_outbound_job_invoice_reset")
        return result

    def button_cancel(self):
        exported = self.filtered(lambda m: m.wave_origin == "odoo" and m.wave_id)
        result = super().button_cancel()
        _enqueue_by_company(exported, method="_outbound_job_invoice_reset")
        return result


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        result = super().action_post()
        if not self.env.context.get("wave_payment_register"):
            _enqueue_by_company(self.filtered(lambda p: p.wave_origin != "wave"))
        return result

    def action_draft(self):
        exported = self.filtered(lambda p: p.wave_origin == "odoo")
        result = super().action_draft()
        _enqueue_by_company(exported, method="_outbound_job_payment_undo")
        return result

    def action_cancel(self):
        exported = self.filtered(lambda p: p.wave_origin == "odoo")
        result = super().action_cancel()
        _enqueue_by_company(exported, method="_outbound_job_payment_undo")
        return result


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        # Enqueue once the payments are reconciled with their invoices.
        payments = super(
            AccountPaymentRegister, self.with_context(wave_payment_register=True)
        )._create_payments()
        _enqueue_by_company(payments.filtered(lambda p: p.wave_origin != "wave"))
        return payments


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        payments = moves.origin_payment_id.filtered(lambda p: p.wave_origin == "odoo")
        result = super().unlink()
        _enqueue_by_company(payments.exists(), method="_outbound_job_payment_undo")
        return result


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        result = super().write(vals)
        if CUSTOMER_FIELDS & set(vals) and _outbound_allowed(self.env):
            exported = self.filtered(lambda p: p.wave_origin == "odoo" and p.wave_id)
            if exported:
                for connection in _connections_for(self.env, self.env.company).values():
                    connection._outbound_enqueue(exported._name, exported.ids)
        return result


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model
    def _outbound_product_changed(self, products):
        exported = products.filtered(lambda p: p.wave_origin == "odoo" and p.wave_id)
        if not exported or not _outbound_allowed(self.env):
            return
        for company, connection in _connections_for(self.env, exported.wave_company_id).items():
            todo = exported.filtered(lambda p, c=company: p.wave_company_id == c)
            connection._outbound_enqueue(todo._name, todo.ids)

    def write(self, vals):
        result = super().write(vals)
        if PRODUCT_FIELDS & set(vals):
            self._outbound_product_changed(self.with_context(active_test=False))
        return result


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        result = super().write(vals)
        if PRODUCT_FIELDS & set(vals):
            variants = self.with_context(active_test=False).product_variant_ids
            self.env["product.product"]._outbound_product_changed(variants)
        return result
