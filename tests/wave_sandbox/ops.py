"""Business rules of the sandbox: creating/patching Wave objects and posting them to the ledger.

Both the GraphQL resolvers and the data generator go through these functions, so generated
data obeys the same rules as data written through the API.  Failures raise
:class:`InputErrors`, which resolvers turn into ``didSucceed: false`` + ``inputErrors``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .store import (
    CONTRA_SUBTYPES,
    Account,
    Address,
    Business,
    Customer,
    Estimate,
    EstimatePayment,
    EstimateSource,
    Invoice,
    InvoiceDiscount,
    InvoiceItem,
    InvoiceItemTax,
    InvoicePayment,
    LedgerTransaction,
    MoneyTransaction,
    Product,
    SalesTax,
    SalesTaxRate,
    ShippingDetails,
    State,
    User,
    Vendor,
    business_estimates,
    currency,
    decode_id,
    global_id,
    to_minor,
)

# Static exchange rates (1 unit of key currency in USD).  Assumption: Wave uses market rates.
USD_RATES = {
    "USD": Decimal(1),
    "CAD": Decimal("0.73"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "AUD": Decimal("0.66"),
    "MXN": Decimal("0.058"),
    "JPY": Decimal("0.0067"),
    "CHF": Decimal("1.13"),
    "SEK": Decimal("0.095"),
    "EEK": Decimal("0.069"),
}
PRICE_STEP = Decimal("0.00001")  # Product.unitPrice: 5 decimals, ties away from zero
RATE_STEP = Decimal("0.000001")  # SalesTax rate: 6 decimals, ties away from zero
LINE_STEP = Decimal("0.00000001")  # invoice line quantity / unitPrice: 8 decimals

DEFAULT_CHART = [
    ("Cash on Hand", "CASH_AND_BANK"),
    ("Checking Account", "CASH_AND_BANK"),
    ("Payment Processor Clearing", "MONEY_IN_TRANSIT"),
    ("Accounts Receivable", "RECEIVABLE_INVOICES"),
    ("Inventory", "INVENTORY"),
    ("Prepaid Expenses", "OTHER_CURRENT_ASSETS"),
    ("Accounts Payable", "PAYABLE_BILLS"),
    ("Other Payables", "PAYABLE_OTHER"),
    ("Business Credit Card", "CREDIT_CARD"),
    ("Bank Loan", "LOANS"),
    ("Customer Credits", "CUSTOMER_PREPAYMENTS_AND_CREDITS"),
    ("Owner Investment / Drawings", "NON_RETAINED_EARNINGS"),
    ("Retained Earnings", "RETAINED_EARNINGS"),
    ("Sales", "INCOME"),
    ("Consulting Income", "INCOME"),
    ("Discounts", "DISCOUNTS"),
    ("Interest Income", "OTHER_INCOME"),
    ("Uncategorized Income", "UNCATEGORIZED_INCOME"),
    ("Gain on Foreign Exchange", "GAIN_ON_FOREIGN_EXCHANGE"),
    ("Cost of Goods Sold", "COST_OF_GOODS_SOLD"),
    ("Office Supplies", "EXPENSE"),
    ("Rent Expense", "EXPENSE"),
    ("Software Subscriptions", "EXPENSE"),
    ("Bank Service Charges", "PAYMENT_PROCESSING_FEES"),
    ("Payroll - Salary & Wages", "PAYROLL_EXPENSES"),
    ("Uncategorized Expense", "UNCATEGORIZED_EXPENSE"),
    ("Loss on Foreign Exchange", "LOSS_ON_FOREIGN_EXCHANGE"),
]
ANCHOR_SUBTYPES = {"CASH_AND_BANK", "MONEY_IN_TRANSIT", "CREDIT_CARD", "LOANS"}
PAYMENT_ACCOUNT_SUBTYPES = {"CASH_AND_BANK", "MONEY_IN_TRANSIT", "CREDIT_CARD"}
INCOME_SUBTYPES = {"INCOME", "DISCOUNTS", "OTHER_INCOME"}
EXPENSE_SUBTYPES = {"EXPENSE", "COST_OF_GOODS_SOLD", "PAYMENT_PROCESSING_FEES", "PAYROLL_EXPENSES"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InputErrors(Exception):
    """Business-rule failure(s): list of ``{"code","message","path"}``."""

    def __init__(self, *errors):
        super().__init__(errors[0]["message"] if errors else "invalid input")
        self.errors = list(errors)


def err(code: str, message: str, *path) -> InputErrors:
    return InputErrors(
        {"code": code, "message": message, "path": ["input", *[str(p) for p in path]]}
    )


def exchange_rate(src: str, dst: str) -> Decimal:
    if src == dst:
        return Decimal(1)
    return (USD_RATES.get(src, Decimal(1)) / USD_RATES.get(dst, Decimal(1))).quantize(
        Decimal("0.000001")
    )


def as_decimal(value, path, *, positive=False, max_dp=None) -> Decimal:
    try:
        dec = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise err("INVALID", f"'{value}' is not a valid decimal.", *path) from None
    if not dec.is_finite():
        raise err("INVALID", "Amount must be finite.", *path)
    if positive and dec <= 0:
        raise err("INVALID", "Amount must be a positive (unsigned) number.", *path)
    if (
        max_dp is not None
        and -dec.as_tuple().exponent > max_dp
        and dec != dec.quantize(Decimal(1).scaleb(-max_dp))
    ):
        raise err("INVALID", f"Amount cannot have more than {max_dp} decimal places.", *path)
    return dec


# --------------------------------------------------------------------------- users/businesses


def create_user(state: State, email: str, first: str, last: str) -> User:
    user = state.register(User())
    user.default_email, user.first_name, user.last_name = email, first, last
    state.users.append(user)
    return user


def create_business(
    state: State,
    user: User,
    name: str,
    currency_code: str = "USD",
    country_code: str = "US",
    province_code: str | None = None,
    *,
    classic: bool = False,
    email_send_enabled: bool = True,
    when: dt.datetime | None = None,
) -> Business:
    b = state.register(Business(), when=when)
    b.business = b
    b.name, b.is_archived, b.is_personal = name, False, False
    b.is_classic_accounting = b.is_classic_invoicing = classic
    b.email_send_enabled, b.currency_code = email_send_enabled, currency_code
    b.address = Address("100 Main St", None, "Springfield", country_code, "00000", province_code)
    b.timezone = "America/Toronto" if country_code == "CA" else "America/New_York"
    b.phone, b.website, b.organizational_type = None, None, "CORPORATION"
    b.accounts, b.customers, b.vendors, b.products, b.sales_taxes = [], [], [], [], []
    b.invoices, b.money_transactions, b.extra_transactions = [], [], []
    b.next_invoice_number, b.invoice_version, b.sort_cache = 1, 0, {}
    b.estimates, b.next_estimate_number = [], 1
    b.by_customer, b.account_cache = {}, {}
    b.owner_id, b.payment_terms_days = user.id, 30
    for acc_name, subtype in DEFAULT_CHART:
        _new_account(state, b, acc_name, subtype, when=when)
    state.businesses.append(b)
    return b


def system_account(b: Business, subtype: str, name: str | None = None) -> Account:
    """First (or named) account of ``subtype``; memoised per business."""
    key = (subtype, name)
    acc = b.account_cache.get(key)
    if acc is not None:
        return acc
    for acc in b.accounts:
        if acc.subtype_value == subtype and (name is None or acc.name == name):
            b.account_cache[key] = acc
            return acc
    raise LookupError(subtype)


def _new_account(
    state,
    b,
    name,
    subtype,
    currency_code=None,
    description=None,
    display_id=None,
    can_archive=True,
    when=None,
) -> Account:
    acc = state.register(Account(), b, when=when)
    acc.name, acc.subtype_value, acc.description, acc.display_id = (
        name,
        subtype,
        description,
        display_id,
    )
    acc.currency_code = currency_code or b.currency_code
    acc.is_archived, acc.sequence, acc.can_archive, acc.balance_minor = False, 1, can_archive, 0
    b.accounts.append(acc)
    return acc


def create_account(state, b, data) -> Account:
    name = (data.get("name") or "").strip()
    if not name:
        raise err("REQUIRED", "Name is required.", "name")
    if any(a.name == name and not a.is_archived for a in b.accounts):
        raise err("DUPLICATE", f"An account named '{name}' already exists.", "name")
    restrictions = data.get("restrictions") or {}
    return _new_account(
        state,
        b,
        name,
        data["subtype"],
        data.get("currency"),
        data.get("description"),
        data.get("displayId"),
        restrictions.get("canArchive", True) is not False,
    )


def patch_account(state, acc: Account, data) -> Account:
    if data["sequence"] != acc.sequence:
        raise err(
            "STALE", f"Account has been modified (current sequence {acc.sequence}).", "sequence"
        )
    for key, attr in (
        ("name", "name"),
        ("description", "description"),
        ("displayId", "display_id"),
    ):
        if key in data and data[key] is not None:
            setattr(acc, attr, data[key])
    acc.sequence += 1
    state.touch(acc)
    return acc


def archive_account(state, acc: Account) -> None:
    if acc.subtype.system_created or not acc.can_archive:
        raise err("INVALID", "This account cannot be archived.", "id")
    acc.is_archived = True
    acc.sequence += 1
    state.touch(acc)


# --------------------------------------------------------------------------- contacts

_CONTACT_FIELDS = (
    ("displayId", "display_id"),
    ("email", "email"),
    ("fax", "fax"),
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("internalNotes", "internal_notes"),
    ("mobile", "mobile"),
    ("phone", "phone"),
    ("tollFree", "toll_free"),
    ("website", "website"),
    ("currency", "currency_code"),
    ("name", "name"),
)


def _apply_contact(c, data, patch=False):
    for key, attr in _CONTACT_FIELDS:
        if key in data and (data[key] is not None or not patch):
            setattr(c, attr, data[key])
        elif not patch:
            setattr(c, attr, None)
    if "address" in data:
        c.address = Address.from_input(data["address"])
    elif not patch:
        c.address = None
    if "shippingDetails" in data:
        c.shipping_details = (
            ShippingDetails(data["shippingDetails"]) if data["shippingDetails"] else None
        )
    elif not patch:
        c.shipping_details = None


def _check_contact(data, patch):
    if "name" in data and (data["name"] is None and patch):
        return
    if "name" in data and not (data["name"] or "").strip():
        raise err("REQUIRED", "Name is required.", "name")
    if data.get("email") and not EMAIL_RE.match(data["email"]):
        raise err("INVALID", "Enter a valid email address.", "email")


def create_customer(state, b, data, cls=Customer, when=None):
    _check_contact(data, False)
    c = state.register(cls(), b, when=when)
    _apply_contact(c, data)
    c.is_archived, c.deleted = False, False
    (b.customers if cls is Customer else b.vendors).append(c)
    return c


def patch_customer(state, c, data):
    _check_contact(data, True)
    _apply_contact(c, data, patch=True)
    state.touch(c)
    return c


def delete_customer(state, c):
    if any(not inv.deleted for inv in c.business.by_customer.get(c.id, ())):
        raise err("INVALID", "Customers with invoices cannot be deleted.", "id")
    c.deleted = True
    c.business.customers.remove(c)
    state.touch(c)


def create_vendor(state, b, data, when=None):
    return create_customer(state, b, data, cls=Vendor, when=when)


# --------------------------------------------------------------------------- products / taxes


def _product_refs(state, b, data):
    out = {}
    if data.get("defaultSalesTaxIds") is not None:
        taxes = []
        for i, tid in enumerate(data["defaultSalesTaxIds"]):
            tax = state.get(tid, SalesTax, b)
            if tax is None:
                raise err(
                    "NOT_FOUND", f"Sales tax '{tid}' could not be found.", "defaultSalesTaxIds", i
                )
            taxes.append(tax)
        out["default_sales_taxes"] = taxes
    for key, attr, allowed in (
        ("incomeAccountId", "income_account", INCOME_SUBTYPES),
        ("expenseAccountId", "expense_account", EXPENSE_SUBTYPES),
    ):
        if data.get(key) is not None:
            acc = state.get(data[key], Account, b)
            if acc is None:
                raise err("NOT_FOUND", f"Account '{data[key]}' could not be found.", key)
            if acc.subtype_value not in allowed:
                raise err("INVALID", f"Account subtype must be one of {sorted(allowed)}.", key)
            out[attr] = acc
    return out


def create_product(state, b, data, when=None):
    if not (data.get("name") or "").strip():
        raise err("REQUIRED", "Name is required.", "name")
    price = as_decimal(data["unitPrice"], ["unitPrice"]).quantize(PRICE_STEP, ROUND_HALF_UP)
    refs = _product_refs(state, b, data)
    p = state.register(Product(), b, when=when)
    p.name, p.unit_price, p.description = data["name"], price, data.get("description")
    p.default_sales_taxes = refs.get("default_sales_taxes", [])
    p.income_account = refs.get("income_account")
    p.expense_account = refs.get("expense_account")
    if p.income_account is None and p.expense_account is None:
        p.income_account = system_account(b, "INCOME")
    p.is_archived = False
    b.products.append(p)
    return p


def patch_product(state, p, data):
    refs = _product_refs(state, p.business, data)
    if data.get("name") is not None:
        if not data["name"].strip():
            raise err("REQUIRED", "Name is required.", "name")
        p.name = data["name"]
    if data.get("unitPrice") is not None:
        p.unit_price = as_decimal(data["unitPrice"], ["unitPrice"]).quantize(
            PRICE_STEP, ROUND_HALF_UP
        )
    if "description" in data:
        p.description = data["description"]
    for attr, value in refs.items():
        setattr(p, attr, value)
    state.touch(p)
    return p


def archive_product(state, p):
    p.is_archived = True
    state.touch(p)
    return p


def create_sales_tax(state, b, data, when=None):
    abbr = (data.get("abbreviation") or "").strip()
    _check_abbreviation(b, abbr)
    rate = as_decimal(data["rate"], ["rate"])
    if rate < 0 or rate >= 1:
        raise err("INVALID", "Rate must be a fraction between 0 and 1 (0.15 = 15%).", "rate")
    t = state.register(SalesTax(), b, when=when)
    t.name, t.abbreviation, t.description = data["name"], abbr, data.get("description")
    t.is_archived = False
    t.is_compound, t.is_recoverable = bool(data.get("isCompound")), bool(data.get("isRecoverable"))
    t.show_tax_number_on_invoices = bool(data.get("showTaxNumberOnInvoices"))
    t.tax_number = data.get("taxNumber")
    t.rates = [SalesTaxRate(dt.date(2000, 1, 1), rate.quantize(RATE_STEP, ROUND_HALF_UP))]
    t.account = _new_account(
        state, b, f"{data['name']} Payable", "SALES_TAX", can_archive=False, when=when
    )
    b.sales_taxes.append(t)
    return t


def _check_abbreviation(b, abbr, tax=None):
    if not abbr or len(abbr) > 10:
        raise err(
            "INVALID", "Abbreviation is required and must be at most 10 characters.", "abbreviation"
        )
    if any(t.abbreviation.lower() == abbr.lower() and t is not tax for t in b.sales_taxes):
        raise err(
            "DUPLICATE", f"A sales tax with abbreviation '{abbr}' already exists.", "abbreviation"
        )


def _tax_rates(rates_in):
    """``rates`` of ``salesTaxPatch``: the whole effective-dated history, replaced."""
    if not rates_in:
        raise err("REQUIRED", "At least one rate is required.", "rates")
    rates, seen = [], set()
    for i, data in enumerate(rates_in):
        rate = as_decimal(data["rate"], ["rates", i, "rate"])
        if rate < 0 or rate >= 1:
            raise err("INVALID", "Rate must be a fraction in [0, 1).", "rates", i, "rate")
        if data["effective"] in seen:
            raise err("DUPLICATE", "Two rates have the same date.", "rates", i, "effective")
        seen.add(data["effective"])
        rates.append(SalesTaxRate(data["effective"], rate.quantize(RATE_STEP, ROUND_HALF_UP)))
    return sorted(rates, key=lambda r: r.effective)


def patch_sales_tax(state, t: SalesTax, data) -> SalesTax:
    """``salesTaxPatch``.  ASSUMPTION: invoices keep the tax amounts they were computed with;
    a new rate applies to invoices created or edited afterwards, by invoice date."""
    if data.get("name") is not None and not data["name"].strip():
        raise err("REQUIRED", "Name is required.", "name")
    if data.get("abbreviation") is not None:
        _check_abbreviation(t.business, data["abbreviation"].strip(), t)
    rates = _tax_rates(data["rates"]) if data.get("rates") is not None else None
    if data.get("name") is not None:
        t.name = data["name"]
    if data.get("abbreviation") is not None:
        t.abbreviation = data["abbreviation"].strip()
    for key, attr in (
        ("description", "description"),
        ("taxNumber", "tax_number"),
        ("showTaxNumberOnInvoices", "show_tax_number_on_invoices"),
    ):
        if key in data:
            setattr(t, attr, data[key])
    if rates is not None:
        t.rates = rates
    state.touch(t)
    return t


def archive_sales_tax(state, t: SalesTax) -> SalesTax:
    """``salesTaxArchive``: hidden from ``salesTaxes`` (default ``isArchived: false``), still
    readable by id and on the invoices that used it; no longer usable on new lines."""
    t.is_archived = True
    state.touch(t)
    return t


# --------------------------------------------------------------------------- invoices


def _build_items(state, b, inv, items_in):
    items = []
    for i, data in enumerate(items_in):
        product = state.get(data.get("productId"), Product, b)
        if product is None:
            raise err(
                "NOT_FOUND",
                "Each invoice line needs an existing product (productId).",
                "items",
                i,
                "productId",
            )
        if product.is_archived:
            raise err("INVALID", "Archived products cannot be invoiced.", "items", i, "productId")
        item = InvoiceItem()
        item.product = product
        item.account = product.income_account or system_account(b, "INCOME")
        item.description = data.get("description", product.description)
        qty = data.get("quantity")
        item.quantity = Decimal(1) if qty is None else _line_decimal(qty, ["items", i, "quantity"])
        price = data.get("unitPrice")
        item.unit_price = (
            product.unit_price if price is None else _line_decimal(price, ["items", i, "unitPrice"])
        )
        item.code = inv.currency_code
        taxes = data.get("taxes")
        if taxes is None:  # ASSUMPTION: archived default taxes are left out
            tax_objs = [t for t in product.default_sales_taxes if not t.is_archived]
        else:
            tax_objs = []
            for j, tdata in enumerate(taxes):
                tax = state.get(tdata.get("salesTaxId"), SalesTax, b)
                if tax is None:
                    raise err(
                        "NOT_FOUND",
                        "Sales tax could not be found.",
                        "items",
                        i,
                        "taxes",
                        j,
                        "salesTaxId",
                    )
                if tax.is_archived:
                    raise err(
                        "INVALID",
                        "Archived sales taxes cannot be used.",
                        "items",
                        i,
                        "taxes",
                        j,
                        "salesTaxId",
                    )
                tax_objs.append(tax)
        item.taxes = []
        for tax in tax_objs:
            t = InvoiceItemTax()
            t.sales_tax, t.code, t.amount_minor, t.rate = tax, inv.currency_code, 0, None
            item.taxes.append(t)
        items.append(item)
    return items


def _line_decimal(value, path) -> Decimal:
    """Line quantity / unit price: Wave rounds to 8 decimals, ties away from zero."""
    dec = as_decimal(value, path)
    if -dec.as_tuple().exponent > 8:
        dec = dec.quantize(LINE_STEP, ROUND_HALF_UP)
    return dec


def _assign_item_ids(inv) -> None:
    """Stable ``InvoiceItem.id`` values (no RNG draw, so seeded ids are unchanged).

    ASSUMPTION: lines replaced by ``invoicePatch`` get new ids."""
    raw = decode_id(inv.id)[1]
    for k, item in enumerate(inv.items):
        if getattr(item, "id", None) is None:
            name = f"{raw}:{inv.business.invoice_version}:{k}"
            item.id = global_id("InvoiceItem", str(uuid.uuid5(uuid.NAMESPACE_OID, name)))


def _build_discounts(state, discounts_in):
    if not discounts_in:
        return []
    if len(discounts_in) > 1:
        raise err("INVALID", "At most one discount is supported.", "discounts")
    data = discounts_in[0]
    d = InvoiceDiscount()
    d.discount_type, d.name = data["discountType"], data.get("name")
    d.amount = d.percentage = None
    if d.discount_type == "FIXED":
        if data.get("amount") is None:
            raise err(
                "REQUIRED", "amount is required for FIXED discounts.", "discounts", 0, "amount"
            )
        d.amount = as_decimal(data["amount"], ["discounts", 0, "amount"])
    else:
        if data.get("percentage") is None:
            raise err(
                "REQUIRED",
                "percentage is required for PERCENTAGE discounts.",
                "discounts",
                0,
                "percentage",
            )
        d.percentage = as_decimal(data["percentage"], ["discounts", 0, "percentage"])
        if not 0 <= d.percentage <= 100:
            raise err(
                "INVALID", "percentage must be between 0 and 100.", "discounts", 0, "percentage"
            )
    d.created_at = d.modified_at = state.now()
    return [d]


def compute_invoice(inv: Invoice) -> None:
    """Recompute subtotal / taxes (per line) / discount / total in minor units.

    Assumption: taxes apply to each line's subtotal before the invoice-level discount;
    compound taxes apply to the subtotal plus the line's non-compound taxes.
    """
    exp = currency(inv.currency_code).exponent
    day = inv.estimate_date if isinstance(inv, Estimate) else inv.invoice_date
    subtotal = tax_total = 0
    for item in inv.items:
        item.subtotal_minor = to_minor(item.quantity * item.unit_price, exp)
        subtotal += item.subtotal_minor
        base = item.subtotal_minor
        simple = 0
        for t in item.taxes:
            t.rate = t.sales_tax.rate_on(day)  # the deprecated InvoiceItemTax.rate
            if not t.sales_tax.is_compound:
                t.amount_minor = to_minor(Decimal(base) * t.sales_tax.rate_on(day), 0)
                simple += t.amount_minor
        for t in item.taxes:
            if t.sales_tax.is_compound:
                t.amount_minor = to_minor(Decimal(base + simple) * t.sales_tax.rate_on(day), 0)
            tax_total += t.amount_minor
    discount = 0
    for d in inv.discounts:
        if d.discount_type == "FIXED":
            discount += to_minor(d.amount, exp)
        else:
            discount += to_minor(Decimal(subtotal) * d.percentage / 100, 0)
    discount = min(discount, subtotal)
    inv.subtotal_minor, inv.tax_total_minor, inv.discount_total_minor = (
        subtotal,
        tax_total,
        discount,
    )
    inv.total_minor = subtotal - discount + tax_total


_INVOICE_SIMPLE = (
    ("title", "title", "Invoice"),
    ("subhead", "subhead", None),
    ("poNumber", "po_number", None),
    ("memo", "memo", None),
    ("footer", "footer", None),
    ("amountTitle", "amount_title", None),
    ("itemTitle", "item_title", None),
    ("priceTitle", "price_title", None),
    ("unitTitle", "unit_title", None),
    ("hideAmount", "hide_amount", False),
    ("hideDescription", "hide_description", False),
    ("hideName", "hide_name", False),
    ("hidePrice", "hide_price", False),
    ("hideUnit", "hide_unit", False),
    ("disableAmexPayments", "disable_amex_payments", False),
    ("disableBankPayments", "disable_bank_payments", False),
    ("disableCreditCardPayments", "disable_credit_card_payments", False),
    ("requireTermsOfServiceAgreement", "require_terms_of_service_agreement", False),
)


def create_invoice(state, b, data, *, when=None, emit=True, post=True) -> Invoice:
    customer = state.get(data.get("customerId"), Customer, b)
    if customer is None:
        raise err(
            "NOT_FOUND", f"Customer '{data.get('customerId')}' could not be found.", "customerId"
        )
    inv = Invoice()
    inv.state, inv.customer = state, customer
    inv.currency_code = data.get("currency") or customer.currency_code or b.currency_code
    rate = data.get("exchangeRate")
    inv.exchange_rate = (
        exchange_rate(inv.currency_code, b.currency_code)
        if rate is None
        else as_decimal(rate, ["exchangeRate"], positive=True)
    )
    for key, attr, default in _INVOICE_SIMPLE:
        value = data.get(key)
        setattr(inv, attr, default if value is None else value)
    inv.invoice_date = data.get("invoiceDate") or state.today()
    inv.due_date = data.get("dueDate") or inv.invoice_date + dt.timedelta(b.payment_terms_days)
    if inv.due_date < inv.invoice_date:
        raise err("INVALID", "Due date cannot be before the invoice date.", "dueDate")
    number = data.get("invoiceNumber")
    if number is None:
        number = str(b.next_invoice_number)
    inv.invoice_number = number
    inv.discounts = _build_discounts(state, data.get("discounts"))
    inv.items = _build_items(state, b, inv, data.get("items") or [])
    inv.approved = data.get("status") == "SAVED"
    inv.last_sent_at = inv.last_sent_via = inv.last_viewed_at = None
    inv.payment_list, inv.deleted, inv.paid_minor, inv.overdue_notified = [], False, 0, False
    compute_invoice(inv)
    state.register(inv, b, when=when)
    if number.isdigit():
        b.next_invoice_number = max(b.next_invoice_number, int(number) + 1)
    _assign_item_ids(inv)
    inv.seq = len(b.invoices)
    b.invoices.append(inv)
    b.by_customer.setdefault(customer.id, []).append(inv)
    b.invoice_version += 1
    if inv.approved and post:
        post_invoice(inv, +1)
    if emit:
        state.emit("invoice.created", b, inv)
        if inv.approved:
            state.emit("invoice.approved", b, inv)
    return inv


def patch_invoice(state, inv: Invoice, data) -> Invoice:
    b = inv.business
    if inv.approved:
        post_invoice(inv, -1)
    try:
        if data.get("customerId") is not None:
            customer = state.get(data["customerId"], Customer, b)
            if customer is None:
                raise err("NOT_FOUND", "Customer could not be found.", "customerId")
            b.by_customer.get(inv.customer.id, []).remove(inv)
            b.by_customer.setdefault(customer.id, []).append(inv)
            inv.customer = customer
        if data.get("status") == "DRAFT" and inv.approved:
            raise err("INVALID", "An approved invoice cannot be returned to draft.", "status")
        if data.get("currency") is not None:
            inv.currency_code = data["currency"]
        if data.get("exchangeRate") is not None:
            inv.exchange_rate = as_decimal(data["exchangeRate"], ["exchangeRate"], positive=True)
        for key, attr, _default in _INVOICE_SIMPLE:
            if data.get(key) is not None:
                setattr(inv, attr, data[key])
        if data.get("invoiceDate") is not None:
            inv.invoice_date = data["invoiceDate"]
        if data.get("dueDate") is not None:
            inv.due_date = data["dueDate"]
        if inv.due_date < inv.invoice_date:
            raise err("INVALID", "Due date cannot be before the invoice date.", "dueDate")
        if data.get("invoiceNumber") is not None:
            inv.invoice_number = data["invoiceNumber"]
        if data.get("discounts") is not None:
            inv.discounts = _build_discounts(state, data["discounts"])
        if data.get("items") is not None:
            inv.items = _build_items(state, b, inv, data["items"])
            _assign_item_ids(inv)
        for item in inv.items:
            item.code = inv.currency_code
            for t in item.taxes:
                t.code = inv.currency_code
        compute_invoice(inv)
        newly_approved = data.get("status") == "SAVED" and not inv.approved
        if newly_approved:
            inv.approved = True
    finally:
        if inv.approved:
            post_invoice(inv, +1)
    state.touch(inv)
    state.emit("invoice.updated", b, inv)
    if newly_approved:
        state.emit("invoice.approved", b, inv)
        carry_deposits(state, inv)
    return inv


def approve_invoice(state, inv):
    if inv.approved:
        raise err("INVALID", "Invoice is already approved.", "invoiceId")
    if not inv.items:
        raise err("INVALID", "An invoice needs at least one item to be approved.", "invoiceId")
    inv.approved = True
    post_invoice(inv, +1)
    state.touch(inv)
    state.emit("invoice.approved", inv.business, inv)
    carry_deposits(state, inv)
    return inv


def mark_sent(state, inv, method, sent_at=None):
    if not inv.approved:
        raise err("INVALID", "Draft invoices must be approved before they are sent.", "invoiceId")
    inv.last_sent_via, inv.last_sent_at = method, sent_at or state.now()
    state.touch(inv)
    state.emit("invoice.sent", inv.business, inv)
    return inv


def send_invoice(state, inv, data):
    if not inv.business.email_send_enabled:
        raise err(
            "INVALID", "Sending invoices by email requires Business.emailSendEnabled.", "invoiceId"
        )
    if not data.get("to"):
        raise err("REQUIRED", "At least one recipient is required.", "to")
    for i, addr in enumerate(data["to"]):
        if not EMAIL_RE.match(addr):
            raise err("INVALID", f"'{addr}' is not a valid email address.", "to", i)
    return mark_sent(state, inv, "WAVE")


def mark_viewed(state, inv):
    inv.last_viewed_at = state.now()
    state.touch(inv)
    state.emit("invoice.viewed", inv.business, inv)


def delete_invoice(state, inv):
    if inv.approved:
        raise err("INVALID", "Only draft invoices can be deleted.", "invoiceId")
    b = inv.business
    inv.deleted = True
    b.invoices.remove(inv)
    for i, other in enumerate(b.invoices):
        other.seq = i
    b.by_customer.get(inv.customer.id, []).remove(inv)
    state.touch(inv)
    state.emit("invoice.deleted", b, inv)


# --------------------------------------------------------------------------- payments


def _payment_fields(state, b, inv, pay, data, create):
    if create or data.get("paymentAccountId") is not None:
        acc = state.get(data.get("paymentAccountId"), Account, b)
        if acc is None:
            raise err("NOT_FOUND", "Payment account could not be found.", "paymentAccountId")
        if acc.subtype_value not in PAYMENT_ACCOUNT_SUBTYPES:
            raise err(
                "INVALID",
                "Payment account must be a cash/bank, money in transit or credit card account.",
                "paymentAccountId",
            )
        pay.account = acc
    exp = currency(inv.currency_code).exponent
    if create or data.get("amount") is not None:
        amount = as_decimal(data["amount"], ["amount"], positive=True, max_dp=exp)
        pay.amount_minor = to_minor(amount, exp)
    if create or data.get("exchangeRate") is not None:
        pay.exchange_rate = as_decimal(data["exchangeRate"], ["exchangeRate"], positive=True)
    for key, attr in (
        ("paymentDate", "payment_date"),
        ("paymentMethod", "payment_method"),
        ("memo", "memo"),
    ):
        if create or data.get(key) is not None:
            setattr(pay, attr, data.get(key))


def _payment_events(state, inv, before):
    after = inv.status
    if after != before and after in ("PAID", "OVERPAID"):
        state.emit("invoice.paid", inv.business, inv)
    elif after != before and after == "PARTIAL":
        state.emit("invoice.partially_paid", inv.business, inv)
    else:
        state.emit("invoice.updated", inv.business, inv)


def create_payment(state, inv, data, *, when=None, emit=True):
    if not inv.approved:
        raise err("INVALID", "Payments can only be recorded on approved invoices.", "invoiceId")
    b = inv.business
    pay = InvoicePayment()
    pay.invoice, pay.deleted = inv, False
    pay.kind, pay.voided, pay.origin_payment, pay.provider = "PAYMENT", False, None, None
    _payment_fields(state, b, inv, pay, data, True)
    before = inv.status if emit else None
    state.register(pay, b, when=when)
    inv.payment_list.append(pay)
    inv.paid_minor += pay.amount_minor
    post_payment(pay, +1)
    if when is None:
        state.touch(inv)
    else:
        inv.modified_at = max(inv.modified_at, when)
    if emit:
        _payment_events(state, inv, before)
    return pay


def _check_editable(pay):
    """ASSUMPTION: refunds, voided payments and refunded payments can't be patched/deleted."""
    refunded = any(p.origin_invoice_payment is pay for p in pay.invoice.payment_list)
    if pay.transaction_type != "PAYMENT" or pay.is_voided or refunded:
        raise err("INVALID", "Only an active payment without refunds can be changed.", "id")


