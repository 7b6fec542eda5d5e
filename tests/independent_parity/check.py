"""Matching and comparing: Wave invoices, payments, customers, products and money
transactions against Odoo's, by natural keys, to the cent.

Invoice numbers: the addon books Wave's ``invoiceNumber`` of an imported invoice in
Odoo's ``payment_reference`` (``ref`` holds Wave's ``poNumber``) and sends an Odoo
invoice's ``name`` as ``invoiceNumber`` when it exports one. An Odoo invoice
therefore answers to its ``payment_reference`` or its ``name``, whichever is a Wave
number (``payment_reference`` first).
"""

import time
from collections import Counter, defaultdict
from decimal import Decimal

from .report import (
    AMOUNT_DUE,
    CURRENCY,
    DATE,
    DUPLICATE_IN_ODOO,
    DUPLICATE_IN_WAVE,
    MISSING_IN_ODOO,
    MISSING_IN_WAVE,
    NUMBER,
    PARTNER,
    PAYMENT,
    STATUS,
    TAX,
    TOTAL,
    UNTAXED,
    ParityReport,
)

NOT_PAID_STATUSES = {"SAVED", "SENT", "VIEWED", "UNPAID"}
PAID_STATES = {"paid", "in_payment"}


def norm(text):
    """A name or email as a natural key: case and spacing don't count."""
    return " ".join((text or "").split()).casefold()


def cents(amount, exponent):
    return Decimal(amount).quantize(Decimal(1).scaleb(-exponent))


def expected_payment_states(wave):
    """Odoo ``payment_state`` values that agree with a Wave status (README's table)."""
    if wave.status in NOT_PAID_STATUSES:
        return {"not_paid"}
    if wave.status == "PARTIAL":
        return {"partial"}
    if wave.status in ("PAID", "OVERPAID"):
        return PAID_STATES
    # OVERDUE (paid in part or not at all) and anything newer: from the amounts
    if wave.paid <= 0:
        return {"not_paid"}
    return {"partial"} if wave.paid < wave.total else PAID_STATES


