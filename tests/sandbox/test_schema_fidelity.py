"""The sandbox's schema follows Wave's public schema (enums, nullability, fields) and Wave's
behaviour for archived records, salesTaxPatch / salesTaxArchive, refunds and voids."""

from __future__ import annotations

import datetime as dt

import pytest

from wave_sandbox.schema import COUNTRY_CODES, CURRENCY_CODES

# Field types retyped from Wave's introspected schema (rhanka/mcp-wave data/wave-schema.graphql)
WAVE_FIELDS = {
    "User": {
        "id": "ID!",
        "createdAt": "DateTime!",
        "modifiedAt": "DateTime!",
        "defaultEmail": "String",
        "firstName": "String",
        "lastName": "String",
    },
    "SalesTax": {
        "abbreviation": "String!",
        "isArchived": "Boolean!",
        "isCompound": "Boolean!",
        "isRecoverable": "Boolean!",
        "showTaxNumberOnInvoices": "Boolean!",
        "rates": "[SalesTaxRate!]!",
        "rate": "Decimal!",
        "taxNumber": "String",
        "internalId": "String",
    },
    "InvoiceItem": {
        "id": "ID!",
        "account": "Account!",
        "product": "Product!",
        "quantity": "Decimal!",
        "unitPrice": "Decimal!",
        "price": "Decimal!",
        "subtotal": "Money!",
        "total": "Money!",
        "taxes": "[InvoiceItemTax!]!",
        "description": "String",
    },
    "InvoicePayment": {
        "account": "Account!",
        "accountNumberLast3": "String",
        "accountingTransactionId": "String",
        "active": "Boolean",
        "amount": "String",
        "authorizerName": "String",
        "businessCurrency": "Currency",
        "confirmationCode": "String",
        "displayExchangeRate": "String",
        "exchangeRate": "Decimal!",
        "institutionName": "String",
        "invoiceCurrency": "Currency",
        "originInvoicePayment": "InvoicePayment",
        "paymentCurrency": "Currency",
        "paymentDate": "Date",
        "paymentDetails": "InvoicePaymentDetail",
        "paymentMethod": "String",
        "paymentMethodId": "String",
        "paymentProvider": "String",
        "readonlyUrl": "String",
        "state": "String",
        "transactionId": "String",
        "transactionType": "String",
    },
    "Invoice": {
        "amountTitle": "String!",
        "itemTitle": "String!",
        "priceTitle": "String!",
        "unitTitle": "String!",
        "anonymousId": "ID!",
        "attachments": "[ARAttachment!]",
        "invoiceReminders": "[InvoiceReminder!]!",
        "source": "InvoiceSource",
        "payments": "[InvoicePayment]",
        "discounts": "[InvoiceDiscount!]",
        "exchangeRate": "Decimal!",
    },
    "Business": {
        "fax": "String",
        "mobile": "String",
        "tollFree": "String",
        "type": "BusinessType",
        "subtype": "BusinessSubtype",
        "invoiceEstimateSettings": "InvoiceEstimateSettings!",
        "organizationalType": "OrganizationalType",
    },
}
TYPE_REF = "name kind ofType { name kind ofType { name kind ofType { name kind } } }"


def _type_str(t):
    if t["kind"] == "NON_NULL":
        return _type_str(t["ofType"]) + "!"
    if t["kind"] == "LIST":
        return "[" + _type_str(t["ofType"]) + "]"
    return t["name"]


def _enum(api, name):
    q = f'{{ __type(name: "{name}") {{ enumValues {{ name }} }} }}'
    return [v["name"] for v in api.data(q)["__type"]["enumValues"]]


def test_currency_and_country_enums_are_complete(api):
    currencies = _enum(api, "CurrencyCode")
    assert currencies == CURRENCY_CODES and len(currencies) == 161
    # legacy codes Wave still lists, and newer ones it lacks (Odoo has both kinds)
    assert {"BYR", "EEK", "LTL", "ZMK", "VEF", "MRO", "MRU"} <= set(currencies)
    assert not {"VES", "BYN", "CNH"} & set(currencies)
    countries = _enum(api, "CountryCode")
    assert countries == COUNTRY_CODES and len(countries) == 249
    assert "XK" not in countries and {"AX", "BQ", "SS", "SX", "CW"} <= set(countries)
    listed = api.data("{ currencies { code exponent } }")["currencies"]
    assert [c["code"] for c in listed] == CURRENCY_CODES
    exponents = {c["code"]: c["exponent"] for c in listed}
    assert (exponents["JPY"], exponents["KWD"], exponents["EUR"]) == (0, 3, 2)


