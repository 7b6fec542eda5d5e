"""GraphQL SDL for the subset of Wave's public API the sandbox implements.

Type, field, argument and enum names are re-typed from Wave's live-introspected schema
(``rhanka/mcp-wave:data/wave-schema.graphql``) so that introspection of the sandbox shows
Wave's names.  Only the subset used by the connector is declared, but every type declared
here has Wave's fields and nullability (OAuth applications are left out).
"""

# Wave's CurrencyCode enum, complete (160 values, legacy codes such as BYR, EEK, LTL, ZMK
# included; VES, BYN, CNH, ... absent).  Retyped from the introspected schema.
CURRENCY_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYR BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EEK EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GNF GTQ GWP GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL LYD MAD MDL MGA MKD MMK MNT MOP
MRO MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD SSP STD SVC SYP SZL THB TJS TMM TND
TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VEF VND VUV WST XAF XCD XOF XPF YER ZAR ZMK ZMW ZWD
""".split()

# Wave's CountryCode enum, complete (ISO 3166-1 alpha-2 as Wave lists it; no XK).
COUNTRY_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW
""".split()

BUSINESS_TYPES = """
ARTISTS_PHOTOGRAPHERS_CREATIVE CONSULTANTS_PROFESSIONALS FINANCE_INSURANCE HAIR_SPA_AESTHETICS
MEDICAL_DENTAL_HEALTH_SERVICE NONPROFIT_ASSOCIATIONS_GROUPS OTHER PRODUCT_PROVIDER
REALESTATE_HOME RETAILERS_AND_RESELLERS SERVICE_PROVIDER WEB_MEDIA_FREELANCER
""".split()

BUSINESS_SUBTYPES = """
ADVERTISING_PUBLIC_RELATIONS AGRICULTURE_RANCHING_FARMING ARTISTS_PHOTOGRAPHERS_CREATIVE__ACTOR
ARTISTS_PHOTOGRAPHERS_CREATIVE__AUDIO_VISUAL_PRODUCTION
ARTISTS_PHOTOGRAPHERS_CREATIVE__CRAFTSPERSON ARTISTS_PHOTOGRAPHERS_CREATIVE__DANCER_CHOREOG
ARTISTS_PHOTOGRAPHERS_CREATIVE__MUSICIAN ARTISTS_PHOTOGRAPHERS_CREATIVE__OTHER
ARTISTS_PHOTOGRAPHERS_CREATIVE__PERFORMING_ARTS_ACTING_MUSIC_DANCE
ARTISTS_PHOTOGRAPHERS_CREATIVE__PHOTOGRAPHER ARTISTS_PHOTOGRAPHERS_CREATIVE__VISUAL_ARTIST
AUTOMOTIVE_SALES_AND_REPAIR CHURCH_RELIGIOUS_ORGANIZATION
CONSTRUCTION_HOME_IMPROVEMENT__CONTRACTOR CONSTRUCTION_HOME_IMPROVEMENT__ENGINEER
CONSTRUCTION_HOME_IMPROVEMENT__HOME_INSPECTOR CONSTRUCTION_HOME_IMPROVEMENT__OTHER_TRADES
CONSULTANTS_PROFESSIONALS__ACCOUNTANTS_BOOKKEEPERS CONSULTANTS_PROFESSIONALS__COMMUNICATIONS
CONSULTANTS_PROFESSIONALS__EXECUTIVE_COACH CONSULTANTS_PROFESSIONALS__HR_RECRUITMENT_STAFFING
CONSULTANTS_PROFESSIONALS__IT_TECHNICAL CONSULTANTS_PROFESSIONALS__OTHER
CONSULTANTS_PROFESSIONALS__SALES DESIGN_ARCHITECTURE_ENGINEERING FINANCIAL_SERVICES
HAIR_SPA_AESTHETICS__HAIR_SALON HAIR_SPA_AESTHETICS__MASSAGE
HAIR_SPA_AESTHETICS__NAIL_SKIN_AESTHETICS HAIR_SPA_AESTHETICS__OTHER INSURANCE_AGENCY_BROKER
LANDLORD_PROPERTY_MANAGER__LANDLORD LANDLORD_PROPERTY_MANAGER__PROPERTY_MANAGER
LAWN_CARE_LANDSCAPING LEGAL_SERVICES LODGING_HOTEL_MOTEL MANUFACTURER_REPRESENTATIVE_AGENT
MEDICAL_DENTAL_HEALTH_SERVICE__CHIROPRACTOR MEDICAL_DENTAL_HEALTH_SERVICE__DENTIST
MEDICAL_DENTAL_HEALTH_SERVICE__FITNESS MEDICAL_DENTAL_HEALTH_SERVICE__MASSAGE_THERAPIST
MEDICAL_DENTAL_HEALTH_SERVICE__MENTAL_HEALTH MEDICAL_DENTAL_HEALTH_SERVICE__NUTRITION
MEDICAL_DENTAL_HEALTH_SERVICE__OCCUP_THERAPIST MEDICAL_DENTAL_HEALTH_SERVICE__OTHER
MEDICAL_DENTAL_HEALTH_SERVICE__PHYSICAL_THERAPIST NONPROFIT_ASSOCIATIONS_GROUPS__ASSOCIATION
NONPROFIT_ASSOCIATIONS_GROUPS__CHARITABLE NONPROFIT_ASSOCIATIONS_GROUPS__CLUB
NONPROFIT_ASSOCIATIONS_GROUPS__CONDO NONPROFIT_ASSOCIATIONS_GROUPS__OTHER
NONPROFIT_ASSOCIATIONS_GROUPS__PARENT_BOOSTER OTHER__OTHER_PLEASE_SPECIFY
PRODUCT_PROVIDER__MANUFACTURER PRODUCT_PROVIDER__MANUFACTURER_AND_VENDOR
PRODUCT_PROVIDER__OTHER PRODUCT_PROVIDER__VENDOR REAL_ESTATE_SALES__AGENT
REAL_ESTATE_SALES__BROKER REAL_ESTATE_SALES__OTHER RENTAL REPAIR_AND_MAINTENANCE
RESTAURANT_CATERER_BAR RETAILERS_AND_RESELLERS__EBAY RETAILERS_AND_RESELLERS__ETSY
RETAILERS_AND_RESELLERS__NON_STORE_RETAILER RETAILERS_AND_RESELLERS__OTHER
RETAILERS_AND_RESELLERS__STORE_RETAILER SALES_INDEPENDENT_AGENT
SERVICE_PROVIDER__CLEANING_JANITORIAL_SERVICES SERVICE_PROVIDER__CUSTOMER_SERVICE_SUPPORT
SERVICE_PROVIDER__DOMESTIC_CAREGIVER_EMPLOYER SERVICE_PROVIDER__FITNESS
SERVICE_PROVIDER__OFFICE_ADMIN_SUPPORT SERVICE_PROVIDER__OTHER SERVICE_PROVIDER__PERSONAL_CARE
SERVICE_PROVIDER__TELEMARKETING SERVICE_PROVIDER__TRANSCRIPTION
TRANSPORTATION_TRUCKING_DELIVERY WEB_MEDIA_FREELANCER__DESIGNER
WEB_MEDIA_FREELANCER__MARKETING_SOCIAL_MEDIA WEB_MEDIA_FREELANCER__OTHER
WEB_MEDIA_FREELANCER__PROGRAMMER WEB_MEDIA_FREELANCER__SEO WEB_MEDIA_FREELANCER__WRITER
WHOLESALE_DISTRIBUTION_SALES
""".split()