def patch_payment(state, pay, data):
    _check_editable(pay)
    inv = pay.invoice
    before = inv.status
    post_payment(pay, -1)
    inv.paid_minor -= pay.amount_minor
    try:
        _payment_fields(state, inv.business, inv, pay, data, False)
    finally:
        inv.paid_minor += pay.amount_minor
        post_payment(pay, +1)
    state.touch(pay)
    state.touch(inv)
    _payment_events(state, inv, before)
    return pay


def delete_payment(state, pay):
    _check_editable(pay)
    inv = pay.invoice
    before = inv.status
    post_payment(pay, -1)
    inv.paid_minor -= pay.amount_minor
    inv.payment_list.remove(pay)
    pay.deleted = True
    state.touch(inv)
    _payment_events(state, inv, before)


def refund_payment(state, pay, amount, payment_date, *, memo=None, when=None, emit=True):
    """Refund (part of) a payment: a ``REFUND`` record that lowers ``amountPaid``.

    Wave's public API has no refund mutation; refunds come from Wave's UI or payment
    processor, so the sandbox offers this through the generator and the admin API."""
    if pay.transaction_type != "PAYMENT" or pay.is_voided:
        raise err("INVALID", "Only an active payment can be refunded.", "id")
    inv = pay.invoice
    exp = inv.currency.exponent
    minor = to_minor(as_decimal(amount, ["amount"], positive=True, max_dp=exp), exp)
    done = sum(p.amount_minor for p in inv.payment_list if p.origin_invoice_payment is pay)
    if done + minor > pay.amount_minor:
        raise err("INVALID", "A refund cannot exceed the payment it refunds.", "amount")
    before = inv.status if emit else None
    ref = InvoicePayment()
    ref.invoice, ref.deleted, ref.kind, ref.voided = inv, False, "REFUND", False
    ref.origin_payment, ref.provider, ref.account = pay, pay.payment_provider, pay.account
    ref.amount_minor, ref.exchange_rate, ref.payment_date = minor, pay.exchange_rate, payment_date
    ref.payment_method, ref.memo = pay.payment_method, memo
    state.register(ref, inv.business, when=when)
    inv.payment_list.append(ref)
    inv.paid_minor -= minor
    post_payment(ref, +1)
    inv.modified_at = max(inv.modified_at, ref.created_at)
    inv.business.invoice_version += 1
    if emit:
        _payment_events(state, inv, before)
    return ref


