# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""An Odoo customer payment's share of one invoice → Wave ``InvoicePaymentCreateManualInput``."""

from odoo import fields

from .invoice_outbound import exchange_rate

#: Odoo journal type → Wave payment method.
PAYMENT_METHODS = {"cash": "CASH", "bank": "BANK_TRANSFER", "credit": "CREDIT_CARD"}


def payment_input(payment, invoice, external_id, wave_account_id, amount, business_currency):
    """The payment of ``amount`` (invoice currency) on ``invoice``; the memo carries our marker."""
    return {
        "invoiceId": invoice.wave_id,
        "paymentAccountId": wave_account_id,
        "amount": f"{amount:.{invoice.currency_id.decimal_places}f}",
        "paymentDate": fields.Date.to_string(payment.date),
        "paymentMethod": PAYMENT_METHODS.get(payment.journal_id.type, "OTHER"),
        "exchangeRate": exchange_rate(invoice, business_currency) or "1",
        "memo": f"{payment.name} [{external_id}]",
    }