ACCOUNT_SUBTYPES = [
    "CASH_AND_BANK",
    "COST_OF_GOODS_SOLD",
    "CREDIT_CARD",
    "CUSTOMER_PREPAYMENTS_AND_CREDITS",
    "DEPRECIATION_AND_AMORTIZATION",
    "DISCOUNTS",
    "DUE_FOR_PAYROLL",
    "DUE_TO_YOU_AND_OTHER_OWNERS",
    "EXPENSE",
    "GAIN_ON_FOREIGN_EXCHANGE",
    "INCOME",
    "INVENTORY",
    "LOANS",
    "LOSS_ON_FOREIGN_EXCHANGE",
    "MONEY_IN_TRANSIT",
    "NON_RETAINED_EARNINGS",
    "OTHER_CURRENT_ASSETS",
    "OTHER_CURRENT_LIABILITY",
    "OTHER_INCOME",
    "OTHER_LONG_TERM_ASSETS",
    "OTHER_LONG_TERM_LIABILITY",
    "PAYABLE",
    "PAYABLE_BILLS",
    "PAYABLE_OTHER",
    "PAYMENT_PROCESSING_FEES",
    "PAYROLL_EXPENSES",
    "PROPERTY_PLANT_EQUIPMENT",
    "RECEIVABLE",
    "RECEIVABLE_INVOICES",
    "RECEIVABLE_OTHER",
    "RETAINED_EARNINGS",
    "SALES_TAX",
    "SYSTEM_CUSTOMER_CREDITS",
    "TRANSFERS",
    "UNCATEGORIZED_EXPENSE",
    "UNCATEGORIZED_INCOME",
    "UNKNOWN_ACCOUNT",
    "VENDOR_PREPAYMENTS_AND_CREDITS",
]

SYSTEM_SUBTYPES = {
    "GAIN_ON_FOREIGN_EXCHANGE",
    "LOSS_ON_FOREIGN_EXCHANGE",
    "PAYABLE_BILLS",
    "PAYABLE_OTHER",
    "RECEIVABLE_INVOICES",
    "RECEIVABLE_OTHER",
    "SALES_TAX",
    "SYSTEM_CUSTOMER_CREDITS",
    "TRANSFERS",
    "UNCATEGORIZED_EXPENSE",
    "UNCATEGORIZED_INCOME",
    "UNKNOWN_ACCOUNT",
}
CREATE_SUBTYPES = [s for s in ACCOUNT_SUBTYPES if s not in SYSTEM_SUBTYPES]


def _sorts(*keys: str) -> str:
    return " ".join(f"{k}_ASC {k}_DESC" for k in keys)


_CONN = """
type {t}Connection {{ edges: [{t}Edge!]! pageInfo: OffsetPageInfo! }}
type {t}Edge {{ node: {t}{bang} }}
"""


def _connections() -> str:
    out = []
    for t, bang in (
        ("Business", ""),
        ("Account", ""),
        ("Customer", ""),
        ("Vendor", "!"),
        ("Product", "!"),
        ("SalesTax", ""),
        ("Invoice", "!"),
        ("Estimate", "!"),
    ):
        out.append(_CONN.format(t=t, bang=bang))
    # Wave: ``EstimateEdge.node`` is an ``AREstimate!`` (``Estimate`` is the invoice-source stub)
    return "".join(out).replace(
        "type EstimateEdge { node: Estimate! }", "type EstimateEdge { node: AREstimate! }"
    )