def void_payment(state, pay, *, when=None, emit=True):
    """Void a payment (e.g. a card payment cancelled before settlement): the record stays,
    with ``state: "VOIDED"``, and no longer counts (ASSUMPTION, see InvoicePayment)."""
    _check_editable(pay)
    inv = pay.invoice
    before = inv.status if emit else None
    post_payment(pay, -1)
    inv.paid_minor -= pay.amount_minor
    pay.voided = True
    pay.modified_at = when or state.now()
    inv.modified_at = max(inv.modified_at, pay.modified_at)
    inv.business.invoice_version += 1
    if emit:
        _payment_events(state, inv, before)
    return pay


# --------------------------------------------------------------------------- ledger


def _to_business(minor: int, rate: Decimal, src_exp: int, dst_exp: int) -> int:
    return to_minor(Decimal(minor).scaleb(-src_exp) * rate, dst_exp)


def invoice_lines(inv: Invoice):
    """Journal lines ``(account, debit, credit, description)`` in business currency."""
    b = inv.business
    rate, src, dst = inv.exchange_rate, inv.currency.exponent, b.currency.exponent
    lines = []
    for item in inv.items:
        amt = _to_business(item.subtotal_minor, rate, src, dst)
        lines.append((item.account, 0, amt, item.description or item.product.name))
        for t in item.taxes:
            tax_amt = _to_business(t.amount_minor, rate, src, dst)
            if tax_amt:
                lines.append((t.sales_tax.account, 0, tax_amt, t.sales_tax.name))
    if inv.discount_total_minor:
        lines.append(
            (
                system_account(b, "DISCOUNTS"),
                _to_business(inv.discount_total_minor, rate, src, dst),
                0,
                "Discount",
            )
        )
    balance = sum(c - d for _, d, c, _ in lines)
    lines.insert(
        0,
        (
            system_account(b, "RECEIVABLE_INVOICES"),
            max(balance, 0),
            max(-balance, 0),
            f"Invoice {inv.invoice_number}",
        ),
    )
    return lines