def check_parity(
    wave, odoo, date_from=None, date_to=None, wave_drafts=False, supplier_payments=False
):
    """Compare a Wave business (:class:`WaveReader`) with an Odoo company
    (:class:`OdooReader`) for the invoice dates in ``[date_from, date_to]``.

    ``wave_drafts``: Wave drafts are expected in Odoo (the addon imports them only
    with *Import draft invoices*); a Wave draft that has an Odoo invoice is always
    compared. ``supplier_payments``: every Odoo vendor payment of the range must be
    a money transaction in Wave (same date and amount); needs the sandbox's admin API.
    """
    started, requests_before = time.monotonic(), getattr(wave, "requests", 0)
    report = ParityReport()
    wave_invoices = wave.invoices(date_from, date_to)
    odoo_invoices = odoo.invoices(date_from, date_to)
    pairs = _match_invoices(report, wave_invoices, odoo_invoices, wave_drafts)
    for wave_invoice, odoo_invoice in pairs:
        _compare_invoice(report, wave_invoice, odoo_invoice)
    _check_payments(report, wave, odoo, pairs)
    used = {o.partner_id for o in odoo_invoices if o.live and o.partner_id}
    _check_duplicates(report, "customer", wave.customers(), odoo.customers(used), ("email", "name"))
    _check_duplicates(report, "product", wave.products(), odoo.products(), ("name",))
    _check_money_transactions(report, wave, odoo, date_from, date_to, supplier_payments)
    report.counts.update(
        {
            "Wave invoices": len(wave_invoices),
            "Odoo invoices (customer, any state)": len(odoo_invoices),
            "invoices matched": len(pairs),
            "Wave requests": getattr(wave, "requests", 0) - requests_before,
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return report


# -- invoices ---------------------------------------------------------------------
def _odoo_number(invoice, wave_numbers):
    keys = [k for k in (invoice.payment_reference, invoice.name) if k and k != "/"]
    for key in keys:
        if key in wave_numbers:
            return key
    return keys[0] if keys else f"odoo-id-{invoice.id}"


def _match_invoices(report, wave_invoices, odoo_invoices, wave_drafts):
    """``[(wave invoice, odoo invoice)]``; missing and duplicated ones reported."""
    numbers = Counter(w.number for w in wave_invoices)
    for number, count in numbers.items():
        if count > 1:
            report.add(DUPLICATE_IN_WAVE, "invoice", number, wave=count)
    live, dead = defaultdict(list), defaultdict(list)
    for invoice in odoo_invoices:
        (live if invoice.live else dead)[_odoo_number(invoice, numbers)].append(invoice)
    for number, invoices in live.items():
        if len(invoices) > 1:
            report.add(DUPLICATE_IN_ODOO, "invoice", number, odoo=sorted(i.id for i in invoices))
    pairs, lonely_wave, seen = [], [], set()
    for w in sorted(wave_invoices, key=lambda w: w.number):
        if w.number in seen:
            continue
        seen.add(w.number)
        if live.get(w.number):
            pairs.append((w, min(live[w.number], key=lambda o: o.id)))
        elif dead.get(w.number) and w.status != "DRAFT":
            o = dead[w.number][0]
            state = "reversed" if o.state == "posted" else o.state
            report.add(STATUS, "invoice", w.number, wave=w.status, odoo=state)
        elif w.status != "DRAFT" or wave_drafts:
            lonely_wave.append(w)
    lonely_odoo = [
        o
        for number, invoices in live.items()
        if number not in numbers
        for o in invoices
        if o.state == "posted"
    ]
    # Second chance: the same customer, date and total under another number.
    by_content = defaultdict(list)
    for o in lonely_odoo:
        by_content[(norm(o.partner_name), o.invoice_date, o.currency, o.total)].append(o)
    for w in lonely_wave:
        key = (norm(w.customer_name), w.invoice_date, w.currency, cents(w.total, w.exponent))
        if by_content.get(key):
            o = by_content[key].pop(0)
            lonely_odoo.remove(o)
            report.add(NUMBER, "invoice", w.number, wave=w.number, odoo=_odoo_number(o, ()))
            pairs.append((w, o))
        else:
            report.add(MISSING_IN_ODOO, "invoice", w.number, wave=f"{w.status} {w.total}")
    for o in lonely_odoo:
        report.add(MISSING_IN_WAVE, "invoice", _odoo_number(o, ()), odoo=f"{o.name} {o.total}")
    return pairs


def _same_partner(w, o):
    if w.customer_email and o.partner_email and norm(w.customer_email) == norm(o.partner_email):
        return True
    return norm(w.customer_name) == norm(o.partner_name)


def _compare_invoice(report, w, o):
    def add(kind, wave_value, odoo_value, note=""):
        report.add(kind, "invoice", w.number, wave=wave_value, odoo=odoo_value, note=note)

    def c(amount):
        return cents(amount, w.exponent)

    if w.currency != o.currency:
        add(CURRENCY, w.currency, o.currency)
    if not _same_partner(w, o):
        add(
            PARTNER,
            f"{w.customer_name} <{w.customer_email}>",
            f"{o.partner_name} <{o.partner_email}>",
        )
    if w.invoice_date != o.invoice_date:
        add(DATE, w.invoice_date, o.invoice_date)
    if c(w.total) != c(o.total):
        add(TOTAL, c(w.total), c(o.total))
    untaxed = c(w.subtotal - w.discount)
    if {c(o.untaxed), c(o.lines_untaxed)} != {untaxed}:
        add(UNTAXED, untaxed, c(o.lines_untaxed), note=f"stored {c(o.untaxed)}")
    if {c(o.tax), c(o.lines_tax)} != {c(w.tax)}:
        add(TAX, c(w.tax), c(o.lines_tax), note=f"stored {c(o.tax)}")
    if w.status == "DRAFT":
        if o.state != "draft":
            add(STATUS, w.status, o.state)
        return
    if c(max(w.due, Decimal(0))) != c(o.residual):
        add(AMOUNT_DUE, c(max(w.due, Decimal(0))), c(o.residual))
    expected = expected_payment_states(w)
    if o.state != "posted" or o.payment_state not in expected:
        add(
            STATUS,
            w.status,
            f"{o.state}/{o.payment_state}",
            note=f"expected posted/{'|'.join(sorted(expected))}",
        )


# -- payments --------------------------------------------------------------------------
def _check_payments(report, wave, odoo, pairs):
    odoo_payments = odoo.payments([o for _w, o in pairs]) if pairs else {}
    wanted = [w.id for w, o in pairs if w.paid != 0 or odoo_payments.get(o.id)]
    wave_payments = wave.payments(wanted) if wanted else {}
    compared = [0, 0]
    for w, o in pairs:
        if w.id not in wave_payments:
            continue
        found = wave_payments[w.id]
        if found is None:
            report.notes.append(f"invoice {w.number} was deleted in Wave during the check")
            continue
        compared[0] += len(found)
        compared[1] += len(odoo_payments.get(o.id, []))
        _compare_payments(report, w, found, odoo_payments.get(o.id, []))
    report.counts["Wave payments compared"] = compared[0]
    report.counts["Odoo payments compared"] = compared[1]


def _compare_payments(report, w, wave_payments, odoo_payments):
    def key(payment):
        return (payment.payment_date, cents(payment.amount, w.exponent))

    on_wave, on_odoo = Counter(map(key, wave_payments)), Counter(map(key, odoo_payments))
    only_wave, only_odoo = [], []
    for k in sorted(set(on_wave) | set(on_odoo)):
        n_wave, n_odoo = on_wave[k], on_odoo[k]
        label = f"{w.number} {k[0]} {k[1]}"
        if n_odoo > n_wave >= 1:
            report.add(DUPLICATE_IN_ODOO, "payment", label, wave=n_wave, odoo=n_odoo)
        elif n_wave > n_odoo >= 1:
            report.add(DUPLICATE_IN_WAVE, "payment", label, wave=n_wave, odoo=n_odoo)
        elif n_odoo == 0:
            only_wave += [k] * n_wave
        elif n_wave == 0:
            only_odoo += [k] * n_odoo
    for wave_key, odoo_key in zip(only_wave, only_odoo, strict=False):  # in date order
        report.add(
            PAYMENT,
            "payment",
            w.number,
            wave=f"{wave_key[0]} {wave_key[1]}",
            odoo=f"{odoo_key[0]} {odoo_key[1]}",
        )
    for k in only_wave[len(only_odoo) :]:
        report.add(MISSING_IN_ODOO, "payment", f"{w.number} {k[0]} {k[1]}")
    for k in only_odoo[len(only_wave) :]:
        report.add(MISSING_IN_WAVE, "payment", f"{w.number} {k[0]} {k[1]}")


# -- customers, products, money transactions ---------------------------------------------
def _check_duplicates(report, record, wave_records, odoo_records, keys):
    """Records sharing a natural key (``email``, ``name``) on one side."""
    report.counts[f"Wave {record}s"] = len(wave_records)
    report.counts[f"Odoo {record}s"] = len(odoo_records)
    for side, kind, records in (
        ("Wave", DUPLICATE_IN_WAVE, wave_records),
        ("Odoo", DUPLICATE_IN_ODOO, odoo_records),
    ):
        for attribute in keys:
            groups = defaultdict(list)
            for rec in records:
                value = norm(getattr(rec, attribute))
                if value:
                    groups[value].append(rec.id)
            for value, ids in sorted(groups.items()):
                if len(ids) > 1:
                    found = {"wave": None, "odoo": None}
                    found[side.lower()] = sorted(ids, key=str)
                    report.add(kind, record, f"{attribute} {value}", **found)


def _check_money_transactions(report, wave, odoo, date_from, date_to, supplier_payments):
    transactions = wave.money_transactions()
    if transactions is None:
        report.notes.append(
            "money transactions not checked: Wave's GraphQL cannot read them back "
            "and no sandbox admin API was given"
        )
        if supplier_payments:
            raise ValueError("supplier_payments needs the sandbox's admin API (admin_url)")
        return
    report.notes.append("money transactions read from the sandbox's admin API, not from Wave")
    report.counts["Wave money transactions"] = len(transactions)
    by_external = defaultdict(list)
    for tx in transactions:
        if tx.external_id:
            by_external[tx.external_id].append(tx.id)
    for external_id, ids in sorted(by_external.items()):
        if len(ids) > 1:
            report.add(
                DUPLICATE_IN_WAVE, "money_transaction", f"externalId {external_id}", wave=len(ids)
            )
    by_content = defaultdict(list)
    for tx in transactions:
        by_content[(tx.tx_date, tx.amount, tx.direction, tx.description)].append(tx)
    for (tx_date, amount, direction, description), txs in sorted(by_content.items(), key=str):
        if len({tx.external_id for tx in txs}) > 1:  # same content, other external ids
            report.add(
                DUPLICATE_IN_WAVE,
                "money_transaction",
                f"{tx_date} {amount} {direction} {description}",
                wave=len(txs),
            )
    if not supplier_payments:
        return
    in_wave = Counter(
        (tx.tx_date, tx.amount) for tx in transactions if tx.direction == "WITHDRAWAL"
    )
    payments = odoo.supplier_payments(date_from, date_to)
    report.counts["Odoo vendor payments"] = len(payments)
    for payment in sorted(payments, key=lambda p: (p.payment_date, p.id)):
        key = (payment.payment_date, cents(payment.amount, 2))
        if in_wave[key]:
            in_wave[key] -= 1
        else:
            report.add(MISSING_IN_WAVE, "money_transaction", f"{payment.name} {key[0]} {key[1]}")