def test_values_outside_wave_enums_fail_the_whole_request(api, fresh):
    q = """query($b: ID!, $c: CurrencyCode) { business(id: $b) {
      invoices(currency: $c) { pageInfo { totalCount } } } }"""
    body = api.gql(q, {"b": fresh.id, "c": "VES"})
    assert body["errors"] and body.get("data") is None
    ok = api.gql(q, {"b": fresh.id, "c": "EEK"})
    assert "errors" not in ok
    out = api.gql(
        "mutation($i: CustomerCreateInput!) { customerCreate(input: $i) { didSucceed } }",
        {"i": {"businessId": fresh.id, "name": "Pristina", "address": {"countryCode": "XK"}}},
    )
    assert out["errors"] and out.get("data") is None


def test_field_types_and_nullability_follow_wave(api):
    for type_name, fields in WAVE_FIELDS.items():
        q = (
            f'{{ __type(name: "{type_name}") {{ fields(includeDeprecated: true) '
            f"{{ name type {{ {TYPE_REF} }} }} }} }}"
        )
        got = {f["name"]: _type_str(f["type"]) for f in api.data(q)["__type"]["fields"]}
        for field, expected in fields.items():
            assert got.get(field) == expected, (type_name, field, got.get(field))


def test_business_and_invoice_defaults_resolve(api, demo):
    b = demo["us"]
    inv = next(i for i in b.invoices if i.approved)
    q = """query($b: ID!, $i: ID!) { user { createdAt modifiedAt }
      business(id: $b) { fax tollFree type { value } invoiceEstimateSettings {
        generalSettings { accentColor logoUrl } }
        invoice(id: $i) { amountTitle itemTitle priceTitle unitTitle anonymousId
          invoiceReminders { id } source { __typename } items { id } } } }"""
    d = api.data(q, {"b": b.id, "i": inv.id})
    assert d["user"]["createdAt"] and d["user"]["modifiedAt"]
    got = d["business"]["invoice"]
    assert (got["amountTitle"], got["itemTitle"], got["unitTitle"]) == (
        "Amount",
        "Items",
        "Quantity",
    )
    ids = [item["id"] for item in got["items"]]
    assert len(set(ids)) == len(ids) == len(inv.items) and all(ids)
    assert got["anonymousId"] and got["invoiceReminders"] == [] and got["source"] is None


# --------------------------------------------------------------------------- write helpers


@pytest.fixture()
def books(api, fresh):
    b = fresh

    def tax(abbr, rate, **extra):
        out = api.mutate(
            "salesTaxCreate",
            {"businessId": b.id, "name": f"Tax {abbr}", "abbreviation": abbr, "rate": rate} | extra,
            "salesTax { id }",
        )
        assert out["didSucceed"], out
        return out["salesTax"]["id"]

    t1 = tax("A", "0.05")
    product = api.mutate(
        "productCreate",
        {"businessId": b.id, "name": "Thing", "unitPrice": "100", "defaultSalesTaxIds": [t1]},
        "product { id }",
    )["product"]["id"]
    customer = api.mutate(
        "customerCreate", {"businessId": b.id, "name": "Client"}, "customer { id }"
    )["customer"]["id"]
    return {"b": b, "tax": tax, "t1": t1, "product": product, "customer": customer}


INV = "invoice { id taxTotal { value } total { value } items { taxes { salesTax { id } } } }"


def _invoice(api, s, day, **extra):
    data = {
        "businessId": s["b"].id,
        "customerId": s["customer"],
        "invoiceDate": day,
        "status": "SAVED",
        "items": [{"productId": s["product"], "quantity": "1"}],
    } | extra
    return api.mutate("invoiceCreate", data, INV)


def _tax_query(api, tax_id, **args):
    q = """query($b: ID!, $t: ID!, $d: Date) { business(id: $b) {
      salesTax(id: $t) { name abbreviation isArchived rate(for: $d)
        rates { effective rate } } } }"""
    return api.data(q, {"t": tax_id, **args})["business"]["salesTax"]


