"""Mutations and Wave's business rules (didSucceed / inputErrors, status derivation)."""

from __future__ import annotations

import datetime as dt

import pytest

INV_FIELDS = (
    "invoice { id status invoiceNumber modifiedAt subtotal { value } "
    "taxTotal { value } discountTotal { value } total { value } amountDue { value } "
    "amountPaid { value } items { product { id } subtotal { value } "
    "taxes { amount { value } salesTax { abbreviation } } } }"
)


@pytest.fixture()
def setup(api, fresh):
    b = fresh
    tax = api.mutate(
        "salesTaxCreate",
        {
            "businessId": b.id,
            "name": "State Tax",
            "abbreviation": f"ST{len(b.sales_taxes)}",
            "rate": "0.1",
        },
        "salesTax { id rate }",
    )
    assert tax["didSucceed"], tax
    prod = api.mutate(
        "productCreate",
        {
            "businessId": b.id,
            "name": "Widget",
            "unitPrice": "100",
            "defaultSalesTaxIds": [tax["salesTax"]["id"]],
        },
        "product { id unitPrice isSold defaultSalesTaxes { id } }",
    )
    assert prod["didSucceed"] and prod["product"]["unitPrice"] == "100.00"
    cust = api.mutate(
        "customerCreate",
        {
            "businessId": b.id,
            "name": "Acme Corp",
            "email": "ap@acme.example.com",
            "address": {"city": "Austin", "countryCode": "US", "provinceCode": "US-TX"},
        },
        "customer { id name createdAt modifiedAt address { city "
        "province { code } country { code } } }",
    )
    assert cust["didSucceed"] and cust["customer"]["address"]["province"]["code"] == "US-TX"
    bank = next(a for a in b.accounts if a.subtype_value == "CASH_AND_BANK")
    income = next(a for a in b.accounts if a.subtype_value == "INCOME")
    return {
        "b": b,
        "tax": tax["salesTax"]["id"],
        "product": prod["product"]["id"],
        "customer": cust["customer"]["id"],
        "bank": bank.id,
        "income": income.id,
    }


def create_invoice(api, s, **extra):
    data = {
        "businessId": s["b"].id,
        "customerId": s["customer"],
        "items": [{"productId": s["product"], "quantity": "2"}],
    }
    data.update(extra)
    out = api.mutate("invoiceCreate", data, INV_FIELDS)
    assert out["didSucceed"], out
    return out["invoice"]


def pay(api, s, inv_id, amount, **extra):
    data = {
        "invoiceId": inv_id,
        "paymentAccountId": s["bank"],
        "amount": amount,
        "paymentDate": "2026-01-15",
        "paymentMethod": "BANK_TRANSFER",
        "exchangeRate": "1",
    }
    data.update(extra)
    return api.mutate(
        "invoicePaymentCreateManual",
        data,
        "invoicePayment { id amount invoice { status modifiedAt } }",
    )


