# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Comparing Wave's invoices with Odoo's: the figures of a parity report.

Plain Python (no ORM write, no Wave request): :class:`ParityComparison` takes the
pairs ``(Wave invoice node or None, account.move or empty)`` and the lookups read by
``wave.parity.checker`` (``services/parity.py``) and returns the report's line values.

Conventions:

* every amount is compared in the invoice currency, rounded to the currency's
  smallest unit (Wave sends decimal strings, Odoo floats rounded by the currency);
* statuses are compared by bucket: Wave ``PAID``/``OVERPAID`` and Odoo ``paid`` or
  ``in_payment``; ``PARTIAL`` (or ``OVERDUE`` with a payment) and ``partial``; the other
  approved statuses (``SAVED``, ``SENT``, ``VIEWED``, ``UNPAID``, ``OVERDUE``) and a posted
  ``not_paid`` invoice; ``DRAFT`` and an Odoo draft;
* the ledger figures (amounts per account, customer balances, taxes) leave drafts
  out on both sides: drafts are in neither ledger;
* an estimate's status agrees with its quotation's state by the import's table
  (``mappers/estimate_inbound.target_state``, with the connection's setting for
  accepted estimates); its total and tax are compared to the cent in its currency.
"""

from decimal import Decimal

from odoo import fields

from ..mappers.estimate_inbound import target_state
from ..models.wave_parity import CATEGORIES

WAVE_STATUS_BUCKETS = {
    "DRAFT": "draft",
    "PAID": "paid",
    "OVERPAID": "paid",
    "PARTIAL": "partial",
}
ODOO_PAYMENT_BUCKETS = {
    "paid": "paid",
    "in_payment": "paid",
    "partial": "partial",
    "reversed": "reversed",
}
LEDGER_EXCLUDED_BUCKETS = ("draft", "cancelled")
CATEGORY_ORDER = {code: index for index, (code, _label) in enumerate(CATEGORIES)}


def wave_bucket(node):
    """The status bucket of a Wave invoice."""
    bucket = WAVE_STATUS_BUCKETS.get(node.get("status"))
    if bucket:
        return bucket
    paid = Decimal(((node.get("amountPaid") or {}).get("value")) or "0")
    # Wave reports OVERDUE even when the invoice is partly paid.
    return "partial" if paid > 0 else "open"


def odoo_bucket(move):
    """The status bucket of an Odoo invoice."""
    if move.state == "draft":
        return "draft"
    if move.state == "cancel":
        return "cancelled"
    return ODOO_PAYMENT_BUCKETS.get(move.payment_state, "open")


def odoo_amount(value, currency):
    """An Odoo amount as a Decimal of the currency's smallest unit."""
    return Decimal(f"{currency.round(value):.{currency.decimal_places}f}")


def odoo_due(move, node):
    """What the customer owes on ``move``, in its currency.

    Wave shows an overpaid invoice with a negative amount due; Odoo keeps the
    excess on the payment (an open credit on the receivable account), so it is
    added back for the invoices Wave reports OVERPAID (the only ones read this way).
    """
    due = move.amount_residual
    if node and node.get("status") == "OVERPAID":
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).account_id
        payment_lines = move._get_reconciled_payments().move_id.line_ids
        due += sum(
            payment_lines.filtered(
                lambda line: line.account_id in receivable and not line.reconciled
            ).mapped("amount_residual_currency")
        )
    return due


def wave_amount(money):
    """A Wave money dict (``{"value": "12.30"}``, may be missing) as a Decimal."""
    return Decimal((money or {}).get("value") or "0")


class _Side:
    """Both sides of one compared figure."""

    __slots__ = ("currency", "label", "odoo", "res_id", "res_model", "wave", "wave_id")

    def __init__(self, label, currency=None):
        self.label = label
        self.currency = currency
        self.wave = Decimal(0)
        self.odoo = Decimal(0)
        self.res_model = None
        self.res_id = None
        self.wave_id = None

    def link(self, res_model=None, res_id=None, wave_id=None):
        if res_model and res_id and not self.res_id:
            self.res_model, self.res_id = res_model, res_id
        if wave_id and not self.wave_id:
            self.wave_id = wave_id
        return self