def payment_lines(pay: InvoicePayment):
    """Bank debit / receivable credit; a refund the other way round; a voided payment none."""
    if pay.is_voided:
        return []
    inv = pay.invoice
    b = inv.business
    if inv.currency_code == b.currency_code:
        amt = pay.amount_minor
    else:
        amt = _to_business(
            pay.amount_minor, pay.exchange_rate, inv.currency.exponent, b.currency.exponent
        )
    if pay.transaction_type == "REFUND":
        label = f"Refund for invoice {inv.invoice_number}"
        return [
            (pay.account, 0, amt, label),
            (system_account(b, "RECEIVABLE_INVOICES"), amt, 0, label),
        ]
    return [
        (pay.account, amt, 0, f"Payment for invoice {inv.invoice_number}"),
        (
            system_account(b, "RECEIVABLE_INVOICES"),
            0,
            amt,
            f"Payment for invoice {inv.invoice_number}",
        ),
    ]


def _post(lines, sign):
    for acc, debit, credit, _ in lines:
        acc.balance_minor += sign * (debit - credit)


def post_invoice(inv, sign):
    _post(invoice_lines(inv), sign)


def post_payment(pay, sign):
    _post(payment_lines(pay), sign)


def account_balance_normal(acc: Account) -> int:
    """Balance in the account's normal direction (debit-normal: debit - credit)."""
    natural = acc.balance_minor if acc.normal_balance_type == "DEBIT" else -acc.balance_minor
    return natural