def test_customer_crud(api, setup):
    cid = setup["customer"]
    before = api.data(
        "query($b:ID!,$c:ID!){ business(id:$b){ customer(id:$c){ modifiedAt createdAt } } }",
        {"b": setup["b"].id, "c": cid},
    )["business"]["customer"]
    out = api.mutate(
        "customerPatch",
        {"id": cid, "name": "ACME Corporation"},
        "customer { name modifiedAt createdAt email }",
    )
    assert out["didSucceed"] and out["customer"]["name"] == "ACME Corporation"
    assert out["customer"]["email"] == "ap@acme.example.com"  # untouched
    assert out["customer"]["modifiedAt"] > before["modifiedAt"]
    assert out["customer"]["createdAt"] == before["createdAt"]
    bad = api.mutate(
        "customerCreate",
        {"businessId": setup["b"].id, "name": "X", "email": "not-an-email"},
        "customer { id }",
    )
    assert not bad["didSucceed"] and bad["inputErrors"][0]["path"] == ["input", "email"]
    assert bad["customer"] is None
    tmp = api.mutate(
        "customerCreate", {"businessId": setup["b"].id, "name": "Temp"}, "customer { id }"
    )
    assert api.mutate("customerDelete", {"id": tmp["customer"]["id"]})["didSucceed"]
    body = api.gql(
        "query($b:ID!,$c:ID!){ business(id:$b){ customer(id:$c){ id } } }",
        {"b": setup["b"].id, "c": tmp["customer"]["id"]},
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_products_taxes_accounts(api, setup):
    b = setup["b"]
    out = api.mutate(
        "productPatch", {"id": setup["product"], "unitPrice": "12.345678"}, "product { unitPrice }"
    )
    assert out["product"]["unitPrice"] == "12.34568"  # rounded to 5 dp
    bad = api.mutate(
        "productCreate",
        {"businessId": b.id, "name": "P", "unitPrice": "1", "incomeAccountId": setup["bank"]},
        "product { id }",
    )
    assert not bad["didSucceed"] and bad["inputErrors"][0]["path"] == ["input", "incomeAccountId"]
    arch = api.mutate("productArchive", {"id": setup["product"]}, "product { isArchived }")
    assert arch["product"]["isArchived"] is True
    listed = api.data(
        "query($b:ID!){ business(id:$b){ products { edges { node { id } } } "
        "archived: products(isArchived: true) { edges { node { id } } } } }",
        {"b": b.id},
    )["business"]
    assert setup["product"] not in {e["node"]["id"] for e in listed["products"]["edges"]}
    assert setup["product"] in {e["node"]["id"] for e in listed["archived"]["edges"]}
    dup = api.mutate(
        "salesTaxCreate",
        {
            "businessId": b.id,
            "name": "Again",
            "abbreviation": b.sales_taxes[0].abbreviation,
            "rate": "0.05",
        },
        "salesTax { id }",
    )
    assert not dup["didSucceed"] and dup["inputErrors"][0]["code"] == "DUPLICATE"
    acc = api.mutate(
        "accountCreate",
        {"businessId": b.id, "name": "Savings", "subtype": "CASH_AND_BANK"},
        "account { id sequence type { value } subtype { value } "
        "normalBalanceType currency { code } }",
    )
    assert acc["account"]["type"]["value"] == "ASSET"
    assert acc["account"]["normalBalanceType"] == "DEBIT"
    aid, seq = acc["account"]["id"], acc["account"]["sequence"]
    stale = api.mutate("accountPatch", {"id": aid, "sequence": seq + 5, "name": "X"})
    assert not stale["didSucceed"]
    ok = api.mutate(
        "accountPatch",
        {"id": aid, "sequence": seq, "name": "Savings 2"},
        "account { name sequence }",
    )
    assert ok["account"] == {"name": "Savings 2", "sequence": seq + 1}
    assert api.mutate("accountArchive", {"id": aid})["didSucceed"]
    # system accounts (e.g. accounts receivable) cannot be archived
    ar = next(a for a in b.accounts if a.subtype_value == "RECEIVABLE_INVOICES")
    assert not api.mutate("accountArchive", {"id": ar.id})["didSucceed"]
    # subtype outside AccountSubtypeValueCreateInput is a validation error
    body = api.gql(
        'mutation($b:ID!){ accountCreate(input:{businessId:$b, name:"x", '
        "subtype: SALES_TAX}) { didSucceed } }",
        {"b": b.id},
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_invoice_totals_taxes_discounts(api, setup):
    inv = create_invoice(
        api,
        setup,
        items=[
            {"productId": setup["product"], "quantity": "2"},
            {"productId": setup["product"], "quantity": "1", "unitPrice": "50", "taxes": []},
        ],
        discounts=[{"discountType": "PERCENTAGE", "percentage": "10", "name": "Loyalty"}],
    )
    assert inv["status"] == "DRAFT"
    assert inv["subtotal"]["value"] == "250.00"
    assert inv["taxTotal"]["value"] == "20.00"  # 10% of the first line only
    assert inv["discountTotal"]["value"] == "25.00"
    assert inv["total"]["value"] == "245.00"
    assert inv["items"][0]["taxes"][0]["amount"]["value"] == "20.00"
    assert inv["items"][1]["taxes"] == []
    fixed = create_invoice(api, setup, discounts=[{"discountType": "FIXED", "amount": "5"}])
    assert fixed["total"]["value"] == "215.00"
    fx = create_invoice(api, setup, currency="EUR", exchangeRate="1.1")
    d = api.data(
        "query($b:ID!,$i:ID!){ business(id:$b){ invoice(id:$i){ currency { code } "
        "exchangeRate } } }",
        {"b": setup["b"].id, "i": fx["id"]},
    )
    assert d["business"]["invoice"] == {"currency": {"code": "EUR"}, "exchangeRate": "1.1"}


def test_invoice_rules(api, setup):
    no_product = api.mutate(
        "invoiceCreate",
        {
            "businessId": setup["b"].id,
            "customerId": setup["customer"],
            "items": [{"productId": "bogus"}],
        },
        "invoice { id }",
    )
    assert not no_product["didSucceed"]
    assert no_product["inputErrors"][0]["path"] == ["input", "items", "0", "productId"]
    body = api.gql(
        "mutation($b:ID!,$c:ID!){ invoiceCreate(input:{businessId:$b, customerId:$c,"
        ' items:[{description:"free text"}]}) { didSucceed } }',
        {"b": setup["b"].id, "c": setup["customer"]},
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    inv = create_invoice(api, setup)
    assert (
        api.mutate("invoiceApprove", {"invoiceId": inv["id"]}, INV_FIELDS)["invoice"]["status"]
        == "SAVED"
    )
    refused = api.mutate("invoiceDelete", {"invoiceId": inv["id"]})
    assert not refused["didSucceed"] and "draft" in refused["inputErrors"][0]["message"].lower()
    draft = create_invoice(api, setup)
    assert api.mutate("invoiceDelete", {"invoiceId": draft["id"]})["didSucceed"]
    assert draft["id"] not in {i.id for i in setup["b"].invoices}
    # patch replaces items, keeps untouched fields
    patched = api.mutate(
        "invoicePatch",
        {
            "id": inv["id"],
            "memo": "thanks",
            "items": [{"productId": setup["product"], "quantity": "1"}],
        },
        INV_FIELDS,
    )
    assert patched["invoice"]["total"]["value"] == "110.00"
    assert patched["invoice"]["modifiedAt"] > inv["modifiedAt"]
    # numbering: default max + 1
    n1 = int(create_invoice(api, setup)["invoiceNumber"])
    n2 = int(create_invoice(api, setup)["invoiceNumber"])
    assert n2 == n1 + 1


def test_status_derivation(api, setup, sandbox):
    inv = create_invoice(
        api, setup, status="SAVED", dueDate=(dt.date.today() + dt.timedelta(days=30)).isoformat()
    )
    iid = inv["id"]
    assert inv["status"] == "SAVED" and inv["total"]["value"] == "220.00"
    sent = api.mutate(
        "invoiceSend",
        {"invoiceId": iid, "to": ["ap@acme.example.com"]},
        "invoice { status lastSentVia lastSentAt }",
    )
    assert sent["invoice"]["status"] == "SENT" and sent["invoice"]["lastSentVia"] == "WAVE"
    r = api.admin("POST", "invoices/view", json={"invoice_id": iid})
    assert r.json()["status"] == "VIEWED"
    p1 = pay(api, setup, iid, "100")
    assert p1["didSucceed"] and p1["invoicePayment"]["invoice"]["status"] == "PARTIAL"
    p2 = pay(api, setup, iid, "120")
    assert p2["invoicePayment"]["invoice"]["status"] == "PAID"
    over = api.mutate(
        "invoicePaymentPatch",
        {"id": p2["invoicePayment"]["id"], "amount": "150"},
        "invoicePayment { amount invoice { status amountDue { value } } }",
    )
    assert over["invoicePayment"]["invoice"] == {
        "status": "OVERPAID",
        "amountDue": {"value": "-30.00"},
    }
    mod_before = over["invoicePayment"]["invoice"]
    assert api.mutate("invoicePaymentDelete", {"id": p1["invoicePayment"]["id"]})["didSucceed"]
    d = api.data(
        "query($b:ID!,$i:ID!){ business(id:$b){ invoice(id:$i){ status modifiedAt "
        "payments { id } } } }",
        {"b": setup["b"].id, "i": iid},
    )["business"]["invoice"]
    assert d["status"] == "PARTIAL" and len(d["payments"]) == 1
    assert mod_before
    # marked sent (outside Wave) and unpaid -> UNPAID; past due -> OVERDUE
    inv2 = create_invoice(
        api, setup, status="SAVED", dueDate=(dt.date.today() + dt.timedelta(days=5)).isoformat()
    )
    ms = api.mutate(
        "invoiceMarkSent",
        {"invoiceId": inv2["id"], "sendMethod": "MARKED_SENT"},
        "invoice { status }",
    )
    assert ms["invoice"]["status"] == "UNPAID"
    sandbox.configure(today=(dt.date.today() + dt.timedelta(days=10)).isoformat())
    try:
        d = api.data(
            "query($b:ID!,$i:ID!){ business(id:$b){ invoice(id:$i){ status } } }",
            {"b": setup["b"].id, "i": inv2["id"]},
        )
        assert d["business"]["invoice"]["status"] == "OVERDUE"
    finally:
        sandbox.configure(today=None)


def test_payment_rules_and_modified_at(api, setup):
    draft = create_invoice(api, setup)
    refused = pay(api, setup, draft["id"], "10")
    assert not refused["didSucceed"]
    inv = create_invoice(api, setup, status="SAVED")
    for bad, path in (("-5", "amount"), ("1.234", "amount")):
        out = pay(api, setup, inv["id"], bad)
        assert not out["didSucceed"] and out["inputErrors"][0]["path"] == ["input", path]
    wrong_acc = pay(api, setup, inv["id"], "5", paymentAccountId=setup["income"])
    assert not wrong_acc["didSucceed"]
    ok = pay(api, setup, inv["id"], "5")
    assert ok["invoicePayment"]["invoice"]["modifiedAt"] > inv["modifiedAt"]
    assert ok["invoicePayment"]["amount"] == "5.00"


def test_invoice_send_requires_email_enabled(api, sandbox):
    b = sandbox.create_business(name="No Email", email_send_enabled=False)
    cust = api.mutate("customerCreate", {"businessId": b.id, "name": "C"}, "customer { id }")
    prod = api.mutate(
        "productCreate", {"businessId": b.id, "name": "P", "unitPrice": "1"}, "product { id }"
    )
    inv = api.mutate(
        "invoiceCreate",
        {
            "businessId": b.id,
            "customerId": cust["customer"]["id"],
            "status": "SAVED",
            "items": [{"productId": prod["product"]["id"]}],
        },
        "invoice { id }",
    )
    out = api.mutate("invoiceSend", {"invoiceId": inv["invoice"]["id"], "to": ["a@b.co"]})
    assert not out["didSucceed"]
    assert api.mutate(
        "invoiceMarkSent", {"invoiceId": inv["invoice"]["id"], "sendMethod": "MARKED_SENT"}
    )["didSucceed"]


MT = "transaction { id }"


def test_money_transactions(api, setup, sandbox):
    b = setup["b"]
    base = {
        "businessId": b.id,
        "externalId": "odoo-move-1",
        "date": "2026-01-10",
        "description": "Deposit",
        "anchor": {"accountId": setup["bank"], "amount": "110", "direction": "DEPOSIT"},
        "lineItems": [
            {
                "accountId": setup["income"],
                "amount": "110",
                "balance": "INCREASE",
                "taxes": [{"salesTaxId": setup["tax"], "amount": "10"}],
            }
        ],
    }
    ok = api.mutate("moneyTransactionCreate", base, MT)
    assert ok["didSucceed"] and ok["transaction"]["id"]
    # no de-duplication by externalId (as at Wave)
    again = api.mutate("moneyTransactionCreate", base, MT)
    assert again["didSucceed"] and again["transaction"]["id"] != ok["transaction"]["id"]
    unbalanced = dict(base, lineItems=[{"accountId": setup["income"], "amount": "100"}])
    out = api.mutate("moneyTransactionCreate", unbalanced, MT)
    assert not out["didSucceed"] and out["inputErrors"][0]["code"] == "UNBALANCED"
    signed = dict(base, anchor=dict(base["anchor"], amount="-110"))
    assert not api.mutate("moneyTransactionCreate", signed, MT)["didSucceed"]
    # DECREASE on income balances a WITHDRAWAL (refund)
    refund = dict(
        base,
        anchor=dict(base["anchor"], direction="WITHDRAWAL", amount="40"),
        lineItems=[{"accountId": setup["income"], "amount": "40", "balance": "DECREASE"}],
    )
    assert api.mutate("moneyTransactionCreate", refund, MT)["didSucceed"]
    # bulk: all-or-nothing
    tx = {k: v for k, v in base.items() if k != "businessId"}
    bulk = api.mutate(
        "moneyTransactionsCreate",
        {
            "businessId": b.id,
            "transactions": [
                tx,
                dict(
                    tx, externalId="bad", lineItems=[{"accountId": setup["income"], "amount": "1"}]
                ),
            ],
        },
        "transactions { id }",
    )
    assert not bulk["didSucceed"]
    assert bulk["inputErrors"][0]["path"][:3] == ["input", "transactions", "1"]
    before = len(b.money_transactions)
    bulk = api.mutate(
        "moneyTransactionsCreate",
        {"businessId": b.id, "transactions": [tx, tx]},
        "transactions { id }",
    )
    assert bulk["didSucceed"] and len(bulk["transactions"]) == 2
    assert len(b.money_transactions) == before + 2
    # not readable via GraphQL: Transaction only has id, and there is no query for it
    body = api.gql("{ business { transactions { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # ... but visible through the admin API, with a balanced journal
    listed = api.admin("GET", f"money-transactions?businessId={b.id}").json()["transactions"]
    assert sum(1 for t in listed if t["externalId"] == "odoo-move-1") == 5
    for t in listed:
        assert sum(j["debit"] for j in t["journal"]) == sum(j["credit"] for j in t["journal"])
    # classic accounting businesses are refused
    classic = sandbox.create_business(name="Classic", classic=True)
    bank = next(a for a in classic.accounts if a.subtype_value == "CASH_AND_BANK")
    inc = next(a for a in classic.accounts if a.subtype_value == "INCOME")
    out = api.mutate(
        "moneyTransactionCreate",
        dict(
            base,
            businessId=classic.id,
            anchor=dict(base["anchor"], accountId=bank.id),
            lineItems=[{"accountId": inc.id, "amount": "110"}],
        ),
        MT,
    )
    assert not out["didSucceed"] and out["inputErrors"][0]["code"] == "CLASSIC_ACCOUNTING"


def test_account_balances_follow_ledger(api, setup):
    inv = create_invoice(api, setup, status="SAVED")
    pay(api, setup, inv["id"], "220")
    d = api.data(
        "query($b:ID!){ business(id:$b){ accounts(pageSize:100){ edges { node { "
        "subtype { value } balance } } } } }",
        {"b": setup["b"].id},
    )
    bal = {}
    for e in d["business"]["accounts"]["edges"]:
        bal.setdefault(e["node"]["subtype"]["value"], []).append(float(e["node"]["balance"]))
    assert sum(bal["CASH_AND_BANK"]) >= 220
