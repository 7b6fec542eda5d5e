# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What Odoo needs so Wave's books fit without losing a digit: decimal precisions
and the currencies the Wave business uses.

Decimal precision: Odoo stores an invoice line's unit price with the precision
"Product Price" and its quantity with "Product Unit of Measure" (2 digits each
by default). Wave keeps product prices with 5 decimals (and invoice lines with
up to 8): a price of 0.335 or a quantity of 0.333 would be rounded by Odoo and
the invoice total would differ from Wave's. The addon raises both precisions to
``WAVE_DIGITS`` at install (never lowers them), the go-live checklist checks
them, and the invoice importer quarantines a line that would still be rounded,
naming the value and the precision.

Currencies: an invoice in a currency that is not active in Odoo cannot be
booked. With the connection's policy ``activate`` (the default) the importer
activates the currencies Wave's invoices use; with ``ask`` those invoices wait
in the quarantine, whose button activates the currency and replays them.
"""

from decimal import Decimal, InvalidOperation

from odoo import api, models

# Decimals Wave keeps for a product's unit price; the precisions Odoo needs at least.
WAVE_DIGITS = 5
# decimal.precision name -> the Wave invoice line field it stores
PRECISIONS = {"Product Price": "unitPrice", "Product Unit of Measure": "quantity"}
CURRENCY_POLICIES = [
    ("activate", "Activate them automatically"),
    ("ask", "Ask: quarantine the invoices until I activate the currency"),
]
CURRENCIES_QUERY = (
    "query WaveInvoiceCurrencies($businessId: ID!, $start: Date, $end: Date, $page: Int!, "
    "$pageSize: Int!) { business(id: $businessId) { currency { code } "
    "invoices(invoiceDateStart: $start, invoiceDateEnd: $end, page: $page, "
    "pageSize: $pageSize) { pageInfo { currentPage totalPages totalCount } "
    "edges { node { currency { code } } } } } }"
)


def decimals_lost(value, digits):
    """True when ``value`` (a Wave Decimal string) has more decimals than ``digits``."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return False
    return number != number.quantize(Decimal(1).scaleb(-digits)) if number.is_finite() else False


class WaveBooksSetup(models.AbstractModel):
    _name = "wave.books.setup"
    _description = "Wave Books Setup (Precision and Currencies)"

    # ------------------------------------------------------------------
    # Decimal precision
    # ------------------------------------------------------------------
    @api.model
    def _precision_digits(self):
        """``{precision name: digits}`` of the precisions Wave's invoice lines use."""
        Precision = self.env["decimal.precision"]
        return {name: Precision.precision_get(name) for name in PRECISIONS}

    @api.model
    def _precisions_too_low(self):
        """Names of the precisions below ``WAVE_DIGITS``."""
        return [name for name, digits in self._precision_digits().items() if digits < WAVE_DIGITS]

    @api.model
    def _ensure_precisions(self):
        """Raise the precisions below ``WAVE_DIGITS`` to it (never lowers one)."""
        # sudo: decimal precisions are technical settings; raising them loses nothing
        # and is what the administrator installing the addon (or fixing the go-live
        # check) asks for. They are global, not per company.
        Precision = self.env["decimal.precision"].sudo()
        raised = []
        for name in self._precisions_too_low():
            Precision.search([("name", "=", name)]).write({"digits": WAVE_DIGITS})
            raised.append(name)
        return raised

    @api.model
    def _line_rounding_reasons(self, node):
        """Reasons Odoo would round a value of Wave invoice ``node``'s lines."""
        digits = self._precision_digits()
        reasons = []
        for index, item in enumerate(node.get("items") or []):
            for name, field in PRECISIONS.items():
                value = item.get(field)
                if value is not None and decimals_lost(value, digits[name]):
                    reasons.append(
                        self.env._(
                            "Line %(line)s: Wave's %(what)s %(value)s has more decimals than "
                            'Odoo keeps (%(digits)s, decimal accuracy "%(precision)s"): Odoo '
                            "would round it and the invoice total would differ from Wave's.",
                            line=index + 1,
                            what=self.env._("unit price")
                            if field == "unitPrice"
                            else self.env._("quantity"),
                            value=value,
                            digits=digits[name],
                            precision=name,
                        )
                    )
        return reasons

    # ------------------------------------------------------------------
    # Currencies
    # ------------------------------------------------------------------
    @api.model
    def _wave_currency_codes(self, connection, start=None, end=None):
        """The currency codes of the Wave business and of its invoices dated in
        [start, end] (all its invoices without dates)."""
        client = connection._get_client(priority="interactive")
        codes = set()
        pages = client.iterate_pages(
            CURRENCIES_QUERY,
            {
                "businessId": connection.business_id,
                "start": start and str(start),
                "end": end and str(end),
            },
            "business.invoices",
            page_size=200,
            priority="interactive",
        )
        for data, nodes, _page_info in pages:
            business_currency = ((data.get("business") or {}).get("currency") or {}).get("code")
            if business_currency:
                codes.add(business_currency)
            codes.update((n.get("currency") or {}).get("code") for n in nodes)
        codes.discard(None)
        return sorted(codes)

    @api.model
    def _currencies_by_state(self, codes):
        """``(inactive, unknown)``: Odoo's inactive currencies among ``codes``, and the
        codes Odoo has no currency for."""
        currencies = (
            self.env["res.currency"].with_context(active_test=False).search([("name", "in", codes)])
        )
        unknown = sorted(set(codes) - set(currencies.mapped("name")))
        return currencies.filtered(lambda c: not c.active), unknown

    @api.model
    def _activate_currencies(self, connection, currencies):
        """Activate ``currencies`` (audited on the connection); returns those activated."""
        currencies = currencies.filtered(lambda c: not c.active)
        if not currencies:
            return currencies
        # sudo: currencies are shared by all companies and only an administrator may
        # write them; activating one loses nothing and is what the connection's
        # currency policy (or the person pressing the quarantine's fix) asks for.
        # The connection is the caller's own company's (see its record rules).
        connection.check_access("read")
        currencies.sudo().write({"active": True})
        self.env["wave.audit.log"]._log_many(
            connection, "currency_activated", {"currencies": currencies.mapped("name")}
        )
        return currencies