# --------------------------------------------------------------------------- money transactions


def _side(acc: Account, balance: str) -> int:
    """+1 = debit, -1 = credit for a line with the given BalanceType."""
    if balance == "DEBIT":
        return 1
    if balance == "CREDIT":
        return -1
    normal = 1 if acc.normal_balance_type == "DEBIT" else -1
    if acc.subtype_value in CONTRA_SUBTYPES:
        normal = -normal
    return normal if balance == "INCREASE" else -normal


def create_money_transaction(state, b: Business, data, path=()):
    if b.is_classic_accounting:
        raise err(
            "CLASSIC_ACCOUNTING",
            "Money transactions require isClassicAccounting to be false.",
            "businessId",
        )
    exp = b.currency.exponent
    anchor_in = data["anchor"]
    anchor = state.get(anchor_in["accountId"], Account, b)
    if anchor is None:
        raise err("NOT_FOUND", "Anchor account could not be found.", *path, "anchor", "accountId")
    if anchor.subtype_value not in ANCHOR_SUBTYPES:
        raise err(
            "INVALID",
            "Anchor account must be a cash/bank, money in transit, credit card or loan account.",
            *path,
            "anchor",
            "accountId",
        )
    anchor_amt = to_minor(
        as_decimal(anchor_in["amount"], [*path, "anchor", "amount"], positive=True, max_dp=exp), exp
    )
    anchor_sign = 1 if anchor_in["direction"] == "DEPOSIT" else -1
    if not (data.get("externalId") or "").strip():
        raise err("REQUIRED", "externalId is required.", *path, "externalId")
    if not data.get("lineItems"):
        raise err("REQUIRED", "At least one line item is required.", *path, "lineItems")
    lines = [
        (
            anchor,
            anchor_amt if anchor_sign > 0 else 0,
            anchor_amt if anchor_sign < 0 else 0,
            data["description"],
        )
    ]
    total = anchor_sign * anchor_amt
    for i, li in enumerate(data["lineItems"]):
        lpath = [*path, "lineItems", i]
        acc = state.get(li["accountId"], Account, b)
        if acc is None:
            raise err("NOT_FOUND", "Account could not be found.", *lpath, "accountId")
        if acc.is_archived:
            raise err("INVALID", "Archived accounts cannot be used.", *lpath, "accountId")
        amt = to_minor(as_decimal(li["amount"], [*lpath, "amount"], positive=True, max_dp=exp), exp)
        if li.get("customerId") and state.get(li["customerId"], Customer, b) is None:
            raise err("NOT_FOUND", "Customer could not be found.", *lpath, "customerId")
        sign = _side(acc, li.get("balance") or "INCREASE")
        net = amt
        for j, tx in enumerate(li.get("taxes") or []):
            tax = state.get(tx["salesTaxId"], SalesTax, b)
            if tax is None:
                raise err(
                    "NOT_FOUND", "Sales tax could not be found.", *lpath, "taxes", j, "salesTaxId"
                )
            tax_amt = to_minor(
                as_decimal(tx["amount"], [*lpath, "taxes", j, "amount"], positive=True, max_dp=exp),
                exp,
            )
            net -= tax_amt
            lines.append(
                (tax.account, tax_amt if sign > 0 else 0, tax_amt if sign < 0 else 0, tax.name)
            )
        if net < 0:
            raise err("INVALID", "Tax amounts exceed the line amount.", *lpath, "taxes")
        lines.append(
            (
                acc,
                net if sign > 0 else 0,
                net if sign < 0 else 0,
                li.get("description") or data["description"],
            )
        )
        total += sign * amt
    if total != 0:
        raise err(
            "UNBALANCED", "The line items do not balance the anchor amount.", *path, "lineItems"
        )
    mt = MoneyTransaction()
    state.register(mt, b)
    mt.external_id, mt.date, mt.description, mt.notes = (
        data["externalId"],
        data["date"],
        data["description"],
        data.get("notes"),
    )
    mt.anchor = dict(anchor_in, amount=str(anchor_in["amount"]))
    mt.line_items = [
        {k: (str(v) if k == "amount" else v) for k, v in li.items()} for li in data["lineItems"]
    ]
    mt.lines = lines
    _post(lines, 1)
    b.money_transactions.append(mt)
    return mt


