"""Queries: pagination, filters, sorting, lookups, aliases/fragments, introspection, errors."""

from __future__ import annotations

import base64

INVOICES = """
query($id: ID!, $page: Int, $size: Int, $status: InvoiceStatus, $cid: ID, $num: String,
      $start: Date, $end: Date, $after: DateTime, $before: DateTime, $sort: [InvoiceSort!]!) {
  business(id: $id) {
    invoices(page: $page, pageSize: $size, status: $status, customerId: $cid,
             invoiceNumber: $num, invoiceDateStart: $start, invoiceDateEnd: $end,
             modifiedAtAfter: $after, modifiedAtBefore: $before, sort: $sort) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id invoiceNumber status invoiceDate modifiedAt createdAt
                     customer { id } total { value } payments { id } } }
    }
  }
}"""


def invoices(api, bid, **kw):
    variables = {"id": bid, "page": 1, "size": 45, "sort": ["CREATED_AT_DESC"]}
    variables.update(kw)
    return api.data(INVOICES, variables)["business"]["invoices"]


def test_user_and_businesses(demo, api):
    d = api.data(
        "{ user { id defaultEmail firstName } businesses { pageInfo { totalCount } "
        "edges { node { id name currency { code } isClassicAccounting } } } }"
    )
    assert base64.b64decode(d["user"]["id"]).decode().startswith("User:")
    names = {e["node"]["name"]: e["node"] for e in d["businesses"]["edges"]}
    assert names["Acme Widgets Inc."]["currency"]["code"] == "USD"
    assert names["Maple Leaf Consulting Ltd."]["currency"]["code"] == "CAD"
    bid = names["Acme Widgets Inc."]["id"]
    assert base64.b64decode(bid).decode().startswith("Business:")
    # business() without id -> the default business
    assert api.data("{ business { id } }")["business"]["id"] == demo["us"].id


