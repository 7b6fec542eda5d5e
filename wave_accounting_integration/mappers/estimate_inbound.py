# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave estimates -> Odoo quotations (``sale.order``) values (pure functions).

``refs`` are those of a page of Wave invoices (``wave.invoice.importer._resolve_refs``:
taxes, products, customers, currencies) plus ``pricelists`` (by currency code) and
``discount_product`` (the company's sale discount product).

Lines keep Wave's product, description, quantity, unit price and taxes. Wave computes
taxes before its estimate-level discount: the discount is an untaxed negative line
(the company's discount product), so Odoo's total is Wave's to the cent.

Wave ``EstimateStatus`` -> Odoo order:

==================  ==========================================================
Wave                Odoo ``sale.order``
==================  ==========================================================
DRAFT, APPROVED     quotation (``draft``)
SENT, VIEWED        quotation sent (``sent``)
ACCEPTED            sales order (``sale``), or a sent quotation marked
                    "accepted in Wave" (setting *When Wave says accepted*)
CONVERTED           sales order (``sale``); Wave's invoice is linked to it
REJECTED, EXPIRED   cancelled, with the reason
DELETED             cancelled (deleted in Wave)
==================  ==========================================================
"""

from decimal import Decimal

from odoo import Command, fields

from ..lib.dates import parse_wave_datetime
from .invoice_inbound import discount_amount, item_tax_ids, wave_text_as_html

QUOTATION_STATUSES = ("DRAFT", "APPROVED")
SENT_STATUSES = ("SENT", "VIEWED")
CONFIRMED_STATUSES = ("ACCEPTED", "CONVERTED")
CANCELLED_STATUSES = ("REJECTED", "EXPIRED", "DELETED")
ESTIMATE_STATUSES = QUOTATION_STATUSES + SENT_STATUSES + CONFIRMED_STATUSES + CANCELLED_STATUSES


def target_state(status, accept_policy):
    """``(sale.order state, accepted in Wave)`` for a Wave estimate status.

    ``accept_policy``: ``"confirm"`` (an accepted estimate is a confirmed order) or
    ``"mark"`` (it stays a sent quotation, marked accepted). A converted estimate is
    always confirmed: Wave invoiced it.
    """
    if status in QUOTATION_STATUSES:
        return "draft", False
    if status in SENT_STATUSES:
        return "sent", False
    if status == "ACCEPTED":
        return ("sale", True) if accept_policy == "confirm" else ("sent", True)
    if status == "CONVERTED":
        return "sale", True
    return "cancel", False


def order_line_vals(item, refs):
    """Sale order line values of one Wave estimate item."""
    product = refs["products"].get((item.get("product") or {}).get("id"))
    taxes = [refs["taxes"][tax_id] for tax_id in item_tax_ids(item) if refs["taxes"].get(tax_id)]
    return {
        "product_id": product.id if product else False,
        "name": item.get("description") or (item.get("product") or {}).get("name") or "/",
        "product_uom_qty": float(item.get("quantity") or 0),
        "price_unit": float(item.get("unitPrice") or 0),
        "discount": 0.0,
        "tax_id": [Command.set([tax.id for tax in taxes])],
    }


def discount_line_vals(node, refs, default_name):
    """The untaxed negative line of Wave's estimate discount, or None without one."""
    discount = discount_amount(node)
    if not discount:
        return None
    names = [d.get("name") for d in node.get("discounts") or [] if d.get("name")]
    return {
        "product_id": refs["discount_product"].id,
        "name": names[0] if names else default_name,
        "product_uom_qty": 1.0,
        "price_unit": -float(discount),
        "discount": 0.0,
        "tax_id": [Command.clear()],
    }


def line_vals_list(node, refs, discount_name):
    lines = [order_line_vals(item, refs) for item in node.get("items") or []]
    discount = discount_line_vals(node, refs, discount_name)
    if discount:
        lines.append(discount)
    return lines


def wave_rate(node):
    """Wave's ``exchangeRate`` (estimate currency -> business currency), 0 when absent."""
    return float(Decimal(str(node.get("exchangeRate") or "0")))


def header_vals(node, refs):
    """The order fields Wave's estimate sets (lines and state aside)."""
    code = node["currency"]["code"]
    estimate_date = fields.Date.to_date(node["estimateDate"])
    return {
        "partner_id": refs["customers"][node["customer"]["id"]].partner_id.id,
        "pricelist_id": refs["pricelists"][code].id,
        "date_order": fields.Datetime.to_datetime(estimate_date),
        "validity_date": fields.Date.to_date(node.get("dueDate")) or False,
        "client_order_ref": node.get("poNumber") or False,
        "note": wave_text_as_html(node.get("memo")),
        "wave_estimate_number": node.get("estimateNumber") or False,
        "wave_status": node.get("status"),
        "wave_exchange_rate": wave_rate(node),
        "wave_deposit_total": float((node.get("depositTotal") or {}).get("value") or 0),
        "wave_modified_at": parse_wave_datetime(node.get("modifiedAt")),
    }


def order_vals(node, refs, company, discount_name):
    """``sale.order`` create values of a Wave estimate ``node`` (already validated)."""
    vals = header_vals(node, refs)
    vals.update(
        {
            "company_id": company.id,
            "order_line": [
                Command.create(line) for line in line_vals_list(node, refs, discount_name)
            ],
            "wave_id": node["id"],
            "wave_origin": "wave",
        }
    )
    return vals


def lines_fingerprint(lines):
    """What Odoo compares to tell whether Wave changed an estimate's lines."""
    return [
        (
            line.get("product_id") or False,
            line.get("name"),
            round(line["product_uom_qty"], 6),
            round(line["price_unit"], 6),
            sorted(line["tax_id"][0][2]) if line["tax_id"][0][0] == Command.SET else [],
        )
        for line in lines
    ]


def order_fingerprint(order):
    """``lines_fingerprint`` of an existing order's lines (sections and notes aside)."""
    return [
        (
            line.product_id.id or False,
            line.name,
            round(line.product_uom_qty, 6),
            round(line.price_unit, 6),
            sorted(line.tax_id.ids),
        )
        for line in order.order_line.filtered(lambda line: not line.display_type)
    ]


def invoice_line_links(invoice_lines, order_lines, discount_product):
    """``[(invoice line, order line)]`` pairing the lines of an invoice converted from an
    estimate with those of the estimate's order: product lines in order, then Wave's
    discount line with the order's discount line."""
    invoice_products = invoice_lines.filtered(lambda line: line.product_id)
    order_products = order_lines.filtered(lambda line: line.product_id != discount_product)
    pairs = list(zip(invoice_products, order_products, strict=False))
    pairs += list(zip(invoice_lines - invoice_products, order_lines - order_products, strict=False))
    return pairs