# --------------------------------------------------------------------------- salesTaxPatch


def test_sales_tax_patch_rates_history_and_validation(api, books):
    s = books
    before = _invoice(api, s, "2025-01-10")
    assert before["didSucceed"] and before["invoice"]["taxTotal"]["value"] == "5.00"
    rates = [
        {"effective": "2000-01-01", "rate": "0.05"},
        {"effective": "2025-03-01", "rate": "0.0712345"},
    ]
    out = api.mutate(
        "salesTaxPatch",
        {"id": s["t1"], "name": "Renamed", "abbreviation": "RN", "rates": rates},
        "salesTax { name abbreviation rates { effective rate } }",
    )
    assert out["didSucceed"], out
    assert out["salesTax"]["rates"] == [
        {"effective": "2000-01-01", "rate": "0.05"},
        {"effective": "2025-03-01", "rate": "0.071235"},  # 6 decimals, ties away from zero
    ]
    b = s["b"].id
    assert _tax_query(api, s["t1"], b=b, d="2025-02-28")["rate"] == "0.05"
    assert _tax_query(api, s["t1"], b=b, d="2025-03-01")["rate"] == "0.071235"
    # invoices keep the amounts they were computed with; new ones use the rate of their date
    kept = api.data(
        "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { taxTotal { value } } } }",
        {"b": b, "i": before["invoice"]["id"]},
    )
    assert kept["business"]["invoice"]["taxTotal"]["value"] == "5.00"
    after = _invoice(api, s, "2025-04-01")
    assert after["invoice"]["taxTotal"]["value"] == "7.12"
    s["tax"]("B", "0.02")
    dup = api.mutate("salesTaxPatch", {"id": s["t1"], "abbreviation": "b"})
    assert not dup["didSucceed"] and dup["inputErrors"][0]["code"] == "DUPLICATE"
    bad = api.mutate(
        "salesTaxPatch", {"id": s["t1"], "rates": [{"effective": "2024-01-01", "rate": "1.5"}]}
    )
    assert not bad["didSucceed"] and bad["inputErrors"][0]["path"] == [
        "input",
        "rates",
        "0",
        "rate",
    ]
    empty = api.mutate("salesTaxPatch", {"id": s["t1"], "rates": []})
    assert not empty["didSucceed"]


# --------------------------------------------------------------------------- archived records


def _names(api, b, field, archived="", extra="name"):
    arg = f"(isArchived: {archived}, pageSize: 200)" if archived else "(pageSize: 200)"
    q = (
        f"query($b: ID!) {{ business(id: $b) {{ {field}{arg} "
        f"{{ edges {{ node {{ {extra} }} }} }} }} }}"
    )
    return [e["node"]["name"] for e in api.data(q, {"b": b})["business"][field]["edges"]]


def test_sales_tax_archive_hides_but_still_resolves(api, books):
    s = books
    old = _invoice(api, s, "2025-01-10")["invoice"]
    out = api.mutate("salesTaxArchive", {"id": s["t1"]}, "salesTax { id isArchived }")
    assert out["didSucceed"] and out["salesTax"]["isArchived"] is True
    b = s["b"].id
    assert "Tax A" not in _names(api, b, "salesTaxes")
    assert _names(api, b, "salesTaxes", "true") == ["Tax A"]
    assert "Tax A" in _names(api, b, "salesTaxes", "null")
    assert _tax_query(api, s["t1"], b=b)["isArchived"] is True
    q = """query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) {
      items { taxes { amount { value } salesTax { id isArchived } } } } } }"""
    tax = api.data(q, {"b": b, "i": old["id"]})["business"]["invoice"]["items"][0]["taxes"][0]
    assert (
        tax["salesTax"] == {"id": s["t1"], "isArchived": True} and tax["amount"]["value"] == "5.00"
    )
    # new lines: the product's archived default tax is left out, an explicit one refused
    new = _invoice(api, s, "2025-02-01")
    assert new["didSucceed"] and new["invoice"]["taxTotal"]["value"] == "0.00"
    explicit = _invoice(
        api,
        s,
        "2025-02-01",
        items=[{"productId": s["product"], "taxes": [{"salesTaxId": s["t1"]}]}],
    )
    assert not explicit["didSucceed"]
    assert explicit["inputErrors"][0]["path"][-1] == "salesTaxId"


