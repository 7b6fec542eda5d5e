"""Wires the SDL to the store: scalars, field resolvers, queries, mutations, scopes."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from decimal import Decimal

from graphql import GraphQLError, GraphQLSchema, build_schema
from graphql.language import ast

from . import ops
from .schema import COUNTRY_CODES, CURRENCY_CODES, SDL
from .store import (
    ACCOUNT_SUBTYPE_OBJS,
    ACCOUNT_TYPES,
    UTC,
    Account,
    Business,
    Country,
    Customer,
    Estimate,
    Invoice,
    InvoicePayment,
    Money,
    Product,
    Province,
    SalesTax,
    Vendor,
    business_estimates,
    currency,
    fmt_datetime,
)

DEFAULT_MAX_PAGE_SIZE = 200  # assumption: Wave documents no maximum; larger sizes are clamped


class Ctx:
    """Per-request context: store, token, user, and the business ids the token may reach."""

    def __init__(self, state, token, max_page_size=DEFAULT_MAX_PAGE_SIZE):
        self.state, self.token = state, token
        self.user = state.objects.get(token.user_id)
        self.max_page_size = max_page_size
        self.today = state.today()

    def require(self, scope: str) -> None:
        if not self.token.allows(scope):
            raise GraphQLError(
                f"Insufficient scope: this operation requires '{scope}'.",
                extensions={"code": "FORBIDDEN"},
            )

    def businesses(self):
        ids = self.token.business_ids
        return [
            b
            for b in self.state.businesses
            if b.owner_id == self.token.user_id and (ids is None or b.id in ids)
        ]

    def allowed(self, b) -> bool:
        ids = self.token.business_ids
        return b is not None and b.owner_id == self.token.user_id and (ids is None or b.id in ids)


def not_found(type_name: str, gid) -> GraphQLError:
    return GraphQLError(
        f"{type_name} '{gid}' could not be found.", extensions={"code": "NOT_FOUND"}
    )


# --------------------------------------------------------------------------- scalars


def _parse_date(value):
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise GraphQLError(f"Date must be formatted as yyyy-MM-dd, got {value!r}.") from None


def _parse_datetime(value):
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise GraphQLError(f"DateTime must be ISO-8601, got {value!r}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_decimal(value) -> str:
    """Decimal -> string; trailing zeros beyond two decimals are dropped ("25.00000" -> "25.00")."""
    text = str(value)
    if "." in text and "E" not in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0")
        if len(frac) < 2 and len(text.split(".")[1]) >= 2:
            frac = frac.ljust(2, "0")
        text = f"{whole}.{frac}" if frac else whole
    return text


def _parse_decimal(value):
    if isinstance(value, bool):
        raise GraphQLError("Decimal cannot be a boolean.")
    try:
        return Decimal(str(value))
    except Exception:
        raise GraphQLError(f"Decimal expected, got {value!r}.") from None


def _literal(parse):
    def parse_literal(node, _variables=None):
        if isinstance(node, ast.StringValueNode | ast.IntValueNode | ast.FloatValueNode):
            return parse(node.value)
        raise GraphQLError("Expected a string literal.")

    return parse_literal


def _setup_scalars(schema: GraphQLSchema) -> None:
    date_t = schema.type_map["Date"]
    date_t.serialize = lambda v: v.isoformat()
    date_t.parse_value, date_t.parse_literal = _parse_date, _literal(_parse_date)
    dt_t = schema.type_map["DateTime"]
    dt_t.serialize = fmt_datetime
    dt_t.parse_value, dt_t.parse_literal = _parse_datetime, _literal(_parse_datetime)
    dec_t = schema.type_map["Decimal"]
    dec_t.serialize = format_decimal
    dec_t.parse_value, dec_t.parse_literal = _parse_decimal, _literal(_parse_decimal)


# --------------------------------------------------------------------------- pagination


class PageInfo:
    __slots__ = ("current_page", "total_count", "total_pages")

    def __init__(self, page, count, pages):
        self.current_page, self.total_count, self.total_pages = page, count, pages


class Connection:
    """``edges`` holds the nodes themselves; ``XEdge.node`` resolves to its source."""

    __slots__ = ("edges", "page_info")

    def __init__(self, edges, page_info):
        self.edges, self.page_info = edges, page_info


def paginate(ctx, items, page, page_size, reverse=False) -> Connection:
    if page is None or page < 1:
        raise GraphQLError(
            "page must be a positive integer (pages are 1-based).",
            extensions={"code": "BAD_USER_INPUT"},
        )
    if page_size is None or page_size < 1:
        raise GraphQLError(
            "pageSize must be a positive integer.", extensions={"code": "BAD_USER_INPUT"}
        )
    size = min(page_size, ctx.max_page_size)
    total = len(items)
    start, stop = (page - 1) * size, min(page * size, total)
    if reverse:
        chunk = items[max(total - stop, 0) : total - start] if start < total else []
        chunk = chunk[::-1]
    else:
        chunk = items[start:stop]
    return Connection(chunk, PageInfo(page, total, math.ceil(total / size)))


def _unsorted(ctx, connection, items):
    """``items`` in a new random order when the test switch ``unsorted_pages`` names
    ``connection``: pages shift between two requests, as a list without sort may."""
    state = ctx.state
    if connection not in getattr(state, "unsorted_pages", ()):
        return items
    state.page_shuffles = getattr(state, "page_shuffles", 0) + 1
    items = list(items)
    random.Random(f"{state.seed}-{state.page_shuffles}").shuffle(items)
    return items


def _modified_filter(items, after, before):
    if after is not None:
        items = [x for x in items if x.modified_at > after]
    if before is not None:
        items = [x for x in items if x.modified_at < before]
    return items


_SORT_KEYS = {
    "CREATED_AT": lambda x: x.created_at,
    "MODIFIED_AT": lambda x: x.modified_at,
    "NAME": lambda x: (x.name or "").lower(),
}


def _sorted(items, sorts, keys):
    if sorts == ["CREATED_AT_ASC"]:
        return items
    items = list(items)
    for spec in reversed(sorts):
        key, _, direction = spec.rpartition("_")
        items.sort(key=keys[key], reverse=direction == "DESC")
    return items


# --------------------------------------------------------------------------- queries


def _business(ctx, gid=None):
    ctx.require("business:read")
    if gid is None:
        allowed = ctx.businesses()
        return allowed[0] if allowed else None
    b = ctx.state.get(gid, Business)
    if not ctx.allowed(b):
        raise not_found("Business", gid)
    return b


def q_businesses(_, info, page=1, pageSize=10, isArchived=None):
    ctx = info.context
    ctx.require("business:read")
    items = [b for b in ctx.businesses() if isArchived is None or b.is_archived == isArchived]
    return paginate(ctx, items, page, pageSize)


def q_user(_, info):
    info.context.require("user:read")
    return info.context.user


def _getter(type_name, cls, scope):
    def resolve(b, info, id):
        info.context.require(scope)
        obj = info.context.state.get(id, cls, b)
        if obj is None:
            raise not_found(type_name, id)
        return obj

    return resolve


def b_accounts(
    b, info, page=1, pageSize=45, isArchived=False, types=None, subtypes=None, excludedSubtypes=None
):
    ctx = info.context
    ctx.require("account:read")
    items = [
        a
        for a in b.accounts
        if (isArchived is None or a.is_archived == isArchived)
        and (not types or a.subtype.type.value in types)
        and (not subtypes or a.subtype_value in subtypes)
        and (not excludedSubtypes or a.subtype_value not in excludedSubtypes)
    ]
    return paginate(ctx, items, page, pageSize)


def b_customers(
    b,
    info,
    page=1,
    pageSize=45,
    email=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    sort=("CREATED_AT_DESC",),
):
    ctx = info.context
    ctx.require("customer:read")
    items = b.customers
    if email is not None:
        items = [c for c in items if (c.email or "").lower() == email.lower()]
    items = _modified_filter(items, modifiedAtAfter, modifiedAtBefore)
    return _sorted_page(ctx, items, list(sort), _SORT_KEYS, page, pageSize)


def _sorted_page(ctx, items, sort, keys, page, page_size):
    if sort == ["CREATED_AT_DESC"]:
        return paginate(ctx, items, page, page_size, reverse=True)
    return paginate(ctx, _sorted(items, sort, keys), page, page_size)


def b_vendors(
    b, info, page=1, pageSize=45, email=None, modifiedAtAfter=None, modifiedAtBefore=None
):
    ctx = info.context
    ctx.require("vendor:read")
    items = b.vendors
    if email is not None:
        items = [c for c in items if (c.email or "").lower() == email.lower()]
    items = _unsorted(ctx, "vendors", _modified_filter(items, modifiedAtAfter, modifiedAtBefore))
    return paginate(ctx, items, page, pageSize)


def b_products(
    b,
    info,
    page=1,
    pageSize=45,
    isArchived=False,
    isBought=None,
    isSold=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    sort=("CREATED_AT_DESC",),
):
    ctx = info.context
    ctx.require("product:read")
    items = [
        p
        for p in b.products
        if (isArchived is None or p.is_archived == isArchived)
        and (isBought is None or p.is_bought == isBought)
        and (isSold is None or p.is_sold == isSold)
    ]
    items = _modified_filter(items, modifiedAtAfter, modifiedAtBefore)
    return _sorted_page(ctx, items, list(sort), _SORT_KEYS, page, pageSize)


def b_sales_taxes(
    b, info, page=1, pageSize=45, isArchived=False, modifiedAtAfter=None, modifiedAtBefore=None
):
    ctx = info.context
    ctx.require("sales_tax:read")
    items = [t for t in b.sales_taxes if isArchived is None or t.is_archived == isArchived]
    items = _unsorted(ctx, "salesTaxes", _modified_filter(items, modifiedAtAfter, modifiedAtBefore))
    return paginate(ctx, items, page, pageSize)


_STATUS_ORDER = {
    s: i
    for i, s in enumerate(
        ["DRAFT", "SAVED", "SENT", "VIEWED", "UNPAID", "PARTIAL", "OVERDUE", "PAID", "OVERPAID"]
    )
}


def _invoice_keys(today):
    return {
        "AMOUNT_DUE": lambda i: i.total_minor - i.paid_minor,
        "AMOUNT_PAID": lambda i: i.paid_minor,
        "CREATED_AT": lambda i: i.seq,
        "CUSTOMER_NAME": lambda i: i.customer.name.lower(),
        "DUE_AT": lambda i: i.due_date,
        "INVOICE_DATE": lambda i: i.invoice_date,
        "INVOICE_NUMBER": lambda i: (len(i.invoice_number), i.invoice_number),
        "MODIFIED_AT": lambda i: i.modified_at,
        "STATUS": lambda i: _STATUS_ORDER[i.status_on(today)],
        "TOTAL": lambda i: i.total_minor,
    }


def b_invoices(
    b,
    info,
    page=1,
    pageSize=45,
    sort=("CREATED_AT_DESC",),
    status=None,
    customerId=None,
    invoiceNumber=None,
    invoiceDateStart=None,
    invoiceDateEnd=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    currency=None,
    amountDue=None,
    sourceId=None,
):
    ctx = info.context
    ctx.require("invoice:read")
    today = ctx.today
    sort = list(sort)
    if customerId is not None:
        items = b.by_customer.get(customerId, [])
    else:
        items = b.invoices
    if sort not in (["CREATED_AT_DESC"], ["CREATED_AT_ASC"]):
        # cache full-business sorted orders until an invoice changes (or the day turns)
        key = (tuple(sort), customerId, b.invoice_version, today)
        cached = b.sort_cache.get(key[:2])
        if cached is None or cached[0] != key:
            cached = (key, _sorted(items, sort, _invoice_keys(today)))
            b.sort_cache[key[:2]] = cached
        items = cached[1]
    preds = []
    if status is not None:
        preds.append(lambda i: i.status_on(today) == status)
    if invoiceNumber is not None:
        preds.append(lambda i: invoiceNumber in i.invoice_number)
    if invoiceDateStart is not None:
        preds.append(lambda i: i.invoice_date >= invoiceDateStart)
    if invoiceDateEnd is not None:
        preds.append(lambda i: i.invoice_date <= invoiceDateEnd)
    if modifiedAtAfter is not None:
        preds.append(lambda i: i.modified_at > modifiedAtAfter)
    if modifiedAtBefore is not None:
        preds.append(lambda i: i.modified_at < modifiedAtBefore)
    if currency is not None:
        preds.append(lambda i: i.currency_code == currency)
    if amountDue is not None:
        due = int(amountDue * 100)
        preds.append(lambda i: i.total_minor - i.paid_minor == due)
    if sourceId is not None:
        preds.append(lambda i: i.source is not None and i.source.id == sourceId)
    if preds:
        items = [i for i in items if all(p(i) for p in preds)]
    return paginate(ctx, items, page, pageSize, reverse=sort == ["CREATED_AT_DESC"])


_ESTIMATE_STATUS_ORDER = {
    s: i
    for i, s in enumerate(
        ["DRAFT", "APPROVED", "SENT", "VIEWED", "ACCEPTED", "REJECTED", "EXPIRED", "CONVERTED"]
    )
}
# ASSUMPTION: ACTIVE = neither converted nor expired nor rejected; UNPAID / PARTIAL / PAID
# read the deposits paid (``amountPaid``): none, some of the deposit, all of it.
_ESTIMATE_FILTERS = {
    "ACTIVE": lambda e, s: s in ("DRAFT", "APPROVED", "SENT", "VIEWED", "ACCEPTED"),
    "UNPAID": lambda e, s: e.deposit_payment_status == "UNPAID",
    "PARTIAL": lambda e, s: e.deposit_payment_status == "PAID_PARTIAL",
    "PAID": lambda e, s: e.deposit_payment_status == "PAID_FULL",
}


def _estimate_keys(today):
    return {
        "AMOUNT_DUE": lambda e: e.total_minor - e.paid_minor,
        "AMOUNT_PAID": lambda e: e.paid_minor,
        "CREATED_AT": lambda e: e.created_at,
        "CUSTOMER_NAME": lambda e: e.customer.name.lower(),
        "DUE_AT": lambda e: e.due_date,
        "ESTIMATE_DATE": lambda e: e.estimate_date,
        "ESTIMATE_NUMBER": lambda e: (len(e.estimate_number), e.estimate_number),
        "MODIFIED_AT": lambda e: e.modified_at,
        "STATUS": lambda e: _ESTIMATE_STATUS_ORDER[e.status_on(today)],
        "TOTAL": lambda e: e.total_minor,
    }


def b_estimates(
    b,
    info,
    page=1,
    pageSize=45,
    sort="CREATED_AT_DESC",
    status=None,
    customerId=None,
    estimateNumber=None,
    estimateDateStart=None,
    estimateDateEnd=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    currency=None,
    amountDue=None,
):
    """Wave's ``business.estimates``: one ``sort`` value (not a list, unlike invoices);
    deleted estimates are not listed (the status filter has no DELETED)."""
    ctx = info.context
    ctx.require("estimate:read")
    today = ctx.today
    items = business_estimates(b)
    preds = []
    if status is not None:
        match = _ESTIMATE_FILTERS.get(status, lambda e, s, status=status: s == status)
        preds.append(lambda e: match(e, e.status_on(today)))
    if customerId is not None:
        preds.append(lambda e: e.customer.id == customerId)
    if estimateNumber is not None:
        preds.append(lambda e: estimateNumber in e.estimate_number)
    if estimateDateStart is not None:
        preds.append(lambda e: e.estimate_date >= estimateDateStart)
    if estimateDateEnd is not None:
        preds.append(lambda e: e.estimate_date <= estimateDateEnd)
    if modifiedAtAfter is not None:
        preds.append(lambda e: e.modified_at > modifiedAtAfter)
    if modifiedAtBefore is not None:
        preds.append(lambda e: e.modified_at < modifiedAtBefore)
    if currency is not None:
        preds.append(lambda e: e.currency_code == currency)
    if amountDue is not None:
        due = int(amountDue * 100)
        preds.append(lambda e: e.total_minor == due)
    if preds:
        items = [e for e in items if all(p(e) for p in preds)]
    items = _sorted(items, [sort], _estimate_keys(today))
    return paginate(ctx, items, page, pageSize)


def _estimate_getter(b, info, id, **_kw):
    """``business.estimate(id)``: deleted estimates stay readable (status DELETED)."""
    info.context.require("estimate:read")
    obj = info.context.state.get(id, Estimate, b)
    if obj is None:
        raise not_found("AREstimate", id)
    return obj


def inv_payments(inv, info):
    """Only populated when a single invoice is requested (as at Wave)."""
    path = info.path
    while path is not None:
        if path.key == "edges":
            return None
        path = path.prev
    return inv.payment_list


def customer_amounts(overdue: bool):
    def resolve(c, info):
        b, today = c.business, info.context.today
        total = 0
        for inv in b.by_customer.get(c.id, ()):
            if not inv.approved or (overdue and inv.due_date >= today):
                continue
            due = inv.total_minor - inv.paid_minor
            if due > 0:
                total += ops._to_business(
                    due, inv.exchange_rate, inv.currency.exponent, b.currency.exponent
                )
        return Money(total, b.currency_code)

    return resolve


# --------------------------------------------------------------------------- mutations


def _lookup(ctx, gid, cls, field="id"):
    obj = ctx.state.get(gid, cls)
    if obj is None or not ctx.allowed(obj.business):
        raise ops.err("NOT_FOUND", f"{cls.__name__} '{gid}' could not be found.", field)
    return obj


def _biz(ctx, data):
    b = ctx.state.get(data["businessId"], Business)
    if not ctx.allowed(b):
        raise ops.err(
            "NOT_FOUND", f"Business '{data['businessId']}' could not be found.", "businessId"
        )
    return b


MUTATIONS = {
    # name: (scope, entity field, fn(ctx, state, input))
    "customerCreate": (
        "customer:write",
        "customer",
        lambda c, s, d: ops.create_customer(s, _biz(c, d), d),
    ),
    "customerPatch": (
        "customer:write",
        "customer",
        lambda c, s, d: ops.patch_customer(s, _lookup(c, d["id"], Customer), d),
    ),
    "customerDelete": (
        "customer:write",
        None,
        lambda c, s, d: ops.delete_customer(s, _lookup(c, d["id"], Customer)),
    ),
    "productCreate": (
        "product:write",
        "product",
        lambda c, s, d: ops.create_product(s, _biz(c, d), d),
    ),
    "productPatch": (
        "product:write",
        "product",
        lambda c, s, d: ops.patch_product(s, _lookup(c, d["id"], Product), d),
    ),
    "productArchive": (
        "product:write",
        "product",
        lambda c, s, d: ops.archive_product(s, _lookup(c, d["id"], Product)),
    ),
    "salesTaxCreate": (
        "sales_tax:write",
        "salesTax",
        lambda c, s, d: ops.create_sales_tax(s, _biz(c, d), d),
    ),
    "salesTaxPatch": (
        "sales_tax:write",
        "salesTax",
        lambda c, s, d: ops.patch_sales_tax(s, _lookup(c, d["id"], SalesTax), d),
    ),
    "salesTaxArchive": (
        "sales_tax:write",
        "salesTax",
        lambda c, s, d: ops.archive_sales_tax(s, _lookup(c, d["id"], SalesTax)),
    ),
    "accountCreate": (
        "account:write",
        "account",
        lambda c, s, d: ops.create_account(s, _biz(c, d), d),
    ),
    "accountPatch": (
        "account:write",
        "account",
        lambda c, s, d: ops.patch_account(s, _lookup(c, d["id"], Account), d),
    ),
    "accountArchive": (
        "account:write",
        None,
        lambda c, s, d: ops.archive_account(s, _lookup(c, d["id"], Account)),
    ),
    "invoiceCreate": (
        "invoice:write",
        "invoice",
        lambda c, s, d: ops.create_invoice(s, _biz(c, d), d),
    ),
    "invoicePatch": (
        "invoice:write",
        "invoice",
        lambda c, s, d: ops.patch_invoice(s, _lookup(c, d["id"], Invoice), d),
    ),
    "invoiceApprove": (
        "invoice:write",
        "invoice",
        lambda c, s, d: ops.approve_invoice(s, _lookup(c, d["invoiceId"], Invoice, "invoiceId")),
    ),
    "invoiceMarkSent": (
        "invoice:write",
        "invoice",
        lambda c, s, d: ops.mark_sent(
            s, _lookup(c, d["invoiceId"], Invoice, "invoiceId"), d["sendMethod"], d.get("sentAt")
        ),
    ),
    "invoiceSend": (
        "invoice:send",
        "invoice",
        lambda c, s, d: ops.send_invoice(s, _lookup(c, d["invoiceId"], Invoice, "invoiceId"), d),
    ),
    "invoiceDelete": (
        "invoice:write",
        None,
        lambda c, s, d: ops.delete_invoice(s, _lookup(c, d["invoiceId"], Invoice, "invoiceId")),
    ),
    "invoicePaymentCreateManual": (
        "invoice:write",
        "invoicePayment",
        lambda c, s, d: ops.create_payment(s, _lookup(c, d["invoiceId"], Invoice, "invoiceId"), d),
    ),
    "invoicePaymentPatch": (
        "invoice:write",
        "invoicePayment",
        lambda c, s, d: ops.patch_payment(s, _lookup(c, d["id"], InvoicePayment), d),
    ),
    "invoicePaymentDelete": (
        "invoice:write",
        None,
        lambda c, s, d: ops.delete_payment(s, _lookup(c, d["id"], InvoicePayment)),
    ),
    "estimateCreate": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.create_estimate(s, _biz(c, d), d),
    ),
    "estimatePatch": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.patch_estimate(s, _lookup(c, d["id"], Estimate), d),
    ),
    "estimateApprove": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.approve_estimate(s, _est(c, d)),
    ),
    "estimateMarkSent": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.mark_estimate_sent(s, _est(c, d), d["sendMethod"], d.get("sentAt")),
    ),
    "estimateSend": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.send_estimate(s, _est(c, d), d),
    ),
    "estimateMarkAccepted": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.accept_estimate(s, _est(c, d)),
    ),
    "estimateResetAcceptance": (
        "estimate:write",
        "estimate",
        lambda c, s, d: ops.reset_estimate_acceptance(s, _est(c, d)),
    ),
    "estimateDelete": (
        "estimate:write",
        None,
        lambda c, s, d: ops.delete_estimate(s, _est(c, d)),
    ),
    "convertEstimateToInvoice": (
        "estimate:write",
        "invoiceId",
        lambda c, s, d: _convert(c, s, d),
    ),
    "moneyTransactionCreate": (
        "transaction:write",
        "transaction",
        lambda c, s, d: ops.create_money_transaction(s, _biz(c, d), d),
    ),
    "moneyTransactionsCreate": (
        "transaction:write",
        "transactions",
        lambda c, s, d: _bulk(c, s, d),
    ),
}


def _est(ctx, data):
    return _lookup(ctx, data["estimateId"], Estimate, "estimateId")


def _convert(ctx, state, data):
    """ASSUMPTION: converting also needs ``invoice:write`` (it creates an invoice)."""
    ctx.require("invoice:write")
    return ops.convert_estimate(state, _est(ctx, data)).id


def _bulk(ctx, state, data):
    """All-or-nothing: validate every transaction, then create them."""
    b = _biz(ctx, data)
    if not data["transactions"]:
        raise ops.err("REQUIRED", "At least one transaction is required.", "transactions")
    created = []
    try:
        for i, tx in enumerate(data["transactions"]):
            created.append(ops.create_money_transaction(state, b, tx, ("transactions", i)))
    except ops.InputErrors:
        for mt in created:  # roll back the ones already posted
            ops._post(mt.lines, -1)
            b.money_transactions.remove(mt)
            state.objects.pop(mt.id, None)
        raise
    return created


def _mutation_resolver(name, scope, entity, fn):
    def resolve(_, info, input):
        ctx = info.context
        ctx.require(scope)
        with ctx.state.lock:
            try:
                result = fn(ctx, ctx.state, input)
            except ops.InputErrors as exc:
                out = {"didSucceed": False, "inputErrors": exc.errors}
                if entity:
                    # ``invoiceId`` is non-null at Wave: ASSUMPTION, an empty id on failure
                    out[entity] = "" if entity == "invoiceId" else None
                return out
        out = {"didSucceed": True, "inputErrors": []}
        if entity:
            out[entity] = result
        return out

    resolve.__name__ = name
    return resolve


# --------------------------------------------------------------------------- wiring

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def _attr(name):
    def resolve(obj, _info, **_kw):
        return getattr(obj, name)

    resolve.attr_name = name  # lets the fast executor read the attribute directly
    return resolve


def _item(name):
    def resolve(obj, _info, **_kw):
        return obj.get(name)

    return resolve


def _self(obj, _info):
    return obj


# ASSUMPTION: the column titles a business gets by default (Wave's are non-null)
INVOICE_TITLES = {
    "amountTitle": "Amount",
    "itemTitle": "Items",
    "priceTitle": "Price",
    "unitTitle": "Quantity",
}


def _title(attr, default):
    return lambda inv, _info: getattr(inv, attr) or default


def build() -> GraphQLSchema:
    schema = build_schema(SDL)
    _setup_scalars(schema)
    tm = schema.type_map
    for type_name, gql_type in tm.items():
        if type_name.startswith("__") or not hasattr(gql_type, "fields"):
            continue
        if type_name in ("Query", "Mutation") or type(gql_type).__name__ != "GraphQLObjectType":
            continue
        dict_like = type_name.endswith("Output") or type_name == "InputError"
        for fname, field in gql_type.fields.items():
            field.resolve = _item(fname) if dict_like else _attr(snake(fname))
        if type_name.endswith("Edge"):
            gql_type.fields["node"].resolve = _self

    def setf(type_name, field, fn):
        tm[type_name].fields[field].resolve = fn

    setf("Query", "user", q_user)
    setf("Query", "businesses", q_businesses)
    setf("Query", "business", lambda _, info, id=None: _business(info.context, id))
    setf("Query", "accountTypes", lambda *_: list(ACCOUNT_TYPES.values()))
    setf("Query", "accountSubtypes", lambda *_: list(ACCOUNT_SUBTYPE_OBJS.values()))
    setf("Query", "currencies", lambda *_: [currency(c) for c in CURRENCY_CODES])
    setf("Query", "currency", lambda _, info, code: currency(code))
    setf("Query", "countries", lambda *_: [Country(c) for c in COUNTRY_CODES])
    setf("Query", "country", lambda _, info, code: Country(code))
    setf("Query", "province", lambda _, info, code: Province(code))
    setf("Country", "provinces", lambda *_: [])  # ASSUMPTION: no subdivision data
    setf("Business", "account", _getter("Account", Account, "account:read"))
    setf("Business", "accounts", b_accounts)
    setf("Business", "customer", _getter("Customer", Customer, "customer:read"))
    setf("Business", "customers", b_customers)
    setf("Business", "vendor", _getter("Vendor", Vendor, "vendor:read"))
    setf("Business", "vendors", b_vendors)
    setf("Business", "product", _getter("Product", Product, "product:read"))
    setf("Business", "products", b_products)
    setf("Business", "salesTax", _getter("SalesTax", SalesTax, "sales_tax:read"))
    setf("Business", "salesTaxes", b_sales_taxes)
    setf("Business", "invoice", _getter("Invoice", Invoice, "invoice:read"))
    setf("Business", "invoicePayment", _getter("InvoicePayment", InvoicePayment, "invoice:read"))
    setf("Business", "invoices", b_invoices)
    setf("Business", "estimate", _estimate_getter)
    setf("Business", "estimates", b_estimates)
    setf("AREstimate", "status", lambda e, info: e.status_on(info.context.today))
    for field, default in INVOICE_TITLES.items():
        setf("AREstimate", field, _title(snake(field), default))
    tm["EstimateDiscount"].resolve_type = lambda d, *_: (
        "FixedEstimateDiscount" if d.discount_type == "FIXED" else "PercentageEstimateDiscount"
    )
    setf(
        "Account",
        "balance",
        lambda a, _i: Decimal(ops.account_balance_normal(a)).scaleb(-a.currency.exponent),
    )
    setf(
        "Account",
        "balanceInBusinessCurrency",
        lambda a, _i: Decimal(ops.account_balance_normal(a)).scaleb(-a.currency.exponent),
    )
    setf("Invoice", "payments", inv_payments)
    setf("Invoice", "status", lambda inv, info: inv.status_on(info.context.today))
    setf("Customer", "outstandingAmount", customer_amounts(False))
    setf("Customer", "overdueAmount", customer_amounts(True))
    # Wave: the rate on `for`, or on the current date without it
    setf("SalesTax", "rate", lambda t, info, **kw: t.rate_on(kw.get("for") or info.context.today))
    for field, default in INVOICE_TITLES.items():
        setf("Invoice", field, _title(snake(field), default))
    tm["InvoiceSource"].resolve_type = lambda obj, *_: obj.TYPE
    setf(
        "InvoiceItemTax",
        "rate",
        lambda t, _i: t.rate if t.rate is not None else t.sales_tax.rate_on(None),
    )
    setf("Transaction", "id", lambda t, _i: t.id)
    tm["InvoiceDiscount"].resolve_type = lambda d, *_: (
        "FixedInvoiceDiscount" if d.discount_type == "FIXED" else "PercentageInvoiceDiscount"
    )
    for iface in ("Node", "BusinessNode"):
        tm[iface].resolve_type = lambda obj, *_: obj.TYPE
    for name, (scope, entity, fn) in MUTATIONS.items():
        setf("Mutation", name, _mutation_resolver(name, scope, entity, fn))
    return schema
