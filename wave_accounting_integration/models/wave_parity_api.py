# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ledger parity check of a connection: Wave's invoices against Odoo's.

:meth:`WaveApi._compute_parity` reads Wave's invoices of a range of invoice dates
(``business.invoices``, 200 a page, so one request per 200 invoices: the list
carries totals, amounts due, statuses, items and their taxes, so no per-invoice
request is needed) and the Odoo customer invoices bound to them (``wave_id``), and
stores a ``wave.parity.report``.

Conventions:

* every amount is compared in the invoice currency, rounded to the currency's
  smallest unit (Wave sends decimal strings, Odoo floats rounded by the currency);
* statuses are compared by bucket: Wave ``PAID``/``OVERPAID`` and Odoo ``paid`` or
  ``in_payment``; ``PARTIAL`` (or ``OVERDUE`` with a payment) and ``partial``; the other
  approved statuses (``SAVED``, ``SENT``, ``VIEWED``, ``UNPAID``, ``OVERDUE``) and a posted
  ``not_paid`` invoice; ``DRAFT`` and an Odoo draft;
* the ledger figures (amounts per account, customer balances, taxes) leave drafts
  out on both sides: drafts are in neither ledger;
* a Wave draft that Odoo does not have is expected when the connection does not
  import drafts, and a cancelled Odoo invoice that Wave no longer has is expected
  (Wave deleted it): neither is reported.
