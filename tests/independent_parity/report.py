"""The parity report: differences by kind, counts, a readable table."""

from collections import Counter
from dataclasses import dataclass, field

# Kinds of difference. ``record`` tells what they are about (invoice, payment,
# customer, product, money_transaction).
MISSING_IN_ODOO = "missing_in_odoo"
MISSING_IN_WAVE = "missing_in_wave"
DUPLICATE_IN_WAVE = "duplicate_in_wave"
DUPLICATE_IN_ODOO = "duplicate_in_odoo"
NUMBER = "number"  # matched by customer, date and total, numbers differ
PARTNER = "partner"
DATE = "date"
CURRENCY = "currency"
TOTAL = "total"
UNTAXED = "untaxed"  # Wave subtotal - discount vs the sum of Odoo's invoice lines
TAX = "tax"
AMOUNT_DUE = "amount_due"
STATUS = "status"
PAYMENT = "payment"  # a payment on both sides, with another date or amount

KINDS = (
    MISSING_IN_ODOO,
    MISSING_IN_WAVE,
    DUPLICATE_IN_WAVE,
    DUPLICATE_IN_ODOO,
    NUMBER,
    PARTNER,
    DATE,
    CURRENCY,
    TOTAL,
    UNTAXED,
    TAX,
    AMOUNT_DUE,
    STATUS,
    PAYMENT,
)


@dataclass(frozen=True)
class Difference:
    kind: str
    record: str
    key: str  # the natural key: invoice number, email, name, date+amount...
    wave: object = None
    odoo: object = None
    note: str = ""

    def __str__(self):
        sides = []
        if self.wave is not None:
            sides.append(f"Wave {self.wave}")
        if self.odoo is not None:
            sides.append(f"Odoo {self.odoo}")
        text = f"{self.kind:<18} {self.record:<17} {self.key}"
        if sides:
            text += ": " + " / ".join(sides)
        if self.note:
            text += f" ({self.note})"
        return text


@dataclass
class ParityReport:
    differences: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)  # what was compared, per side
    notes: list = field(default_factory=list)

    def add(self, kind, record, key, wave=None, odoo=None, note=""):
        self.differences.append(Difference(kind, record, str(key), wave, odoo, note))

    @property
    def ok(self):
        return not self.differences

    def of_kind(self, kind, record=None):
        return [
            d for d in self.differences if d.kind == kind and (record is None or d.record == record)
        ]

    def by_kind(self):
        """``{(kind, record): count}`` of the differences."""
        return dict(Counter((d.kind, d.record) for d in self.differences))

    def without(self, allowed):
        """A copy without the differences ``allowed`` accepts: an iterable of kinds,
        of ``(kind, key)`` pairs, or a callable ``Difference -> bool``."""
        if callable(allowed):
            keep = [d for d in self.differences if not allowed(d)]
        else:
            allowed = set(allowed)
            keep = [
                d
                for d in self.differences
                if d.kind not in allowed and (d.kind, d.key) not in allowed
            ]
        return ParityReport(keep, dict(self.counts), list(self.notes))

    def summary(self):
        """The table: what was compared, then the number of differences per kind."""
        lines = ["Independent parity check"]
        for name, value in self.counts.items():
            lines.append(f"  {name:<34} {value:>8}")
        lines.append(f"  {'differences':<34} {len(self.differences):>8}")
        for (kind, record), count in sorted(self.by_kind().items()):
            lines.append(f"    {kind + ' / ' + record:<32} {count:>8}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def __str__(self, limit=50):
        lines = [self.summary()]
        if self.differences:
            lines.append("Differences:")
            lines.extend(f"  {d}" for d in self.differences[:limit])
            if len(self.differences) > limit:
                lines.append(f"  ... and {len(self.differences) - limit} more")
        return "\n".join(lines)


def assert_parity(report, allow=()):
    """Raise ``AssertionError`` with the readable report unless it is clean
    (``allow``: differences to accept, see :meth:`ParityReport.without`)."""
    remaining = report.without(allow) if allow else report
    if not remaining.ok:
        raise AssertionError(f"Wave and Odoo differ.\n{remaining}")
    return report