def add_extra_transaction(
    state,
    b,
    kind,
    date,
    description,
    lines,
    *,
    vendor=None,
    customer=None,
    bill_number=None,
    notes=None,
    when=None,
):
    assert sum(d - c for _, d, c, _ in lines) == 0, "unbalanced generated transaction"
    when = when or state.now()
    t = LedgerTransaction(
        id=state.new_uuid(),
        kind=kind,
        date=date,
        description=description,
        vendor=vendor,
        customer=customer,
        bill_number=bill_number,
        notes=notes,
        lines=lines,
        created_at=when,
        modified_at=when,
    )
    _post(lines, 1)
    b.extra_transactions.append(t)
    return t


# --------------------------------------------------------------------------- estimates
#
# Status rules (Wave documents the statuses, not the transitions; see README):
#   estimateCreate -> DRAFT; estimateApprove: DRAFT -> APPROVED;
#   estimateMarkSent / estimateSend: APPROVED, SENT, VIEWED -> SENT (VIEWED stays VIEWED);
#   the customer viewing it (admin ``/sandbox/estimates/view``): SENT -> VIEWED;
#   estimateMarkAccepted: APPROVED, SENT, VIEWED, EXPIRED, REJECTED -> ACCEPTED;
#   the customer rejecting it (admin ``/sandbox/estimates/reject``): SENT, VIEWED -> REJECTED;
#   estimateResetAcceptance: ACCEPTED, REJECTED -> VIEWED, SENT or APPROVED (as before);
#   convertEstimateToInvoice: any but DRAFT, CONVERTED, DELETED -> CONVERTED (+ a draft
#   invoice whose ``source`` is the estimate);
#   estimateDelete: any but CONVERTED -> DELETED (still readable by id, never listed);
#   estimatePatch: not on CONVERTED / DELETED estimates; ``status`` must restate the
#   current status (or APPROVED for a DRAFT, which approves it).

