# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every GraphQL document and selection the outbound sync (Odoo → Wave) sends.

Mutations travel through ``WaveClient.mutate_many`` / ``mutate`` (which build the
document from a mutation name, an input and a result selection); the names of those
mutations and the selections are here, with the lookups that settle lost answers.
"""

# --- Customers, products and sales taxes an invoice needs -------------------------
CUSTOMER_CREATE_MUTATION = "customerCreate"
CUSTOMER_PATCH_MUTATION = "customerPatch"
PRODUCT_CREATE_MUTATION = "productCreate"
PRODUCT_PATCH_MUTATION = "productPatch"
PRODUCT_ARCHIVE_MUTATION = "productArchive"
SALES_TAX_CREATE_MUTATION = "salesTaxCreate"

CUSTOMER_RESULT_SELECTION = "customer { id name email modifiedAt }"
PRODUCT_RESULT_SELECTION = "product { id name modifiedAt }"
SALES_TAX_RESULT_SELECTION = "salesTax { id name abbreviation modifiedAt }"
CUSTOMER_PATCH_RESULT_SELECTION = "customer { id modifiedAt }"
PRODUCT_PATCH_RESULT_SELECTION = "product { id modifiedAt }"

CUSTOMERS_FIND_QUERY = """
query OdooFindCustomers(
  $businessId: ID!, $email: String, $after: DateTime, $page: Int, $pageSize: Int
) {
  business(id: $businessId) {
    customers(
      email: $email, modifiedAtAfter: $after, page: $page, pageSize: $pageSize,
      sort: [CREATED_AT_DESC]
    ) {
      pageInfo { currentPage totalPages }
      edges { node { id name email internalNotes modifiedAt } }
    }
  }
}
"""
PRODUCTS_FIND_QUERY = """
query OdooFindProducts($businessId: ID!, $after: DateTime, $page: Int, $pageSize: Int) {
  business(id: $businessId) {
    products(
      modifiedAtAfter: $after, page: $page, pageSize: $pageSize, sort: [CREATED_AT_DESC]
    ) {
      pageInfo { currentPage totalPages }
      edges { node { id name unitPrice description createdAt modifiedAt } }
    }
  }
}
"""
SALES_TAXES_FIND_QUERY = """
query OdooFindSalesTaxes($businessId: ID!, $page: Int, $pageSize: Int) {
  business(id: $businessId) {
    salesTaxes(page: $page, pageSize: $pageSize) {
      pageInfo { currentPage totalPages }
      edges { node { id name abbreviation rate modifiedAt } }
    }
  }
}
"""

# --- Invoices ----------------------------------------------------------------------
INVOICE_CREATE_MUTATION = "invoiceCreate"
INVOICE_PATCH_MUTATION = "invoicePatch"
INVOICE_APPROVE_MUTATION = "invoiceApprove"
INVOICE_SEND_MUTATION = "invoiceSend"
INVOICE_MARK_SENT_MUTATION = "invoiceMarkSent"
INVOICE_DELETE_MUTATION = "invoiceDelete"

#: The fields of a Wave invoice the saga reads (state, amounts, sending).
INVOICE_STATE_FIELDS = (
    "id invoiceNumber status modifiedAt lastSentAt total { value } amountPaid { value }"
)
INVOICE_RESULT_SELECTION = "invoice { " + INVOICE_STATE_FIELDS + " }"
INVOICE_LOOKUP_NODE_FIELDS = f"{INVOICE_STATE_FIELDS} customer {{ id }}"

BUSINESS_EMAIL_QUERY = (
    "query OdooBusinessEmail($id: ID!) { business(id: $id) { id emailSendEnabled } }"
)


def numbered_page_query(collection, number_arg, node_fields):
    """Pages of ``business.<collection>`` whose ``number_arg`` contains ``$number``."""
    return (
        f"query OdooFind{collection.title()}Page($businessId: ID!, $number: String, "
        "$page: Int, $pageSize: Int) { business(id: $businessId) { "
        f"{collection}({number_arg}: $number, page: $page, pageSize: $pageSize) "
        "{ pageInfo { currentPage totalPages totalCount } "
        f"edges {{ node {{ {node_fields} }} }} }} }} }}"
    )


def numbered_query(collection, number_arg, node_fields, count, page_size):
    """One aliased query: the first page of ``business.<collection>`` matching each of
    ``count`` numbers (Wave's number filters match substrings).

    Variables: ``$businessId`` and ``$n0`` … ``$n<count-1>``; aliases ``f0`` … .
    """
    params = ", ".join(["$businessId: ID!"] + [f"$n{i}: String" for i in range(count)])
    body = " ".join(
        f"f{i}: {collection}({number_arg}: $n{i}, page: 1, pageSize: {page_size}) "
        f"{{ pageInfo {{ currentPage totalPages }} "
        f"edges {{ node {{ {node_fields} }} }} }}"
        for i in range(count)
    )
    return (
        f"query OdooFind{collection.title()}({params}) {{ business(id: $businessId) {{ {body} }} }}"
    )


INVOICES_NUMBERED_PAGE_QUERY = numbered_page_query(
    "invoices", "invoiceNumber", INVOICE_LOOKUP_NODE_FIELDS
)


def invoices_numbered_query(count, page_size):
    """The first page of invoices matching each of ``count`` numbers (``numbered_query``)."""
    return numbered_query("invoices", "invoiceNumber", INVOICE_LOOKUP_NODE_FIELDS, count, page_size)


# --- Estimates (quotations sent from Odoo) -------------------------------------------
ESTIMATE_CREATE_MUTATION = "estimateCreate"
ESTIMATE_PATCH_MUTATION = "estimatePatch"
ESTIMATE_APPROVE_MUTATION = "estimateApprove"
ESTIMATE_MARK_SENT_MUTATION = "estimateMarkSent"
ESTIMATE_SEND_MUTATION = "estimateSend"
ESTIMATE_MARK_ACCEPTED_MUTATION = "estimateMarkAccepted"
ESTIMATE_DELETE_MUTATION = "estimateDelete"
CONVERT_ESTIMATE_MUTATION = "convertEstimateToInvoice"

#: The fields of a Wave estimate the export reads (state, amounts, sending).
ESTIMATE_STATE_FIELDS = "id estimateNumber status modifiedAt lastSentAt total { value }"
ESTIMATE_RESULT_SELECTION = "estimate { " + ESTIMATE_STATE_FIELDS + " }"
ESTIMATE_LOOKUP_NODE_FIELDS = f"{ESTIMATE_STATE_FIELDS} customer {{ id }}"
#: What an estimate bills (an invoice of its order converts it when it bills the same).
ESTIMATE_BILLED_FIELDS = (
    f"{ESTIMATE_LOOKUP_NODE_FIELDS} currency {{ code }} discountTotal {{ value }} "
    "items { quantity unitPrice product { id } taxes { salesTax { id } } }"
)
ESTIMATES_NUMBERED_PAGE_QUERY = numbered_page_query(
    "estimates", "estimateNumber", ESTIMATE_LOOKUP_NODE_FIELDS
)


def estimates_numbered_query(count, page_size):
    """The first page of estimates matching each of ``count`` numbers (``numbered_query``)."""
    return numbered_query(
        "estimates", "estimateNumber", ESTIMATE_LOOKUP_NODE_FIELDS, count, page_size
    )


# --- Invoice payments --------------------------------------------------------------
INVOICE_PAYMENT_CREATE_MUTATION = "invoicePaymentCreateManual"
INVOICE_PAYMENT_DELETE_MUTATION = "invoicePaymentDelete"
INVOICE_PAYMENT_RESULT_SELECTION = (
    "invoicePayment { id amount invoice { id status modifiedAt amountPaid { value } } }"
)
#: An invoice read back with its payments (lost payment answers, undo checks).
INVOICE_WITH_PAYMENTS_FIELDS = (
    "id modifiedAt status amountPaid { value } payments { id amount memo }"
)

# --- Money transactions ------------------------------------------------------------
MONEY_TRANSACTION_CREATE_MUTATION = "moneyTransactionCreate"
MONEY_TRANSACTIONS_CREATE_MUTATION = "moneyTransactionsCreate"
MONEY_TRANSACTION_RESULT_SELECTION = "transaction { id }"
MONEY_TRANSACTIONS_RESULT_SELECTION = "transactions { id }"


#: The invoices Wave made from an estimate (``convertEstimateToInvoice``), newest first.
INVOICES_BY_SOURCE_QUERY = (
    "query OdooFindConvertedInvoices($businessId: ID!, $sourceId: ID!) { "
    "business(id: $businessId) { invoices(sourceId: $sourceId, page: 1, pageSize: 10) { "
    f"edges {{ node {{ {INVOICE_LOOKUP_NODE_FIELDS} }} }} }} }} }}"
)
