"""In-memory data model of the sandbox (Wave's objects, tokens, ledger).

Objects are plain slotted classes whose snake_case attributes map 1:1 to Wave's camelCase
GraphQL fields (``amountDue`` -> ``amount_due``); the schema wiring resolves fields by that
rule, so no per-request copying happens.  Amounts are kept as integer minor units.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import random
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from .schema import ACCOUNT_SUBTYPES

UTC = dt.UTC

# --------------------------------------------------------------------------- reference data

CURRENCIES = {
    # code: (name, plural, symbol, exponent)
    "USD": ("United States dollar", "US dollars", "$", 2),
    "CAD": ("Canadian dollar", "Canadian dollars", "$", 2),
    "EUR": ("Euro", "euros", "€", 2),
    "GBP": ("Pound sterling", "pounds sterling", "£", 2),
    "AUD": ("Australian dollar", "Australian dollars", "$", 2),
    "JPY": ("Japanese yen", "Japanese yen", "¥", 0),
    "MXN": ("Mexican peso", "Mexican pesos", "$", 2),
    "CHF": ("Swiss franc", "Swiss francs", "CHF", 2),
}


# ISO 4217 minor units of the codes in Wave's CurrencyCode enum that don't use 2 decimals
# (ASSUMPTION: Wave's ``Currency.exponent`` follows ISO 4217).  Names of codes missing from
# CURRENCIES fall back to the code itself.
ISO_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}


class Currency:
    __slots__ = ("code", "exponent", "name", "plural", "symbol")

    def __init__(self, code: str):
        name, plural, symbol, exponent = CURRENCIES.get(
            code, (code, code, code, ISO_EXPONENTS.get(code, 2))
        )
        self.code, self.name, self.plural, self.symbol, self.exponent = (
            code,
            name,
            plural,
            symbol,
            exponent,
        )


_CURRENCY_CACHE: dict[str, Currency] = {}


def currency(code: str) -> Currency:
    cur = _CURRENCY_CACHE.get(code)
    if cur is None:
        cur = _CURRENCY_CACHE[code] = Currency(code)
    return cur


class Money:
    """Wave's ``Money`` (value, minorUnitValue, raw, currency) built on demand."""

    __slots__ = ("currency", "raw")

    def __init__(self, minor: int, code: str):
        self.raw = minor
        self.currency = currency(code)

    @property
    def minor_unit_value(self) -> str:
        return str(self.raw)

    @property
    def value(self) -> str:
        return money_value(self.raw, self.currency.exponent)


@functools.lru_cache(maxsize=65536)
def money_value(raw: int, exp: int) -> str:
    if not exp:
        return str(raw)
    sign = "-" if raw < 0 else ""
    q, r = divmod(abs(raw), 10**exp)
    return f"{sign}{q}.{r:0{exp}d}"


COUNTRIES = {
    "US": ("United States", "USD"),
    "CA": ("Canada", "CAD"),
    "GB": ("United Kingdom", "GBP"),
    "FR": ("France", "EUR"),
    "DE": ("Germany", "EUR"),
    "AU": ("Australia", "AUD"),
    "MX": ("Mexico", "MXN"),
}


class Country:
    __slots__ = ("code", "currency", "name", "name_with_article")

    def __init__(self, code: str):
        name, cur = COUNTRIES.get(code, (code, "USD"))
        self.code, self.name, self.currency = code, name, currency(cur)
        self.name_with_article = ("the " + name) if code in ("US", "GB") else name


class Province:
    __slots__ = ("code", "name")

    def __init__(self, code: str, name: str | None = None):
        self.code, self.name = code, name or code.rsplit("-", maxsplit=1)[-1]


class Address:
    __slots__ = ("address_line1", "address_line2", "city", "country", "postal_code", "province")

    def __init__(
        self,
        address_line1=None,
        address_line2=None,
        city=None,
        country_code=None,
        postal_code=None,
        province_code=None,
    ):
        self.address_line1, self.address_line2, self.city = address_line1, address_line2, city
        self.country = Country(country_code) if country_code else None
        self.postal_code = postal_code
        self.province = Province(province_code) if province_code else None

    @classmethod
    def from_input(cls, data: dict | None) -> Address | None:
        if not data:
            return None
        return cls(
            data.get("addressLine1"),
            data.get("addressLine2"),
            data.get("city"),
            data.get("countryCode"),
            data.get("postalCode"),
            data.get("provinceCode"),
        )


