# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reading Wave's "accounting transactions" export file: pure functions, no Odoo.

Used by ``models/wave_export_file.py`` (which books the transactions). Everything
here is strict, because the file comes from a user's upload:

* bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252. Bytes
  that are not valid in the chosen encoding are kept as markers, so only the rows
  holding them are refused (``row_problem``), never the whole file;
* amounts (``parse_amount``): plain decimals only, Decimal-based, finite and below
  ``MAX_AMOUNT``, at most ``MAX_DECIMALS`` decimals; a comma is a thousands
  separator and must group by three (``1,234.50``), so ``12,5`` (a decimal comma?)
  is refused rather than read as 125; no exponent, ``nan`` or ``inf``;
* dates: one of ``DATE_FORMATS``, between ``MIN_DATE`` and ``MAX_DATE``;
* rows: no NUL, no undecodable byte, no cell over ``MAX_CELL`` characters;
* text that a spreadsheet would run as a formula (a cell starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return) is stored with a leading ``'``
  (``neutralise``), unless it is a number such as ``-12.50``;
* what is kept of a refused transaction (``bounded_raw_rows``) is bounded in size.
"""

import codecs
import csv
import datetime
import io
import re
from decimal import Decimal, InvalidOperation

# Internal key -> column header of Wave's export (an ASSUMPTION: Wave's layout is
# not documented; these are the columns Wave's export shows and the sandbox's
# ``tests/wave_sandbox/export.py`` writes). Change it if your file differs.
EXPORT_COLUMNS = {
    "transaction_id": "Transaction ID",
    "date": "Transaction Date",
    "account_name": "Account Name",
    "account_id": "Account ID",
    "account_type": "Account Type",
    "description": "Transaction Description",
    "line_description": "Transaction Line Description",
    "amount": "Amount (One column)",
    "debit": "Debit Amount",
    "credit": "Credit Amount",
    "customer": "Customer",
    "vendor": "Vendor",
    "invoice_number": "Invoice Number",
    "bill_number": "Bill Number",
    "memo": "Notes / Memo",
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d")
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2199, 12, 31)
MAX_AMOUNT = Decimal(10) ** 12  # a line of a trillion or more is not a real amount
MAX_DECIMALS = 6
MAX_CELL = 2000  # characters of one cell
MAX_TRANSACTION_ID = 200  # characters of a Transaction ID
# A refused transaction keeps at most this much of its rows for the quarantine.
MAX_RAW_ROWS = 20
MAX_RAW_COLUMNS = 30
MAX_RAW_CELL = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

NUMBER_RE = re.compile(
    r"(?P<sign>[-+]?)\$?(?P<sign2>[-+]?)"
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?"
)
# NUL, and the surrogates that stand for undecodable bytes (or that are lone).
BAD_TEXT_RE = re.compile("[\x00\ud800-\udfff]")
UNDECODABLE_RE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _escape_bytes(error):
    # Like "surrogateescape", for any byte (UTF-16 can fail on bytes below 0x80):
    # each undecodable byte becomes a lone surrogate, found later by row_problem.
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), error.end


ESCAPE = "wave_export_file_escape"
codecs.register_error(ESCAPE, _escape_bytes)


class AmountError(ValueError):
    """Not an amount this importer accepts."""


def decode(data):
    """``(text, encoding)``; undecodable bytes become lone surrogates (see module doc)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", ESCAPE), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", ESCAPE), "utf-16"
    # "utf-8-sig": read as UTF-8, BOM or not. A file that is not valid UTF-8 but has
    # valid multi-byte sequences next to its bad bytes is a UTF-8 file all the same.
    text = data.decode("utf-8", ESCAPE)
    if not UNDECODABLE_RE.search(text) or re.search("[\u0080-\ud7ff\ue000-\U0010ffff]", text):
        return text, "utf-8-sig"
    return data.decode("cp1252", ESCAPE), "cp1252"