# Estimates, re-typed from Wave's introspected schema (``AREstimate`` is the estimate;
# ``Estimate`` is only the stub an invoice names as its ``source``).
ESTIMATE_SDL = (
    """enum EstimateStatus {
  ACCEPTED APPROVED CONVERTED DELETED DRAFT EXPIRED REJECTED SENT VIEWED
}
enum EstimateListStatusFilter {
  ACCEPTED ACTIVE APPROVED CONVERTED DRAFT EXPIRED PAID PARTIAL REJECTED SENT UNPAID VIEWED
}
enum EstimateCreateStatus { DRAFT }
enum EstimateDiscountType { FIXED PERCENTAGE }
enum EstimateDepositPaymentStatus { PAID_FULL PAID_PARTIAL UNPAID }
enum EstimateDepositStatusType { DISABLED ENABLED_MANDATORY ENABLED_OPTIONAL }
enum EstimateDepositUnitType { AMOUNT PERCENTAGE }
enum EstimateHistoryEntityType { BUSINESS_OWNER CUSTOMER }
enum EstimatePaymentMethod { BANK_TRANSFER CASH CHEQUE CREDIT_CARD OTHER PAYPAL UNSPECIFIED }
enum EstimatePaymentProvider { ADYEN MANUAL WPP }
enum EstimateTransactionType { DEPOSIT REFUND VOID }
enum EstimateSendMethod {
  EXPORT_PDF GMAIL MARKED_SENT NOT_SENT OUTLOOK SHARED_LINK SKIPPED WAVE YAHOO
}
enum EstimateSort { """
    + _sorts(
        "AMOUNT_DUE",
        "AMOUNT_PAID",
        "CREATED_AT",
        "CUSTOMER_NAME",
        "DUE_AT",
        "ESTIMATE_DATE",
        "ESTIMATE_NUMBER",
        "MODIFIED_AT",
        "STATUS",
        "TOTAL",
    )
    + """ }
interface EstimateDiscount { createdAt: DateTime! modifiedAt: DateTime! name: String }
type FixedEstimateDiscount implements EstimateDiscount {
  amount: Decimal createdAt: DateTime! modifiedAt: DateTime! name: String
}
type PercentageEstimateDiscount implements EstimateDiscount {
  createdAt: DateTime! modifiedAt: DateTime! name: String percentage: Decimal
}
type EstimateItemTax { amount: Money salesTax: SalesTax! }
type EstimateItem {
  account: Account! description: String id: ID! product: Product! quantity: Decimal!
  subtotal: Money! taxes: [EstimateItemTax!]! total: Money! unitPrice: Decimal!
}
type AREstimateAcceptanceHistory {
  email: String! entityId: String! entityType: EstimateHistoryEntityType! name: String!
  state: String! timestamp: DateTime!
}
type EstimatePaymentDetail {
  cardExpiryMonth: String cardExpiryYear: String cardSource: String cardType: String
  lastFour: String
}
type EstimatePayment {
  active: Boolean amount: String confirmationCode: String createdAt: DateTime!
  currency: Currency estimate: AREstimate id: ID! memo: String modifiedAt: DateTime!
  origin: String originPaymentId: String paymentAccountId: String! paymentDate: Date
  paymentDetails: EstimatePaymentDetail paymentMethod: EstimatePaymentMethod
  paymentMethodId: String paymentProvider: EstimatePaymentProvider readonlyUrl: String
  state: String transactionId: String transactionType: EstimateTransactionType
}
"""
    + '"An approximate bill given to a buyer indicating the products or services, '
    + 'quantities, and expected prices (not a request for payment)."'
    + """
type AREstimate {
  amountDue: Money! amountPaid: Money! amountTitle: String! attachments: [ARAttachment!]
  createdAt: DateTime! currency: Currency! customer: Customer!
  depositPaymentStatus: EstimateDepositPaymentStatus! depositStatus: EstimateDepositStatusType!
  depositTotal: Money! depositUnit: EstimateDepositUnitType depositValue: Decimal
  disableAmexPayments: Boolean! disableBankPayments: Boolean!
  disableCreditCardPayments: Boolean! discountTotal: Money! discounts: [EstimateDiscount!]
  dueDate: Date! estimateDate: Date! estimateNumber: String! exchangeRate: Decimal!
  footer: String hideAmount: Boolean! hideDescription: Boolean! hideName: Boolean!
  hidePrice: Boolean! hideUnit: Boolean! history: [AREstimateAcceptanceHistory!] id: ID!
  itemTitle: String! items: [EstimateItem!] lastSentAt: DateTime
  lastSentVia: EstimateSendMethod lastViewedAt: DateTime memo: String modifiedAt: DateTime!
  payments: [EstimatePayment] pdfUrl: String! poNumber: String priceTitle: String!
  requireTermsOfServiceAgreement: Boolean! status: EstimateStatus! subhead: String
  subtotal: Money! taxTotal: Money! title: String! total: Money! unitTitle: String!
  viewUrl: String!
}
"""
)

