# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A posted Odoo customer invoice → Wave ``InvoiceCreateInput`` (and how Wave's answer reads).

One function per part: the invoice lines Wave receives, one line's item (unit price
after the line discount, exact to the cent: Wave only has an invoice-level discount),
the invoice itself, the groups of fields that changed between two exports, and the
saga step a Wave invoice reached. What cannot be exported is decided before mapping
(``wave.invoice.exporter``).
"""

from decimal import ROUND_HALF_UP, Decimal

from odoo import fields

from ..graphql.outbound import INVOICE_MARK_SENT_MUTATION, INVOICE_SEND_MUTATION


def invoice_product_lines(move):
    """The lines of ``move`` that become Wave invoice items (product lines)."""
    return move.invoice_line_ids.filtered(lambda line: line.display_type == "product")


def exact_unit_price(currency, quantity, price_unit, discount, subtotal):
    """Unit price without tax and after a line discount, exact to the cent: the
    discounted price when quantity × price rounds to ``subtotal``, else subtotal / qty."""
    quantity = Decimal(str(quantity))
    subtotal = Decimal(str(currency.round(subtotal)))
    price = Decimal(str(price_unit)) * (1 - Decimal(str(discount or 0)) / 100)
    exponent = Decimal(1).scaleb(-currency.decimal_places)
    # Half up, as Odoo's currency rounding and Wave do (Decimal's default is half even).
    if (quantity * price).quantize(exponent, ROUND_HALF_UP) == subtotal.quantize(exponent):
        return str(price.normalize())
    return str((subtotal / quantity).quantize(Decimal("0.0000000001")).normalize())


def unit_price(line):
    """Unit price without tax and after the line discount, exact to the cent."""
    return exact_unit_price(
        line.currency_id, line.quantity, line.price_unit, line.discount, line.price_subtotal
    )


def item_input(line, quantity, price, taxes, generic_product_id):
    """A Wave item input (invoice or estimate) of one line: its product (lines without
    product: the generic one), description, quantity, unit price and sales taxes."""
    return {
        "productId": line.product_id.wave_id or generic_product_id,
        "description": line.name or line.product_id.display_name or "",
        "quantity": str(Decimal(str(quantity)).normalize()),
        "unitPrice": price,
        "taxes": [{"salesTaxId": tax.wave_id} for tax in taxes],
    }


def invoice_item(line, generic_product_id):
    """``InvoiceCreateItemInput`` of one product line."""
    taxes = line.tax_ids.flatten_taxes_hierarchy()
    return item_input(line, line.quantity, unit_price(line), taxes, generic_product_id)


def invoice_items(move, generic_product_id, lines=None):
    """The items of ``move`` (of its ``lines``, default all its product lines; lines
    without quantity are left out)."""
    return [
        invoice_item(line, generic_product_id)
        for line in (invoice_product_lines(move) if lines is None else lines)
        if line.quantity
    ]


def estimate_discount_lines(move, discount_product):
    """The lines of ``move`` that carry a Wave estimate's discount (as the estimate
    import maps it: untaxed, negative, the company's discount product)."""
    if not discount_product:
        return move.invoice_line_ids.browse()
    return invoice_product_lines(move).filtered(
        lambda line: (
            line.product_id == discount_product
            and not line.tax_ids
            and line.currency_id.compare_amounts(line.price_subtotal, 0) < 0
        )
    )


def discount_input(lines):
    """``InvoiceDiscountInput`` of an invoice's estimate discount lines: one FIXED
    discount of their amount (Wave applies it after the taxes, as Odoo's untaxed line)."""
    currency = lines[:1].currency_id
    amount = currency.round(-sum(lines.mapped("price_subtotal")))
    names = [name for name in lines.mapped("name") if name]
    discount = {"discountType": "FIXED", "amount": str(Decimal(str(amount)))}
    if names:
        discount["name"] = names[0][:255]
    return discount


def exchange_rate(move, business_currency):
    """Wave's exchange rate of a document in a foreign currency, else None."""
    if move.currency_id.name != business_currency and move.invoice_currency_rate:
        return str(round(1.0 / move.invoice_currency_rate, 6))
    return None


def invoice_input(move, business_id, items, business_currency):
    """``InvoiceCreateInput`` of a posted customer invoice (created as a Wave DRAFT)."""
    payload = {
        "businessId": business_id,
        "customerId": move.commercial_partner_id.wave_id,
        "status": "DRAFT",
        "invoiceNumber": move.name,
        "invoiceDate": fields.Date.to_string(move.invoice_date),
        "dueDate": fields.Date.to_string(move.invoice_date_due or move.invoice_date),
        "currency": move.currency_id.name,
        "items": items,
    }
    if move.ref:
        payload["poNumber"] = move.ref[:100]
    rate = exchange_rate(move, business_currency)
    if rate:
        payload["exchangeRate"] = rate
    return payload


def invoice_patch_input(payload, wave_id):
    """``InvoicePatchInput``: the create input of an exported invoice, on its Wave id."""
    patch = dict(payload)
    patch.pop("businessId", None)
    patch["id"] = wave_id
    return patch


def _payload_groups(payload):
    items = payload.get("items") or []
    return {
        "partner": payload.get("customerId"),
        "amounts": (
            payload.get("currency"),
            payload.get("exchangeRate"),
            [(i.get("productId"), i.get("quantity"), i.get("unitPrice")) for i in items],
            [(d.get("discountType"), d.get("amount")) for d in payload.get("discounts") or []],
        ),
        "taxes": [sorted(t.get("salesTaxId") or "" for t in i.get("taxes") or []) for i in items],
        "other": (
            payload.get("invoiceNumber"),
            payload.get("invoiceDate"),
            payload.get("dueDate"),
            payload.get("poNumber"),
            [i.get("description") for i in items],
        ),
    }


def changed_groups(before, after):
    """Conflict-policy groups (``amounts``, ``taxes``, ``partner``, ``other``) of the
    fields that differ between two ``InvoiceCreateInput`` payloads."""
    if not before:
        return {"amounts"}
    old, new = _payload_groups(before), _payload_groups(after)
    return {group for group in new if old[group] != new[group]}


def saga_step_of(node):
    """Saga step reached by a Wave invoice, from its status."""
    if not node:
        return "none"
    if node.get("status") == "DRAFT":
        return "created"
    if node.get("lastSentAt") or node.get("status") in ("SENT", "VIEWED", "PAID", "OVERPAID"):
        return "sent"
    return "approved"


def invoice_send_input(wave_id, email):
    """``(mutation, input)`` of the saga's last step: email the invoice, or mark it sent."""
    if email:
        return INVOICE_SEND_MUTATION, {"invoiceId": wave_id, "to": [email], "attachPDF": True}
    return INVOICE_MARK_SENT_MUTATION, {"invoiceId": wave_id, "sendMethod": "MARKED_SENT"}
