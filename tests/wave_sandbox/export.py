"""Wave-style "export accounting transactions" CSV, produced from the sandbox ledger.

ASSUMPTION: Wave's real column layout is not documented in our sources.  The default layout
below mirrors the columns Wave's export shows; pass ``columns`` to choose/reorder them.
Every transaction's lines balance (sum of debits == sum of credits).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from . import ops
from .store import Money, fmt_datetime

DEFAULT_COLUMNS = [
    "Transaction ID",
    "Transaction Date",
    "Account Name",
    "Transaction Description",
    "Transaction Line Description",
    "Amount (One column)",
    "Debit Amount",
    "Credit Amount",
    "Other Accounts for this Transaction",
    "Customer",
    "Vendor",
    "Invoice Number",
    "Bill Number",
    "Notes / Memo",
    "Amount Before Sales Tax",
    "Sales Tax Amount",
    "Sales Tax Name",
    "Transaction Date Added",
    "Transaction Date Last Modified",
    "Account Group",
    "Account Type",
    "Account ID",
]
GROUPS = {
    "ASSET": "Asset",
    "LIABILITY": "Liability",
    "EQUITY": "Equity",
    "INCOME": "Income",
    "EXPENSE": "Expense",
}


def transactions(b):
    """Yield ``(meta, lines)`` for every posted transaction of business ``b``.

    ``lines`` = ``[(account, debit_minor, credit_minor, line_description, tax_info)]`` where
    ``tax_info`` is ``(before_tax_minor, tax_minor, tax_names)`` or ``None``.
    """
    for inv in b.invoices:
        if not inv.approved:
            continue
        raw = ops.invoice_lines(inv)
        lines, pos = [], 1
        lines.append((*raw[0], None))
        for item in inv.items:
            acc, d, c, desc = raw[pos]
            tax_lines = [
                t
                for t in item.taxes
                if ops._to_business(
                    t.amount_minor, inv.exchange_rate, inv.currency.exponent, b.currency.exponent
                )
            ]
            tax_amt = sum(raw[pos + 1 + k][2] for k in range(len(tax_lines)))
            names = ", ".join(t.sales_tax.name for t in item.taxes)
            lines.append((acc, d, c, desc, (c, tax_amt, names)))
            for k in range(len(tax_lines)):
                lines.append((*raw[pos + 1 + k], None))
            pos += 1 + len(tax_lines)
        for extra in raw[pos:]:
            lines.append((*extra, None))
        meta = {
            "id": inv.id,
            "date": inv.invoice_date,
            "description": f"Invoice {inv.invoice_number}",
            "customer": inv.customer.name,
            "invoice_number": inv.invoice_number,
            "memo": inv.memo,
            "created": inv.created_at,
            "modified": inv.modified_at,
        }
        yield meta, lines
        for pay in inv.payment_list:
            meta = {
                "id": pay.id,
                "date": pay.payment_date,
                "description": (
                    f"{'Refund' if pay.transaction_type == 'REFUND' else 'Payment'} "
                    f"for invoice {inv.invoice_number}"
                ),
                "customer": inv.customer.name,
                "invoice_number": inv.invoice_number,
                "memo": pay.memo,
                "created": pay.created_at,
                "modified": pay.modified_at,
            }
            yield meta, [(*line, None) for line in ops.payment_lines(pay)]
    for mt in b.money_transactions:
        meta = {
            "id": mt.id,
            "date": mt.date,
            "description": mt.description,
            "memo": mt.notes,
            "created": mt.created_at,
            "modified": mt.modified_at,
        }
        yield meta, [(*line, None) for line in mt.lines]
    for t in b.extra_transactions:
        meta = {
            "id": t.id,
            "date": t.date,
            "description": t.description,
            "vendor": t.vendor.name if t.vendor else None,
            "customer": t.customer.name if t.customer else None,
            "bill_number": t.bill_number,
            "memo": t.notes,
            "created": t.created_at,
            "modified": t.modified_at,
        }
        yield meta, [(*line, None) for line in t.lines]


def rows(b, start: dt.date | None = None, end: dt.date | None = None):
    exp, code = b.currency.exponent, b.currency_code

    def fmt(minor):
        return Money(minor, code).value if minor else ""

    for meta, lines in sorted(transactions(b), key=lambda m: (m[0]["date"], m[0]["created"])):
        if (start and meta["date"] < start) or (end and meta["date"] > end):
            continue
        names = [line[0].name for line in lines]
        for i, (acc, debit, credit, desc, tax) in enumerate(lines):
            others = " | ".join(dict.fromkeys(n for j, n in enumerate(names) if j != i))
            yield {
                "Transaction ID": meta["id"],
                "Transaction Date": meta["date"].isoformat(),
                "Account Name": acc.name,
                "Transaction Description": meta["description"],
                "Transaction Line Description": desc or "",
                "Amount (One column)": Money(debit - credit, code).value,
                "Debit Amount": fmt(debit),
                "Credit Amount": fmt(credit),
                "Other Accounts for this Transaction": others,
                "Customer": meta.get("customer") or "",
                "Vendor": meta.get("vendor") or "",
                "Invoice Number": meta.get("invoice_number") or "",
                "Bill Number": meta.get("bill_number") or "",
                "Notes / Memo": meta.get("memo") or "",
                "Amount Before Sales Tax": fmt(tax[0]) if tax else "",
                "Sales Tax Amount": fmt(tax[1]) if tax else "",
                "Sales Tax Name": tax[2] if tax else "",
                "Transaction Date Added": fmt_datetime(meta["created"]),
                "Transaction Date Last Modified": fmt_datetime(meta["modified"]),
                "Account Group": GROUPS[acc.type.value],
                "Account Type": acc.subtype.name,
                "Account ID": acc.id,
            }
    del exp


def export_csv(b, columns=None, start=None, end=None) -> str:
    columns = list(columns or DEFAULT_COLUMNS)
    unknown = [c for c in columns if c not in DEFAULT_COLUMNS]
    if unknown:
        raise ValueError(f"unknown export column(s): {unknown}")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows(b, start, end):
        writer.writerow(row)
    return buf.getvalue()