ESTIMATE_INPUTS_SDL = """
input EstimateCreateDiscountInput {
  amount: Decimal discountType: EstimateDiscountType! name: String percentage: Decimal
}
input EstimateCreateItemTaxInput { salesTaxId: ID! }
input EstimateCreateItemInput {
  description: String name: String productId: ID! quantity: Decimal
  taxes: [EstimateCreateItemTaxInput!] unitPrice: Decimal!
}
input EstimateCreateInput {
  amountTitle: String attachmentIds: [String!] businessId: ID! currency: CurrencyCode
  customerId: ID! depositStatus: EstimateDepositStatusType depositUnit: EstimateDepositUnitType
  depositValue: Decimal disableAmexPayments: Boolean disableBankPayments: Boolean
  disableCreditCardPayments: Boolean discounts: [EstimateCreateDiscountInput!] dueDate: Date
  estimateDate: Date estimateNumber: String exchangeRate: Decimal footer: String
  hideAmount: Boolean hideDescription: Boolean hideName: Boolean hidePrice: Boolean
  hideUnit: Boolean itemTitle: String items: [EstimateCreateItemInput!] memo: String
  poNumber: String priceTitle: String requireTermsOfServiceAgreement: Boolean
  status: EstimateCreateStatus = DRAFT subhead: String title: String unitTitle: String
}
"Input to the `estimatePatch` mutation. For each value if it's not provided - do not update it."
input EstimatePatchInput {
  amountTitle: String attachmentIds: [String!] currency: CurrencyCode! customerId: ID!
  depositStatus: EstimateDepositStatusType depositUnit: EstimateDepositUnitType
  depositValue: Decimal disableAmexPayments: Boolean disableBankPayments: Boolean
  disableCreditCardPayments: Boolean discounts: [EstimateCreateDiscountInput!] dueDate: Date!
  estimateDate: Date! estimateNumber: String exchangeRate: Decimal! footer: String
  hideAmount: Boolean hideDescription: Boolean hideName: Boolean hidePrice: Boolean
  hideUnit: Boolean id: ID! itemTitle: String items: [EstimateCreateItemInput!] memo: String
  poNumber: String priceTitle: String requireTermsOfServiceAgreement: Boolean
  status: EstimateStatus! subhead: String title: String! unitTitle: String
}
input EstimateApproveInput { estimateId: ID! }
input EstimateDeleteInput { estimateId: ID! }
input EstimateMarkAcceptedInput { estimateId: ID! }
input EstimateResetAcceptanceInput { estimateId: ID! }
input EstimateMarkSentInput { estimateId: ID! sendMethod: EstimateSendMethod! sentAt: DateTime }
input EstimateSendInput {
  attachPDF: Boolean! = false ccMyself: Boolean estimateId: ID! fromAddress: String
  hideGrandTotal: Boolean = false includeAttachments: Boolean = false message: String
  subject: String to: [String!]!
}
input ConvertEstimateToInvoiceInput { estimateId: ID! }
type ConvertEstimateToInvoiceOutput {
  didSucceed: Boolean! inputErrors: [InputError!] invoiceId: ID!
}
"""


def _output(name: str, entity: str = "") -> str:
    return f"type {name} {{ didSucceed: Boolean! inputErrors: [InputError!] {entity} }}\n"


