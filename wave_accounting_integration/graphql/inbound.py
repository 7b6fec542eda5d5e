# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every GraphQL document and selection the inbound sync (Wave -> Odoo) sends.

``*_NODE_SELECTION``: the fields read of one Wave object; ``*_QUERY``: whole
documents. Paginated documents declare ``$page`` and ``$pageSize``.
"""

ACCOUNT_NODE_SELECTION = """
    id name description displayId isArchived sequence currency { code }
    type { value } subtype { value }
"""
SALES_TAX_NODE_SELECTION = "id name abbreviation rate isArchived isCompound modifiedAt"
PRODUCT_NODE_SELECTION = f"""
    id name description unitPrice isArchived isSold isBought modifiedAt
    defaultSalesTaxes {{ {SALES_TAX_NODE_SELECTION} }} incomeAccount {{ {ACCOUNT_NODE_SELECTION} }}
"""
CUSTOMER_NODE_SELECTION = "id name email firstName lastName phone modifiedAt currency { code }"
VENDOR_NODE_SELECTION = "id name email phone modifiedAt"
INVOICE_NODE_SELECTION = f"""
    id invoiceNumber status createdAt modifiedAt invoiceDate dueDate exchangeRate
    memo poNumber title currency {{ code }}
    customer {{ {CUSTOMER_NODE_SELECTION} }}
    subtotal {{ value }} taxTotal {{ value }} discountTotal {{ value }} total {{ value }}
    amountPaid {{ value }} amountDue {{ value }}
    discounts {{ name ... on FixedInvoiceDiscount {{ amount }}
                ... on PercentageInvoiceDiscount {{ percentage }} }}
    items {{
        description quantity unitPrice subtotal {{ value }}
        account {{ {ACCOUNT_NODE_SELECTION} }}
        product {{ id name description unitPrice isArchived isSold isBought modifiedAt }}
        taxes {{ amount {{ value }} salesTax {{ {SALES_TAX_NODE_SELECTION} }} }}
    }}
    source {{ __typename ... on Estimate {{ id }} }}
"""
# A Wave estimate (``AREstimate``): the same lines as an invoice, deposits, its status.
ESTIMATE_NODE_SELECTION = f"""
    id estimateNumber status createdAt modifiedAt estimateDate dueDate exchangeRate
    memo poNumber title currency {{ code }}
    customer {{ {CUSTOMER_NODE_SELECTION} }}
    subtotal {{ value }} taxTotal {{ value }} discountTotal {{ value }} total {{ value }}
    depositStatus depositUnit depositValue depositTotal {{ value }}
    discounts {{ name ... on FixedEstimateDiscount {{ amount }}
                ... on PercentageEstimateDiscount {{ percentage }} }}
    items {{
        description quantity unitPrice subtotal {{ value }}
        account {{ {ACCOUNT_NODE_SELECTION} }}
        product {{ id name description unitPrice isArchived isSold isBought modifiedAt }}
        taxes {{ amount {{ value }} salesTax {{ {SALES_TAX_NODE_SELECTION} }} }}
    }}