# Account types/subtypes.  Subtype -> type is not in Wave's SDL; this mapping is inferred.
ACCOUNT_TYPE_NORMAL = {
    "ASSET": "DEBIT",
    "LIABILITY": "CREDIT",
    "EQUITY": "CREDIT",
    "INCOME": "CREDIT",
    "EXPENSE": "DEBIT",
}
_SUBTYPE_GROUPS = {
    "ASSET": "CASH_AND_BANK INVENTORY MONEY_IN_TRANSIT OTHER_CURRENT_ASSETS OTHER_LONG_TERM_ASSETS "
    "PROPERTY_PLANT_EQUIPMENT DEPRECIATION_AND_AMORTIZATION RECEIVABLE RECEIVABLE_INVOICES "
    "RECEIVABLE_OTHER VENDOR_PREPAYMENTS_AND_CREDITS TRANSFERS UNKNOWN_ACCOUNT",
    "LIABILITY": "CREDIT_CARD LOANS OTHER_CURRENT_LIABILITY OTHER_LONG_TERM_LIABILITY PAYABLE "
    "PAYABLE_BILLS PAYABLE_OTHER SALES_TAX DUE_FOR_PAYROLL DUE_TO_YOU_AND_OTHER_OWNERS "
    "CUSTOMER_PREPAYMENTS_AND_CREDITS SYSTEM_CUSTOMER_CREDITS",
    "EQUITY": "NON_RETAINED_EARNINGS RETAINED_EARNINGS",
    "INCOME": "INCOME OTHER_INCOME DISCOUNTS GAIN_ON_FOREIGN_EXCHANGE UNCATEGORIZED_INCOME",
    "EXPENSE": "EXPENSE COST_OF_GOODS_SOLD PAYMENT_PROCESSING_FEES PAYROLL_EXPENSES "
    "LOSS_ON_FOREIGN_EXCHANGE UNCATEGORIZED_EXPENSE",
}
SUBTYPE_TYPE = {s: t for t, subs in _SUBTYPE_GROUPS.items() for s in subs.split()}
assert set(SUBTYPE_TYPE) == set(ACCOUNT_SUBTYPES)
CONTRA_SUBTYPES = {"DISCOUNTS", "DEPRECIATION_AND_AMORTIZATION"}


class AccountType:
    __slots__ = ("name", "normal_balance_type", "value")

    def __init__(self, value: str):
        self.value, self.name = value, value.title()
        self.normal_balance_type = ACCOUNT_TYPE_NORMAL[value]


class AccountSubtype:
    __slots__ = ("archivable", "description", "name", "system_created", "type", "value")

    def __init__(self, value: str):
        from .schema import SYSTEM_SUBTYPES

        self.value = value
        self.name = value.replace("_", " ").title()
        self.type = ACCOUNT_TYPES[SUBTYPE_TYPE[value]]
        self.system_created = value in SYSTEM_SUBTYPES
        self.archivable = not self.system_created
        self.description = None


ACCOUNT_TYPES = {t: AccountType(t) for t in ACCOUNT_TYPE_NORMAL}
ACCOUNT_SUBTYPE_OBJS = {s: AccountSubtype(s) for s in ACCOUNT_SUBTYPES}

# --------------------------------------------------------------------------- helpers

CENT = Decimal("0.01")


def to_minor(amount: Decimal, exponent: int = 2) -> int:
    return int((Decimal(amount) * (10**exponent)).to_integral_value(ROUND_HALF_UP))


def from_minor(minor: int, exponent: int = 2) -> Decimal:
    return Decimal(minor).scaleb(-exponent)


def global_id(type_name: str, raw: str) -> str:
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