_ESTIMATE_SIMPLE = (
    ("title", "title", "Estimate"),
    ("subhead", "subhead", None),
    ("poNumber", "po_number", None),
    ("memo", "memo", None),
    ("footer", "footer", None),
    ("amountTitle", "amount_title", None),
    ("itemTitle", "item_title", None),
    ("priceTitle", "price_title", None),
    ("unitTitle", "unit_title", None),
    ("hideAmount", "hide_amount", False),
    ("hideDescription", "hide_description", False),
    ("hideName", "hide_name", False),
    ("hidePrice", "hide_price", False),
    ("hideUnit", "hide_unit", False),
    ("disableAmexPayments", "disable_amex_payments", False),
    ("disableBankPayments", "disable_bank_payments", False),
    ("disableCreditCardPayments", "disable_credit_card_payments", False),
    ("requireTermsOfServiceAgreement", "require_terms_of_service_agreement", False),
    ("depositStatus", "deposit_status", "DISABLED"),
    ("depositUnit", "deposit_unit", None),
)
ESTIMATE_ACCEPTABLE = {"APPROVED", "SENT", "VIEWED", "EXPIRED", "REJECTED"}
ESTIMATE_SENDABLE = {"APPROVED", "SENT", "VIEWED", "EXPIRED"}


def _estimate_items(state, b, est, items_in):
    for i, item in enumerate(items_in):
        if item.get("unitPrice") is None:  # the schema requires it too
            raise err("REQUIRED", "unitPrice is required.", "items", i, "unitPrice")
    return _build_items(state, b, est, items_in)


def _estimate_item_ids(est):
    """Stable item ids; ASSUMPTION: items replaced by ``estimatePatch`` get new ids."""
    raw = decode_id(est.id)[1]
    for k, item in enumerate(est.items):
        name = f"{raw}:estimate:{est.version}:{k}"
        item.id = global_id("EstimateItem", str(uuid.uuid5(uuid.NAMESPACE_OID, name)))


def _estimate_deposit(est, data):
    value = data.get("depositValue")
    if value is not None:
        est.deposit_value = as_decimal(value, ["depositValue"])
        if est.deposit_value < 0:
            raise err("INVALID", "depositValue cannot be negative.", "depositValue")
    if est.deposit_status not in (None, "DISABLED"):
        if est.deposit_unit is None or est.deposit_value is None:
            raise err(
                "REQUIRED",
                "depositUnit and depositValue are required when deposits are enabled.",
                "depositValue",
            )
        if est.deposit_unit == "PERCENTAGE" and est.deposit_value > 100:
            raise err("INVALID", "A deposit percentage cannot exceed 100.", "depositValue")


def _estimate_event(state, est, event_type):
    state.emit(event_type, est.business, est)


def create_estimate(state, b, data, *, when=None, emit=True) -> Estimate:
    customer = state.get(data.get("customerId"), Customer, b)
    if customer is None:
        raise err(
            "NOT_FOUND", f"Customer '{data.get('customerId')}' could not be found.", "customerId"
        )
    est = Estimate()
    est.id, est.state, est.customer, est.version = None, state, customer, 0
    est.currency_code = data.get("currency") or customer.currency_code or b.currency_code
    rate = data.get("exchangeRate")
    est.exchange_rate = (
        exchange_rate(est.currency_code, b.currency_code)
        if rate is None
        else as_decimal(rate, ["exchangeRate"], positive=True)
    )
    for key, attr, default in _ESTIMATE_SIMPLE:
        value = data.get(key)
        setattr(est, attr, default if value is None else value)
    est.deposit_value = None
    _estimate_deposit(est, data)
    est.estimate_date = data.get("estimateDate") or state.today()
    est.due_date = data.get("dueDate") or est.estimate_date + dt.timedelta(b.payment_terms_days)
    if est.due_date < est.estimate_date:
        raise err("INVALID", "Due date cannot be before the estimate date.", "dueDate")
    estimates = business_estimates(b)
    number = data.get("estimateNumber")
    if number is None:
        number = str(b.next_estimate_number)
    est.estimate_number = number
    est.discounts = _build_discounts(state, data.get("discounts"))
    est.items = _estimate_items(state, b, est, data.get("items") or [])
    est.base_status, est.invoice_id = "DRAFT", None
    est.last_sent_at = est.last_sent_via = est.last_viewed_at = None
    compute_invoice(est)
    state.register(est, b, when=when)
    _estimate_item_ids(est)
    if number.isdigit():
        b.next_estimate_number = max(b.next_estimate_number, int(number) + 1)
    estimates.append(est)
    if emit:
        _estimate_event(state, est, "estimate.created")
    return est


def _check_open(est, action):
    if est.base_status in ("CONVERTED", "DELETED"):
        raise err(
            "INVALID",
            f"A {est.base_status.lower()} estimate cannot be {action}.",
            "estimateId" if action != "edited" else "id",
        )


def patch_estimate(state, est: Estimate, data) -> Estimate:
    _check_open(est, "edited")
    b = est.business
    current = est.status
    wanted = data["status"]
    approve = current == "DRAFT" and wanted == "APPROVED"
    if wanted != current and not approve:
        raise err(
            "INVALID",
            f"Status cannot be changed from {current} to {wanted} by a patch.",
            "status",
        )
    customer = state.get(data["customerId"], Customer, b)
    if customer is None:
        raise err("NOT_FOUND", "Customer could not be found.", "customerId")
    estimate_date, due_date = data["estimateDate"], data["dueDate"]
    if due_date < estimate_date:
        raise err("INVALID", "Due date cannot be before the estimate date.", "dueDate")
    old_unit, old_value, old_status = est.deposit_unit, est.deposit_value, est.deposit_status
    est.deposit_status = data.get("depositStatus") or est.deposit_status
    est.deposit_unit = data.get("depositUnit") or est.deposit_unit
    try:
        _estimate_deposit(est, data)
    except InputErrors:
        est.deposit_unit, est.deposit_value, est.deposit_status = old_unit, old_value, old_status
        raise
    discounts = (
        _build_discounts(state, data["discounts"]) if data.get("discounts") is not None else None
    )
    est.version += 1
    items = _estimate_items(state, b, est, data["items"]) if data.get("items") is not None else None
    est.customer, est.currency_code = customer, data["currency"]
    est.exchange_rate = as_decimal(data["exchangeRate"], ["exchangeRate"], positive=True)
    est.estimate_date, est.due_date, est.title = estimate_date, due_date, data["title"]
    for key, attr, _default in _ESTIMATE_SIMPLE:
        if key not in ("title", "depositStatus", "depositUnit") and data.get(key) is not None:
            setattr(est, attr, data[key])
    if data.get("estimateNumber") is not None:
        est.estimate_number = data["estimateNumber"]
    if discounts is not None:
        est.discounts = discounts
    if items is not None:
        est.items = items
        _estimate_item_ids(est)
    for item in est.items:
        item.code = est.currency_code
        for t in item.taxes:
            t.code = est.currency_code
    compute_invoice(est)
    if approve:
        est.base_status = "APPROVED"
    state.touch(est)
    _estimate_event(state, est, "estimate.updated")
    if approve:
        _estimate_event(state, est, "estimate.approved")
    return est


def approve_estimate(state, est):
    if est.base_status != "DRAFT":
        raise err("INVALID", "Only a draft estimate can be approved.", "estimateId")
    if not est.items:
        raise err("INVALID", "An estimate needs at least one item to be approved.", "estimateId")
    est.base_status = "APPROVED"
    state.touch(est)
    _estimate_event(state, est, "estimate.approved")
    return est