def test_archived_accounts_and_products_are_hidden_unless_asked(api, books):
    s = books
    b = s["b"]
    acc = api.mutate(
        "accountCreate",
        {"businessId": b.id, "name": "Old Income", "subtype": "INCOME"},
        "account { id }",
    )["account"]["id"]
    prod = api.mutate(
        "productCreate",
        {"businessId": b.id, "name": "Old Thing", "unitPrice": "3.335", "incomeAccountId": acc},
        "product { id unitPrice }",
    )
    assert prod["product"]["unitPrice"] == "3.335"
    inv = _invoice(api, s, "2024-05-05", items=[{"productId": prod["product"]["id"]}])["invoice"]
    assert api.mutate("productArchive", {"id": prod["product"]["id"]})["didSucceed"]
    assert api.mutate("accountArchive", {"id": acc})["didSucceed"]
    assert "Old Income" not in _names(api, b.id, "accounts")
    assert _names(api, b.id, "accounts", "true") == ["Old Income"]
    assert "Old Thing" not in _names(api, b.id, "products")
    assert _names(api, b.id, "products", "true") == ["Old Thing"]
    q = """query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) {
      items { product { name isArchived } account { name isArchived } } } } }"""
    item = api.data(q, {"b": b.id, "i": inv["id"]})["business"]["invoice"]["items"][0]
    assert item == {
        "product": {"name": "Old Thing", "isArchived": True},
        "account": {"name": "Old Income", "isArchived": True},
    }


# --------------------------------------------------------------------------- refunds / voids

PAYMENTS = """query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) {
  status amountPaid { value } amountDue { value }
  payments { id amount transactionType state active originInvoicePayment { id } } } } }"""


def test_refund_and_void_through_the_admin_api(api, books, sandbox):
    s = books
    inv = _invoice(api, s, dt.date.today().isoformat())["invoice"]
    bank = next(a for a in s["b"].accounts if a.subtype_value == "CASH_AND_BANK")
    pay_in = {
        "invoiceId": inv["id"],
        "paymentAccountId": bank.id,
        "amount": "105.00",
        "paymentDate": dt.date.today().isoformat(),
        "paymentMethod": "CREDIT_CARD",
        "exchangeRate": "1",
    }
    first = api.mutate("invoicePaymentCreateManual", pay_in, "invoicePayment { id }")
    pay_id = first["invoicePayment"]["id"]
    r = api.admin("POST", "payments/refund", json={"payment_id": pay_id, "amount": "30.5"})
    assert r.status_code == 200, r.text
    assert r.json()["transactionType"] == "REFUND" and r.json()["amountPaid"] == "74.50"
    got = api.data(PAYMENTS, {"b": s["b"].id, "i": inv["id"]})["business"]["invoice"]
    assert got["status"] == "PARTIAL" and got["amountDue"]["value"] == "30.50"
    refund = next(p for p in got["payments"] if p["transactionType"] == "REFUND")
    assert refund["originInvoicePayment"] == {"id": pay_id} and refund["amount"] == "30.50"
    too_much = api.admin("POST", "payments/refund", json={"payment_id": pay_id, "amount": "80"})
    assert too_much.status_code == 400
    # a refunded payment can no longer be patched or deleted
    assert not api.mutate("invoicePaymentDelete", {"id": pay_id})["didSucceed"]
    second = api.mutate("invoicePaymentCreateManual", pay_in, "invoicePayment { id }")
    void = api.admin("POST", "payments/void", json={"payment_id": second["invoicePayment"]["id"]})
    assert void.status_code == 200 and void.json()["state"] == "VOIDED"
    got = api.data(PAYMENTS, {"b": s["b"].id, "i": inv["id"]})["business"]["invoice"]
    voided = next(p for p in got["payments"] if p["id"] == second["invoicePayment"]["id"])
    assert (voided["state"], voided["active"]) == ("VOIDED", False)
    assert got["amountPaid"]["value"] == "74.50"
    assert api.admin("POST", "payments/void", json={"payment_id": "nope"}).status_code == 404
