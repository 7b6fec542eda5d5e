# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave accounts, sales taxes and products -> Odoo values (pure functions)."""

from decimal import Decimal

from odoo import Command

from ..lib.dates import parse_wave_datetime

# Wave account subtype -> Odoo account type (Wave's subtype is more precise).
SUBTYPE_ACCOUNT_TYPE = {
    "CASH_AND_BANK": "asset_cash",
    "MONEY_IN_TRANSIT": "asset_current",
    "INVENTORY": "asset_current",
    "OTHER_CURRENT_ASSETS": "asset_current",
    "VENDOR_PREPAYMENTS_AND_CREDITS": "asset_prepayments",
    "RECEIVABLE": "asset_receivable",
    "RECEIVABLE_INVOICES": "asset_receivable",
    "RECEIVABLE_OTHER": "asset_current",
    "OTHER_LONG_TERM_ASSETS": "asset_non_current",
    "PROPERTY_PLANT_EQUIPMENT": "asset_fixed",
    "DEPRECIATION_AND_AMORTIZATION": "asset_fixed",
    "TRANSFERS": "asset_current",
    "UNKNOWN_ACCOUNT": "asset_current",
    "CREDIT_CARD": "liability_credit_card",
    "LOANS": "liability_non_current",
    "OTHER_CURRENT_LIABILITY": "liability_current",
    "OTHER_LONG_TERM_LIABILITY": "liability_non_current",
    "PAYABLE": "liability_payable",
    "PAYABLE_BILLS": "liability_payable",
    "PAYABLE_OTHER": "liability_current",
    "SALES_TAX": "liability_current",
    "DUE_FOR_PAYROLL": "liability_current",
    "DUE_TO_YOU_AND_OTHER_OWNERS": "liability_current",
    "CUSTOMER_PREPAYMENTS_AND_CREDITS": "liability_current",
    "SYSTEM_CUSTOMER_CREDITS": "liability_current",
    "NON_RETAINED_EARNINGS": "equity",
    "RETAINED_EARNINGS": "equity_unaffected",
    "INCOME": "income",
    "OTHER_INCOME": "income_other",
    "DISCOUNTS": "income",
    "GAIN_ON_FOREIGN_EXCHANGE": "income_other",
    "UNCATEGORIZED_INCOME": "income",
    "EXPENSE": "expense",
    "COST_OF_GOODS_SOLD": "expense_direct_cost",
    "PAYMENT_PROCESSING_FEES": "expense",
    "PAYROLL_EXPENSES": "expense",
    "LOSS_ON_FOREIGN_EXCHANGE": "expense",
    "UNCATEGORIZED_EXPENSE": "expense",
}
TYPE_ACCOUNT_TYPE = {
    "ASSET": "asset_current",
    "LIABILITY": "liability_current",
    "EQUITY": "equity",
    "INCOME": "income",
    "EXPENSE": "expense",
}
# Wave accounts payments can be received on: they get an Odoo journal.
PAYMENT_SUBTYPES = {"CASH_AND_BANK", "MONEY_IN_TRANSIT", "CREDIT_CARD"}
# First digit of the code of an Odoo account created for a Wave account.
ACCOUNT_CODE_PREFIX = {"asset": "1", "liability": "2", "equity": "3", "income": "4", "expense": "6"}


def account_subtype(node):
    """Wave's ``subtype`` value of an account node (None when absent)."""
    return (node.get("subtype") or {}).get("value")


def account_map_vals(node):
    """``wave.account.map`` values describing a Wave account node."""
    return {
        "wave_account_id": node["id"],
        "wave_account_name": node.get("name") or node["id"],
        "wave_account_type": (node.get("type") or {}).get("value") or False,
        "wave_account_subtype": account_subtype(node) or False,
        "wave_account_code": node.get("displayId") or False,
        "wave_currency": (node.get("currency") or {}).get("code") or False,
        "wave_sequence": node.get("sequence") or 0,
        "wave_archived": bool(node.get("isArchived")),
    }


def odoo_account_type(node):
    """The Odoo ``account_type`` of a Wave account: by subtype, else by type."""
    return SUBTYPE_ACCOUNT_TYPE.get(account_subtype(node)) or TYPE_ACCOUNT_TYPE.get(
        (node.get("type") or {}).get("value"), "asset_current"
    )