def mark_estimate_sent(state, est, method, sent_at=None):
    if est.base_status == "DRAFT":
        raise err("INVALID", "Draft estimates must be approved before they are sent.", "estimateId")
    if est.status not in ESTIMATE_SENDABLE:
        raise err("INVALID", f"A {est.status.lower()} estimate cannot be sent.", "estimateId")
    est.last_sent_via, est.last_sent_at = method, sent_at or state.now()
    if est.base_status == "APPROVED":
        est.base_status = "SENT"
    state.touch(est)
    _estimate_event(state, est, "estimate.sent")
    return est


def send_estimate(state, est, data):
    if not est.business.email_send_enabled:
        raise err(
            "INVALID",
            "Sending estimates by email requires Business.emailSendEnabled.",
            "estimateId",
        )
    if not data.get("to"):
        raise err("REQUIRED", "At least one recipient is required.", "to")
    for i, addr in enumerate(data["to"]):
        if not EMAIL_RE.match(addr):
            raise err("INVALID", f"'{addr}' is not a valid email address.", "to", i)
    return mark_estimate_sent(state, est, "WAVE")


def view_estimate(state, est):
    """The customer opens the estimate (no API mutation; admin endpoint)."""
    if est.base_status not in ("SENT", "VIEWED"):
        raise err("INVALID", "Only a sent estimate can be viewed by the customer.", "estimateId")
    est.last_viewed_at, est.base_status = state.now(), "VIEWED"
    state.touch(est)
    _estimate_event(state, est, "estimate.viewed")
    return est


def reject_estimate(state, est):
    """The customer declines the estimate (no API mutation; admin endpoint)."""
    if est.status not in ("SENT", "VIEWED"):
        raise err("INVALID", "Only a sent estimate can be rejected.", "estimateId")
    est.base_status = "REJECTED"
    state.touch(est)
    _estimate_event(state, est, "estimate.rejected")
    return est


def accept_estimate(state, est):
    if est.status not in ESTIMATE_ACCEPTABLE:
        raise err("INVALID", f"A {est.status.lower()} estimate cannot be accepted.", "estimateId")
    est.base_status = "ACCEPTED"
    state.touch(est)
    _estimate_event(state, est, "estimate.accepted")
    return est


def reset_estimate_acceptance(state, est):
    if est.base_status not in ("ACCEPTED", "REJECTED"):
        raise err("INVALID", "Only an accepted or rejected estimate can be reset.", "estimateId")
    if est.last_viewed_at is not None:
        est.base_status = "VIEWED"
    elif est.last_sent_at is not None:
        est.base_status = "SENT"
    else:
        est.base_status = "APPROVED"
    state.touch(est)
    _estimate_event(state, est, "estimate.updated")
    return est


def delete_estimate(state, est):
    if est.base_status == "CONVERTED":
        raise err("INVALID", "A converted estimate cannot be deleted.", "estimateId")
    if est.base_status == "DELETED":
        raise err("NOT_FOUND", f"AREstimate '{est.id}' could not be found.", "estimateId")
    est.base_status = "DELETED"
    business_estimates(est.business).remove(est)
    state.touch(est)
    _estimate_event(state, est, "estimate.deleted")


def pay_estimate_deposit(state, est, data, *, when=None) -> EstimatePayment:
    """The customer pays (part of) the deposit an estimate asks for (``EstimatePayment``,
    DEPOSIT). ASSUMPTION (Wave's public API has no mutation for it: the customer pays on
    the estimate's page, or the business records it in Wave's app): only while deposits
    are enabled on an approved, sent, viewed or accepted estimate, at most what is left of
    its total; ``amount`` defaults to what is left of ``depositTotal``."""
    _check_open(est, "paid")
    if est.deposit_status in (None, "DISABLED"):
        raise err("INVALID", "Deposits are not enabled on this estimate.", "estimateId")
    if est.status not in ("APPROVED", "SENT", "VIEWED", "ACCEPTED"):
        raise err("INVALID", f"A {est.status.lower()} estimate takes no deposit.", "estimateId")
    b = est.business
    acc = state.get(data.get("paymentAccountId"), Account, b)
    if acc is None or acc.subtype_value not in PAYMENT_ACCOUNT_SUBTYPES:
        raise err("INVALID", "Payment account must be a cash/bank account.", "paymentAccountId")
    exp = currency(est.currency_code).exponent
    if data.get("amount") is None:
        amount_minor = est.deposit_total_minor - est.paid_minor
    else:
        amount = as_decimal(data["amount"], ["amount"], positive=True, max_dp=exp)
        amount_minor = to_minor(amount, exp)
    if amount_minor <= 0 or amount_minor > est.total_minor - est.paid_minor:
        raise err("INVALID", "The deposit must be positive and within the total.", "amount")
    pay = EstimatePayment()
    pay.estimate, pay.account, pay.amount_minor = est, acc, amount_minor
    pay.payment_date = data.get("paymentDate") or state.today()
    pay.payment_method = data.get("paymentMethod") or "CREDIT_CARD"
    pay.memo, pay.invoice_payment = data.get("memo"), None
    state.register(pay, b, when=when)
    est.deposit_payments = [*est.payments, pay]
    state.touch(est)
    _estimate_event(state, est, "estimate.updated")
    return pay


def carry_deposits(state, inv):
    """ASSUMPTION (Wave documents no more than ``amountPaid`` on both): the deposits paid
    on the estimate an invoice was converted from are payments of that invoice, recorded
    when it is approved (a draft takes no payment) with the deposit's amount, date,
    account and method; the estimate keeps its ``EstimatePayment`` records."""
    source = getattr(inv, "source_estimate", None)
    est = state.objects.get(source.id) if source else None
    if not isinstance(est, Estimate):
        return
    for dep in est.payments:
        if dep.invoice_payment is None and dep.active:
            dep.invoice_payment = create_payment(
                state,
                inv,
                {
                    "paymentAccountId": dep.account.id,
                    "amount": Decimal(dep.amount_minor).scaleb(
                        -currency(inv.currency_code).exponent
                    ),
                    "paymentDate": dep.payment_date,
                    "paymentMethod": dep.payment_method,
                    "exchangeRate": inv.exchange_rate,
                    "memo": f"Deposit on estimate {est.estimate_number}",
                },
            )


def convert_estimate(state, est) -> Invoice:
    """A draft invoice with the estimate's customer, currency, rate, items and discount.

    ASSUMPTION: Wave makes a draft invoice dated today (due by the business's terms),
    title "Invoice", the estimate's PO number, memo and footer."""
    _check_open(est, "converted")
    if est.base_status == "DRAFT":
        raise err("INVALID", "Draft estimates must be approved before conversion.", "estimateId")
    b = est.business
    data = {
        "customerId": est.customer.id,
        "currency": est.currency_code,
        "exchangeRate": est.exchange_rate,
        "poNumber": est.po_number,
        "memo": est.memo,
        "footer": est.footer,
        "items": [
            {
                "productId": item.product.id,
                "description": item.description,
                "quantity": item.quantity,
                "unitPrice": item.unit_price,
                "taxes": [{"salesTaxId": t.sales_tax.id} for t in item.taxes],
            }
            for item in est.items
        ],
        "discounts": [
            {
                "discountType": d.discount_type,
                "amount": d.amount,
                "percentage": d.percentage,
                "name": d.name,
            }
            for d in est.discounts
        ],
    }
    inv = create_invoice(state, b, data, emit=False)
    inv.source_estimate = EstimateSource(est)
    est.base_status, est.invoice_id = "CONVERTED", inv.id
    state.touch(est)
    state.emit("invoice.created", b, inv)
    _estimate_event(state, est, "estimate.converted")
    return inv
