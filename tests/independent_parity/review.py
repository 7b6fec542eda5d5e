"""What the books may lack by design: the expected review list, and parity on the rest.

The sandbox's realistic data (``state.realistic_cases``: case name -> Wave invoice ids,
per business) holds records that no default setting can book without a person: an
invoice in a currency Odoo does not have at all (``foreign_wave_only``), an invoice of a
look-alike Wave customer that Odoo's existing contacts make ambiguous. The end-to-end
runs derive from the cases, outside the addon, which Wave invoices must wait in the
quarantine and for what kind of reason (:func:`expected_review`), compare that with the
quarantine (:func:`review_mismatches`), and read the independent parity check's
differences on what can be booked (:func:`unexplained`).

Differences and quarantine entries are plain dicts (JSON-ready), as the runs keep them:
a difference has ``kind``, ``record``, ``key``, ``wave`` and ``odoo`` (strings); an
entry has ``wave_id`` and ``reasons``.
"""

import re

# Quarantine reasons, by what they are about (first match wins). Used for the tables
# and to tell whether an entry's reason fits its case.
REASON_KINDS = (
    ("conflict", re.compile(r"conflict|changed in (wave|odoo|both)", re.I)),
    ("currency", re.compile(r"currenc|devise", re.I)),
    ("contact", re.compile(r"customer|contact|client|partner", re.I)),
    ("precision", re.compile(r"precision|decimal|digit|round", re.I)),
    ("totals", re.compile(r"total.*differ|differs", re.I)),
    ("tax", re.compile(r"tax", re.I)),
    ("account", re.compile(r"account", re.I)),
)
PATTERNS = dict(REASON_KINDS)
# Wave-side records that are look-alikes by design (same name once case and spacing are
# ignored): input of the scenario, not something the sync did.
WAVE_INPUT = ("duplicate_in_wave",)


def reason_kind(text):
    for kind, pattern in REASON_KINDS:
        if pattern.search(text or ""):
            return kind
    return "other"


def cases_of(realistic_cases, business_id):
    """``state.realistic_cases`` of the business (from the sandbox's saved state)."""
    if business_id not in realistic_cases:
        raise RuntimeError(f"no realistic cases for {business_id}: {sorted(realistic_cases)}")
    return realistic_cases[business_id]


def difference_rows(report):
    """The independent parity report's differences as plain dicts."""
    return [
        {
            "kind": d.kind,
            "record": d.record,
            "key": d.key,
            "wave": str(d.wave),
            "odoo": str(d.odoo),
            "note": d.note,
        }
        for d in report.differences
    ]


def _listed(text):
    return [x for x in text.strip("[]").split(",") if x.strip()]


def explained_duplicates(differences):
    """Odoo duplicates that only mirror Wave's own look-alikes (same key, no more
    records in Odoo than in Wave)."""
    wave = {d["key"]: d["wave"] for d in differences if d["kind"] == "duplicate_in_wave"}
    explained = set()
    for d in differences:
        if d["kind"] == "duplicate_in_odoo" and d["record"] in ("customer", "product"):
            if d["key"] in wave and len(_listed(d["odoo"])) <= len(_listed(wave[d["key"]])):
                explained.add((d["kind"], d["record"], d["key"]))
    return explained


def unexplained(differences, allowed_missing=()):
    """The differences left once Wave's own look-alikes and the Wave invoices
    ``allowed_missing`` (numbers of invoices waiting for review) are set aside."""
    explained = explained_duplicates(differences)
    return [
        d
        for d in differences
        if d["kind"] not in WAVE_INPUT
        and (d["kind"], d["record"], d["key"]) not in explained
        and not (
            d["kind"] == "missing_in_odoo"
            and d["record"] == "invoice"
            and d["key"] in allowed_missing
        )
    ]


def expected_review(state, business_id, odoo_currencies, ambiguous_names=()):
    """``{Wave invoice id: {reason kinds}}``: the business's invoices that cannot be
    booked automatically with the addon's default settings, per the sandbox's cases.

    ``state``: the sandbox's saved state; ``odoo_currencies``: every currency code Odoo
    has, active or not (the default policy activates the inactive ones); ``ambiguous_names``:
    Wave customer names that two existing Odoo contacts answer to (the default matching
    never picks one of two: the customer waits for review). Drafts (not imported by
    default) and deleted invoices are never expected.
    """
    cases = cases_of(state.realistic_cases, business_id)
    expected = {}
    for case, kind in (("foreign_wave_only", "currency"), ("look_alike_customer", "contact")):
        for wave_id in cases.get(case, ()):
            invoice = state.objects.get(wave_id)
            if invoice is None or getattr(invoice, "deleted", False) or not invoice.approved:
                continue
            if kind == "currency" and invoice.currency_code in odoo_currencies:
                raise AssertionError(f"Odoo has {invoice.currency_code}: not a Wave-only one")
            if kind == "contact" and invoice.customer.name not in ambiguous_names:
                continue
            expected.setdefault(wave_id, set()).add(kind)
    return expected


def review_mismatches(expected, entries, labels=None):
    """What differs between the expected review list and the open quarantine
    ``entries``: expected records absent from it, entries nobody expected, and entries
    whose reason does not say each expected kind. Empty lists when they agree."""
    labels = labels or {}
    by_record = {}
    for entry in entries:
        by_record.setdefault(entry["wave_id"], []).append(entry)
    missing = sorted(
        labels.get(wave_id, wave_id) for wave_id in expected if wave_id not in by_record
    )
    unexpected, wrong_reason = [], []
    for wave_id, found in sorted(by_record.items(), key=lambda item: str(item[0])):
        label = labels.get(wave_id, wave_id)
        if wave_id not in expected:
            unexpected += [(label, e.get("record_type"), e["reasons"]) for e in found]
            continue
        reasons = " ".join(e["reasons"] or "" for e in found)
        lacking = sorted(k for k in expected[wave_id] if not PATTERNS[k].search(reasons))
        if lacking:
            wrong_reason.append((label, lacking, reasons))
    return {"missing": missing, "unexpected": unexpected, "wrong_reason": wrong_reason}