def test_pagination_edges(demo, api):
    bid = demo["us"].id
    total = len(demo["us"].invoices)
    first = invoices(api, bid)
    assert first["pageInfo"] == {
        "currentPage": 1,
        "totalCount": total,
        "totalPages": -(-total // 45),
    }
    assert len(first["edges"]) == 45
    last_page = first["pageInfo"]["totalPages"]
    last = invoices(api, bid, page=last_page)
    assert len(last["edges"]) == total - 45 * (last_page - 1)
    beyond = invoices(api, bid, page=last_page + 1)
    assert beyond["edges"] == [] and beyond["pageInfo"]["currentPage"] == last_page + 1
    # pages do not overlap and cover everything
    seen = set()
    for p in range(1, last_page + 1):
        seen.update(e["node"]["id"] for e in invoices(api, bid, page=p)["edges"])
    assert len(seen) == total
    # default pageSize is 45
    d = api.data(
        "query($id:ID!){ business(id:$id){ invoices { edges { node { id } } } } }", {"id": bid}
    )
    assert len(d["business"]["invoices"]["edges"]) == 45
    # maximum page size is enforced (clamped)
    big = invoices(api, bid, size=10_000)
    assert len(big["edges"]) == min(total, 200)
    # page 0 is an error
    body = api.gql(INVOICES, {"id": bid, "page": 0, "size": 10, "sort": ["CREATED_AT_DESC"]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_default_sort_is_created_desc_and_sorts(demo, api):
    bid = demo["us"].id
    nodes = [e["node"] for e in invoices(api, bid, size=100)["edges"]]
    assert [n["createdAt"] for n in nodes] == sorted((n["createdAt"] for n in nodes), reverse=True)
    asc = [e["node"] for e in invoices(api, bid, size=100, sort=["MODIFIED_AT_ASC"])["edges"]]
    assert [n["modifiedAt"] for n in asc] == sorted(n["modifiedAt"] for n in asc)
    by_total = [
        float(e["node"]["total"]["value"])
        for e in invoices(api, bid, size=100, sort=["TOTAL_DESC"])["edges"]
    ]
    assert by_total == sorted(by_total, reverse=True)


def test_invoice_filters(demo, api):
    b = demo["us"]
    bid = b.id
    # status
    for status in ("DRAFT", "PAID", "PARTIAL", "OVERDUE"):
        got = invoices(api, bid, status=status, size=200)
        assert all(e["node"]["status"] == status for e in got["edges"])
        assert got["pageInfo"]["totalCount"] == sum(1 for i in b.invoices if i.status == status)
    # customerId
    cust = b.invoices[0].customer
    got = invoices(api, bid, cid=cust.id, size=200)
    assert got["pageInfo"]["totalCount"] == len(b.by_customer[cust.id])
    assert {e["node"]["customer"]["id"] for e in got["edges"]} == {cust.id}
    # invoiceNumber is a substring match
    got = invoices(api, bid, num="1", size=200)
    assert got["edges"] and all("1" in e["node"]["invoiceNumber"] for e in got["edges"])
    assert got["pageInfo"]["totalCount"] == sum(1 for i in b.invoices if "1" in i.invoice_number)
    # invoice dates (inclusive)
    dates = sorted(i.invoice_date for i in b.invoices)
    start, end = dates[10].isoformat(), dates[40].isoformat()
    got = invoices(api, bid, start=start, end=end, size=200)
    assert all(start <= e["node"]["invoiceDate"] <= end for e in got["edges"])
    assert got["pageInfo"]["totalCount"] == sum(
        1 for i in b.invoices if start <= i.invoice_date.isoformat() <= end
    )
    # modifiedAtAfter / Before are strict
    mods = sorted(i.modified_at for i in b.invoices)
    pivot = (
        mods[len(mods) // 2].strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{mods[len(mods) // 2].microsecond // 1000:03d}Z"
    )
    after = invoices(api, bid, after=pivot, size=200)
    assert all(e["node"]["modifiedAt"] > pivot for e in after["edges"])
    before = invoices(api, bid, before=pivot, size=200)
    assert after["pageInfo"]["totalCount"] + before["pageInfo"]["totalCount"] == len(mods) - 1


def test_payments_only_on_single_invoice(demo, api):
    b = demo["us"]
    inv = next(i for i in b.invoices if i.payment_list)
    lst = invoices(api, b.id, size=200)
    assert all(e["node"]["payments"] is None for e in lst["edges"])
    d = api.data(
        "query($b:ID!,$i:ID!){ business(id:$b){ invoice(id:$i){ amountPaid { value } "
        "payments { id amount paymentDate paymentMethod exchangeRate account { id } "
        "createdAt modifiedAt } } } }",
        {"b": b.id, "i": inv.id},
    )
    pays = d["business"]["invoice"]["payments"]
    assert len(pays) == len(inv.payment_list)
    total = sum(float(p["amount"]) for p in pays)
    assert abs(total - float(d["business"]["invoice"]["amountPaid"]["value"])) < 0.001


def test_other_connections(demo, api):
    bid = demo["ca"].id
    d = api.data(
        """query($id:ID!){ business(id:$id){
      accounts(pageSize: 100, types: [INCOME]) { edges { node { name type { value }
               subtype { value } normalBalanceType } } }
      bank: accounts(subtypes: [CASH_AND_BANK]) { pageInfo { totalCount } }
      customers(pageSize: 100, sort: [NAME_ASC]) { pageInfo { totalCount } edges { node { name
               outstandingAmount { value currency { code } } } } }
      vendors { edges { node { id name } } }
      products(pageSize: 100) { edges { node { name unitPrice isSold isBought
               defaultSalesTaxes { abbreviation } incomeAccount { name } } } }
      salesTaxes { edges { node { name abbreviation rate rates { effective rate } } } }
    } }""",
        {"id": bid},
    )["business"]
    assert {e["node"]["type"]["value"] for e in d["accounts"]["edges"]} == {"INCOME"}
    assert {e["node"]["subtype"]["value"] for e in d["accounts"]["edges"]} >= {
        "INCOME",
        "DISCOUNTS",
        "OTHER_INCOME",
    }
    assert d["bank"]["pageInfo"]["totalCount"] == 2
    names = [e["node"]["name"] for e in d["customers"]["edges"]]
    assert names == sorted(names, key=str.lower)
    assert "Acme Corp" in names and "ACME Corporation" in names
    assert {e["node"]["abbreviation"] for e in d["salesTaxes"]["edges"]} == {"GST", "HST", "PST"}
    gst = next(e["node"] for e in d["salesTaxes"]["edges"] if e["node"]["abbreviation"] == "GST")
    assert gst["rate"] == "0.05"
    assert d["vendors"]["edges"] and d["products"]["edges"]


def test_aliases_fragments_variables(demo, api):
    b = demo["us"]
    c1, c2 = b.customers[0], b.customers[1]
    p = b.products[0]
    d = api.data(
        """
      fragment C on Customer { id name }
      query Lookup($b: ID!, $c1: ID!, $c2: ID!, $p: ID!) {
        business(id: $b) {
          first: customer(id: $c1) { ...C }
          second: customer(id: $c2) { ...C email }
          prod: product(id: $p) { ... on Product { name __typename } }
        }
      }""",
        {"b": b.id, "c1": c1.id, "c2": c2.id, "p": p.id},
    )["business"]
    assert d["first"] == {"id": c1.id, "name": c1.name}
    assert d["second"]["email"] == c1.business.customers[1].email
    assert d["prod"] == {"name": p.name, "__typename": "Product"}


def test_money_and_date_formats(demo, api):
    b = demo["ca"]
    inv = next(i for i in b.invoices if i.currency_code != "CAD")
    d = api.data(
        "query($b:ID!,$i:ID!){ business(id:$b){ invoice(id:$i){ total { value "
        "minorUnitValue raw currency { code symbol exponent } } exchangeRate "
        "invoiceDate createdAt currency { code } } } }",
        {"b": b.id, "i": inv.id},
    )
    node = d["business"]["invoice"]
    assert node["currency"]["code"] == inv.currency_code
    assert node["total"]["minorUnitValue"] == str(inv.total_minor)
    assert node["total"]["value"] == f"{inv.total_minor / 100:.2f}"
    assert node["exchangeRate"] != "1"
    assert len(node["invoiceDate"]) == 10
    assert node["createdAt"].endswith("Z") and len(node["createdAt"]) == 24


def test_introspection_shows_wave_names(api):
    d = api.data("""{ __schema { mutationType { fields { name } } }
      status: __type(name: "InvoiceStatus") { enumValues { name } }
      subtypes: __type(name: "AccountSubtypeValue") { enumValues { name } }
      money: __type(name: "Money") { fields(includeDeprecated: true) { name } }
      mt: __type(name: "MoneyTransactionCreateLineItemInput") { inputFields { name } } }""")
    mutations = {f["name"] for f in d["__schema"]["mutationType"]["fields"]}
    assert {
        "invoicePaymentCreateManual",
        "moneyTransactionsCreate",
        "invoiceMarkSent",
        "accountArchive",
        "salesTaxCreate",
    } <= mutations
    assert {v["name"] for v in d["status"]["enumValues"]} == {
        "DRAFT",
        "SAVED",
        "SENT",
        "VIEWED",
        "UNPAID",
        "PARTIAL",
        "PAID",
        "OVERPAID",
        "OVERDUE",
    }
    assert len(d["subtypes"]["enumValues"]) == 38
    assert {f["name"] for f in d["money"]["fields"]} == {
        "value",
        "minorUnitValue",
        "raw",
        "currency",
    }
    assert {f["name"] for f in d["mt"]["inputFields"]} == {
        "accountId",
        "amount",
        "balance",
        "customerId",
        "description",
        "taxes",
    }


def test_errors(demo, api):
    # validation (unknown argument), HTTP 200
    body = api.gql('{ business(name: "x") { id } }')
    err = body["errors"][0]
    assert err["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert err["message"] == "Unknown argument 'name' on field 'Query.business'."
    assert err["extensions"]["id"]
    # not found, with data.business null
    body = api.gql('{ business(id: "BAD_ID") { id } }')
    assert body["data"] == {"business": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["message"] == "Business 'BAD_ID' could not be found."
    assert body["errors"][0]["path"] == ["business"]
    # unknown child id -> NOT_FOUND with partial data
    body = api.gql(
        'query($b:ID!){ business(id:$b){ id invoice(id:"nope"){ id } } }', {"b": demo["us"].id}
    )
    assert body["data"]["business"] == {"id": demo["us"].id, "invoice": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # syntax error
    assert api.gql("{ user { id ")["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    # bad variable value
    body = api.gql("query($p:Int!){ businesses(page:$p){ pageInfo { currentPage } } }", {"p": "x"})
    assert body["errors"][0]["extensions"]["code"] == "VARIABLE_VALUE"
    # missing / bad token
    for tok in ("", "not-a-token"):
        body = api.gql("{ user { id defaultEmail } }", token=tok)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["errors"][0]["message"].startswith("Login Required")
    # not JSON
    r = api.http.post(
        api.sb.graphql_url, data=b"nope", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert r.status_code == 400


def test_fast_path_matches_graphql_core(demo, api, sandbox):
    q = INVOICES
    v = {"id": demo["us"].id, "page": 2, "size": 30, "sort": ["CUSTOMER_NAME_ASC"]}
    fast = api.data(q, v)
    sandbox.executor.fast = False
    try:
        slow = api.data(q, v)
    finally:
        sandbox.executor.fast = True
    assert fast == slow


def test_unsorted_pages_switch_shifts_pages_between_requests(demo, api):
    """``unsorted_pages``: every request sees a new order, so one walk through the
    pages of an unsortable list (vendors) misses some records; off, it sees them all."""
    query = """query($id: ID!, $page: Int!) { business(id: $id) {
        vendors(page: $page, pageSize: 3) { pageInfo { totalPages totalCount }
        edges { node { id } } } } }"""
    bid = demo["us"].id

    def walk():
        seen, page, pages = [], 1, 1
        while page <= pages:
            vendors = api.data(query, {"id": bid, "page": page})["business"]["vendors"]
            pages = vendors["pageInfo"]["totalPages"]
            seen += [edge["node"]["id"] for edge in vendors["edges"]]
            page += 1
        return seen

    everyone = {v.id for v in demo["us"].vendors}
    assert set(walk()) == everyone
    assert api.admin("POST", "config", json={"unsorted_pages": ["vendors"]}).status_code == 200
    try:
        shifted = walk()
    finally:
        api.admin("POST", "config", json={"unsorted_pages": []})
    assert len(shifted) == len(everyone)  # as many records as pages promise ...
    assert set(shifted) < everyone  # ... but some twice and some never
