# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""An Odoo quotation (``sale.order``) → Wave ``EstimateCreateInput`` / ``EstimatePatchInput``,
and how far a Wave estimate got (pure functions).

Items keep the product, description, quantity and taxes; the unit price is the one
after the line discount, exact to the cent (as for invoices: Wave's discounts are
estimate-level). Odoo's order state → the steps Odoo takes in Wave:

==================  ==========================================================
Odoo ``sale.order``  Wave estimate (mutations, in order)
==================  ==========================================================
quotation sent      ``estimateCreate`` (DRAFT) → ``estimateApprove`` (APPROVED)
                    → ``estimateMarkSent`` (SENT; or ``estimateSend``: Wave's email)
sales order         the same, then ``estimateMarkAccepted`` (ACCEPTED)
==================  ==========================================================
"""

from decimal import ROUND_HALF_UP, Decimal

from odoo import fields

from ..graphql.outbound import ESTIMATE_MARK_SENT_MUTATION, ESTIMATE_SEND_MUTATION
from .invoice_outbound import exact_unit_price, item_input

#: The steps of an exported estimate, in order (``wave.outbound.ledger.saga_step``).
STEPS = ("none", "created", "approved", "sent", "accepted")


def order_product_lines(orders):
    """The lines of ``orders`` that become Wave estimate items (sections and notes aside)."""
    return orders.order_line.filtered(lambda line: not line.display_type)


def estimate_item(line, generic_product_id):
    """``EstimateCreateItemInput`` of one order line."""
    price = exact_unit_price(
        line.currency_id, line.product_uom_qty, line.price_unit, line.discount, line.price_subtotal
    )
    taxes = line.tax_id.flatten_taxes_hierarchy()
    return item_input(line, line.product_uom_qty, price, taxes, generic_product_id)


def exchange_rate(order, business_currency):
    """Wave's rate (estimate currency → business currency) of a foreign-currency order."""
    if order.currency_id.name != business_currency and order.currency_rate:
        return str(round(1.0 / order.currency_rate, 6))
    return None


def estimate_input(order, business_id, generic_product_id, business_currency):
    """``EstimateCreateInput`` of a quotation (Wave creates it as a DRAFT)."""
    estimate_date = fields.Date.context_today(order, order.date_order)
    due_date = max(order.validity_date or estimate_date, estimate_date)
    payload = {
        "businessId": business_id,
        "customerId": order.partner_id.commercial_partner_id.wave_id,
        "estimateNumber": order.name,
        "estimateDate": fields.Date.to_string(estimate_date),
        "dueDate": fields.Date.to_string(due_date),
        "currency": order.currency_id.name,
        "items": [
            estimate_item(line, generic_product_id)
            for line in order_product_lines(order)
            if line.product_uom_qty
        ],
    }
    if order.client_order_ref:
        payload["poNumber"] = order.client_order_ref[:100]
    rate = exchange_rate(order, business_currency)
    if rate:
        payload["exchangeRate"] = rate
    return payload


def estimate_patch_input(payload, wave_id, status, rate):
    """``EstimatePatchInput``: the create input on the Wave id. Wave requires the
    status (restated: a patch cannot move it), the title and the exchange rate."""
    patch = dict(payload)
    patch.pop("businessId", None)
    patch.update({"id": wave_id, "status": status, "title": patch.get("title") or "Estimate"})
    patch.setdefault("exchangeRate", rate or "1")
    return patch


def step_of(node):
    """The step a Wave estimate reached, from its status."""
    status = (node or {}).get("status")
    if not status:
        return "none"
    if status == "DRAFT":
        return "created"
    if status == "APPROVED":
        return "approved"
    if status in ("ACCEPTED", "CONVERTED"):
        return "accepted"
    return "sent"  # SENT, VIEWED, and what the customer does after (REJECTED, EXPIRED)


def estimate_send_input(wave_id, email):
    """``(mutation, input)`` of the sending step: Wave emails the estimate to ``email``,
    or marks it sent (Odoo sent the quotation)."""
    if email:
        return ESTIMATE_SEND_MUTATION, {"estimateId": wave_id, "to": [email], "attachPDF": True}
    return ESTIMATE_MARK_SENT_MUTATION, {"estimateId": wave_id, "sendMethod": "MARKED_SENT"}


def target_step(order):
    """The step an Odoo order's state asks for in Wave."""
    if order.state == "sale":
        return "accepted"
    if order.state == "sent":
        return "sent"
    return "created"


def _billed_item(item):
    """``(product, quantity, amount, taxes)`` of an item input or node: the quantity by
    value ("3" = "3.00"), the amount (quantity × unit price) to the cent, half up, as Odoo
    and Wave round it (the unit price of an Odoo line is the exact one that gives its
    amount: 1.5 × 19.99 and 1.5 × 19.9933333333 both bill 29.99)."""
    try:
        quantity = Decimal(str(item.get("quantity")))
        amount = (quantity * Decimal(str(item.get("unitPrice")))).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        quantity = quantity.normalize()
    except ArithmeticError:  # (decimal.InvalidOperation: not a number) never the same
        quantity, amount = item.get("quantity"), item.get("unitPrice")
    taxes = tuple(sorted(t.get("salesTaxId") or "" for t in item.get("taxes") or []))
    return (item.get("productId") or "", str(quantity), str(amount), taxes)


def _billed_items(payload):
    return sorted(_billed_item(item) for item in (payload or {}).get("items") or [])


def billed_discount(payload):
    """The estimate-level discount an input bills (its FIXED discounts; an estimate read
    from Wave: its ``discountTotal``), to the cent; 0 without one."""
    payload = payload or {}
    try:
        if "discountTotal" in payload:
            amount = Decimal(str(payload["discountTotal"] or 0))
        else:
            amount = sum(
                (
                    Decimal(str(d.get("amount") or 0))
                    for d in payload.get("discounts") or []
                    if d.get("discountType") == "FIXED"
                ),
                Decimal(0),
            )
    except ArithmeticError:
        return None
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def billed_payload_of(node):
    """What a Wave estimate read from Wave bills, in the shape of our input (customer,
    currency, items, and its discount: Wave's ``discountTotal``, FIXED or PERCENTAGE),
    for ``bills_whole_estimate``."""
    if not node:
        return None
    return {
        "customerId": (node.get("customer") or {}).get("id"),
        "currency": (node.get("currency") or {}).get("code"),
        "discountTotal": (node.get("discountTotal") or {}).get("value") or "0",
        "items": [
            {
                "productId": (item.get("product") or {}).get("id"),
                "quantity": item.get("quantity"),
                "unitPrice": item.get("unitPrice"),
                "taxes": [
                    {"salesTaxId": (t.get("salesTax") or {}).get("id")}
                    for t in item.get("taxes") or []
                ],
            }
            for item in node.get("items") or []
        ],
    }


def bills_whole_estimate(invoice_payload, estimate_payload):
    """Whether an invoice's Wave input bills exactly what the estimate asked for: same
    customer and currency, the same items (product, quantity, amount to the cent, taxes)
    and the same discount to the cent. Then Wave's conversion of the estimate gives the
    invoice's own amounts, to the cent."""
    if not estimate_payload:
        return False
    discount = billed_discount(invoice_payload)
    return (
        invoice_payload.get("customerId") == estimate_payload.get("customerId")
        and invoice_payload.get("currency") == estimate_payload.get("currency")
        and _billed_items(invoice_payload) == _billed_items(estimate_payload)
        and discount is not None
        and discount == billed_discount(estimate_payload)
    )