def new_account_vals(node, code, company):
    """Values of an Odoo account created for a Wave account (policy ``create``)."""
    account_type = odoo_account_type(node)
    return {
        "name": node.get("name") or node["id"],
        "code": code,
        "account_type": account_type,
        "company_ids": [Command.set(company.ids)],
        "reconcile": account_type in ("asset_receivable", "liability_payable"),
    }


def tax_rate_percent(node):
    """Wave's tax rate (a fraction, ``0.13``) as Odoo's percentage (``13.0``)."""
    return float(Decimal(str(node.get("rate") or 0)) * 100)


def tax_match_key(name, rate):
    """The key a Wave sales tax and an unbound Odoo tax are matched by."""
    return ((name or "").strip().lower(), round(rate, 4))


# Sequence of an Odoo tax made of a Wave compound tax: after the line's other taxes.
COMPOUND_TAX_SEQUENCE = 100


def tax_compound_vals(node):
    """How an Odoo tax computes to match Wave's ``isCompound`` ({} when Wave did not say).

    Wave computes every non-compound tax on the line amount alone and a compound tax on
    the line amount plus the line's non-compound taxes. In Odoo 18 this is: non-compound
    taxes "affect the base of subsequent taxes" (``include_base_amount``) but are never
    affected themselves (``is_base_affected`` off), so two non-compound taxes on a line
    still both use the line amount; a compound tax is affected (``is_base_affected``),
    affects nothing (so two compound taxes do not stack) and comes after the others
    (``sequence``). Flags on the shared tax rather than a second Odoo tax per context:
    one Odoo tax per Wave tax keeps the tax report and the mapping one-to-one, and the
    flags change no line without a compound tax.
    """
    if "isCompound" not in node:
        return {}
    if node.get("isCompound"):
        return {
            "include_base_amount": False,
            "is_base_affected": True,
            "sequence": COMPOUND_TAX_SEQUENCE,
        }
    return {"include_base_amount": True, "is_base_affected": False}


def new_tax_vals(wave_id, node, name, tax_account, template, company):
    """Values of an Odoo sales tax created for a Wave sales tax named ``name``."""
    repartition = [
        Command.create({"repartition_type": "base"}),
        Command.create({"repartition_type": "tax", "account_id": tax_account.id}),
    ]
    return {
        "name": name,
        "description": node.get("abbreviation") or False,
        "amount": tax_rate_percent(node),
        "amount_type": "percent",
        "type_tax_use": "sale",
        "company_id": company.id,
        "tax_group_id": template.tax_group_id.id or False,
        "country_id": template.country_id.id or company.account_fiscal_country_id.id,
        "invoice_repartition_line_ids": repartition,
        "refund_repartition_line_ids": list(repartition),
        "wave_id": wave_id,
        "wave_origin": "wave",
        "wave_modified_at": parse_wave_datetime(node.get("modifiedAt")),
        **tax_compound_vals(node),
    }


def product_binding_vals(wave_id, node, company):
    """The Wave binding of a product (set on a matched or a new product)."""
    return {
        "wave_id": wave_id,
        "wave_company_id": company.id,
        "wave_modified_at": parse_wave_datetime(node.get("modifiedAt")),
    }


def product_update_vals(node, product, modified):
    """Values that follow a product changed at Wave (archived there: archived here, so
    that no new Odoo invoice picks it; Wave refuses archived products on invoices)."""
    vals = {
        "name": node.get("name") or product.name,
        "list_price": float(node.get("unitPrice") or 0),
        "wave_modified_at": modified,
    }
    if "isArchived" in node:
        vals["active"] = not node["isArchived"]
    return vals


def new_product_vals(binding, name, node, tax_ids):
    """Values of a service product created for a Wave product."""
    return dict(
        binding,
        name=name,
        type="service",
        list_price=float(node.get("unitPrice") or 0),
        description_sale=node.get("description") or False,
        sale_ok=True,
        purchase_ok=bool(node.get("isBought")),
        taxes_id=[Command.set(tax_ids)],
        wave_origin="wave",
        # an archived Wave product (used by an old invoice) is archived in Odoo too
        active=not node.get("isArchived"),
    )
