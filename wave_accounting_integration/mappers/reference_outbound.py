# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Odoo contacts, products and taxes → Wave ``CustomerCreateInput``, ``ProductCreateInput``,
``SalesTaxCreateInput`` and their patches (the references an invoice needs)."""

from ..graphql.outbound import PRODUCT_ARCHIVE_MUTATION, PRODUCT_PATCH_MUTATION


def customer_address(partner):
    """Wave ``AddressInput`` of ``partner``, or None when it has no address."""
    if not (partner.street or partner.city or partner.zip):
        return None
    address = {
        "addressLine1": partner.street or None,
        "addressLine2": partner.street2 or None,
        "city": partner.city or None,
        "postalCode": partner.zip or None,
        "countryCode": partner.country_id.code or None,
    }
    return {key: value for key, value in address.items() if value}


def customer_input(partner, business_id, external_id):
    """``CustomerCreateInput``; the internal notes carry our marker for lookups."""
    vals = {
        "businessId": business_id,
        "name": partner.name,
        "internalNotes": partner.env._("Odoo ref %s", external_id),
    }
    if partner.email:
        vals["email"] = partner.email
    if partner.phone:
        vals["phone"] = partner.phone
    address = customer_address(partner)
    if address is not None:
        vals["address"] = address
    return vals


def customer_patch_input(partner):
    """``CustomerPatchInput`` of a customer exported earlier."""
    payload = {"id": partner.wave_id, "name": partner.name}
    if partner.email:
        payload["email"] = partner.email
    if partner.phone:
        payload["phone"] = partner.phone
    return payload


def product_input(product, business_id, income_account_id=None):
    """``ProductCreateInput``; ``income_account_id``: the mapped Wave income account."""
    vals = {
        "businessId": business_id,
        "name": product.display_name,
        "unitPrice": str(product.lst_price or 0.0),
    }
    if product.description_sale:
        vals["description"] = product.description_sale
    if income_account_id:
        vals["incomeAccountId"] = income_account_id
    return vals


def generic_product_input(business_id, name):
    """The Wave product of invoice lines without an Odoo product."""
    return {"businessId": business_id, "name": name, "unitPrice": "0"}


def product_patch_input(product):
    """``(mutation, input)`` updating (or archiving) a product exported earlier."""
    if not product.active:
        return PRODUCT_ARCHIVE_MUTATION, {"id": product.wave_id}
    return PRODUCT_PATCH_MUTATION, {
        "id": product.wave_id,
        "name": product.display_name,
        "unitPrice": str(product.lst_price or 0.0),
    }


def tax_abbreviation(tax):
    """Wave's sales-tax abbreviation of ``tax`` (unique in a Wave business)."""
    return (tax.invoice_label or tax.name or "TAX").replace(" ", "")[:10]


def tax_rate(tax):
    """Wave rate (a fraction, as text) of a percentage tax."""
    return str(round(tax.amount / 100.0, 6))


def sales_tax_input(tax, business_id):
    """``SalesTaxCreateInput`` of a percentage tax."""
    return {
        "businessId": business_id,
        "name": tax.name,
        "abbreviation": tax_abbreviation(tax),
        "rate": tax_rate(tax),
    }
