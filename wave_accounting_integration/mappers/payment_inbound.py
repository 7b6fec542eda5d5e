# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave invoice payments -> Odoo ``account.payment`` values (pure functions)."""

from decimal import Decimal

from odoo import Command, fields

from ..lib.dates import parse_wave_datetime

# Wave ``InvoicePayment.state`` values of a payment that no longer counts.
VOIDED_STATES = {"VOIDED", "VOID", "REVERSED", "CANCELLED", "CANCELED", "FAILED"}


def payment_voided(wave_payment):
    """True when a Wave payment was voided or reversed (``active: false`` or such a state):
    it no longer counts in the invoice's paid amount."""
    if wave_payment.get("active") is False:
        return True
    return (wave_payment.get("state") or "").upper() in VOIDED_STATES


def payment_is_refund(wave_payment):
    """True for a refund: money given back to the customer (``transactionType: REFUND``)."""
    return (wave_payment.get("transactionType") or "").upper() == "REFUND"


def refund_origin_id(wave_payment):
    """The Wave id of the payment a refund gives back, if Wave says."""
    return (wave_payment.get("originInvoicePayment") or {}).get("id")


def payment_changed(payment, wave_payment):
    """True when the Wave payment differs from the Odoo ``payment`` made of it."""
    if payment.payment_type != ("outbound" if payment_is_refund(wave_payment) else "inbound"):
        return True
    modified = parse_wave_datetime(wave_payment.get("modifiedAt"))
    if modified and payment.wave_modified_at and modified > payment.wave_modified_at:
        return True
    return payment.currency_id.compare_amounts(
        payment.amount, float(wave_payment.get("amount") or 0)
    ) != 0 or fields.Date.to_string(payment.date) != wave_payment.get("paymentDate")


def payment_memo(move, wave_payment):
    """ "INV/2026/0001 Bank Transfer <Wave memo>" ("INV/2026/0001 Refund ..." for a refund)."""
    method = (wave_payment.get("paymentMethod") or "").replace("_", " ").title()
    kind = "Refund" if payment_is_refund(wave_payment) else ""
    return " ".join(filter(None, [move.name, kind, method, wave_payment.get("memo")]))


def payment_vals(move, wave_payment, journal, invoice_node, company):
    """Values of the customer payment of Wave ``wave_payment`` on invoice ``move``.

    A foreign-currency payment is booked at Wave's exchange rate (``force_balance``).
    A refund is an outbound customer payment (money back to the customer).
    """
    amount = Decimal(str(wave_payment.get("amount") or "0"))
    receivable = move.line_ids.filtered(
        lambda line: line.account_id.account_type == "asset_receivable"
    )[:1].account_id
    refund = payment_is_refund(wave_payment)
    vals = {
        # a refund gives money back: an outbound customer payment on the receivable
        "payment_type": "outbound" if refund else "inbound",
        "partner_type": "customer",
        "partner_id": move.commercial_partner_id.id,
        "company_id": company.id,
        "journal_id": journal.id,
        "amount": float(amount),
        "currency_id": move.currency_id.id,
        "date": wave_payment.get("paymentDate") or move.invoice_date,
        "memo": payment_memo(move, wave_payment),
        "destination_account_id": receivable.id,
        # the invoice stays listed with its payments even when a refund takes a payment
        # back (its reconciliation is then with the refund, not the invoice)
        "invoice_ids": [Command.set(move.ids)],
        "wave_id": wave_payment["id"],
        "wave_invoice_id": invoice_node["id"],
        "wave_origin": "wave",
        "wave_modified_at": parse_wave_datetime(wave_payment.get("modifiedAt")),
    }
    if move.currency_id != company.currency_id:
        rate = Decimal(str(wave_payment.get("exchangeRate") or invoice_node.get("exchangeRate")))
        vals["force_balance"] = company.currency_id.round(float(amount * rate))
    return vals