def parse_amount(value):
    """A Decimal from ``1,234.50``, ``-12.5``, ``(12.50)`` or ``$12.50``; empty -> 0."""
    text = (value or "").strip()
    if not text:
        return Decimal(0)
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    match = NUMBER_RE.fullmatch(text)
    if not match or (match["sign"] and match["sign2"]):
        raise AmountError(value)
    if len(match["fraction"] or "") > MAX_DECIMALS:
        raise AmountError(value)
    try:
        fraction = match["fraction"]
        amount = Decimal(match["whole"].replace(",", "") + (f".{fraction}" if fraction else ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise AmountError(value) from None
    if not amount.is_finite() or amount >= MAX_AMOUNT:
        raise AmountError(value)
    if "-" in (match["sign"], match["sign2"]):
        if negative:
            raise AmountError(value)  # "(-12)": which sign is meant?
        negative = True
    return -amount if negative else amount


def is_number(text):
    try:
        parse_amount(text)
    except AmountError:
        return False
    return True


def parse_date(value):
    text = (value or "").strip()[:10]
    for fmt in DATE_FORMATS:
        try:
            date = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if MIN_DATE <= date <= MAX_DATE:
            return date
        break
    raise ValueError(value)


def row_problem(values):
    """``None``, or why a row's cells cannot be read: ``"nul"``, ``"bytes"``, ``"long"``."""
    for value in values:
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            return "nul"
        if UNDECODABLE_RE.search(value):
            return "bytes"
        if len(value) > MAX_CELL:
            return "long"
    return None


def clean(text):
    """Text safe to store: NUL and undecodable bytes shown as U+FFFD."""
    return BAD_TEXT_RE.sub(REPLACEMENT, text or "")


def neutralise(text):
    """Text a spreadsheet will not run as a formula (a number stays a number)."""
    if text and text.startswith(FORMULA_STARTS) and not is_number(text):
        return "'" + text
    return text


def bounded_raw_row(row):
    """A row for the quarantine: cleaned, neutralised, bounded in columns and length."""
    raw = {}
    for key, value in row.items():
        if not key or len(raw) >= MAX_RAW_COLUMNS:
            continue
        if not isinstance(value, str):
            value = ", ".join(value) if isinstance(value, list) else ""
        name = neutralise(clean(key)[:MAX_RAW_CELL])
        raw[name] = neutralise(clean(value)[:MAX_RAW_CELL])
    return raw


def bounded_raw_rows(raw_rows):
    """The payload of a quarantined transaction: at most ``MAX_RAW_ROWS`` rows."""
    payload = {"rows": raw_rows[:MAX_RAW_ROWS]}
    if len(raw_rows) > MAX_RAW_ROWS:
        payload["rows_left_out"] = len(raw_rows) - MAX_RAW_ROWS
    return payload


# ----------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------
TEXT_KEYS = (
    "description",
    "line_description",
    "customer",
    "vendor",
    "invoice_number",
    "bill_number",
    "memo",
)


class FileError(ValueError):
    """The file as a whole cannot be read: ``missing`` columns, ``duplicated`` columns,
    a CSV ``error`` near ``line``, or a row cut short before its Transaction ID
    (``cut_row``: its line), which cannot be told apart from the transactions."""

    def __init__(self, missing=(), line=None, error=None, duplicated=(), cut_row=None):
        super().__init__(missing or duplicated or error or cut_row)
        self.missing, self.line, self.error = list(missing), line, error
        self.duplicated, self.cut_row = list(duplicated), cut_row


class RowError(ValueError):
    """A row that cannot be booked. ``code``: ``nul``, ``bytes``, ``long``,
    ``columns``, ``date``, ``amount``, ``sign`` or ``account``; ``value``: the cell."""

    def __init__(self, code, value=None):
        super().__init__(code)
        self.code, self.value = code, value


def open_reader(text):
    """``(csv.DictReader, has_split)``; FileError when a needed column is missing."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        headers = set(reader.fieldnames or [])
    except csv.Error as error:
        raise FileError(line=1, error=str(error)) from None
    col = EXPORT_COLUMNS
    # A column we read that appears twice is ambiguous (csv.DictReader would keep the
    # last cell and, on a short row, none at all): the whole file is refused.
    duplicated = [name for name in col.values() if (reader.fieldnames or []).count(name) > 1]
    if duplicated:
        raise FileError(duplicated=duplicated)
    missing = [col[key] for key in ("transaction_id", "date") if col[key] not in headers]
    if col["account_id"] not in headers and col["account_name"] not in headers:
        missing.append(col["account_id"])
    has_split = col["debit"] in headers and col["credit"] in headers
    if not has_split and col["amount"] not in headers:
        missing.append(f"{col['debit']} / {col['credit']}")
    if missing:
        raise FileError(missing=missing)
    return reader, has_split


def iter_rows(reader):
    """``(line number, row, transaction id)`` for each row; FileError on broken CSV."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileError(line=reader.line_num, error=str(error)) from None
        tx_id = neutralise(clean(row.get(EXPORT_COLUMNS["transaction_id"]) or "").strip())
        if not tx_id and row.get(EXPORT_COLUMNS["transaction_id"]) is None:
            # The row is cut short before its Transaction ID: some transaction of the
            # file misses a row and nothing tells which, so none can be booked safely.
            raise FileError(cut_row=reader.line_num)
        yield reader.line_num, row, tx_id[:MAX_TRANSACTION_ID]


def check_cells(row):
    problem = row_problem([*row.values(), *(row.get(None) or [])])
    if problem:
        raise RowError(problem)
    if None in row or any(value is None for value in row.values()):
        raise RowError("columns")
    if len((row.get(EXPORT_COLUMNS["transaction_id"]) or "").strip()) > MAX_TRANSACTION_ID:
        raise RowError("long")


def parse_row(row, number, has_split):
    """The booking values of one CSV row; RowError when it cannot be booked."""
    check_cells(row)
    col = EXPORT_COLUMNS

    def get(key):
        return (row.get(col[key]) or "").strip()

    try:
        date = parse_date(get("date"))
    except ValueError:
        raise RowError("date", get("date")[:40]) from None
    try:
        if has_split:
            debit, credit = parse_amount(get("debit")), parse_amount(get("credit"))
        else:
            amount = parse_amount(get("amount"))
            debit, credit = max(amount, 0), max(-amount, 0)
    except AmountError:
        raise RowError("amount") from None
    if debit < 0 or credit < 0 or (debit and credit):
        raise RowError("sign")
    if not (get("account_id") or get("account_name")):
        raise RowError("account")
    return {
        "row": number,
        "date": date,
        "account_id": get("account_id"),
        "account_name": get("account_name"),
        "account_type": get("account_type").lower(),
        **{key: neutralise(get(key)) for key in TEXT_KEYS},
        "debit": debit,
        "credit": credit,
        "raw": bounded_raw_row(row),
    }
