# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave invoices -> Odoo customer invoice (``out_invoice``) values (pure functions).

``refs`` are the Odoo records a page of Wave invoices was resolved to (see
``wave.invoice.importer._resolve_refs``): ``taxes``, ``products``, ``accounts``
(by Wave id), ``customers`` (Wave id -> ``wave.partner.map``), ``currencies``
(by code), ``discount_map`` (the map of Wave's DISCOUNTS account), ``journal``
(the sales journal) and ``suspense`` (the account of unmapped Wave accounts).

Lines keep Wave's quantity, unit price, taxes and account; Wave's invoice-level
discount (taxes are computed before it at Wave) becomes an untaxed negative
line on the mapped DISCOUNTS account. A foreign-currency invoice uses Wave's
``exchangeRate`` as its rate.
"""

from decimal import Decimal

from odoo import Command, fields
from odoo.tools import plaintext2html

from ..lib.dates import parse_wave_datetime
from ..lib.wave_versions import content_fingerprint

# Wave statuses of an invoice Odoo posts (DRAFT stays a draft).
POSTED_STATUSES = {"SAVED", "SENT", "VIEWED", "UNPAID", "PARTIAL", "PAID", "OVERPAID", "OVERDUE"}
# Field groups of the per-field conflict policy.
CONFLICT_GROUPS = ("amounts", "taxes", "partner", "other")
# Header fields a Wave change of the "other" group writes.
OTHER_GROUP_FIELDS = ("invoice_date", "invoice_date_due", "ref", "payment_reference", "narration")


def wave_text_as_html(text):
    """Text from Wave for an HTML field: escaped, so markup in it shows as text."""
    return plaintext2html(text) if text else False


def item_account_id(item):
    """The Wave account id of an invoice item (None when absent)."""
    return (item.get("account") or {}).get("id")


def item_tax_ids(item):
    """The Wave sales-tax ids of an invoice item."""
    return [(tax.get("salesTax") or {}).get("id") for tax in item.get("taxes") or []]


def discount_amount(node):
    """Wave's invoice-level discount (a :class:`Decimal`, zero without one)."""
    return Decimal((node.get("discountTotal") or {}).get("value") or "0")


def suspense_account_names(node, refs, discounts_label):
    """Names of the Wave accounts of ``node`` booked to the suspense account (unmapped)."""
    names = [
        (item.get("account") or {}).get("name") or "?"
        for item in node.get("items") or []
        if not refs["accounts"].get(item_account_id(item))
    ]
    if discount_amount(node) and not refs["discount_map"].account_id:
        names.append(refs["discount_map"].wave_account_name or discounts_label)
    return names


def product_line_vals(item, refs):
    """Odoo invoice line values of one Wave invoice item (its unmapped taxes left out)."""
    product = refs["products"].get((item.get("product") or {}).get("id"))
    account = refs["accounts"].get(item_account_id(item)) or refs["suspense"]
    taxes = [refs["taxes"][tax_id] for tax_id in item_tax_ids(item) if refs["taxes"].get(tax_id)]
    return {
        "product_id": product.id if product else False,
        "name": item.get("description") or (item.get("product") or {}).get("name") or "/",
        "quantity": float(item.get("quantity") or 0),
        "price_unit": float(item.get("unitPrice") or 0),
        "tax_ids": [Command.set([tax.id for tax in taxes])],
        "account_id": account.id,
    }


def discount_line_vals(node, refs, default_name):
    """The untaxed negative line of Wave's invoice discount, or None without one."""
    discount = discount_amount(node)
    if not discount:
        return None
    account = refs["discount_map"].account_id or refs["suspense"]
    names = [d.get("name") for d in node.get("discounts") or [] if d.get("name")]
    return {
        "product_id": False,
        "name": names[0] if names else default_name,
        "quantity": 1.0,
        "price_unit": -float(discount),
        "tax_ids": [Command.clear()],
        "account_id": account.id,
    }


def source_estimate_id(node):
    """The id of the Wave estimate an invoice was converted from, or None."""
    source = node.get("source") or {}
    return source.get("id") if source.get("__typename") == "Estimate" else None


def invoice_currency_rate(node):
    """Odoo's ``invoice_currency_rate`` from Wave's ``exchangeRate`` (None when unusable)."""
    rate = Decimal(str(node.get("exchangeRate") or "0"))
    return float(1 / rate) if rate > 0 else None


def invoice_vals(node, refs, company, discount_name):
    """``account.move`` create values of a Wave invoice ``node`` (already validated)."""
    currency = refs["currencies"][node["currency"]["code"]]
    lines = [product_line_vals(item, refs) for item in node.get("items") or []]
    discount = discount_line_vals(node, refs, discount_name)
    if discount:
        lines.append(discount)
    invoice_date = fields.Date.to_date(node["invoiceDate"])
    vals = {
        "move_type": "out_invoice",
        "company_id": company.id,
        "journal_id": refs["journal"].id,
        "partner_id": refs["customers"][node["customer"]["id"]].partner_id.id,
        "invoice_date": invoice_date,
        "invoice_date_due": fields.Date.to_date(node.get("dueDate")) or invoice_date,
        "invoice_payment_term_id": False,
        "currency_id": currency.id,
        "ref": node.get("poNumber") or False,
        "payment_reference": node.get("invoiceNumber") or False,
        "narration": wave_text_as_html(node.get("memo")),
        "invoice_line_ids": [Command.create(line) for line in lines],
        "wave_id": node["id"],
        "wave_origin": "wave",
        "wave_status": node.get("status"),
        "wave_modified_at": parse_wave_datetime(node.get("modifiedAt")),
        "wave_estimate_id": source_estimate_id(node) or False,
    }
    if currency != company.currency_id:
        vals["invoice_currency_rate"] = invoice_currency_rate(node)
    return vals


#: Keys of a Wave invoice that change without its content changing.
VOLATILE_INVOICE_KEYS = frozenset(
    {"modifiedAt", "status", "amountDue", "amountPaid", "lastSentAt", "lastSentVia",
     "lastViewedAt", "payments", "pdfUrl", "viewUrl"}
)  # fmt: skip


def wave_version_key(node):
    """A fingerprint of a Wave invoice's content: tells two versions apart when Odoo
    holds their change times to the same second (see ``lib/wave_versions``)."""
    return content_fingerprint(node, VOLATILE_INVOICE_KEYS)


def snapshot_from_vals(vals):
    """The snapshot (see ``account.move._wave_snapshot``) invoice ``vals`` would give."""
    lines = [cmd[2] for cmd in vals["invoice_line_ids"] if cmd[0] == Command.CREATE]
    return {
        "partner": vals["partner_id"],
        "amounts": [vals["currency_id"]]
        + [
            [
                line.get("product_id") or False,
                round(line["quantity"], 6),
                round(line["price_unit"], 6),
            ]
            for line in lines
        ],
        "taxes": [
            sorted(line["tax_ids"][0][2]) if line["tax_ids"][0][0] == Command.SET else []
            for line in lines
        ],
        "accounts": [line["account_id"] for line in lines],
        "other": [
            fields.Date.to_string(vals["invoice_date"]),
            fields.Date.to_string(vals["invoice_date_due"]),
            vals.get("ref") or False,
            vals.get("payment_reference") or False,
        ],
    }


def line_update_commands(move, vals, apply):
    """Commands replacing ``move``'s lines by Wave's; Odoo's taxes stay when they win.

    ``apply``: the conflict groups where Wave's version is applied.
    """
    new_lines = [dict(cmd[2]) for cmd in vals["invoice_line_ids"]]
    old_lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
    if "taxes" not in apply:
        for index, line in enumerate(new_lines):
            if index < len(old_lines):
                line["tax_ids"] = [Command.set(old_lines[index].tax_ids.ids)]
    if "amounts" not in apply and "taxes" not in apply and len(old_lines) == len(new_lines):
        # only the accounts change (a mapping was fixed)
        return [
            Command.update(old.id, {"account_id": new["account_id"]})
            for old, new in zip(old_lines, new_lines, strict=True)
        ]
    return [Command.delete(line.id) for line in move.invoice_line_ids] + [
        Command.create(line) for line in new_lines
    ]
