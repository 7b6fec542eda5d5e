"""Wave estimates against Odoo quotations (``sale.order``), by natural keys, to the cent.

A quotation answers to the Wave estimate number Odoo keeps on the order, or to its
own name (an Odoo quotation sent to Wave under its name). Compared: customer,
estimate date (of a quotation: Odoo dates a confirmed order on the day it was
confirmed), currency, total, tax, untaxed amount (Wave's subtotal less its discount,
against Odoo's header and the sum of its lines) and the status, by the README's table
(written out here, not read from the addon):

=====================  ===========================================
Wave                   Odoo ``sale.order.state``
=====================  ===========================================
DRAFT, APPROVED        ``draft`` (quotation)
SENT, VIEWED           ``sent`` (quotation sent)
ACCEPTED               ``sale``, or ``sent`` when accepted ones are only marked
CONVERTED              ``sale``
REJECTED, EXPIRED      ``cancel``
=====================  ===========================================

Wave does not list deleted estimates: an Odoo order that names a Wave number Wave
no longer lists is expected when it is cancelled, reported otherwise.
"""

import time
from collections import defaultdict

from .check import cents, norm
from .report import (
    CURRENCY,
    DATE,
    DUPLICATE_IN_ODOO,
    MISSING_IN_ODOO,
    MISSING_IN_WAVE,
    PARTNER,
    STATUS,
    TAX,
    TOTAL,
    UNTAXED,
    ParityReport,
)

RECORD = "estimate"


def expected_states(status, accept_policy="confirm"):
    """Odoo order states that agree with a Wave estimate status."""
    if status in ("DRAFT", "APPROVED"):
        return {"draft"}
    if status in ("SENT", "VIEWED"):
        return {"sent"}
    if status == "ACCEPTED":
        return {"sale"} if accept_policy == "confirm" else {"sent"}
    if status == "CONVERTED":
        return {"sale"}
    return {"cancel"}


def check_estimate_parity(wave, odoo, date_from=None, date_to=None, accept_policy="confirm"):
    """Compare Wave's estimates (:class:`WaveReader`) dated in ``[date_from, date_to]``
    with the Odoo company's sale orders (:class:`OdooReader`).

    ``accept_policy``: the connection's "When Wave says an estimate is accepted"
    (``confirm`` or ``mark``). Odoo orders that name no Wave estimate (plain Odoo
    quotations never sent to Wave) are not compared.
    """
    started, requests_before = time.monotonic(), getattr(wave, "requests", 0)
    report = ParityReport()
    estimates = wave.estimates(date_from, date_to)
    numbers = {e.number: e for e in estimates}
    by_number = defaultdict(list)
    for order in odoo.quotations(date_from, date_to):
        key = order.wave_number or (order.name if order.name in numbers else "")
        if key:
            by_number[key].append(order)
    matched = 0
    for number, estimate in sorted(numbers.items()):
        orders = by_number.pop(number, [])
        live = [o for o in orders if o.state != "cancel"] or orders
        if len(live) > 1:
            report.add(DUPLICATE_IN_ODOO, RECORD, number, odoo=sorted(o.id for o in live))
        if not live:
            report.add(MISSING_IN_ODOO, RECORD, number, wave=f"{estimate.status} {estimate.total}")
            continue
        matched += 1
        _compare(report, estimate, min(live, key=lambda o: o.id), accept_policy)
    for number, orders in sorted(by_number.items()):
        for order in orders:
            if order.state != "cancel":
                report.add(MISSING_IN_WAVE, RECORD, number, odoo=f"{order.state} {order.total}")
    report.counts.update(
        {
            "Wave estimates": len(estimates),
            "estimates matched": matched,
            "Wave requests": getattr(wave, "requests", 0) - requests_before,
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return report


def _compare(report, estimate, order, accept_policy):
    number = estimate.number
    if norm(estimate.customer_name) != norm(order.partner_name):
        report.add(PARTNER, RECORD, number, wave=estimate.customer_name, odoo=order.partner_name)
    # Odoo dates a confirmed order on the day it was confirmed (``action_confirm``): only
    # a quotation keeps the estimate's date.
    if order.state != "sale" and estimate.estimate_date != order.date_order:
        report.add(DATE, RECORD, number, wave=estimate.estimate_date, odoo=order.date_order)
    if estimate.currency != order.currency:
        report.add(CURRENCY, RECORD, number, wave=estimate.currency, odoo=order.currency)
        return  # amounts in two currencies are not compared
    if order.state not in expected_states(estimate.status, accept_policy):
        report.add(STATUS, RECORD, number, wave=estimate.status, odoo=order.state)
    exponent = estimate.exponent

    def differs(kind, wave_amount, *odoo_amounts, note=""):
        wave_cents = cents(wave_amount, exponent)
        for odoo_amount in odoo_amounts:
            if cents(odoo_amount, exponent) != wave_cents:
                report.add(
                    kind,
                    RECORD,
                    number,
                    wave=wave_cents,
                    odoo=cents(odoo_amount, exponent),
                    note=note,
                )
                return

    differs(TOTAL, estimate.total, order.total, order.lines_untaxed + order.lines_tax)
    differs(TAX, estimate.tax, order.tax, order.lines_tax)
    differs(
        UNTAXED,
        estimate.subtotal - estimate.discount,
        order.untaxed,
        order.lines_untaxed,
        note="Wave's subtotal less its discount",
    )