def decode_id(gid: str) -> tuple[str, str] | None:
    try:
        type_name, raw = base64.b64decode(gid.encode(), validate=True).decode().split(":", 1)
        return type_name, raw
    except Exception:
        return None


@functools.lru_cache(maxsize=65536)
def fmt_datetime(value: dt.datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------- entities


class Entity:
    """Base for Wave objects: global id, business, createdAt/modifiedAt."""

    __slots__ = ("__weakref__", "business", "created_at", "id", "modified_at")
    TYPE = "Entity"
    # deprecated/legacy identifiers Wave still exposes; the sandbox has none
    internal_id = classic_id = None


class User(Entity):
    __slots__ = ("default_email", "first_name", "last_name")
    TYPE = "User"


class Business(Entity):
    __slots__ = (
        "account_cache",
        "accounts",
        "address",
        "by_customer",
        "currency_code",
        "customers",
        "email_send_enabled",
        "estimates",
        "extra_transactions",
        "invoice_version",
        "invoices",
        "is_archived",
        "is_classic_accounting",
        "is_classic_invoicing",
        "is_personal",
        "money_transactions",
        "name",
        "next_estimate_number",
        "next_invoice_number",
        "organizational_type",
        "owner_id",
        "payment_terms_days",
        "phone",
        "products",
        "sales_taxes",
        "sort_cache",
        "timezone",
        "vendors",
        "website",
    )
    TYPE = "Business"
    # Wave fields the sandbox has no data for (read-only defaults)
    fax = mobile = toll_free = type = subtype = None
    invoice_estimate_settings = SimpleNamespace(
        general_settings=SimpleNamespace(accent_color=None, logo_url=None)
    )

    @property
    def currency(self) -> Currency:
        return currency(self.currency_code)


class Account(Entity):
    __slots__ = (
        "balance_minor",
        "can_archive",
        "currency_code",
        "description",
        "display_id",
        "is_archived",
        "name",
        "sequence",
        "subtype_value",
    )
    TYPE = "Account"

    @property
    def subtype(self):
        return ACCOUNT_SUBTYPE_OBJS[self.subtype_value]

    @property
    def type(self):
        return self.subtype.type

    @property
    def normal_balance_type(self):
        return self.type.normal_balance_type

    @property
    def currency(self):
        return currency(self.currency_code)

    @property
    def balance(self):
        return from_minor(self.balance_minor, self.currency.exponent)

    balance_in_business_currency = balance


class Contact(Entity):
    __slots__ = (
        "address",
        "currency_code",
        "deleted",
        "display_id",
        "email",
        "fax",
        "first_name",
        "internal_notes",
        "is_archived",
        "last_name",
        "mobile",
        "name",
        "phone",
        "shipping_details",
        "toll_free",
        "website",
    )

    @property
    def currency(self):
        return currency(self.currency_code) if self.currency_code else None


class Customer(Contact):
    __slots__ = ()
    TYPE = "Customer"


class Vendor(Contact):
    __slots__ = ()
    TYPE = "Vendor"


class ShippingDetails:
    __slots__ = ("address", "instructions", "name", "phone")

    def __init__(self, data: dict):
        self.address = Address.from_input(data.get("address"))
        self.instructions, self.name, self.phone = (
            data.get("instructions"),
            data.get("name"),
            data.get("phone"),
        )


class Product(Entity):
    __slots__ = (
        "default_sales_taxes",
        "description",
        "expense_account",
        "income_account",
        "is_archived",
        "name",
        "unit_price",
    )
    TYPE = "Product"

    @property
    def is_sold(self):
        return self.income_account is not None

    @property
    def is_bought(self):
        return self.expense_account is not None


class SalesTaxRate:
    __slots__ = ("effective", "rate")

    def __init__(self, effective: dt.date, rate: Decimal):
        self.effective, self.rate = effective, rate


class SalesTax(Entity):
    __slots__ = (
        "abbreviation",
        "account",
        "description",
        "is_archived",
        "is_compound",
        "is_recoverable",
        "name",
        "rates",
        "show_tax_number_on_invoices",
        "tax_number",
    )
    TYPE = "SalesTax"

    def rate_on(self, day: dt.date | None = None) -> Decimal:
        rate = self.rates[0].rate
        for r in self.rates:
            if day is None or r.effective <= day:
                rate = r.rate
        return rate


class InvoiceItemTax:
    __slots__ = ("amount_minor", "code", "rate", "sales_tax")

    @property
    def amount(self):
        return Money(self.amount_minor, self.code)


class InvoiceItem:
    __slots__ = (
        "account",
        "code",
        "description",
        "id",
        "product",
        "quantity",
        "subtotal_minor",
        "taxes",
        "unit_price",
    )

    @property
    def price(self):
        return self.unit_price

    @property
    def subtotal(self):
        return Money(self.subtotal_minor, self.code)

    @property
    def total(self):
        return Money(self.subtotal_minor + sum(t.amount_minor for t in self.taxes), self.code)


class InvoiceDiscount:
    __slots__ = ("amount", "created_at", "discount_type", "modified_at", "name", "percentage")


class Invoice(Entity):
    __slots__ = (
        "amount_title",
        "approved",
        "currency_code",
        "customer",
        "deleted",
        "disable_amex_payments",
        "disable_bank_payments",
        "disable_credit_card_payments",
        "discount_total_minor",
        "discounts",
        "due_date",
        "exchange_rate",
        "footer",
        "hide_amount",
        "hide_description",
        "hide_name",
        "hide_price",
        "hide_unit",
        "invoice_date",
        "invoice_number",
        "item_title",
        "items",
        "last_sent_at",
        "last_sent_via",
        "last_viewed_at",
        "memo",
        "overdue_notified",
        "paid_minor",
        "payment_list",
        "po_number",
        "price_title",
        "require_terms_of_service_agreement",
        "seq",
        "source_estimate",
        "state",
        "subhead",
        "subtotal_minor",
        "tax_total_minor",
        "title",
        "total_minor",
        "unit_title",
    )
    TYPE = "Invoice"

    # Money fields -------------------------------------------------------
    @property
    def currency(self):
        return currency(self.currency_code)

    @property
    def subtotal(self):
        return Money(self.subtotal_minor, self.currency_code)

    @property
    def tax_total(self):
        return Money(self.tax_total_minor, self.currency_code)

    @property
    def discount_total(self):
        return Money(self.discount_total_minor, self.currency_code)

    @property
    def total(self):
        return Money(self.total_minor, self.currency_code)

    @property
    def amount_paid(self):
        return Money(self.paid_minor, self.currency_code)

    @property
    def amount_due(self):
        return Money(self.total_minor - self.paid_minor, self.currency_code)

    @property
    def pdf_url(self):
        return f"https://sandbox.invalid/invoice/{self.id}/pdf"

    @property
    def anonymous_id(self):
        """ASSUMPTION: the PublicInvoice id shares the invoice's uuid."""
        return global_id("PublicInvoice", decode_id(self.id)[1])

    attachments = None
    invoice_reminders = ()

    @property
    def source(self):
        """The estimate this invoice was converted from (``convertEstimateToInvoice``)."""
        return getattr(self, "source_estimate", None)

    @property
    def view_url(self):
        return f"https://sandbox.invalid/invoice/{self.id}"

    # Status --------------------------------------------------------------
    def status_on(self, today: dt.date) -> str:
        """Derive Wave's InvoiceStatus (rules documented in README)."""
        if not self.approved:
            return "DRAFT"
        paid, total = self.paid_minor, self.total_minor
        if paid > total:
            return "OVERPAID"
        if paid == total and (paid > 0 or self.last_sent_at is not None or total == 0):
            return "PAID"
        if self.due_date < today:
            return "OVERDUE"
        if paid > 0:
            return "PARTIAL"
        if self.last_viewed_at is not None:
            return "VIEWED"
        if self.last_sent_at is not None:
            return "SENT" if self.last_sent_via in SENT_VIA_WAVE else "UNPAID"
        return "SAVED"

    @property
    def status(self):
        return self.status_on(self.state.today())


SENT_VIA_WAVE = {"WAVE", "GMAIL", "OUTLOOK", "YAHOO"}


def business_estimates(b) -> list:
    """The estimates of ``b`` (states saved before estimates existed have none)."""
    try:
        return b.estimates
    except AttributeError:
        b.estimates, b.next_estimate_number = [], 1
        return b.estimates


# Statuses an estimate is kept in (``EXPIRED`` is derived from ``dueDate``, see below).
ESTIMATE_EXPIRING = {"APPROVED", "SENT", "VIEWED"}


class Estimate(Entity):
    """Wave's ``AREstimate``: an approximate bill, not a request for payment.

    ``base_status`` is the status the last action left (DRAFT, APPROVED, SENT,
    VIEWED, ACCEPTED, REJECTED, CONVERTED, DELETED). ASSUMPTION (Wave documents no
    expiry rule): an APPROVED, SENT or VIEWED estimate whose ``dueDate`` (Wave's
    "valid until") has passed reads ``EXPIRED``.
    """

    __slots__ = (
        "amount_title",
        "base_status",
        "currency_code",
        "customer",
        "deposit_payments",
        "deposit_status",
        "deposit_unit",
        "deposit_value",
        "disable_amex_payments",
        "disable_bank_payments",
        "disable_credit_card_payments",
        "discount_total_minor",
        "discounts",
        "due_date",
        "estimate_date",
        "estimate_number",
        "exchange_rate",
        "footer",
        "hide_amount",
        "hide_description",
        "hide_name",
        "hide_price",
        "hide_unit",
        "invoice_id",
        "item_title",
        "items",
        "last_sent_at",
        "last_sent_via",
        "last_viewed_at",
        "memo",
        "po_number",
        "price_title",
        "require_terms_of_service_agreement",
        "state",
        "subhead",
        "subtotal_minor",
        "tax_total_minor",
        "title",
        "total_minor",
        "unit_title",
        "version",
    )
    TYPE = "AREstimate"
    attachments = None
    history = ()

    @property
    def payments(self):
        """The deposits paid on it (``EstimatePayment``; slot ``deposit_payments``, absent
        from states saved before deposits existed)."""
        return list(getattr(self, "deposit_payments", None) or ())

    @property
    def paid_minor(self):
        return sum(p.amount_minor for p in self.payments if p.active)

    @property
    def deposit_payment_status(self):
        """ASSUMPTION: PAID_FULL once the deposits paid reach ``depositTotal``."""
        paid = self.paid_minor
        if paid <= 0:
            return "UNPAID"
        return "PAID_FULL" if paid >= self.deposit_total_minor else "PAID_PARTIAL"

    @property
    def deleted(self):
        """Deleted estimates stay readable by id (status DELETED), see README."""
        return False

    @property
    def currency(self):
        return currency(self.currency_code)

    @property
    def subtotal(self):
        return Money(self.subtotal_minor, self.currency_code)

    @property
    def tax_total(self):
        return Money(self.tax_total_minor, self.currency_code)

    @property
    def discount_total(self):
        return Money(self.discount_total_minor, self.currency_code)

    @property
    def total(self):
        return Money(self.total_minor, self.currency_code)

    @property
    def amount_paid(self):
        return Money(self.paid_minor, self.currency_code)

    @property
    def amount_due(self):
        return Money(self.total_minor - self.paid_minor, self.currency_code)

    @property
    def deposit_total_minor(self) -> int:
        """ASSUMPTION: ``depositValue`` is in cents for AMOUNT (as Wave's input doc
        says), a percentage of ``total`` for PERCENTAGE; 0 while deposits are DISABLED."""
        if self.deposit_status in (None, "DISABLED") or self.deposit_value is None:
            return 0
        if self.deposit_unit == "PERCENTAGE":
            return to_minor(Decimal(self.total_minor) * self.deposit_value / 100, 0)
        return min(int(self.deposit_value), self.total_minor)

    @property
    def deposit_total(self):
        return Money(self.deposit_total_minor, self.currency_code)

    @property
    def pdf_url(self):
        return f"https://sandbox.invalid/estimate/{self.id}/pdf"

    @property
    def view_url(self):
        return f"https://sandbox.invalid/estimate/{self.id}"

    def status_on(self, today: dt.date) -> str:
        if self.base_status in ESTIMATE_EXPIRING and self.due_date < today:
            return "EXPIRED"
        return self.base_status

    @property
    def status(self):
        return self.status_on(self.state.today())


class EstimatePayment(Entity):
    """Wave's ``EstimatePayment``: a deposit paid on an estimate (``transactionType``
    DEPOSIT).

    ASSUMPTION (Wave's public API can neither record nor list one outside
    ``estimate(id).payments``): the customer pays it on the estimate's page (admin
    ``POST /sandbox/estimates/deposit``); once the estimate is converted, the deposit is
    a payment of the invoice (``invoice_payment``, see ``ops.convert_estimate``).
    """

    __slots__ = (
        "account",
        "amount_minor",
        "estimate",
        "invoice_payment",
        "memo",
        "payment_date",
        "payment_method",
    )
    TYPE = "EstimatePayment"
    active = True
    state = "COMPLETED"
    transaction_type = "DEPOSIT"
    payment_provider = "MANUAL"
    confirmation_code = origin = origin_payment_id = payment_details = None
    payment_method_id = readonly_url = transaction_id = None

    @property
    def amount(self):
        return str(Money(self.amount_minor, self.estimate.currency_code).value)

    @property
    def currency(self):
        return currency(self.estimate.currency_code)

    @property
    def payment_account_id(self):
        return self.account.id


class EstimateSource:
    """``Invoice.source`` of an invoice converted from an estimate (Wave's ``Estimate``
    type: business and id, the id being the AREstimate's)."""

    __slots__ = ("business", "id")
    TYPE = "Estimate"
    internal_id = None

    def __init__(self, estimate):
        self.business, self.id = estimate.business, estimate.id


class InvoicePayment(Entity):
    """A payment, or a refund of one (``kind``), on an invoice.

    ASSUMPTION (Wave documents neither): ``transactionType`` is ``PAYMENT`` or ``REFUND``; a
    refund is its own record, with a positive ``amount`` and ``originInvoicePayment``; a
    voided payment keeps its record with ``state: "VOIDED"`` and ``active: false`` and no
    longer counts in ``amountPaid``.  Records written before these slots existed read as
    active manual payments.
    """

    __slots__ = (
        "account",
        "amount_minor",
        "deleted",
        "exchange_rate",
        "invoice",
        "kind",
        "memo",
        "origin_payment",
        "payment_date",
        "payment_method",
        "provider",
        "voided",
    )
    TYPE = "InvoicePayment"

    @property
    def amount(self):
        return Money(self.amount_minor, self.invoice.currency_code).value

    @property
    def customer(self):
        return self.invoice.customer

    @property
    def transaction_type(self):
        return getattr(self, "kind", None) or "PAYMENT"

    @property
    def is_voided(self) -> bool:
        return bool(getattr(self, "voided", False))

    @property
    def state(self):
        return "VOIDED" if self.is_voided else "COMPLETED"

    @property
    def active(self):
        return not self.is_voided

    @property
    def origin_invoice_payment(self):
        return getattr(self, "origin_payment", None)

    @property
    def payment_provider(self):
        return getattr(self, "provider", None)

    @property
    def signed_minor(self) -> int:
        """What this record adds to the invoice's amountPaid."""
        if self.is_voided:
            return 0
        return -self.amount_minor if self.transaction_type == "REFUND" else self.amount_minor

    @property
    def invoice_currency(self):
        return self.invoice.currency

    payment_currency = invoice_currency

    @property
    def business_currency(self):
        return self.invoice.business.currency

    @property
    def display_exchange_rate(self):
        return str(self.exchange_rate)

    origin = "MANUAL"
    account_number_last3 = accounting_transaction_id = authorizer_name = None
    confirmation_code = institution_name = payment_details = payment_method_id = None
    readonly_url = transaction_id = None


class MoneyTransaction(Entity):
    """A money transaction written through the API (write-only at Wave)."""

    __slots__ = ("anchor", "date", "description", "external_id", "line_items", "lines", "notes")
    TYPE = "Transaction"


class LedgerTransaction:
    """A sandbox-generated transaction the API cannot see (expense, bill, bill payment, fee).

    ``lines`` are ``(account, debit_minor, credit_minor, description)`` in business currency.
    """

    __slots__ = (
        "bill_number",
        "created_at",
        "customer",
        "date",
        "description",
        "id",
        "kind",
        "lines",
        "modified_at",
        "notes",
        "vendor",
    )

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))


