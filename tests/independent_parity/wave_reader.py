"""Wave, read through plain GraphQL over HTTP: our own queries, our own pagination.

Nothing here comes from the addon (no client, no GraphQL documents, no parity
code): a bearer token, ``requests.post`` and the public schema's field names.
Money transactions cannot be read back through Wave's GraphQL (``Transaction``
has only an ``id``): they come from the sandbox's admin API when one is given.
"""

from datetime import date
from decimal import Decimal

import requests

from .records import (
    Contact,
    MoneyTransaction,
    Product,
    WaveEstimate,
    WaveInvoice,
    WavePayment,
)

PAGE_SIZE = 200  # the most the sandbox serves per page
LOOKUPS_PER_REQUEST = 100  # aliased invoice(id) look-ups per request
# Wave's public schema: ``transactionType`` is PAYMENT or REFUND (a refund carries its own
# positive amount and points at the payment it gives back), ``active`` is false for a
# payment that no longer counts (``state: VOIDED``).
PAYMENT_FIELDS = "id amount paymentDate transactionType state active"

INVOICES = """
query IndependentParityInvoices($b: ID!, $page: Int!, $size: Int!, $start: Date, $end: Date) {
  business(id: $b) {
    invoices(page: $page, pageSize: $size, invoiceDateStart: $start, invoiceDateEnd: $end) {
      pageInfo { currentPage totalPages totalCount }
      edges { node {
        id invoiceNumber status invoiceDate
        currency { code exponent }
        customer { id name email }
        subtotal { value } discountTotal { value } taxTotal { value } total { value }
        amountPaid { value } amountDue { value }
      } }
    }
  }
}
"""

# Deleted estimates are not listed (Wave's listing has no DELETED status).
ESTIMATES = """
query IndependentParityEstimates($b: ID!, $page: Int!, $size: Int!, $start: Date, $end: Date) {
  business(id: $b) {
    estimates(page: $page, pageSize: $size, estimateDateStart: $start, estimateDateEnd: $end) {
      pageInfo { currentPage totalPages totalCount }
      edges { node {
        id estimateNumber status estimateDate
        currency { code exponent }
        customer { name }
        subtotal { value } discountTotal { value } taxTotal { value } total { value }
      } }
    }
  }
}
"""

CONNECTION = """
query IndependentParity%(name)s($b: ID!, $page: Int!, $size: Int!) {
  business(id: $b) {
    %(field)s(page: $page, pageSize: $size) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { %(fields)s } }
    }
  }
}
"""


def counts(payment):
    """A payment that still counts: not voided (``active: false`` / ``state: VOIDED``)."""
    return payment.get("active") is not False and (payment.get("state") or "") != "VOIDED"


def signed_amount(payment):
    """What the payment brings to the invoice: a refund gives money back (negative)."""
    amount = Decimal(str(payment["amount"]))
    return -amount if (payment.get("transactionType") or "") == "REFUND" else amount


class WaveReadError(RuntimeError):
    """Wave answered with errors: the check cannot be trusted, so it stops."""


def money(node, key):
    return Decimal(str(((node or {}).get(key) or {}).get("value") or "0"))


