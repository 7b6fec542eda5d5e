# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ledger parity check of a connection: Wave's invoices against Odoo's.

:meth:`WaveParityChecker._compute_report` reads Wave's invoices of a range of
invoice dates (``business.invoices``, 200 a page, so one request per 200 invoices:
the list carries totals, amounts due, statuses, items and their taxes, so no
per-invoice request is needed) and the Odoo customer invoices bound to them
(``wave_id``), compares them (``services/parity_compare.py``: the conventions are
there) and stores a ``wave.parity.report``.

When the connection imports estimates, Wave's estimates of the same range of estimate
dates (``business.estimates``, one request per 200) are compared with the quotations
bound to them: status (by the import's table), currency, total and tax, to the cent.
A deleted estimate is not listed by Wave: its cancelled quotation is expected.

A Wave draft that Odoo does not have is expected when the connection does not
import drafts, and a cancelled Odoo invoice that Wave no longer has is expected
(Wave deleted it): neither is reported.
"""

import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..graphql.inbound import ESTIMATES_BY_DATE_QUERY, PARITY_INVOICES_QUERY
from .parity_compare import ParityComparison, ParityLookups

_logger = logging.getLogger(__name__)

PAGE_SIZE = 200


class WaveParityChecker(models.AbstractModel):
    _name = "wave.parity.checker"
    _description = "Wave Ledger Parity Check"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    @api.model
    def _compute_report(self, connection, date_from, date_to, page_size=PAGE_SIZE):
        """Compare Wave and Odoo invoices dated ``date_from``..``date_to``.

        Returns the stored ``wave.parity.report`` (also kept as the connection's
        last report). Raises :class:`UserError` on a bad range or an unconnected
        business; Wave errors (``WaveError``) propagate.
        """
        connection.ensure_one()
        date_from = fields.Date.to_date(date_from)
        date_to = fields.Date.to_date(date_to)
        if not date_from or not date_to or date_from > date_to:
            raise UserError(self.env._("Choose a date range whose start is before its end."))
        if not connection.business_id:
            raise UserError(self.env._("Choose the Wave business of this connection first."))
        started = time.monotonic()
        nodes, request_count = self._fetch_wave(connection, date_from, date_to, page_size)
        moves = self._odoo_moves(connection, date_from, date_to, [node["id"] for node in nodes])
        pairs = self._pairs(connection, nodes, moves)
        estimate_pairs = []
        if connection._estimates_enabled():
            estimates, sent = self._fetch_wave(
                connection, date_from, date_to, page_size, ESTIMATES_BY_DATE_QUERY, "estimates"
            )
            request_count += sent
            estimate_pairs = self._estimate_pairs(connection, date_from, date_to, estimates)
        report = self.env["wave.parity.report"].create(
            {
                "connection_id": connection.id,
                "date_from": date_from,
                "date_to": date_to,
                "wave_invoice_count": sum(1 for node, _move in pairs if node),
                "odoo_invoice_count": sum(1 for _node, move in pairs if move),
                "request_count": request_count,
                "line_ids": [
                    fields.Command.create(vals)
                    for vals in self._compare(connection, pairs, estimate_pairs)
                ],
            }
        )
        # sudo: Wave users may run the check but have read-only access to the
        # connection; only the pointer to the last report (of this connection,
        # in its own company) is written.
        connection.sudo().last_parity_report_id = report
        _logger.info(
            "Wave parity connection=%s %s..%s: %s differences, %s Wave / %s Odoo invoices, "
            "%s requests, %.1f s",
            connection.id,
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
    @api.model
    def _fetch_wave(
        self,
        connection,
        date_from,
        date_to,
        page_size,
        query=PARITY_INVOICES_QUERY,
        listing="invoices",
    ):
        """Wave's invoices (or ``listing``) of the range and the number of requests sent."""
        client = connection._get_client(priority="interactive")
        requests_sent = 0
        execute = client.execute

        def counted_execute(*args, **kwargs):
            nonlocal requests_sent
            requests_sent += 1
            return execute(*args, **kwargs)

        client.execute = counted_execute
        variables = {
            "businessId": connection.business_id,
            "start": fields.Date.to_string(date_from),
            "end": fields.Date.to_string(date_to),
        }
        try:
            nodes = list(
                client.iterate(
                    query,
                    variables,
                    f"business.{listing}",
                    page_size=page_size,
                    priority="interactive",
                )
            )
        finally:
            client.close()
        return nodes, requests_sent

    @api.model
    def _odoo_moves(self, connection, date_from, date_to, wave_ids):
        """Odoo customer invoices bound to Wave: dated in the range or bound to a
        Wave invoice of the range (a date that differs is then reported too)."""
        return self.env["account.move"].search(
            [
                ("company_id", "=", connection.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("wave_id", "!=", False),
                "|",
                "&",
                ("invoice_date", ">=", date_from),
                ("invoice_date", "<=", date_to),
                ("wave_id", "in", wave_ids),
            ]
        )

    @api.model
    def _pairs(self, connection, nodes, moves):
        """``[(wave node or None, move or empty)]``, without the expected gaps."""
        moves_by_wave_id = {move.wave_id: move for move in moves}
        empty = self.env["account.move"]
        pairs = []
        seen = set()
        for node in nodes:
            move = moves_by_wave_id.get(node["id"], empty)
            seen.add(node["id"])
            if not move and node.get("status") == "DRAFT" and not connection.import_draft_invoices:
                continue
            pairs.append((node, move))
        for move in moves:
            if move.wave_id in seen or move.state == "cancel":
                continue
            pairs.append((None, move))
        return pairs

    @api.model
    def _estimate_pairs(self, connection, date_from, date_to, nodes):
        """``[(Wave estimate node or None, sale.order or empty)]``: the quotations bound
        to Wave, ordered in the range or bound to a listed estimate. A cancelled
        quotation Wave does not list (its estimate was deleted) is expected."""
        orders = self.env["sale.order"].search(
            [
                ("company_id", "=", connection.company_id.id),
                ("wave_id", "!=", False),
                "|",
                "&",
                ("date_order", ">=", fields.Datetime.to_datetime(date_from)),
                ("date_order", "<", fields.Datetime.to_datetime(date_to + timedelta(days=1))),
                ("wave_id", "in", [node["id"] for node in nodes]),
            ]
        )
        by_wave_id = {order.wave_id: order for order in orders}
        empty = self.env["sale.order"]
        pairs = [(node, by_wave_id.pop(node["id"], empty)) for node in nodes]
        pairs += [(None, order) for order in by_wave_id.values() if order.state != "cancel"]
        return pairs

    # ------------------------------------------------------------------
    # Comparing
    # ------------------------------------------------------------------
    @api.model
    def _compare(self, connection, pairs, estimate_pairs=()):
        """The report's line values for ``pairs`` (and ``estimate_pairs``)."""
        customer_keys, customer_partners = self._customer_maps(connection, pairs)
        lookups = ParityLookups(
            currencies=self._currencies([*pairs, *estimate_pairs]),
            accounts=self._account_resolver(connection),
            customer_keys=customer_keys,
            customer_partners=customer_partners,
            taxes=self._taxes(connection, pairs),
            discount_account=self._discount_account(connection),
        )
        comparison = ParityComparison(self.env, lookups)
        for node, move in pairs:
            comparison.add_pair(node, move)
        for node, order in estimate_pairs:
            comparison.add_estimate_pair(node, order, connection.estimate_accept_policy)
        return comparison.line_vals()

    # ------------------------------------------------------------------
    # Lookups, each read in one query
    # ------------------------------------------------------------------
    @api.model
    def _currencies(self, pairs):
        """``{code: res.currency}`` of both sides' invoices or estimates (archived ones
        too)."""
        codes = {node["currency"]["code"] for node, _move in pairs if node}
        codes |= {move.currency_id.name for _node, move in pairs if move}
        records = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list(codes))])
        )
        return {currency.name: currency for currency in records}

    @api.model
    def _discount_account(self, connection):
        """The Wave account invoice discounts are booked on (the import does too)."""
        discount_map = self.env["wave.account.map"].search(
            [("connection_id", "=", connection.id), ("wave_account_subtype", "=", "DISCOUNTS")],
            limit=1,
        )
        return {
            "id": discount_map.wave_account_id or "discounts",
            "name": discount_map.wave_account_name or self.env._("Discounts"),
        }

    @api.model
    def _account_resolver(self, connection):
        """``resolve(wave account dict) -> (account.account or None, label)``."""
        mappings = self.env["wave.account.map"].search([("connection_id", "=", connection.id)])
        by_wave_id = {mapping.wave_account_id: mapping for mapping in mappings}
        suspense = connection.suspense_account_id

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

    @api.model
    def _customer_maps(self, connection, pairs):
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
                ("connection_id", "=", connection.id),
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
                ("company_id", "in", [connection.company_id.id, False]),
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

    @api.model
    def _taxes(self, connection, pairs):
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
            .search(
                [("wave_id", "in", list(wave_ids)), ("company_id", "=", connection.company_id.id)]
            )
        )
        return {tax.wave_id: tax for tax in taxes}