# --------------------------------------------------------------------------- auth records


class Token:
    __slots__ = (
        "business_ids",
        "client_id",
        "expires_at",
        "kind",
        "refresh_token",
        "revoked",
        "scopes",
        "token",
        "user_id",
    )

    def __init__(
        self,
        token,
        kind,
        user_id,
        scopes,
        business_ids=None,
        expires_at=None,
        client_id=None,
        refresh_token=None,
    ):
        self.token, self.kind, self.user_id, self.scopes = token, kind, user_id, scopes
        self.business_ids, self.expires_at, self.client_id = business_ids, expires_at, client_id
        self.revoked, self.refresh_token = False, refresh_token

    def allows(self, scope: str) -> bool:
        if "*" in self.scopes or scope in self.scopes:
            return True
        return scope.split(":", 1)[0] + ":*" in self.scopes

    def valid(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


# --------------------------------------------------------------------------- state


class State:
    """All sandbox data.  Guard mutations with ``state.lock``."""

    def __init__(self, seed: int = 42):
        self.seed = seed
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.objects: dict[str, object] = {}
        self.users: list[User] = []
        self.businesses: list[Business] = []
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.auth_codes: dict[str, dict] = {}
        self.oauth_clients: dict[str, dict] = {}
        self.frozen_today: dt.date | None = None
        self.access_token_ttl = 7200
        self._last_now = dt.datetime(2000, 1, 1, tzinfo=UTC)
        self.listeners: list = []  # callables(event_type, business, invoice, extra)
        # realistic demo data: business id -> case name -> invoice ids (realistic.py)
        self.realistic_cases: dict[str, dict[str, list[str]]] = {}
        # test switches (``/sandbox/config``): the shape of a NOT_FOUND error
        # ("wave", "no_code", "other_path", "bare") and the connections whose
        # pages come in a new random order at every request
        self.not_found_shape = "wave"
        self.unsorted_pages: set[str] = set()
        self.page_shuffles = 0

    # pickling: locks / listeners are runtime only
    def __getstate__(self):
        d = self.__dict__.copy()
        d.pop("lock", None)
        d["listeners"] = []
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.lock = threading.RLock()

    # clock ------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """Strictly increasing UTC now (ms resolution) so modifiedAt ordering is total."""
        now = dt.datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_now:
            now = self._last_now + dt.timedelta(milliseconds=1)
        self._last_now = now
        return now

    def today(self) -> dt.date:
        return self.frozen_today or dt.datetime.now(UTC).date()

    # ids ----------------------------------------------------------------------
    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def register(self, obj, business=None, when: dt.datetime | None = None):
        obj.id = global_id(obj.TYPE, self.new_uuid())
        obj.business = business
        obj.created_at = obj.modified_at = when or self.now()
        self.objects[obj.id] = obj
        return obj

    def get(self, gid, cls=None, business=None):
        obj = self.objects.get(gid) if isinstance(gid, str) else None
        if obj is None or (cls is not None and not isinstance(obj, cls)):
            return None
        if getattr(obj, "deleted", False):
            return None
        if business is not None and obj.business is not business:
            return None
        return obj

    def touch(self, obj):
        obj.modified_at = self.now()
        if isinstance(obj, Invoice):
            obj.business.invoice_version += 1

    def emit(self, event_type: str, business, invoice=None, **extra):
        for listener in list(self.listeners):
            listener(event_type, business, invoice, extra)

    def monotonic(self) -> float:
        return time.time()