SDL = (
    """
"ISO-8601 date object. Format returned will follow `yyyy-MM-dd`."
scalar Date
"ISO-8601 datetime, returned as `yyyy-MM-ddThh:mm:ss.sssZ` where the timezone is UTC."
scalar DateTime
"Signed decimal number, arbitrary precision, serialized as a string. Example value: `14.99`."
scalar Decimal
scalar URL
scalar HexColorCode

enum CurrencyCode { """
    + " ".join(CURRENCY_CODES)
    + """ }
enum CountryCode { """
    + " ".join(COUNTRY_CODES)
    + """ }
enum AccountTypeValue { ASSET EQUITY EXPENSE INCOME LIABILITY }
enum AccountNormalBalanceType { CREDIT DEBIT }
enum AccountSubtypeValue { """
    + " ".join(ACCOUNT_SUBTYPES)
    + """ }
enum AccountSubtypeValueCreateInput { """
    + " ".join(CREATE_SUBTYPES)
    + """ }
enum BalanceType { CREDIT DEBIT DECREASE INCREASE }
enum TransactionDirection { DEPOSIT WITHDRAWAL }
enum InvoiceStatus { DRAFT OVERDUE OVERPAID PAID PARTIAL SAVED SENT UNPAID VIEWED }
enum InvoiceCreateStatus { DRAFT SAVED }
enum InvoiceDiscountType { FIXED PERCENTAGE }
enum InvoicePaymentMethod { BANK_TRANSFER CASH CHEQUE CREDIT_CARD OTHER PAYPAL UNSPECIFIED }
enum InvoiceSendMethod {
  EXPORT_PDF GMAIL MARKED_SENT NOT_SENT OUTLOOK SHARED_LINK SKIPPED WAVE YAHOO
}
enum OrganizationalType { CORPORATION PARTNERSHIP SOLE_PROPRIETORSHIP }
enum BusinessTypeValue { """
    + " ".join(BUSINESS_TYPES)
    + """ }
enum BusinessSubtypeValue { """
    + " ".join(BUSINESS_SUBTYPES)
    + """ }
enum CustomerSort { """
    + _sorts("CREATED_AT", "MODIFIED_AT", "NAME")
    + """ }
enum ProductSort { """
    + _sorts("CREATED_AT", "MODIFIED_AT", "NAME")
    + """ }
enum InvoiceSort { """
    + _sorts(
        "AMOUNT_DUE",
        "AMOUNT_PAID",
        "CREATED_AT",
        "CUSTOMER_NAME",
        "DUE_AT",
        "INVOICE_DATE",
        "INVOICE_NUMBER",
        "MODIFIED_AT",
        "STATUS",
        "TOTAL",
    )
    + """ }

interface Node { id: ID! }
interface BusinessNode { business: Business! id: ID! }

type Query {
  user: User
  businesses(isArchived: Boolean, page: Int = 1, pageSize: Int = 10): BusinessConnection
  business(id: ID): Business
  accountTypes: [AccountType!]!
  accountSubtypes: [AccountSubtype!]!
  countries: [Country!]!
  country(code: CountryCode!): Country
  currencies: [Currency!]!
  currency(code: CurrencyCode!): Currency
  province(code: String!): Province
}

type User implements Node {
  id: ID! createdAt: DateTime! defaultEmail: String firstName: String lastName: String
  modifiedAt: DateTime!
}

type OffsetPageInfo { currentPage: Int! totalCount: Int totalPages: Int }

type Currency { code: CurrencyCode! exponent: Int! name: String! plural: String! symbol: String! }
type Money {
  currency: Currency!
  minorUnitValue: Decimal!
  raw: Int! @deprecated(reason: "Use `minorUnitValue` instead, as `raw` can overflow")
  value: String!
}
type Country {
  code: CountryCode! currency: Currency! name: String! nameWithArticle: String!
  provinces: [Province!]!
}
type Province {
  code: String! name: String! slug: String @deprecated(reason: "Nonstandard values.")
}
type BusinessType { name: String! value: BusinessTypeValue! }
type BusinessSubtype { name: String! value: BusinessSubtypeValue! }
type GeneralSettings { accentColor: HexColorCode logoUrl: URL }
type InvoiceEstimateSettings { generalSettings: GeneralSettings! }
type Address {
  addressLine1: String addressLine2: String city: String country: Country postalCode: String
  province: Province
}

type Business implements Node {
  id: ID!
  name: String!
  isArchived: Boolean!
  isPersonal: Boolean!
  isClassicAccounting: Boolean! @deprecated(reason: "Classic accounting is being retired.")
  isClassicInvoicing: Boolean! @deprecated(reason: "Classic invoicing is being retired.")
  emailSendEnabled: Boolean!
  currency: Currency!
  address: Address
  timezone: String
  phone: String
  fax: String
  mobile: String
  tollFree: String
  website: String
  organizationalType: OrganizationalType
  type: BusinessType
  subtype: BusinessSubtype
  invoiceEstimateSettings: InvoiceEstimateSettings!
  createdAt: DateTime!
  modifiedAt: DateTime!
  account(id: ID!): Account
  accounts(excludedSubtypes: [AccountSubtypeValue!], isArchived: Boolean = false, page: Int = 1,
           pageSize: Int = 45, subtypes: [AccountSubtypeValue!],
           types: [AccountTypeValue!]): AccountConnection
  customer(id: ID!): Customer
  customers(email: String, modifiedAtAfter: DateTime, modifiedAtBefore: DateTime, page: Int = 1,
            pageSize: Int = 45, sort: [CustomerSort!]! = [CREATED_AT_DESC]): CustomerConnection
  vendor(id: ID!): Vendor
  vendors(email: String, modifiedAtAfter: DateTime, modifiedAtBefore: DateTime, page: Int = 1,
          pageSize: Int = 45): VendorConnection
  product(id: ID!): Product
  products(isArchived: Boolean = false, isBought: Boolean, isSold: Boolean,
           modifiedAtAfter: DateTime, modifiedAtBefore: DateTime, page: Int = 1,
           pageSize: Int = 45, sort: [ProductSort!]! = [CREATED_AT_DESC]): ProductConnection
  salesTax(id: ID!): SalesTax
  salesTaxes(isArchived: Boolean = false, modifiedAtAfter: DateTime, modifiedAtBefore: DateTime,
             page: Int = 1, pageSize: Int = 45): SalesTaxConnection
  invoice(id: ID!): Invoice
  estimate(embedAttachments: Boolean, embedDepositPayments: Boolean, embedHistory: Boolean,
           id: ID!): AREstimate
  estimates(amountDue: Decimal, currency: CurrencyCode, customerId: ID, estimateDateEnd: Date,
            estimateDateStart: Date, estimateNumber: String, modifiedAtAfter: DateTime,
            modifiedAtBefore: DateTime, page: Int = 1, pageSize: Int = 45,
            sort: EstimateSort! = CREATED_AT_DESC,
            status: EstimateListStatusFilter): EstimateConnection
  invoicePayment(id: ID!): InvoicePayment
  invoices(amountDue: Decimal, currency: CurrencyCode, customerId: ID, invoiceDateEnd: Date,
           invoiceDateStart: Date, invoiceNumber: String, modifiedAtAfter: DateTime,
           modifiedAtBefore: DateTime, page: Int = 1, pageSize: Int = 45,
           sort: [InvoiceSort!]! = [CREATED_AT_DESC], sourceId: ID,
           status: InvoiceStatus): InvoiceConnection
}

type AccountType {
  name: String! normalBalanceType: AccountNormalBalanceType! value: AccountTypeValue!
}
type AccountSubtype {
  archivable: Boolean! description: String name: String! systemCreated: Boolean!
  type: AccountType! value: AccountSubtypeValue!
}
type Account implements BusinessNode & Node {
  id: ID! business: Business! balance: Decimal balanceInBusinessCurrency: Decimal
  classicId: String currency: Currency! description: String displayId: String
  isArchived: Boolean! name: String! normalBalanceType: AccountNormalBalanceType!
  sequence: Int! subtype: AccountSubtype! type: AccountType!
}

type CustomerShippingDetails { address: Address instructions: String name: String phone: String }
type Customer implements BusinessNode & Node {
  id: ID! business: Business! address: Address createdAt: DateTime! modifiedAt: DateTime!
  currency: Currency displayId: String email: String fax: String firstName: String
  internalId: String @deprecated(reason: "Use Node.id instead.")
  lastName: String internalNotes: String isArchived: Boolean mobile: String name: String!
  outstandingAmount: Money! overdueAmount: Money! phone: String
  shippingDetails: CustomerShippingDetails tollFree: String website: String
}
type Vendor implements BusinessNode & Node {
  id: ID! business: Business! address: Address createdAt: DateTime! modifiedAt: DateTime!
  currency: Currency displayId: String email: String fax: String firstName: String
  lastName: String internalNotes: String isArchived: Boolean mobile: String name: String!
  phone: String shippingDetails: VendorShippingDetails tollFree: String website: String
}
type VendorShippingDetails { address: Address instructions: String name: String phone: String }
type Product implements BusinessNode & Node {
  id: ID! business: Business! createdAt: DateTime! modifiedAt: DateTime!
  defaultSalesTaxes: [SalesTax!]! description: String expenseAccount: Account
  incomeAccount: Account internalId: String @deprecated(reason: "Use Node.id instead.")
  isArchived: Boolean! isBought: Boolean! isSold: Boolean! name: String! unitPrice: Decimal!
}
type SalesTaxRate { effective: Date! rate: Decimal! }
type SalesTax implements BusinessNode & Node {
  id: ID! business: Business! abbreviation: String! createdAt: DateTime! modifiedAt: DateTime!
  description: String internalId: String @deprecated(reason: "Use Node.id instead.")
  isArchived: Boolean! isCompound: Boolean! isRecoverable: Boolean!
  name: String! rate(for: Date): Decimal! rates: [SalesTaxRate!]!
  showTaxNumberOnInvoices: Boolean! taxNumber: String
}

interface InvoiceDiscount { createdAt: DateTime! modifiedAt: DateTime! name: String }
type FixedInvoiceDiscount implements InvoiceDiscount {
  amount: Decimal createdAt: DateTime! modifiedAt: DateTime! name: String
}
type PercentageInvoiceDiscount implements InvoiceDiscount {
  createdAt: DateTime! modifiedAt: DateTime! name: String percentage: Decimal
}
type InvoiceItemTax {
  amount: Money rate: Decimal @deprecated(reason: "Use salesTax.rate") salesTax: SalesTax!
}
type InvoiceItem {
  account: Account! description: String id: ID! product: Product! quantity: Decimal!
  unitPrice: Decimal! price: Decimal! @deprecated(reason: "Use unitPrice") subtotal: Money!
  total: Money! taxes: [InvoiceItemTax!]!
}
type Invoice implements BusinessNode & Node {
  id: ID! business: Business! amountDue: Money! amountPaid: Money! amountTitle: String!
  anonymousId: ID! attachments: [ARAttachment!]
  internalId: String @deprecated(reason: "Use Node.id instead.")
  invoiceReminders: [InvoiceReminder!]! source: InvoiceSource
  createdAt: DateTime! modifiedAt: DateTime! currency: Currency! customer: Customer!
  disableAmexPayments: Boolean! disableBankPayments: Boolean!
  disableCreditCardPayments: Boolean! discountTotal: Money! discounts: [InvoiceDiscount!]
  dueDate: Date! exchangeRate: Decimal! footer: String hideAmount: Boolean!
  hideDescription: Boolean! hideName: Boolean! hidePrice: Boolean! hideUnit: Boolean!
  invoiceDate: Date! invoiceNumber: String! itemTitle: String! items: [InvoiceItem!]
  lastSentAt: DateTime lastSentVia: InvoiceSendMethod lastViewedAt: DateTime memo: String
  "Only populated when details of a specific invoice is requested."
  payments: [InvoicePayment]
  pdfUrl: String! poNumber: String priceTitle: String! requireTermsOfServiceAgreement: Boolean!
  status: InvoiceStatus! subhead: String subtotal: Money! taxTotal: Money! title: String!
  total: Money! unitTitle: String! viewUrl: String!
}
type ARAttachment {
  active: Boolean! businessId: ID! downloadUrl: String! fileName: String! filePath: String!
  fileSize: String! id: ID! uploadStatusUpdatedAt: DateTime!
}
type InvoiceReminder implements BusinessNode & Node {
  business: Business! createdAt: DateTime daysDelta: Int id: ID!
  internalId: String @deprecated(reason: "Use Node.id instead.")
  invoice: Invoice issueDate: DateTime modifiedAt: DateTime sent: Boolean sentManually: Boolean
}
type Estimate implements BusinessNode & Node {
  business: Business! id: ID! internalId: String @deprecated(reason: "Use Node.id instead.")
}
type NewEstimate implements BusinessNode & Node { business: Business! id: ID! }
type RecurringInvoice implements BusinessNode & Node {
  business: Business! id: ID! internalId: String @deprecated(reason: "Use Node.id instead.")
}
union InvoiceSource = Estimate | NewEstimate | RecurringInvoice
type InvoicePaymentDetail {
  cardExpiryMonth: String cardExpiryYear: String cardSource: String cardType: String
  lastFour: String
}
type InvoicePayment implements BusinessNode & Node {
  id: ID! business: Business! account: Account! accountNumberLast3: String
  accountingTransactionId: String active: Boolean amount: String authorizerName: String
  businessCurrency: Currency confirmationCode: String createdAt: DateTime! customer: Customer
  displayExchangeRate: String exchangeRate: Decimal! institutionName: String invoice: Invoice
  invoiceCurrency: Currency memo: String modifiedAt: DateTime! origin: String
  "Original Invoice Payment (present when current payment is a refund)"
  originInvoicePayment: InvoicePayment
  paymentCurrency: Currency paymentDate: Date paymentDetails: InvoicePaymentDetail
  paymentMethod: String paymentMethodId: String paymentProvider: String readonlyUrl: String
  state: String transactionId: String transactionType: String
}
type Transaction { id: ID! }

type InputError { code: String message: String path: [String!] }

input AddressInput {
  addressLine1: String addressLine2: String city: String countryCode: CountryCode
  postalCode: String provinceCode: String
}
input CustomerShippingDetailsInput {
  address: AddressInput instructions: String name: String phone: String
}
input CustomerCreateInput {
  businessId: ID! name: String! address: AddressInput currency: CurrencyCode displayId: String
  email: String fax: String firstName: String internalNotes: String lastName: String
  mobile: String phone: String shippingDetails: CustomerShippingDetailsInput tollFree: String
  website: String
}
input CustomerPatchShippingDetailsInput {
  address: AddressInput instructions: String name: String phone: String
}
input CustomerPatchInput {
  id: ID! name: String address: AddressInput currency: CurrencyCode displayId: String
  email: String fax: String firstName: String internalNotes: String lastName: String
  mobile: String phone: String shippingDetails: CustomerPatchShippingDetailsInput
  tollFree: String
  website: String
}
input CustomerDeleteInput { id: ID! }
input ProductCreateInput {
  businessId: ID! name: String! unitPrice: Decimal! description: String
  defaultSalesTaxIds: [ID!] incomeAccountId: ID expenseAccountId: ID
}
input ProductPatchInput {
  id: ID! name: String unitPrice: Decimal description: String defaultSalesTaxIds: [ID!]
  incomeAccountId: ID expenseAccountId: ID
}
input ProductArchiveInput { id: ID! }
input SalesTaxCreateInput {
  businessId: ID! name: String! abbreviation: String! rate: Decimal! description: String
  isCompound: Boolean isRecoverable: Boolean showTaxNumberOnInvoices: Boolean taxNumber: String
}
input SalesTaxRateInput { effective: Date! rate: Decimal! }
input SalesTaxPatchInput {
  id: ID! abbreviation: String description: String name: String rates: [SalesTaxRateInput!]
  showTaxNumberOnInvoices: Boolean taxNumber: String
}
input SalesTaxArchiveInput { id: ID! }
input AccountCreateRestrictions { canArchive: Boolean }
input AccountCreateInput {
  businessId: ID! name: String! subtype: AccountSubtypeValueCreateInput! currency: CurrencyCode
  description: String displayId: String restrictions: AccountCreateRestrictions
}
input AccountPatchInput {
  id: ID! sequence: Int! name: String description: String displayId: String
}
input AccountArchiveInput { id: ID! }
input InvoiceCreateItemTaxInput { salesTaxId: ID! amount: Decimal }
input InvoiceCreateItemInput {
  productId: ID! description: String quantity: Decimal unitPrice: Decimal
  taxes: [InvoiceCreateItemTaxInput!]
}
input InvoiceDiscountInput {
  discountType: InvoiceDiscountType! amount: Decimal percentage: Decimal name: String
}
input InvoiceCreateInput {
  businessId: ID! customerId: ID! status: InvoiceCreateStatus = DRAFT currency: CurrencyCode
  title: String subhead: String invoiceNumber: String poNumber: String invoiceDate: Date
  dueDate: Date exchangeRate: Decimal memo: String footer: String
  discounts: [InvoiceDiscountInput!] items: [InvoiceCreateItemInput!]
  amountTitle: String itemTitle: String priceTitle: String unitTitle: String
  hideAmount: Boolean hideDescription: Boolean hideName: Boolean hidePrice: Boolean
  hideUnit: Boolean disableAmexPayments: Boolean disableBankPayments: Boolean
  disableCreditCardPayments: Boolean requireTermsOfServiceAgreement: Boolean
}
input InvoicePatchInput {
  id: ID! customerId: ID status: InvoiceCreateStatus currency: CurrencyCode
  title: String subhead: String invoiceNumber: String poNumber: String invoiceDate: Date
  dueDate: Date exchangeRate: Decimal memo: String footer: String
  discounts: [InvoiceDiscountInput!] items: [InvoiceCreateItemInput!]
  amountTitle: String itemTitle: String priceTitle: String unitTitle: String
  hideAmount: Boolean hideDescription: Boolean hideName: Boolean hidePrice: Boolean
  hideUnit: Boolean disableAmexPayments: Boolean disableBankPayments: Boolean
  disableCreditCardPayments: Boolean requireTermsOfServiceAgreement: Boolean
}
input InvoiceApproveInput { invoiceId: ID! }
input InvoiceDeleteInput { invoiceId: ID! }
input InvoiceMarkSentInput { invoiceId: ID! sendMethod: InvoiceSendMethod! sentAt: DateTime }
input InvoiceSendInput {
  invoiceId: ID! to: [String!]! attachPDF: Boolean! = false ccMyself: Boolean
  fromAddress: String message: String subject: String
}
input InvoicePaymentCreateManualInput {
  invoiceId: ID! paymentAccountId: ID! amount: Decimal! paymentDate: Date!
  paymentMethod: InvoicePaymentMethod! exchangeRate: Decimal! memo: String
}
input InvoicePaymentPatchInput {
  id: ID! amount: Decimal exchangeRate: Decimal memo: String paymentAccountId: ID
  paymentDate: Date paymentMethod: InvoicePaymentMethod
}
input InvoicePaymentDeleteInput { id: ID! }
input MoneyTransactionCreateAnchorInput {
  accountId: ID! amount: Decimal! direction: TransactionDirection!
}
input MoneyTransactionCreateSalesTaxInput { salesTaxId: ID! amount: Decimal! }
input MoneyTransactionCreateLineItemInput {
  accountId: ID! amount: Decimal! balance: BalanceType! = INCREASE customerId: ID
  description: String taxes: [MoneyTransactionCreateSalesTaxInput!]
}
input MoneyTransactionCreateInput {
  businessId: ID! externalId: String! date: Date! description: String! notes: String
  anchor: MoneyTransactionCreateAnchorInput!
  lineItems: [MoneyTransactionCreateLineItemInput!]!
}
input MoneyTransactionDetails {
  externalId: String! date: Date! description: String! notes: String
  anchor: MoneyTransactionCreateAnchorInput!
  lineItems: [MoneyTransactionCreateLineItemInput!]!
}
input MoneyTransactionsCreateInput { businessId: ID! transactions: [MoneyTransactionDetails!]! }

"""
    + _connections()
    + ESTIMATE_SDL
    + ESTIMATE_INPUTS_SDL
    + _output("CustomerCreateOutput", "customer: Customer")
    + _output("CustomerPatchOutput", "customer: Customer")
    + _output("CustomerDeleteOutput")
    + _output("ProductCreateOutput", "product: Product")
    + _output("ProductPatchOutput", "product: Product")
    + _output("ProductArchiveOutput", "product: Product")
    + _output("SalesTaxCreateOutput", "salesTax: SalesTax")
    + _output("SalesTaxPatchOutput", "salesTax: SalesTax")
    + _output("SalesTaxArchiveOutput", "salesTax: SalesTax")
    + _output("AccountCreateOutput", "account: Account")
    + _output("AccountPatchOutput", "account: Account")
    + _output("AccountArchiveOutput")
    + _output("InvoiceCreateOutput", "invoice: Invoice")
    + _output("InvoicePatchOutput", "invoice: Invoice")
    + _output("InvoiceApproveOutput", "invoice: Invoice")
    + _output("InvoiceMarkSentOutput", "invoice: Invoice")
    + _output("InvoiceSendOutput", "invoice: Invoice")
    + _output("InvoiceDeleteOutput")
    + _output("InvoicePaymentCreateManualOutput", "invoicePayment: InvoicePayment")
    + _output("InvoicePaymentPatchOutput", "invoicePayment: InvoicePayment")
    + _output("InvoicePaymentDeleteOutput")
    + "".join(
        _output(f"Estimate{m}Output", "estimate: AREstimate")
        for m in (
            "Create",
            "Patch",
            "Approve",
            "MarkSent",
            "Send",
            "MarkAccepted",
            "ResetAcceptance",
        )
    )
    + _output("EstimateDeleteOutput")
    + _output("MoneyTransactionCreateOutput", "transaction: Transaction")
    + _output("MoneyTransactionsCreateOutput", "transactions: [Transaction]")
    + """
type Mutation {
  customerCreate(input: CustomerCreateInput!): CustomerCreateOutput
  customerPatch(input: CustomerPatchInput!): CustomerPatchOutput
  customerDelete(input: CustomerDeleteInput!): CustomerDeleteOutput
  productCreate(input: ProductCreateInput!): ProductCreateOutput
  productPatch(input: ProductPatchInput!): ProductPatchOutput
  productArchive(input: ProductArchiveInput!): ProductArchiveOutput
  salesTaxCreate(input: SalesTaxCreateInput!): SalesTaxCreateOutput!
  salesTaxPatch(input: SalesTaxPatchInput!): SalesTaxPatchOutput!
  salesTaxArchive(input: SalesTaxArchiveInput!): SalesTaxArchiveOutput!
  accountCreate(input: AccountCreateInput!): AccountCreateOutput
  accountPatch(input: AccountPatchInput!): AccountPatchOutput
  accountArchive(input: AccountArchiveInput!): AccountArchiveOutput
  invoiceCreate(input: InvoiceCreateInput!): InvoiceCreateOutput
  invoicePatch(input: InvoicePatchInput!): InvoicePatchOutput
  invoiceApprove(input: InvoiceApproveInput!): InvoiceApproveOutput
  invoiceMarkSent(input: InvoiceMarkSentInput!): InvoiceMarkSentOutput
  invoiceSend(input: InvoiceSendInput!): InvoiceSendOutput
  invoiceDelete(input: InvoiceDeleteInput!): InvoiceDeleteOutput
  invoicePaymentCreateManual(
    input: InvoicePaymentCreateManualInput!
  ): InvoicePaymentCreateManualOutput
  invoicePaymentPatch(input: InvoicePaymentPatchInput!): InvoicePaymentPatchOutput
  invoicePaymentDelete(input: InvoicePaymentDeleteInput!): InvoicePaymentDeleteOutput
  estimateCreate(input: EstimateCreateInput!): EstimateCreateOutput
  estimatePatch(input: EstimatePatchInput!): EstimatePatchOutput
  estimateApprove(input: EstimateApproveInput!): EstimateApproveOutput
  estimateMarkSent(input: EstimateMarkSentInput!): EstimateMarkSentOutput
  estimateSend(input: EstimateSendInput!): EstimateSendOutput
  estimateMarkAccepted(input: EstimateMarkAcceptedInput!): EstimateMarkAcceptedOutput
  estimateResetAcceptance(input: EstimateResetAcceptanceInput!): EstimateResetAcceptanceOutput
  estimateDelete(input: EstimateDeleteInput!): EstimateDeleteOutput
  convertEstimateToInvoice(input: ConvertEstimateToInvoiceInput!): ConvertEstimateToInvoiceOutput
  "BETA: Create money transaction. Requires `isClassicAccounting` to be `false`."
  moneyTransactionCreate(input: MoneyTransactionCreateInput!): MoneyTransactionCreateOutput
  "BETA: Create money transactions. Requires `isClassicAccounting` to be `false`."
  moneyTransactionsCreate(input: MoneyTransactionsCreateInput!): MoneyTransactionsCreateOutput
}
"""
)