class ParityLookups:
    """What the comparison needs from Odoo, read beforehand in a few queries.

    ``currencies``: ``{code: res.currency}``; ``accounts``: ``resolve(wave account
    dict) -> (account.account or None, label)``; ``customer_keys``: ``{partner id:
    Wave customer id}``; ``customer_partners``: ``{Wave customer id: res.partner}``;
    ``taxes``: ``{Wave sales tax id: account.tax}``; ``discount_account``: the Wave
    account dict Wave books invoice discounts on.
    """

    __slots__ = (
        "accounts",
        "currencies",
        "customer_keys",
        "customer_partners",
        "discount_account",
        "taxes",
    )

    def __init__(self, **lookups):
        for name in self.__slots__:
            setattr(self, name, lookups[name])


class ParityComparison:
    """Adds up both sides of every figure, pair by pair, then gives the line values."""

    def __init__(self, env, lookups):
        self.env = env
        self.lookups = lookups
        _ = env._
        self.bucket_labels = {
            "draft": _("Draft"),
            "open": _("Unpaid"),
            "partial": _("Partially paid"),
            "paid": _("Paid"),
            "reversed": _("Reversed"),
            "cancelled": _("Cancelled"),
        }
        self.figures = {code: {} for code in CATEGORY_ORDER}
        self.invoice_lines = []

    def figure(self, category, key, label, currency=None):
        sides = self.figures[category]
        if key not in sides:
            sides[key] = _Side(label, currency)
        return sides[key]

    def add_pair(self, node, move):
        if node:
            self._add_wave_invoice(node)
        if move:
            self._add_odoo_invoice(move, node)
        self.invoice_lines.extend(self._invoice_lines(node, move))

    # -- Wave side ---------------------------------------------------------
    def _add_status(self, bucket, code, total, side):
        label = self.bucket_labels[bucket]
        count = self.figure("status_count", bucket, label)
        amount = self.figure("status_total", (bucket, code), f"{label} ({code})", code)
        setattr(count, side, getattr(count, side) + 1)
        setattr(amount, side, getattr(amount, side) + total)

    def _add_wave_invoice(self, node):
        code = node["currency"]["code"]
        bucket = wave_bucket(node)
        self._add_status(bucket, code, Decimal(node["total"]["value"]), "wave")
        if bucket in LEDGER_EXCLUDED_BUCKETS:
            return
        customer = node.get("customer") or {}
        partner = self.lookups.customer_partners.get(customer.get("id"))
        amount_due = Decimal(node["amountDue"]["value"])
        self._add_wave_reference("partner", customer, "res.partner", partner, code, amount_due)
        for item in node.get("items") or []:
            self._add_wave_account(
                item.get("account") or {}, code, Decimal(item["subtotal"]["value"])
            )
            for tax in item.get("taxes") or []:
                self._add_wave_tax(tax, code)
        discount = wave_amount(node.get("discountTotal"))
        if discount:
            self._add_wave_account(self.lookups.discount_account, code, -discount, "discounts")

    def _add_wave_account(self, wave_account, code, amount, fallback_key=None):
        account, label = self.lookups.accounts(wave_account)
        key = account.id if account else f"wave:{fallback_key or wave_account.get('id')}"
        self.figure("account", (key, code), f"{label} ({code})", code).link(
            "account.account", account.id if account else None, wave_account.get("id")
        ).wave += amount

    def _add_wave_tax(self, tax, code):
        sales_tax = tax.get("salesTax") or {}
        tax_record = self.lookups.taxes.get(sales_tax.get("id"))
        amount = wave_amount(tax.get("amount"))
        self._add_wave_reference("tax", sales_tax, "account.tax", tax_record, code, amount)

    def _add_wave_reference(self, category, reference, res_model, record, code, amount):
        """Wave's side of a figure keyed by a Wave ``{id, name}``: a customer, a sales tax."""
        wave_id = reference.get("id")
        self.figure(
            category, (wave_id, code), f"{reference.get('name') or wave_id} ({code})", code
        ).link(res_model, record.id if record else None, wave_id).wave += amount

    # -- Odoo side ---------------------------------------------------------
    def _add_odoo_invoice(self, move, node):
        code, currency = move.currency_id.name, move.currency_id
        bucket = odoo_bucket(move)
        self._add_status(bucket, code, odoo_amount(move.amount_total, currency), "odoo")
        if bucket in LEDGER_EXCLUDED_BUCKETS:
            return
        partner = move.commercial_partner_id
        wave_customer = self.lookups.customer_keys.get(partner.id)
        self.figure(
            "partner",
            (wave_customer or f"odoo:{partner.id}", code),
            f"{partner.display_name} ({code})",
            code,
        ).link("res.partner", partner.id, wave_customer).odoo += odoo_amount(
            odoo_due(move, node), currency
        )
        for line in move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product"):
            account = line.account_id
            self.figure(
                "account", (account.id, code), f"{account.display_name} ({code})", code
            ).link("account.account", account.id).odoo += odoo_amount(line.price_subtotal, currency)
        for line in move.line_ids.filtered(lambda ln: ln.display_type == "tax"):
            tax = line.tax_line_id
            self.figure(
                "tax", (tax.wave_id or f"odoo:{tax.id}", code), f"{tax.display_name} ({code})", code
            ).link("account.tax", tax.id, tax.wave_id).odoo += (
                # A customer invoice credits its tax accounts.
                odoo_amount(-line.amount_currency, currency)
            )

    # -- Invoice lines: only what differs -----------------------------------
    def _invoice_lines(self, node, move):
        number = (node or {}).get("invoiceNumber") or move.name
        base = self._document_base("invoice", node, move)
        if not move or not node:
            return [self._missing_line(base, number, node, move, move and odoo_bucket(move))]
        return self._header_lines(base, number, node, move) + self._amount_lines(
            base, number, node, move
        )

    @staticmethod
    def _document_base(category, node, record):
        """What every difference line of one document (invoice or estimate) shares."""
        return {
            "category": category,
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "wave_id": node["id"] if node else record.wave_id,
            "is_difference": True,
        }

    def _missing_line(self, base, number, node, record, odoo_status):
        """A document one side lacks: its status and total (``record``: an invoice or a
        quotation, ``odoo_status`` what Odoo says of it)."""
        _ = self.env._
        total = Decimal(node["total"]["value"]) if node else None
        odoo_total = odoo_amount(record.amount_total, record.currency_id) if record else None
        return dict(
            base,
            key=_("%(number)s: missing in Odoo", number=number)
            if node
            else _("%(number)s: missing in Wave", number=number),
            currency_code=node["currency"]["code"] if node else record.currency_id.name,
            wave_value=node["status"] if node else _("missing"),
            odoo_value=odoo_status if record else _("missing"),
            wave_amount=float(total or 0),
            odoo_amount=float(odoo_total or 0),
            difference=float((total or 0) - (odoo_total or 0)),
        )

    def _header_lines(self, base, number, node, move):
        """Currency, invoice date and status of an invoice both sides have."""
        _ = self.env._
        differences = []
        wave_code, odoo_code = node["currency"]["code"], move.currency_id.name
        if wave_code != odoo_code:
            differences.append((_("currency"), wave_code, odoo_code))
        odoo_date = fields.Date.to_string(move.invoice_date) or ""
        if node.get("invoiceDate") and node["invoiceDate"] != odoo_date:
            differences.append((_("invoice date"), node["invoiceDate"], odoo_date))
        odoo_status = odoo_bucket(move)
        if wave_bucket(node) != odoo_status:
            differences.append((_("status"), node["status"], self.bucket_labels[odoo_status]))
        return self._text_lines(base, number, differences)

    def _text_lines(self, base, number, differences):
        """A line per ``(what, wave value, odoo value)`` that differs (no amounts)."""
        _ = self.env._
        return [
            dict(
                base,
                key=_("%(number)s: %(what)s", number=number, what=what),
                currency_code=None,
                wave_value=wave_value,
                odoo_value=odoo_value,
            )
            for what, wave_value, odoo_value in differences
        ]

    def _amount_lines(self, base, number, node, move):
        """Total and amount due of an invoice both sides have."""
        _ = self.env._
        return self._money_lines(
            base,
            number,
            node["currency"]["code"],
            move.currency_id,
            [
                (_("total"), node["total"]["value"], move.amount_total),
                (_("amount due"), node["amountDue"]["value"], odoo_due(move, node)),
            ],
        )

    def _money_lines(self, base, number, code, currency, amounts):
        """A line per ``(what, Wave amount, Odoo amount)`` that differs to the cent."""
        _ = self.env._
        lines = []
        for label, wave_value, odoo_value in amounts:
            wave_value = Decimal(wave_value)
            odoo_value = odoo_amount(odoo_value, currency)
            if wave_value != odoo_value:
                lines.append(
                    dict(
                        base,
                        key=_("%(number)s: %(what)s", number=number, what=label),
                        currency_code=code,
                        wave_value=str(wave_value),
                        odoo_value=str(odoo_value),
                        wave_amount=float(wave_value),
                        odoo_amount=float(odoo_value),
                        difference=float(wave_value - odoo_value),
                    )
                )
        return lines

    # -- Estimates: only what differs --------------------------------------
    def add_estimate_pair(self, node, order, accept_policy):
        """The lines of a Wave estimate and its quotation that differ (missing on one
        side, currency, status, total, tax)."""
        _ = self.env._
        number = (node or {}).get("estimateNumber") or order.wave_estimate_number or order.name
        base = self._document_base("estimate", node, order)
        if not node or not order:
            self.invoice_lines.append(
                self._missing_line(base, number, node, order, order and order.state)
            )
            return
        wave_code, odoo_code = node["currency"]["code"], order.currency_id.name
        headers = []
        if wave_code != odoo_code:
            headers.append((_("currency"), wave_code, odoo_code))
        if order.state != target_state(node["status"], accept_policy)[0]:
            headers.append((_("status"), node["status"], order.state))
        self.invoice_lines.extend(self._text_lines(base, number, headers))
        if wave_code != odoo_code:
            return  # amounts in two currencies are not compared
        self.invoice_lines.extend(
            self._money_lines(
                base,
                number,
                wave_code,
                order.currency_id,
                [
                    (_("total"), node["total"]["value"], order.amount_total),
                    (_("tax"), node["taxTotal"]["value"], order.amount_tax),
                ],
            )
        )

    # -- Result --------------------------------------------------------------
    def line_vals(self):
        """Every line's values, in report order (category, then key), numbered."""
        currencies = self.lookups.currencies
        line_vals = [
            self._figure_vals(category, side)
            for category, sides in self.figures.items()
            for side in sides.values()
        ]
        empty_currency = self.env["res.currency"]
        line_vals.extend(
            dict(vals, currency_id=currencies.get(vals.pop("currency_code"), empty_currency).id)
            for vals in self.invoice_lines
        )
        line_vals.sort(key=lambda vals: (CATEGORY_ORDER[vals["category"]], vals["key"]))
        for sequence, vals in enumerate(line_vals, start=1):
            vals["sequence"] = sequence
        return line_vals

    def _figure_vals(self, category, side):
        """The line values of an aggregate figure."""
        if side.currency:
            currency = self.lookups.currencies.get(side.currency)
            exponent = currency.decimal_places if currency else 2
            quantum = Decimal(1).scaleb(-exponent)
            wave, odoo = side.wave.quantize(quantum), side.odoo.quantize(quantum)
        else:
            currency, (wave, odoo) = None, (side.wave, side.odoo)
        return {
            "category": category,
            "key": side.label,
            "currency_id": currency.id if currency else False,
            "wave_value": str(wave),
            "odoo_value": str(odoo),
            "wave_amount": float(wave),
            "odoo_amount": float(odoo),
            "difference": float(wave - odoo),
            "is_difference": wave != odoo,
            "res_model": side.res_model or False,
            "res_id": side.res_id or False,
            "wave_id": side.wave_id or False,
        }
