# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Odoo bill payments and journal entries → Wave ``MoneyTransactionCreateInput``.

Amounts are unsigned: the anchor carries its ``direction`` and each line item
a ``balance`` of INCREASE/DECREASE relative to the Wave account's normal
balance (debit for assets and expenses, credit for liabilities, equity and
income; inverted for the contra subtypes DISCOUNTS and
DEPRECIATION_AND_AMORTIZATION), so that the transaction balances.

The account mappings (``wave.account.map`` rows) are resolved and checked by
``wave.money.exporter`` before these functions run; what only shows while
computing (a tax without Wave id, nothing left to export) raises :class:`CannotExport`.
"""

from decimal import ROUND_HALF_UP, Decimal

from odoo import fields

ANCHOR_SUBTYPES = {"CASH_AND_BANK", "MONEY_IN_TRANSIT", "CREDIT_CARD", "LOANS"}
CONTRA_SUBTYPES = {"DISCOUNTS", "DEPRECIATION_AND_AMORTIZATION"}
DEBIT_NORMAL_TYPES = {"ASSET", "EXPENSE"}
LIABILITY_SUBTYPES = {"CREDIT_CARD", "LOANS"}


class CannotExport(Exception):
    """The record cannot be turned into a money transaction (reason in the message)."""


def balance_type(mapping, debit):
    """INCREASE/DECREASE for a debit (``debit=True``) or credit on a mapped Wave account."""
    wave_type = mapping.wave_account_type
    if not wave_type:
        wave_type = "LIABILITY" if mapping.wave_account_subtype in LIABILITY_SUBTYPES else "ASSET"
    normal_debit = wave_type in DEBIT_NORMAL_TYPES
    if mapping.wave_account_subtype in CONTRA_SUBTYPES:
        normal_debit = not normal_debit
    return "INCREASE" if debit == normal_debit else "DECREASE"


def to_amount(value, currency):
    """``value`` rounded half-up to ``currency``'s cents, as a Decimal."""
    exponent = Decimal(1).scaleb(-currency.decimal_places)
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def bill_line_taxes(line, bill, ratio):
    """Wave ``taxes`` of one bill line, for the paid share ``ratio`` of the bill."""
    if not line.tax_ids:
        return []
    currency = bill.currency_id
    details = line.tax_ids.compute_all(
        line.price_unit * (1 - (line.discount or 0.0) / 100.0),
        currency=currency,
        quantity=line.quantity,
        product=line.product_id,
        partner=bill.partner_id,
    )
    taxes = []
    for tax_data in details["taxes"]:
        tax = line.env["account.tax"].browse(tax_data["id"])
        tax_amount = to_amount(abs(tax_data["amount"]) * float(ratio), currency)
        if not tax.wave_id:
            raise CannotExport(line.env._("The tax %s has no Wave sales tax.", tax.display_name))
        if tax_amount:
            taxes.append({"salesTaxId": tax.wave_id, "amount": str(tax_amount)})
    return taxes


def bill_line_item(line, bill, mapping, ratio):
    """``(item, debit)`` of one bill line's paid share, or None when nothing is left."""
    gross = to_amount(abs(line.price_total) * float(ratio), bill.currency_id)
    if not gross:
        return None
    debit = line.balance > 0
    item = {
        "accountId": mapping.wave_account_id,
        "amount": gross,
        "balance": balance_type(mapping, debit),
        "description": (line.name or bill.name)[:255],
    }
    taxes = bill_line_taxes(line, bill, ratio)
    if taxes:
        item["taxes"] = taxes
    return item, debit


def bill_payment_transaction(payment, bill, amount, anchor_map, maps):
    """The money transaction of ``payment``'s ``amount`` on ``bill`` (cash basis).

    ``anchor_map``: the payment journal's Wave account; ``maps``: ``{account: map}``
    of every product line's account. The last line absorbs the rounding cents.
    """
    env = payment.env
    total = to_amount(amount, bill.currency_id)
    ratio = Decimal(str(amount)) / Decimal(str(bill.amount_total or 1))
    lines = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
    items = [bill_line_item(line, bill, maps[line.account_id], ratio) for line in lines]
    items = [item for item in items if item]
    if not items:
        raise CannotExport(env._("Bill %s has no line to export.", bill.name))
    signed = sum(
        (item["amount"] if debit else -item["amount"] for item, debit in items), Decimal(0)
    )
    out = payment.payment_type == "outbound"
    diff = (total if out else -total) - signed
    item, debit = items[-1]
    item["amount"] += diff if debit else -diff
    if item["amount"] <= 0:
        raise CannotExport(env._("The payment does not match the bill's lines."))
    return {
        "date": fields.Date.to_string(payment.date),
        "description": env._("%(payment)s for %(bill)s", payment=payment.name, bill=bill.name)[
            :255
        ],
        "notes": bill.ref or None,
        "anchor": {
            "accountId": anchor_map.wave_account_id,
            "amount": str(total),
            "direction": "WITHDRAWAL" if out else "DEPOSIT",
        },
        "lineItems": [dict(i, amount=str(i["amount"])) for i, _d in items],
    }


def entry_line_item(line, move, mapping, currency):
    """Line item of one non-anchor line of a journal entry."""
    return {
        "accountId": mapping.wave_account_id,
        "amount": str(to_amount(abs(line.balance), currency)),
        "balance": balance_type(mapping, line.balance > 0),
        "description": (line.name or move.name)[:255],
    }


def entry_transaction(move, lines, anchor, maps):
    """The money transaction of a journal entry: ``anchor`` (its one bank/card/loan line)
    against the other ``lines``; ``maps``: ``{account: map}`` of every line's account."""
    currency = move.company_id.currency_id
    return {
        "date": fields.Date.to_string(move.date),
        "description": (move.ref or move.name)[:255],
        "anchor": {
            "accountId": maps[anchor.account_id].wave_account_id,
            "amount": str(to_amount(abs(anchor.balance), currency)),
            "direction": "DEPOSIT" if anchor.balance > 0 else "WITHDRAWAL",
        },
        "lineItems": [
            entry_line_item(line, move, maps[line.account_id], currency) for line in lines - anchor
        ],
    }