class WaveReader:
    """Reads one Wave business. ``admin_url``/``admin_token``: the sandbox's admin API
    (``/sandbox/...``), used only for what GraphQL cannot read (money transactions)."""

    def __init__(
        self,
        graphql_url,
        token,
        business_id,
        admin_url=None,
        admin_token=None,
        page_size=PAGE_SIZE,
        timeout=60,
    ):
        self.graphql_url = graphql_url
        self.business_id = business_id
        self.admin_url = admin_url.rstrip("/") if admin_url else None
        self.admin_token = admin_token
        self.page_size = page_size
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.requests = 0

    @classmethod
    def of_sandbox(cls, sandbox, token, business_id):
        """A reader of ``business_id`` in an in-process :class:`wave_sandbox.WaveSandbox`,
        its admin API included."""
        return cls(
            sandbox.graphql_url,
            token,
            business_id,
            admin_url=sandbox.base_url,
            admin_token=sandbox.admin_token,
        )

    # -- transport -----------------------------------------------------------
    def query(self, document, variables, tolerate_not_found=False):
        """``data`` of one GraphQL request; any error raises :class:`WaveReadError`
        (``NOT_FOUND`` on a look-up is tolerated when asked: the field is ``null``)."""
        self.requests += 1
        response = self.session.post(
            self.graphql_url,
            json={"query": document, "variables": variables},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise WaveReadError(f"HTTP {response.status_code}: {response.text[:300]}")
        body = response.json()
        errors = body.get("errors") or []
        if tolerate_not_found:
            errors = [e for e in errors if (e.get("extensions") or {}).get("code") != "NOT_FOUND"]
        if errors or body.get("data") is None:
            raise WaveReadError(f"GraphQL errors: {body.get('errors')}")
        return body["data"]

    def pages(self, document, field, variables):
        """Every node of a paginated connection, read until two reads agree on the count.

        Wave pages by number with no stable sort, so a change between two pages
        can shift records: nodes are collected by id and the listing is read
        again if the ids seen don't add up to ``totalCount``.
        """
        for _attempt in range(3):
            nodes, page, total = {}, 1, None
            while True:
                data = self.query(document, dict(variables, page=page, size=self.page_size))
                connection = (data.get("business") or {}).get(field)
                if connection is None:
                    raise WaveReadError(f"no {field} in Wave's answer (business id?)")
                info = connection["pageInfo"]
                total = info["totalCount"]
                for edge in connection["edges"]:
                    nodes[edge["node"]["id"]] = edge["node"]
                if page >= (info["totalPages"] or 0) or not connection["edges"]:
                    break
                page += 1
            if len(nodes) == total:
                return list(nodes.values())
        raise WaveReadError(f"{field}: {len(nodes)} read, Wave counts {total} (still changing?)")

    # -- invoices --------------------------------------------------------------
    def invoices(self, date_from=None, date_to=None):
        variables = {
            "b": self.business_id,
            "start": date_from.isoformat() if date_from else None,
            "end": date_to.isoformat() if date_to else None,
        }
        return [self._invoice(node) for node in self.pages(INVOICES, "invoices", variables)]

    @staticmethod
    def _invoice(node):
        customer = node.get("customer") or {}
        return WaveInvoice(
            id=node["id"],
            number=node["invoiceNumber"],
            status=node["status"],
            invoice_date=date.fromisoformat(node["invoiceDate"]),
            currency=node["currency"]["code"],
            exponent=int(node["currency"]["exponent"]),
            customer_id=customer.get("id") or "",
            customer_name=customer.get("name") or "",
            customer_email=customer.get("email") or "",
            subtotal=money(node, "subtotal"),
            discount=money(node, "discountTotal"),
            tax=money(node, "taxTotal"),
            total=money(node, "total"),
            paid=money(node, "amountPaid"),
            due=money(node, "amountDue"),
        )

    # -- estimates -------------------------------------------------------------
    def estimates(self, date_from=None, date_to=None):
        variables = {
            "b": self.business_id,
            "start": date_from.isoformat() if date_from else None,
            "end": date_to.isoformat() if date_to else None,
        }
        return [
            WaveEstimate(
                id=node["id"],
                number=node["estimateNumber"],
                status=node["status"],
                estimate_date=date.fromisoformat(node["estimateDate"]),
                currency=node["currency"]["code"],
                exponent=int(node["currency"]["exponent"]),
                customer_name=(node.get("customer") or {}).get("name") or "",
                subtotal=money(node, "subtotal"),
                discount=money(node, "discountTotal"),
                tax=money(node, "taxTotal"),
                total=money(node, "total"),
            )
            for node in self.pages(ESTIMATES, "estimates", variables)
        ]

    def payments(self, invoice_ids):
        """``{invoice_id: [WavePayment]}``; Wave lists payments only per invoice, so
        many ``invoice(id)`` look-ups go in one aliased request. A deleted invoice
        maps to ``None``."""
        found = {}
        invoice_ids = list(dict.fromkeys(invoice_ids))
        for start in range(0, len(invoice_ids), LOOKUPS_PER_REQUEST):
            chunk = invoice_ids[start : start + LOOKUPS_PER_REQUEST]
            params = ", ".join(f"$i{n}: ID!" for n in range(len(chunk)))
            body = " ".join(
                f"i{n}: invoice(id: $i{n}) {{ id payments {{ {PAYMENT_FIELDS} }} }}"
                for n in range(len(chunk))
            )
            document = (
                f"query IndependentParityPayments($b: ID!, {params}) "
                f"{{ business(id: $b) {{ {body} }} }}"
            )
            variables = {"b": self.business_id, **{f"i{n}": wid for n, wid in enumerate(chunk)}}
            data = self.query(document, variables, tolerate_not_found=True)["business"]
            for n, wave_id in enumerate(chunk):
                node = data.get(f"i{n}")
                found[wave_id] = (
                    None
                    if node is None
                    else [
                        WavePayment(
                            id=p["id"],
                            invoice_id=wave_id,
                            payment_date=date.fromisoformat(p["paymentDate"]),
                            amount=signed_amount(p),
                        )
                        for p in node.get("payments") or []
                        if p and counts(p)
                    ]
                )
        return found

    # -- contacts and products ---------------------------------------------------
    def customers(self):
        document = CONNECTION % {
            "name": "Customers",
            "field": "customers",
            "fields": "id name email",
        }
        nodes = self.pages(document, "customers", {"b": self.business_id})
        return [Contact(n["id"], n["name"] or "", n.get("email") or "") for n in nodes]

    def products(self):
        """Products not archived (Wave's default listing)."""
        document = CONNECTION % {"name": "Products", "field": "products", "fields": "id name"}
        nodes = self.pages(document, "products", {"b": self.business_id})
        return [Product(n["id"], n["name"] or "") for n in nodes]

    # -- money transactions: the sandbox's admin API only ----------------------------
    def money_transactions(self):
        """Every money transaction, from the sandbox's admin API; ``None`` without one
        (Wave's GraphQL cannot read transactions back)."""
        if not self.admin_url:
            return None
        response = requests.get(
            f"{self.admin_url}/sandbox/money-transactions",
            params={"businessId": self.business_id},
            headers={"X-Sandbox-Admin-Token": self.admin_token or ""},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return [
            MoneyTransaction(
                id=tx["id"],
                external_id=tx.get("externalId") or "",
                tx_date=date.fromisoformat(tx["date"]),
                amount=Decimal(str(tx["anchor"]["amount"])),
                direction=tx["anchor"]["direction"],
                description=tx.get("description") or "",
            )
            for tx in response.json()["transactions"]
        ]
