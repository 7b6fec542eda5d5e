"""Estimates (Wave's ``AREstimate``): queries, mutations, status rules, conversion, webhooks."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from sandbox.test_webhooks import Receiver

EST = (
    "estimate { id status estimateNumber estimateDate dueDate exchangeRate "
    "currency { code } customer { id } subtotal { value } taxTotal { value } "
    "discountTotal { value } total { value } amountDue { value } amountPaid { value } "
    "depositStatus depositUnit depositValue depositTotal { value } depositPaymentStatus "
    "discounts { name ... on FixedEstimateDiscount { amount } "
    "... on PercentageEstimateDiscount { percentage } } "
    "items { id quantity unitPrice product { id } subtotal { value } total { value } "
    "taxes { amount { value } salesTax { id } } } createdAt modifiedAt lastSentAt "
    "lastSentVia lastViewedAt title itemTitle viewUrl pdfUrl }"
)


@pytest.fixture()
def est_setup(api, fresh):
    b = fresh
    tax = api.mutate(
        "salesTaxCreate",
        {
            "businessId": b.id,
            "name": "GST",
            "abbreviation": f"G{len(b.sales_taxes)}",
            "rate": "0.05",
        },
        "salesTax { id }",
    )["salesTax"]["id"]
    prod = api.mutate(
        "productCreate",
        {"businessId": b.id, "name": "Design", "unitPrice": "80", "defaultSalesTaxIds": [tax]},
        "product { id }",
    )["product"]["id"]
    cust = api.mutate(
        "customerCreate", {"businessId": b.id, "name": "Estimate Buyer"}, "customer { id }"
    )["customer"]["id"]
    return {"b": b, "tax": tax, "product": prod, "customer": cust}


def _create(api, s, **extra):
    data = {
        "businessId": s["b"].id,
        "customerId": s["customer"],
        "items": [
            {"productId": s["product"], "quantity": "3", "unitPrice": "33.33"},
            {"productId": s["product"], "quantity": "1.5", "unitPrice": "10", "taxes": []},
        ],
    }
    data.update(extra)
    out = api.mutate("estimateCreate", data, EST)
    assert out["didSucceed"], out
    return out["estimate"]


def _status(api, s, est_id):
    q = "query($b: ID!, $id: ID!) { business(id: $b) { estimate(id: $id) { status } } }"
    return api.data(q, {"b": s["b"].id, "id": est_id})["business"]["estimate"]["status"]


def test_totals_taxes_discount_deposit(api, est_setup):
    s = est_setup
    est = _create(
        api,
        s,
        currency="EUR",
        exchangeRate="1.25",
        discounts=[{"discountType": "PERCENTAGE", "percentage": "10", "name": "Loyal"}],
        depositStatus="ENABLED_OPTIONAL",
        depositUnit="PERCENTAGE",
        depositValue="50",
    )
    # 3 x 33.33 = 99.99 (+5 % tax = 5.00), 1.5 x 10 = 15.00 untaxed; 10 % of 114.99 = 11.50
    assert est["status"] == "DRAFT" and est["estimateNumber"] == "1"
    assert [i["subtotal"]["value"] for i in est["items"]] == ["99.99", "15.00"]
    assert est["items"][0]["taxes"][0]["amount"]["value"] == "5.00"
    assert est["items"][1]["taxes"] == []
    assert est["subtotal"]["value"] == "114.99"
    assert est["taxTotal"]["value"] == "5.00"
    assert est["discountTotal"]["value"] == "11.50"
    assert est["total"]["value"] == "108.49"
    assert est["amountDue"]["value"] == "108.49" and est["amountPaid"]["value"] == "0.00"
    assert est["currency"]["code"] == "EUR" and est["exchangeRate"] == "1.25"
    assert est["discounts"] == [{"name": "Loyal", "percentage": "10"}]
    assert est["depositTotal"]["value"] == "54.25" and est["depositPaymentStatus"] == "UNPAID"
    assert est["title"] == "Estimate" and est["itemTitle"] == "Items"
    due = dt.date.fromisoformat(est["dueDate"]) - dt.date.fromisoformat(est["estimateDate"])
    assert due.days == 30
    assert len({i["id"] for i in est["items"]}) == 2


def test_create_rules(api, est_setup):
    s = est_setup
    # unitPrice is required on estimate items (unlike invoice items): a validation error
    body = api.gql(
        "mutation($i: EstimateCreateInput!) { estimateCreate(input: $i) { didSucceed } }",
        {
            "i": {
                "businessId": s["b"].id,
                "customerId": s["customer"],
                "items": [{"productId": s["product"]}],
            }
        },
    )
    assert body["errors"]
    # only DRAFT can be created
    body = api.gql(
        "mutation($i: EstimateCreateInput!) { estimateCreate(input: $i) { didSucceed } }",
        {"i": {"businessId": s["b"].id, "customerId": s["customer"], "status": "SENT"}},
    )
    assert body["errors"]
    bad = api.mutate(
        "estimateCreate",
        {
            "businessId": s["b"].id,
            "customerId": s["customer"],
            "depositStatus": "ENABLED_MANDATORY",
        },
    )
    assert not bad["didSucceed"] and bad["inputErrors"][0]["path"] == ["input", "depositValue"]


def test_lifecycle_to_conversion(api, est_setup, sandbox):
    s = est_setup
    est = _create(api, s, poNumber="PO-7", memo="Thanks")
    eid = est["id"]

    def act(name, **extra):
        return api.mutate(name, {"estimateId": eid, **extra}, "estimate { status }")

    # a draft cannot be sent, accepted or converted
    assert not act("estimateMarkSent", sendMethod="MARKED_SENT")["didSucceed"]
    assert not act("estimateMarkAccepted")["didSucceed"]
    conv = api.mutate("convertEstimateToInvoice", {"estimateId": eid}, "invoiceId")
    assert not conv["didSucceed"] and conv["invoiceId"] == ""
    assert act("estimateApprove")["estimate"]["status"] == "APPROVED"
    assert not act("estimateApprove")["didSucceed"]
    assert act("estimateMarkSent", sendMethod="MARKED_SENT")["estimate"]["status"] == "SENT"
    r = api.admin("POST", "estimates/view", json={"estimate_id": eid})
    assert r.json() == {"status": "VIEWED"}
    assert act("estimateMarkAccepted")["estimate"]["status"] == "ACCEPTED"
    assert act("estimateResetAcceptance")["estimate"]["status"] == "VIEWED"
    assert api.admin("POST", "estimates/reject", json={"estimate_id": eid}).json() == {
        "status": "REJECTED"
    }
    assert act("estimateMarkAccepted")["estimate"]["status"] == "ACCEPTED"
    conv = api.mutate("convertEstimateToInvoice", {"estimateId": eid}, "invoiceId")
    assert conv["didSucceed"], conv
    assert _status(api, s, eid) == "CONVERTED"
    q = (
        "query($b: ID!, $id: ID!) { business(id: $b) { invoice(id: $id) { status poNumber "
        "memo total { value } customer { id } items { quantity unitPrice } "
        "source { __typename ... on Estimate { id } } } "
        "invoices(sourceId: $src) { edges { node { id } } } } }"
    ).replace("$id: ID!)", "$id: ID!, $src: ID)")
    data = api.data(q, {"b": s["b"].id, "id": conv["invoiceId"], "src": eid})["business"]
    inv = data["invoice"]
    assert inv["status"] == "DRAFT" and inv["poNumber"] == "PO-7" and inv["memo"] == "Thanks"
    assert inv["source"] == {"__typename": "Estimate", "id": eid}
    assert inv["total"]["value"] == est["total"]["value"]
    assert inv["customer"]["id"] == s["customer"]
    assert [(i["quantity"], i["unitPrice"]) for i in inv["items"]] == [
        ("3", "33.33"),
        ("1.5", "10"),
    ]
    assert data["invoices"]["edges"] == [{"node": {"id": conv["invoiceId"]}}]
    # a converted estimate is closed
    again = api.mutate("convertEstimateToInvoice", {"estimateId": eid}, "invoiceId")
    assert not again["didSucceed"]
    deleted = api.mutate("estimateDelete", {"estimateId": eid})
    assert not deleted["didSucceed"]


def test_patch_delete_expiry_and_listing(api, est_setup, sandbox):
    s = est_setup
    est = _create(api, s)
    eid = est["id"]
    patch = {
        "id": eid,
        "currency": "USD",
        "customerId": s["customer"],
        "estimateDate": est["estimateDate"],
        "dueDate": est["dueDate"],
        "exchangeRate": "1",
        "status": "DRAFT",
        "title": "Quote",
        "items": [{"productId": s["product"], "quantity": "2", "unitPrice": "50"}],
    }
    out = api.mutate("estimatePatch", patch, EST)
    assert out["didSucceed"], out
    assert out["estimate"]["total"]["value"] == "105.00"
    assert out["estimate"]["modifiedAt"] > est["modifiedAt"]
    bad = api.mutate("estimatePatch", dict(patch, status="ACCEPTED"))
    assert not bad["didSucceed"] and bad["inputErrors"][0]["path"] == ["input", "status"]
    # APPROVED through a patch approves a draft
    assert (
        api.mutate("estimatePatch", dict(patch, status="APPROVED"), "estimate { status }")[
            "estimate"
        ]["status"]
        == "APPROVED"
    )
    # expiry: APPROVED past its due date reads EXPIRED (and filters as EXPIRED)
    old = _create(api, s, estimateDate="2020-01-01", dueDate="2020-01-31")
    api.mutate("estimateApprove", {"estimateId": old["id"]})
    assert _status(api, s, old["id"]) == "EXPIRED"
    lst = (
        "query($b: ID!, $st: EstimateListStatusFilter, $after: DateTime) { business(id: $b) { "
        "estimates(status: $st, modifiedAtAfter: $after, sort: MODIFIED_AT_ASC) { "
        "pageInfo { totalCount } edges { node { id status } } } } }"
    )
    got = api.data(lst, {"b": s["b"].id, "st": "EXPIRED"})["business"]["estimates"]
    assert [n["node"]["id"] for n in got["edges"]] == [old["id"]]
    # modifiedAtAfter + MODIFIED_AT_ASC: the changed ones, oldest change first
    got = api.data(lst, {"b": s["b"].id, "after": est["modifiedAt"]})["business"]["estimates"]
    assert [n["node"]["id"] for n in got["edges"]] == [eid, old["id"]]
    # sort is one value, not a list
    body = api.gql(
        "query($b: ID!) { business(id: $b) { estimates(sort: [MODIFIED_AT_ASC]) "
        "{ pageInfo { totalCount } } } }",
        {"b": s["b"].id},
    )
    assert body["errors"]
    # delete: not listed any more, still readable by id as DELETED; patch refused
    assert api.mutate("estimateDelete", {"estimateId": eid})["didSucceed"]
    assert _status(api, s, eid) == "DELETED"
    got = api.data(lst, {"b": s["b"].id})["business"]["estimates"]
    assert eid not in [n["node"]["id"] for n in got["edges"]]
    assert not api.mutate("estimatePatch", patch)["didSucceed"]


def test_scopes(api, est_setup, sandbox):
    s = est_setup
    token = sandbox.issue_full_access_token(scopes="business:read invoice:read")
    body = api.gql(
        "query($b: ID!) { business(id: $b) { estimates { pageInfo { totalCount } } } }",
        {"b": s["b"].id},
        token=token,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = sandbox.issue_full_access_token(scopes="business:read estimate:read")
    body = api.gql(
        "query($b: ID!) { business(id: $b) { estimates { pageInfo { totalCount } } } }",
        {"b": s["b"].id},
        token=token,
    )
    assert "errors" not in body


def test_estimate_webhooks_gated_by_scope(api, est_setup):
    s = est_setup
    with_scope, without = Receiver(), Receiver()
    subs = [
        api.admin(
            "POST",
            "webhooks/subscriptions",
            json={"url": rec.url, "secret": "x", "scopes": scopes},
        ).json()["id"]
        for rec, scopes in (
            (with_scope, ["estimate:read", "invoice:read"]),
            (without, ["invoice:read"]),
        )
    ]
    try:
        est = _create(api, s)
        api.mutate("estimateApprove", {"estimateId": est["id"]})
        api.mutate("estimateMarkSent", {"estimateId": est["id"], "sendMethod": "GMAIL"})
        api.mutate("estimateMarkAccepted", {"estimateId": est["id"]})
        conv = api.mutate("convertEstimateToInvoice", {"estimateId": est["id"]}, "invoiceId")
        with_scope.wait(6)
        without.wait(1)
        got = with_scope.events()
        types = [e["event_type"] for e in got]
        assert types == [
            "estimate.created",
            "estimate.approved",
            "estimate.sent",
            "estimate.accepted",
            "invoice.created",
            "estimate.converted",
        ]
        last = got[-1]["data"]
        assert last["estimate_id"] == est["id"] and last["status"] == "CONVERTED"
        assert last["invoice_id"] == conv["invoiceId"] and last["total"] == est["total"]["value"]
        # the subscription without estimate:read gets the invoice event only
        assert [json.loads(b)["event_type"] for _, b, _ in without.received] == ["invoice.created"]
    finally:
        for sid in subs:
            api.admin("DELETE", f"webhooks/subscriptions/{sid}")
        with_scope.close()
        without.close()


@pytest.mark.parametrize("realistic", [False, True])
def test_demo_estimates_every_status(realistic):
    from wave_sandbox import generator, ops
    from wave_sandbox.store import State, business_estimates

    state = State(7)
    businesses = generator.seed_demo(
        state,
        invoices_per_business=20,
        customers=14,
        vendors=3,
        realistic=realistic,
        estimates_per_business=18,
    )
    for b in businesses:
        listed = business_estimates(b)
        statuses = {e.status for e in listed}
        # every status but DELETED is listed; deleted ones are not
        assert statuses == {
            "DRAFT",
            "APPROVED",
            "SENT",
            "VIEWED",
            "ACCEPTED",
            "REJECTED",
            "CONVERTED",
            "EXPIRED",
        }
        assert len(listed) == 16
        converted = [e for e in listed if e.status == "CONVERTED"]
        for est in converted:
            inv = state.get(est.invoice_id)
            assert inv.source.id == est.id and inv.total_minor == est.total_minor
        assert any(e.discounts for e in listed) and any(e.deposit_total_minor for e in listed)
        # totals obey the same rules as API-made estimates
        for est in listed:
            before = est.total_minor
            ops.compute_invoice(est)
            assert est.total_minor == before
    # without estimates, the seed's data is unchanged (same invoice ids)
    a, b = State(7), State(7)
    plain = generator.seed_demo(a, 20, 14, 3)
    with_estimates = generator.seed_demo(b, 20, 14, 3, estimates_per_business=9)
    for x, y in zip(plain, with_estimates, strict=True):
        ids = [i.id for i in x.invoices]
        assert ids == [i.id for i in y.invoices][: len(ids)]
        assert len(y.invoices) == len(ids) + 1  # the converted estimate's invoice