"""
# ``transactionType`` (PAYMENT / REFUND), ``state`` / ``active`` (a voided payment stays
# listed with ``state: VOIDED``, ``active: false``) and the payment a refund gives back.
PAYMENT_NODE_SELECTION = (
    "id amount paymentDate paymentMethod exchangeRate memo createdAt modifiedAt "
    "transactionType state active originInvoicePayment { id } "
    f"account {{ {ACCOUNT_NODE_SELECTION} }}"
)
# An invoice with its payments (imports by id: webhooks, replays).
INVOICE_WITH_PAYMENTS_SELECTION = (
    f"{INVOICE_NODE_SELECTION} payments {{ {PAYMENT_NODE_SELECTION} }}"
)
# Only the payments of an invoice (invoices of a page whose paid amount changed).
INVOICE_PAYMENTS_SELECTION = f"id payments {{ {PAYMENT_NODE_SELECTION} }}"

# Wave's ``accounts``, ``products`` and ``salesTaxes`` default to ``isArchived: false``;
# an explicit ``isArchived: null`` lists archived and active ones alike, so an account
# archived after it was mapped shows archived in the map, and archived products and
# taxes are seen.
ACCOUNTS_FIELD = (
    "accounts(isArchived: null, page: $page, pageSize: $pageSize) {"
    " pageInfo { currentPage totalPages totalCount }"
    f" edges {{ node {{ {ACCOUNT_NODE_SELECTION} }} }} }}"
)
ACCOUNTS_QUERY = (
    "query WaveAccounts($businessId: ID!, $page: Int!, $pageSize: Int!) {"
    f" business(id: $businessId) {{ {ACCOUNTS_FIELD} }} }}"
)
# The estimates dated within a period, oldest created first (historical import).
ESTIMATES_BY_DATE_QUERY = (
    "query WaveHistoricalEstimates($businessId: ID!, $start: Date, $end: Date, $page: Int!, "
    "$pageSize: Int!) { business(id: $businessId) { estimates(estimateDateStart: $start, "
    "estimateDateEnd: $end, page: $page, pageSize: $pageSize, sort: CREATED_AT_ASC) { "
    "pageInfo { currentPage totalPages totalCount } "
    f"edges {{ node {{ {ESTIMATE_NODE_SELECTION} }} }} }} }} }}"
)
# The invoices dated within a period, oldest created first (historical import): the
# variables, and the field of ``business``.
INVOICES_BY_DATE_DECLARATIONS = "$start: Date, $end: Date, $page: Int!, $pageSize: Int!"
INVOICES_BY_DATE_FIELD = (
    "invoices(invoiceDateStart: $start, invoiceDateEnd: $end, page: $page, "
    "pageSize: $pageSize, sort: [CREATED_AT_ASC]) { "
    "pageInfo { currentPage totalPages totalCount } "
    f"edges {{ node {{ {INVOICE_NODE_SELECTION} }} }} }}"
)
INVOICES_BY_DATE_QUERY = (
    f"query WaveHistoricalChunk($businessId: ID!, {INVOICES_BY_DATE_DECLARATIONS}) "
    f"{{ business(id: $businessId) {{ {INVOICES_BY_DATE_FIELD} }} }}"
)
# A chunk's next page of invoices, read in the request of the current page's payments.
NEXT_PAGE_ALIAS = "nextPage"
NEXT_PAGE_OF_INVOICES = (
    INVOICES_BY_DATE_DECLARATIONS,
    f"{NEXT_PAGE_ALIAS}: {INVOICES_BY_DATE_FIELD}",
)

# Polled entity -> (Wave connection field, node selection, extra arguments).
_MODIFIED_SINCE = {
    "sales_taxes": ("salesTaxes", SALES_TAX_NODE_SELECTION, ", isArchived: null"),
    "products": (
        "products",
        PRODUCT_NODE_SELECTION,
        ", isArchived: null, sort: [MODIFIED_AT_ASC]",
    ),
    "customers": ("customers", CUSTOMER_NODE_SELECTION, ", sort: [MODIFIED_AT_ASC]"),
    "vendors": ("vendors", VENDOR_NODE_SELECTION, ""),
    "invoices": ("invoices", INVOICE_NODE_SELECTION, ", sort: [MODIFIED_AT_ASC]"),
    # Wave's estimates take one sort value, not a list as the others.
    "estimates": ("estimates", ESTIMATE_NODE_SELECTION, ", sort: MODIFIED_AT_ASC"),
}
# The invoices query also asks for the number of all invoices, to notice deletions.
_ALL_INVOICES_COUNT = " everything: invoices(page: 1, pageSize: 1) { pageInfo { totalCount } }"


# Deleted estimates are not listed: the count of all of them tells of deletions too.
_ALL_ESTIMATES_COUNT = " everything: estimates(page: 1, pageSize: 1) { pageInfo { totalCount } }"
_ALL_COUNTS = {"invoices": _ALL_INVOICES_COUNT, "estimates": _ALL_ESTIMATES_COUNT}


def _modified_since_query(entity):
    field, selection, extra = _MODIFIED_SINCE[entity]
    total = _ALL_COUNTS.get(entity, "")
    return (
        f"query WavePoll_{entity}($businessId: ID!, $after: DateTime, $page: Int!, "
        f"$pageSize: Int!) {{ business(id: $businessId) {{ changed: {field}("
        f"modifiedAtAfter: $after, page: $page, pageSize: $pageSize{extra}) {{ "
        f"pageInfo {{ currentPage totalPages totalCount }} edges {{ node {{ {selection} }} }} }}"
        f"{total} }} }}"
    )


# Polled entity -> the query of its records modified after ``$after`` (at ``business.changed``).
MODIFIED_SINCE_QUERIES = {entity: _modified_since_query(entity) for entity in _MODIFIED_SINCE}

# -- Checks and planning -------------------------------------------------------------
PARITY_INVOICES_QUERY = """
query WaveParityInvoices(
  $businessId: ID!, $start: Date, $end: Date, $page: Int, $pageSize: Int
) {
  business(id: $businessId) {
    invoices(
      invoiceDateStart: $start, invoiceDateEnd: $end, page: $page, pageSize: $pageSize,
      sort: [CREATED_AT_ASC]
    ) {
      pageInfo { currentPage totalPages totalCount }
      edges {
        node {
          id invoiceNumber invoiceDate status
          currency { code }
          customer { id name }
          total { value }
          amountDue { value }
          amountPaid { value }
          discountTotal { value }
          items {
            account { id name }
            subtotal { value }
            taxes { amount { value } salesTax { id name } }
          }
        }
      }
    }
  }
}
"""

# The go-live checklist's dry run: the invoices of a period, status and total only.
DRY_RUN_QUERY = """
query WaveGoLiveInvoices($businessId: ID!, $start: Date!, $end: Date!,
                         $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    invoices(invoiceDateStart: $start, invoiceDateEnd: $end,
             page: $page, pageSize: $pageSize) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id status total { value } } }
    }
  }
}
"""


# The number of all Wave invoices and when the latest changed one was changed (the plan
# of a historical import: does its period hold every invoice, and from when would a
# poll see the changes made after its start).
PLAN_ALL_INVOICES_ALIAS = "everything"
_PLAN_ALL_INVOICES = (
    f" {PLAN_ALL_INVOICES_ALIAS}: invoices(page: 1, pageSize: 1, sort: [MODIFIED_AT_DESC]) {{"
    " pageInfo { totalCount } edges { node { modifiedAt } } }"
)


def import_plan_query(periods):
    """One request for the start of a historical import: the first page of the chart of
    accounts (``$page``, ``$pageSize``), the number of invoices of ``periods`` date
    ranges (``$s<i>``, ``$e<i>``, ``m<i>`` aliases), with which the wizard plans its
    chunks, and the number of all invoices with the latest change among them
    (``everything``). Three requests of every run made one.
    """
    declarations = ", ".join(f"$s{i}: Date!, $e{i}: Date!" for i in range(periods))
    selections = " ".join(
        f"m{i}: invoices(invoiceDateStart: $s{i}, invoiceDateEnd: $e{i}, page: 1, "
        f"pageSize: 1) {{ pageInfo {{ totalCount }} }}"
        for i in range(periods)
    )
    return (
        f"query WaveImportPlan($businessId: ID!, $page: Int!, $pageSize: Int!, {declarations}) "
        f"{{ business(id: $businessId) {{ {ACCOUNTS_FIELD} {selections}{_PLAN_ALL_INVOICES} }} }}"
    )