"""

import logging
import time
from decimal import Decimal

from odoo import fields, models
from odoo.exceptions import UserError

from .wave_parity import CATEGORIES

_logger = logging.getLogger(__name__)

PAGE_SIZE = 200

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


class WaveApi(models.Model):
    _inherit = "wave.api"

    last_parity_report_id = fields.Many2one("wave.parity.report", readonly=True, copy=False)
    last_parity_at = fields.Datetime(
        string="Last Parity Check", related="last_parity_report_id.computed_at"
    )
    last_parity_difference_count = fields.Integer(
        string="Parity Differences", related="last_parity_report_id.difference_count"
    )

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    def _compute_parity(self, date_from, date_to, page_size=PAGE_SIZE):
        """Compare Wave and Odoo invoices dated ``date_from``..``date_to``.

        Returns the stored ``wave.parity.report`` (also kept as the connection's
        last report). Raises :class:`UserError` on a bad range or an unconnected
        business; Wave errors (``WaveError``) propagate.
        """
        self.ensure_one()
        date_from = fields.Date.to_date(date_from)
        date_to = fields.Date.to_date(date_to)
        if not date_from or not date_to or date_from > date_to:
            raise UserError(self.env._("Choose a date range whose start is before its end."))
        if not self.business_id:
            raise UserError(self.env._("Choose the Wave business of this connection first."))
        started = time.monotonic()
        nodes, request_count = self._parity_fetch_wave(date_from, date_to, page_size)
        moves = self._parity_odoo_moves(date_from, date_to, [node["id"] for node in nodes])
        pairs = self._parity_pairs(nodes, moves)
        line_vals = self._parity_compare(pairs)
        report = self.env["wave.parity.report"].create(
            {
                "connection_id": self.id,
                "date_from": date_from,
                "date_to": date_to,
                "wave_invoice_count": sum(1 for node, _move in pairs if node),
                "odoo_invoice_count": sum(1 for _node, move in pairs if move),
                "request_count": request_count,
                "line_ids": [fields.Command.create(vals) for vals in line_vals],
            }
        )
        # sudo: Wave users may run the check but have read-only access to the
        # connection; only the pointer to the last report is written.
        self.sudo().last_parity_report_id = report
        _logger.info(
            "Wave parity connection=%s %s..%s: %s differences, %s Wave / %s Odoo invoices, "
            "%s requests, %.1f s",
            self.id,
            date_from,
            date_to,
            report.difference_count,
            report.wave_invoice_count,
            report.odoo_invoice_count,
            request_count,
            time.monotonic() - started,
        )
        return report

    # ------------------------------------------------------------------
    # Reading both sides
    # ------------------------------------------------------------------
    def _parity_fetch_wave(self, date_from, date_to, page_size):
        """Wave's invoices of the range and the number of requests sent."""
        client = self._get_client(priority="interactive")
        requests_sent = 0
        execute = client.execute

        def counted_execute(*args, **kwargs):
            nonlocal requests_sent
            requests_sent += 1
            return execute(*args, **kwargs)

        client.execute = counted_execute
        variables = {
            "businessId": self.business_id,
            "start": fields.Date.to_string(date_from),
            "end": fields.Date.to_string(date_to),
        }
        try:
            nodes = list(
                client.iterate(
                    PARITY_INVOICES_QUERY,
                    variables,
                    "business.invoices",
                    page_size=page_size,
                    priority="interactive",
                )
            )
        finally:
            client.close()
        return nodes, requests_sent

    def _parity_odoo_moves(self, date_from, date_to, wave_ids):
        """Odoo customer invoices bound to Wave: dated in the range or bound to a
        Wave invoice of the range (a date that differs is then reported too)."""
        return self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("wave_id", "!=", False),
                "|",
                "&",
                ("invoice_date", ">=", date_from),
                ("invoice_date", "<=", date_to),
                ("wave_id", "in", wave_ids),
            ]
        )

    def _parity_pairs(self, nodes, moves):
        """``[(wave node or None, move or empty)]``, without the expected gaps."""
        moves_by_wave_id = {move.wave_id: move for move in moves}
        empty = self.env["account.move"]
        pairs = []
        seen = set()
        for node in nodes:
            move = moves_by_wave_id.get(node["id"], empty)
            seen.add(node["id"])
            if not move and node.get("status") == "DRAFT" and not self.import_draft_invoices:
                continue
            pairs.append((node, move))
        for move in moves:
            if move.wave_id in seen or move.state == "cancel":
                continue
            pairs.append((None, move))
        return pairs

    # ------------------------------------------------------------------
    # Comparing
    # ------------------------------------------------------------------
    def _parity_compare(self, pairs):
        """The report's line values for ``pairs``."""
        _ = self.env._
        currencies = self._parity_currencies(pairs)
        accounts = self._parity_account_resolver()
        customer_keys, customer_partners = self._parity_customer_maps(pairs)
        tax_records = self._parity_taxes(pairs)
        bucket_labels = {
            "draft": _("Draft"),
            "open": _("Unpaid"),
            "partial": _("Partially paid"),
            "paid": _("Paid"),
            "reversed": _("Reversed"),
            "cancelled": _("Cancelled"),
        }
        figures = {code: {} for code in CATEGORY_ORDER}
        invoice_lines = []
        # Wave books an invoice's discount on its DISCOUNTS account (the import too).
        discount_map = self.env["wave.account.map"].search(
            [("connection_id", "=", self.id), ("wave_account_subtype", "=", "DISCOUNTS")],
            limit=1,
        )
        discount_account = {
            "id": discount_map.wave_account_id or "discounts",
            "name": discount_map.wave_account_name or _("Discounts"),
        }

        def figure(category, key, label, currency=None):
            sides = figures[category]
            if key not in sides:
                sides[key] = _Side(label, currency)
            return sides[key]

        for node, move in pairs:
            # -- Wave side --------------------------------------------------
            if node:
                code = node["currency"]["code"]
                bucket = wave_bucket(node)
                total = Decimal(node["total"]["value"])
                due = Decimal(node["amountDue"]["value"])
                figure("status_count", bucket, bucket_labels[bucket]).wave += 1
                figure(
                    "status_total", (bucket, code), f"{bucket_labels[bucket]} ({code})", code
                ).wave += total
                if bucket not in LEDGER_EXCLUDED_BUCKETS:
                    customer = node.get("customer") or {}
                    partner = customer_partners.get(customer.get("id"))
                    figure(
                        "partner",
                        (customer.get("id"), code),
                        f"{customer.get('name') or customer.get('id')} ({code})",
                        code,
                    ).link(
                        "res.partner", partner.id if partner else None, customer.get("id")
                    ).wave += due
                    for item in node.get("items") or []:
                        wave_account = item.get("account") or {}
                        account, label = accounts(wave_account)
                        figure(
                            "account",
                            (account.id if account else f"wave:{wave_account.get('id')}", code),
                            f"{label} ({code})",
                            code,
                        ).link(
                            "account.account",
                            account.id if account else None,
                            wave_account.get("id"),
                        ).wave += Decimal(item["subtotal"]["value"])
                        for tax in item.get("taxes") or []:
                            sales_tax = tax.get("salesTax") or {}
                            tax_record = tax_records.get(sales_tax.get("id"))
                            figure(
                                "tax",
                                (sales_tax.get("id"), code),
                                f"{sales_tax.get('name') or sales_tax.get('id')} ({code})",
                                code,
                            ).link(
                                "account.tax",
                                tax_record.id if tax_record else None,
                                sales_tax.get("id"),
                            ).wave += Decimal((tax.get("amount") or {}).get("value") or "0")
                    discount = Decimal((node.get("discountTotal") or {}).get("value") or "0")
                    if discount:
                        account, label = accounts(discount_account)
                        figure(
                            "account",
                            (account.id if account else "wave:discounts", code),
                            f"{label} ({code})",
                            code,
                        ).link(
                            "account.account",
                            account.id if account else None,
                            discount_account["id"],
                        ).wave -= discount
            # -- Odoo side --------------------------------------------------
            if move:
                code = move.currency_id.name
                bucket = odoo_bucket(move)
                figure("status_count", bucket, bucket_labels[bucket]).odoo += 1
                figure(
                    "status_total", (bucket, code), f"{bucket_labels[bucket]} ({code})", code
                ).odoo += self._parity_odoo_amount(move.amount_total, move.currency_id)
                if bucket not in LEDGER_EXCLUDED_BUCKETS:
                    partner = move.commercial_partner_id
                    wave_customer = customer_keys.get(partner.id)
                    figure(
                        "partner",
                        (wave_customer or f"odoo:{partner.id}", code),
                        f"{partner.display_name} ({code})",
                        code,
                    ).link(
                        "res.partner", partner.id, wave_customer
                    ).odoo += self._parity_odoo_amount(
                        self._parity_odoo_due(move, node), move.currency_id
                    )
                    for line in move.invoice_line_ids.filtered(
                        lambda ln: ln.display_type == "product"
                    ):
                        figure(
                            "account",
                            (line.account_id.id, code),
                            f"{line.account_id.display_name} ({code})",
                            code,
                        ).link(
                            "account.account", line.account_id.id
                        ).odoo += self._parity_odoo_amount(line.price_subtotal, move.currency_id)
                    for line in move.line_ids.filtered(lambda ln: ln.display_type == "tax"):
                        tax = line.tax_line_id
                        figure(
                            "tax",
                            (tax.wave_id or f"odoo:{tax.id}", code),
                            f"{tax.display_name} ({code})",
                            code,
                        ).link("account.tax", tax.id, tax.wave_id).odoo += (
                            # A customer invoice credits its tax accounts.
                            self._parity_odoo_amount(-line.amount_currency, move.currency_id)
                        )
            invoice_lines.extend(self._parity_invoice_lines(node, move, bucket_labels))

        line_vals = []
        for category, sides in figures.items():
            for side in sides.values():
                line_vals.append(self._parity_figure_vals(category, side, currencies))
        empty_currency = self.env["res.currency"]
        line_vals.extend(
            dict(vals, currency_id=currencies.get(vals.pop("currency_code"), empty_currency).id)
            for vals in invoice_lines
        )
        line_vals.sort(key=lambda vals: (CATEGORY_ORDER[vals["category"]], vals["key"]))
        for sequence, vals in enumerate(line_vals, start=1):
            vals["sequence"] = sequence
        return line_vals

    def _parity_invoice_lines(self, node, move, bucket_labels):
        """Lines of one invoice pair: only what differs."""
        _ = self.env._
        number = (node or {}).get("invoiceNumber") or move.name
        base = {
            "category": "invoice",
            "res_model": "account.move" if move else False,
            "res_id": move.id if move else False,
            "wave_id": node["id"] if node else move.wave_id,
            "is_difference": True,
        }
        if not move or not node:
            code = node["currency"]["code"] if node else move.currency_id.name
            total = Decimal(node["total"]["value"]) if node else None
            odoo_total = (
                self._parity_odoo_amount(move.amount_total, move.currency_id) if move else None
            )
            return [
                dict(
                    base,
                    key=_("%(number)s: missing in Odoo", number=number)
                    if node
                    else _("%(number)s: missing in Wave", number=number),
                    currency_code=code,
                    wave_value=node["status"] if node else _("missing"),
                    odoo_value=odoo_bucket(move) if move else _("missing"),
                    wave_amount=float(total or 0),
                    odoo_amount=float(odoo_total or 0),
                    difference=float((total or 0) - (odoo_total or 0)),
                )
            ]
        lines = []
        code = node["currency"]["code"]
        odoo_code = move.currency_id.name
        if code != odoo_code:
            lines.append(
                dict(
                    base,
                    key=_("%(number)s: currency", number=number),
                    currency_code=None,
                    wave_value=code,
                    odoo_value=odoo_code,
                )
            )
        if node.get("invoiceDate") and node["invoiceDate"] != fields.Date.to_string(
            move.invoice_date
        ):
            lines.append(
                dict(
                    base,
                    key=_("%(number)s: invoice date", number=number),
                    currency_code=None,
                    wave_value=node["invoiceDate"],
                    odoo_value=fields.Date.to_string(move.invoice_date) or "",
                )
            )
        wave_status, odoo_status = wave_bucket(node), odoo_bucket(move)
        if wave_status != odoo_status:
            lines.append(
                dict(
                    base,
                    key=_("%(number)s: status", number=number),
                    currency_code=None,
                    wave_value=node["status"],
                    odoo_value=bucket_labels[odoo_status],
                )
            )
        for label, wave_value, odoo_value in (
            (_("total"), node["total"]["value"], move.amount_total),
            (_("amount due"), node["amountDue"]["value"], self._parity_odoo_due(move, node)),
        ):
            wave_amount = Decimal(wave_value)
            odoo_amount = self._parity_odoo_amount(odoo_value, move.currency_id)
            if wave_amount != odoo_amount:
                lines.append(
                    dict(
                        base,
                        key=_("%(number)s: %(what)s", number=number, what=label),
                        currency_code=code,
                        wave_value=str(wave_amount),
                        odoo_value=str(odoo_amount),
                        wave_amount=float(wave_amount),
                        odoo_amount=float(odoo_amount),
                        difference=float(wave_amount - odoo_amount),
                    )
                )
        return lines

    def _parity_figure_vals(self, category, side, currencies):
        """The line values of an aggregate figure."""
        if side.currency:
            currency = currencies.get(side.currency)
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

    @staticmethod
    def _parity_odoo_due(move, node):
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

    @staticmethod
    def _parity_odoo_amount(value, currency):
        """An Odoo amount as a Decimal of the currency's smallest unit."""
        return Decimal(f"{currency.round(value):.{currency.decimal_places}f}")

    # ------------------------------------------------------------------
    # Maps, each read in one query
    # ------------------------------------------------------------------
    def _parity_currencies(self, pairs):
        codes = {node["currency"]["code"] for node, _move in pairs if node}
        codes |= {move.currency_id.name for _node, move in pairs if move}
        records = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list(codes))])
        )
        return {currency.name: currency for currency in records}

    def _parity_account_resolver(self):
        """``resolve(wave account dict) -> (account.account or None, label)``."""
        mappings = self.env["wave.account.map"].search([("connection_id", "=", self.id)])
        by_wave_id = {mapping.wave_account_id: mapping for mapping in mappings}
        suspense = self.suspense_account_id

        def resolve(wave_account):
            mapping = by_wave_id.get(wave_account.get("id"))
            account = mapping.account_id if mapping else None
            # Unmapped Wave accounts are booked to the suspense account on import.
            account = account or suspense or None
            if account:
                return account, account.display_name
            return None, self.env._(
                "%(name)s (not mapped)", name=wave_account.get("name") or wave_account.get("id")
            )

        return resolve

    def _parity_customer_maps(self, pairs):
        """``({odoo partner id: wave customer id}, {wave customer id: partner})``."""
        wave_ids = {(node.get("customer") or {}).get("id") for node, _move in pairs if node} - {
            None
        }
        partners = self.env["res.partner"]
        for _node, move in pairs:
            if move:
                partners |= move.commercial_partner_id
        mappings = self.env["wave.partner.map"].search(
            [
                ("connection_id", "=", self.id),
                ("wave_type", "=", "customer"),
                ("state", "=", "matched"),
                "|",
                ("wave_id", "in", list(wave_ids)),
                ("partner_id", "in", partners.ids),
            ]
        )
        bound = self.env["res.partner"].search(
            [
                ("wave_id", "in", list(wave_ids)),
                ("company_id", "in", [self.company_id.id, False]),
            ]
        )
        customer_keys, customer_partners = {}, {}
        for mapping in mappings:
            customer_keys.setdefault(mapping.partner_id.id, mapping.wave_id)
            customer_partners.setdefault(mapping.wave_id, mapping.partner_id)
        for partner in bound | partners.filtered("wave_id"):
            customer_keys[partner.id] = partner.wave_id
            customer_partners[partner.wave_id] = partner
        return customer_keys, customer_partners

    def _parity_taxes(self, pairs):
        """``{wave sales tax id: account.tax}`` for the taxes of the Wave invoices."""
        wave_ids = {
            (tax.get("salesTax") or {}).get("id")
            for node, _move in pairs
            if node
            for item in node.get("items") or []
            for tax in item.get("taxes") or []
        } - {None}
        taxes = (
            self.env["account.tax"]
            .with_context(active_test=False)
            .search([("wave_id", "in", list(wave_ids)), ("company_id", "=", self.company_id.id)])
        )
        return {tax.wave_id: tax for tax in taxes}
