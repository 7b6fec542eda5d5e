# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Import Wave's "accounting transactions" export file (CSV).

Wave's API cannot read expenses, bills or bank transactions, but Wave's web app
exports every transaction of the ledger as a CSV file. This importer books them:

* a transaction with a vendor that credits Accounts Payable becomes a vendor bill;
* a transaction with a vendor paid straight from a bank or card account (an
  expense) becomes a vendor bill plus its payment, posted and reconciled;
* a transaction with a vendor that debits Accounts Payable (a bill payment)
  becomes a vendor payment, reconciled with the bill of the same number;
* every other transaction becomes a journal entry in the miscellaneous journal;
* invoice transactions and their payments (an "Invoice Number" is set) are
  skipped: the API sync imports those.

The columns, the encodings and the strict reading rules (amounts, dates, NUL and
undecodable bytes, formula-looking cells, the bounded quarantine payload) are in
``lib/export_file_parser.py``. The file size is limited by the system parameter
``wave_accounting_integration.export_file_max_size`` (bytes, default 5 MiB).

Idempotent: every move and payment gets the export's Transaction ID as ``wave_id``
(unique per company), so importing the same or an overlapping file again only
adds the transactions not seen before. A transaction is all-or-nothing (one
savepoint each): a bad one is listed with its row numbers and quarantined.
"""

import logging

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..lib.export_file_parser import (
    FileError,
    RowError,
    bounded_raw_row,
    bounded_raw_rows,
    clean,
    decode,
    iter_rows,
    open_reader,
    parse_row,
)
from ..lib.text import by_count
from ..mappers.invoice_inbound import wave_text_as_html

_logger = logging.getLogger(__name__)

# Wave account types ("Account Type" column) of money accounts and of payables.
PAYMENT_ACCOUNT_TYPES = {"cash and bank", "credit card", "money in transit"}
PAYABLE_ACCOUNT_TYPES = {"payable bills"}
QUARANTINE_TYPE = "ExportTransaction"
PARAM_MAX_SIZE = "wave_accounting_integration.export_file_max_size"
DEFAULT_MAX_SIZE = 5 * 1024 * 1024


class TransactionError(Exception):
    """A transaction of the file that cannot be booked (the message says why)."""


class WaveExportFile(models.AbstractModel):
    _name = "wave.export.file"
    _description = "Wave Export File Importer"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    @api.model
    def _max_file_size(self):
        """The largest accepted file in bytes (system parameter, default 5 MiB)."""
        # sudo: system parameters are administrator-only; importers need this one.
        raw = self.env["ir.config_parameter"].sudo().get_param(PARAM_MAX_SIZE)
        try:
            size = int(raw or DEFAULT_MAX_SIZE)
        except ValueError:
            size = DEFAULT_MAX_SIZE
        return size if size > 0 else DEFAULT_MAX_SIZE

    @api.model
    def _check_file_size(self, size):
        limit = self._max_file_size()
        if size > limit:
            raise UserError(
                self.env._(
                    "The file is too large (%(size)s KB; at most %(limit)s KB). Export a "
                    "shorter period from Wave and import the files one after the other.",
                    size=-(-size // 1024),
                    limit=limit // 1024,
                )
            )

    @api.model
    def _import_file(self, connection, data, dry_run=False):
        """Import the CSV bytes ``data`` for ``connection``; return a result dict.

        ``dry_run``: everything is done, then rolled back (the result tells what
        an import would do).
        """
        connection.ensure_one()
        self._check_file_size(len(data))
        text, encoding = decode(data)
        result = {
            "encoding": encoding,
            "rows": 0,
            "transactions": 0,
            "bills": 0,
            "payments": 0,
            "entries": 0,
            "existing": 0,
            "skipped": 0,
            "quarantined": 0,
            "errors": [],
            "warnings": [],
            "dry_run": dry_run,
        }
        transactions = self._read_transactions(text, result)
        result["transactions"] = len(transactions)
        savepoint = self.env.cr.savepoint()
        try:
            self.with_company(connection.company_id)._book_transactions(
                connection, transactions, result
            )
        finally:
            savepoint.close(rollback=dry_run)
            if dry_run:
                self.env.invalidate_all()
        _logger.info(
            "Wave export file (connection %s, %s, %s bytes, dry run %s): %s bills, "
            "%s payments, %s entries, %s existing, %s skipped, %s errors",
            connection.id,
            encoding,
            len(data),
            dry_run,
            result["bills"],
            result["payments"],
            result["entries"],
            result["existing"],
            result["skipped"],
            len(result["errors"]),
        )
        return result

    # ------------------------------------------------------------------
    # Reading (the rules are in lib/export_file_parser.py)
    # ------------------------------------------------------------------
    @api.model
    def _read_transactions(self, text, result):
        """Rows grouped by transaction id, in file order: ``{id: {"rows", "problems"}}``."""
        transactions = {}
        try:
            reader, has_split = open_reader(text)
            for number, row, tx_id in iter_rows(reader):
                result["rows"] += 1
                if not tx_id:
                    reason = self.env._("No Transaction ID.")
                    result["errors"].append({"row": number, "transaction_id": "", "reason": reason})
                    continue
                tx = transactions.setdefault(tx_id, {"rows": [], "problems": []})
                try:
                    tx["rows"].append(parse_row(row, number, has_split))
                except RowError as error:
                    tx["problems"].append((number, self._row_error_message(error)))
                    tx["rows"].append({"row": number, "raw": bounded_raw_row(row)})
        except FileError as error:
            raise self._file_error(error) from None
        return transactions

    def _file_error(self, error):
        if error.duplicated:
            return UserError(
                by_count(
                    len(error.duplicated),
                    self.env._(
                        "The column %(columns)s appears more than once in the file, so it is "
                        "not clear which one to read. Nothing was imported: export the file "
                        "from Wave again."
                    ),
                    self.env._(
                        "The columns %(columns)s appear more than once in the file, so it is "
                        "not clear which one to read. Nothing was imported: export the file "
                        "from Wave again."
                    ),
                    columns=", ".join(error.duplicated),
                )
            )
        if error.cut_row:
            return UserError(
                self.env._(
                    "Line %s of the file is cut short before its Transaction ID, so the "
                    "transaction it belongs to cannot be told. Nothing was imported: export "
                    "the file from Wave again.",
                    error.cut_row,
                )
            )
        if error.missing:
            return UserError(
                by_count(
                    len(error.missing),
                    self.env._(
                        "This is not a Wave accounting transactions export: missing column "
                        "%(columns)s."
                    ),
                    self.env._(
                        "This is not a Wave accounting transactions export: missing columns "
                        "%(columns)s."
                    ),
                    columns=", ".join(error.missing),
                )
            )
        return UserError(
            self.env._(
                "The file is not a readable CSV file (near line %(line)s: %(error)s).",
                line=error.line,
                error=clean(error.error)[:200],
            )
        )

    def _row_error_message(self, error):
        if error.code == "date":
            return self.env._("Invalid date %r.", error.value)
        return {
            "nul": self.env._("The row contains a NUL character."),
            "bytes": self.env._("The row contains bytes that are not text in the file's encoding."),
            "long": self.env._("A cell of the row is too long."),
            "columns": self.env._("Malformed row: wrong number of columns."),
            "amount": self.env._("Invalid amount."),
            "sign": self.env._("A line is either a debit or a credit, not negative."),
            "account": self.env._("No account."),
        }[error.code]

    # ------------------------------------------------------------------
    # Booking
    # ------------------------------------------------------------------
    def _book_transactions(self, connection, transactions, result):
        company = connection.company_id
        tx_ids = list(transactions)
        existing = set(
            self.env["account.move"]
            .search([("company_id", "=", company.id), ("wave_id", "in", tx_ids)])
            .mapped("wave_id")
        ) | set(
            self.env["account.payment"]
            .search([("company_id", "=", company.id), ("wave_id", "in", tx_ids)])
            .mapped("wave_id")
        )
        context = self._prepare_context(connection, transactions)
        for tx_id, tx in transactions.items():
            rows = tx["rows"]
            first_row = rows[0]["row"]
            if tx_id in existing:
                result["existing"] += 1
                continue
            if tx["problems"]:
                reasons = [
                    self.env._("row %(row)s: %(reason)s", row=row, reason=reason)
                    for row, reason in tx["problems"]
                ]
                self._fail(connection, context, result, tx_id, tx, first_row, "; ".join(reasons))
                continue
            if any(row["invoice_number"] for row in rows):
                result["skipped"] += 1  # invoices and their payments come through the API
                continue
            try:
                with self.env.cr.savepoint():
                    outcome = self._book_transaction(connection, context, tx_id, rows)
            except (TransactionError, UserError) as error:
                message = error.args[0] if error.args else str(error)
                self._fail(connection, context, result, tx_id, tx, first_row, message)
                continue
            if outcome == "skipped":
                result["skipped"] += 1
                continue
            for key in ("bills", "payments", "entries"):
                result[key] += outcome.get(key, 0)
            if outcome.get("suspense"):
                reason = by_count(
                    len(outcome["suspense"]),
                    self.env._(
                        "Booked to the suspense account: Wave account %(names)s not mapped yet."
                    ),
                    self.env._(
                        "Booked to the suspense account: Wave accounts %(names)s not mapped yet."
                    ),
                    names=", ".join(outcome["suspense"]),
                )
                result["warnings"].append(
                    {"row": first_row, "transaction_id": tx_id, "reason": reason}
                )
                self._quarantine(connection, context, tx_id, tx, reason, outcome.get("move"))
                result["quarantined"] += 1
        self._record_run(connection, result)

    def _prepare_context(self, connection, transactions):
        """Everything looked up once for the whole file."""
        company = connection.company_id
        all_rows = [row for tx in transactions.values() for row in tx["rows"] if "date" in row]
        maps = self.env["wave.account.map"].search([("connection_id", "=", connection.id)])
        vendor_names = {row["vendor"].lower() for row in all_rows if row["vendor"]}
        partner_maps = self.env["wave.partner.map"].search(
            [
                ("connection_id", "=", connection.id),
                ("wave_type", "=", "vendor"),
                ("state", "=", "matched"),
            ]
        )
        partners = self.env["res.partner"].search(
            [
                ("name", "in", list({row["vendor"] for row in all_rows if row["vendor"]})),
                ("company_id", "in", (False, company.id)),
            ],
            order="supplier_rank desc, id",
        )
        vendors = {}
        for partner in partners:
            vendors.setdefault(partner.name.lower(), partner)
        for mapping in partner_maps.filtered(lambda m: m.wave_name.lower() in vendor_names):
            vendors[mapping.wave_name.lower()] = mapping.partner_id
        bill_numbers = list({row["bill_number"] for row in all_rows if row["bill_number"]})
        bills = {
            (bill.partner_id.commercial_partner_id.id, bill.ref): bill
            for bill in self.env["account.move"].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "=", "in_invoice"),
                    ("state", "=", "posted"),
                    ("ref", "in", bill_numbers),
                ]
            )
        }
        quarantines = self.env["wave.quarantine"].search(
            [
                ("connection_id", "=", connection.id),
                ("record_type", "=", QUARANTINE_TYPE),
                ("state", "=", "open"),
                ("wave_id", "in", list(transactions)),
            ]
        )
        journals = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(company),
                ("type", "in", ("bank", "cash", "credit", "general")),
            ]
        )
        return {
            "maps_by_id": {m.wave_account_id: m for m in maps},
            "maps_by_name": {m.wave_account_name.lower(): m for m in maps},
            "vendors": vendors,
            "bills": bills,
            "quarantines": {q.wave_id: q for q in quarantines},
            "journals": journals,
            "currency": company.currency_id,
        }

    def _resolve_account(self, connection, context, row):
        mapping = context["maps_by_id"].get(row["account_id"]) if row["account_id"] else None
        if mapping is None and row["account_name"]:
            mapping = context["maps_by_name"].get(row["account_name"].lower())
        label = row["account_name"] or row["account_id"]
        if mapping is None:
            raise TransactionError(
                self.env._(
                    "Unknown Wave account %(account)s (row %(row)s): import the chart of "
                    "accounts or map it first.",
                    account=label,
                    row=row["row"],
                )
            )
        if mapping.account_id:
            return mapping, mapping.account_id, False
        if not connection.suspense_account_id:
            raise TransactionError(
                self.env._(
                    "Wave account %(account)s (row %(row)s) is not mapped and the connection "
                    "has no suspense account.",
                    account=label,
                    row=row["row"],
                )
            )
        return mapping, connection.suspense_account_id, True

    def _book_transaction(self, connection, context, tx_id, rows):
        currency = context["currency"]
        debit = sum(row["debit"] for row in rows)
        credit = sum(row["credit"] for row in rows)
        if currency.compare_amounts(float(debit), float(credit)) != 0:
            raise TransactionError(
                self.env._(
                    "Unbalanced transaction: debits %(debit)s, credits %(credit)s.",
                    debit=debit,
                    credit=credit,
                )
            )
        lines = []
        suspense = []
        for row in rows:
            mapping, account, in_suspense = self._resolve_account(connection, context, row)
            if in_suspense:
                suspense.append(row["account_name"] or row["account_id"])
            kind = "other"
            if (
                row["account_type"] in PAYMENT_ACCOUNT_TYPES
                or mapping.journal_id
                or (account.account_type in ("asset_cash", "liability_credit_card"))
            ):
                kind = "payment"
            elif row["account_type"] in PAYABLE_ACCOUNT_TYPES or (
                account.account_type == "liability_payable"
            ):
                kind = "payable"
            lines.append({**row, "mapping": mapping, "account": account, "kind": kind})
        head = rows[0]
        vendor_name = next((row["vendor"] for row in rows if row["vendor"]), "")
        payable = [line for line in lines if line["kind"] == "payable"]
        paying = [line for line in lines if line["kind"] == "payment" and line["credit"]]
        shape = None
        if vendor_name:
            if payable and all(line["credit"] for line in payable) and not paying:
                shape = "bill"
            elif not payable and paying:
                shape = "expense"
            elif payable and all(line["debit"] for line in payable) and paying:
                shape = "bill_payment"
        if shape and len({row["date"] for row in rows}) > 1:
            shape = None
        outcome = {"suspense": suspense}
        if shape is None:
            outcome["move"] = self._book_entry(context, tx_id, head, lines)
            outcome["entries"] = 1
            return outcome
        vendor = self._resolve_vendor(connection, context, vendor_name)
        if not vendor:
            return "skipped"
        bill_number = next((row["bill_number"] for row in rows if row["bill_number"]), "")
        if shape in ("bill", "expense"):
            bill_lines = [line for line in lines if line["kind"] not in ("payable", "payment")]
            bill = self._book_bill(context, tx_id, head, vendor, bill_number, bill_lines)
            outcome.update(move=bill, bills=1)
            if bill_number:
                context["bills"][(vendor.commercial_partner_id.id, bill_number)] = bill
            if shape == "expense":
                self._book_payments(context, tx_id, head, vendor, paying, bill)
                outcome["payments"] = len(paying)
        else:
            bill = context["bills"].get((vendor.commercial_partner_id.id, bill_number))
            payments = self._book_payments(context, tx_id, head, vendor, paying, bill)
            outcome.update(move=payments.move_id[:1], payments=len(payments))
        return outcome

    def _resolve_vendor(self, connection, context, name):
        vendor = context["vendors"].get(name.lower())
        if vendor:
            return vendor
        policy = connection.vendor_creation_policy
        if policy == "create":
            vendor = self.env["res.partner"].create(
                {"name": name, "supplier_rank": 1, "company_id": connection.company_id.id}
            )
            context["vendors"][name.lower()] = vendor
            return vendor
        if policy == "skip":
            return None
        raise TransactionError(
            self.env._(
                "Vendor %s has no Odoo contact yet: match it in Wave > Review > Contacts, "
                "or set the vendor creation policy to create contacts.",
                name,
            )
        )

    def _book_entry(self, context, tx_id, head, lines):
        journal = context["journals"].filtered(lambda j: j.type == "general")[:1]
        if not journal:
            raise TransactionError(self.env._("The company has no miscellaneous journal."))
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "date": head["date"],
                "ref": head["description"][:200] or tx_id,
                "narration": wave_text_as_html(head["memo"]),
                "wave_id": tx_id,
                "wave_origin": "wave",
                "line_ids": [
                    Command.create(
                        {
                            "account_id": line["account"].id,
                            "name": line["line_description"] or head["description"],
                            "debit": float(line["debit"]),
                            "credit": float(line["credit"]),
                        }
                    )
                    for line in lines
                ],
            }
        )
        move.action_post()
        return move

    def _book_bill(self, context, tx_id, head, vendor, bill_number, lines):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": vendor.id,
                "invoice_date": head["date"],
                "date": head["date"],
                "ref": bill_number or head["description"][:200],
                "narration": wave_text_as_html(head["memo"]),
                "wave_id": tx_id,
                "wave_origin": "wave",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": line["line_description"] or head["description"] or "/",
                            "account_id": line["account"].id,
                            "quantity": 1,
                            "price_unit": float(line["debit"] - line["credit"]),
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for line in lines
                ],
            }
        )
        bill.action_post()
        return bill

    def _payment_journal(self, context, line):
        journals = context["journals"]
        journal = line["mapping"].journal_id
        if not journal:
            journal = journals.filtered(
                lambda j: (
                    j.type in ("bank", "cash", "credit") and j.default_account_id == line["account"]
                )
            )[:1]
        if not journal:
            journal = journals.filtered(lambda j: j.type == "bank")[:1]
        if not journal:
            raise TransactionError(self.env._("The company has no bank journal."))
        return journal

    def _book_payments(self, context, tx_id, head, vendor, paying, bill):
        payments = self.env["account.payment"]
        rounding = context["currency"].rounding
        for index, line in enumerate(paying):
            payment = self.env["account.payment"].create(
                {
                    "payment_type": "outbound",
                    "partner_type": "supplier",
                    "partner_id": vendor.id,
                    "amount": float_round(float(line["credit"]), precision_rounding=rounding),
                    "date": head["date"],
                    "journal_id": self._payment_journal(context, line).id,
                    "memo": head["description"][:200],
                    # one payment per money account; the first one carries the id
                    "wave_id": tx_id if index == 0 else f"{tx_id}#{index}",
                    "wave_origin": "wave",
                }
            )
            # the money left from the Wave bank/card account: book it there
            payment.outstanding_account_id = line["account"]
            payment.action_post()
            payments |= payment
        if bill:
            payable = bill.line_ids.filtered(
                lambda ln: ln.account_id.account_type == "liability_payable" and not ln.reconciled
            ).account_id
            (payments.move_id.line_ids | bill.line_ids).filtered(
                lambda ln: ln.account_id in payable and not ln.reconciled
            ).reconcile()
        return payments

    # ------------------------------------------------------------------
    # Failures
    # ------------------------------------------------------------------
    def _fail(self, connection, context, result, tx_id, tx, row, reason):
        result["errors"].append({"row": row, "transaction_id": tx_id, "reason": reason})
        self._quarantine(connection, context, tx_id, tx, reason)
        result["quarantined"] += 1

    def _quarantine(self, connection, context, tx_id, tx, reason, move=None):
        payload = bounded_raw_rows([row["raw"] for row in tx["rows"]])
        existing = context["quarantines"].get(tx_id)
        # Quarantine fields are server-owned: written through the sync's path, which
        # checks the connection's company against the importing user, then sudo.
        if existing:
            existing._wave_sync_write(
                {"reasons": reason, "payload": payload, "attempts": existing.attempts + 1}
            )
            return existing
        record = self.env["wave.quarantine"]._wave_sync_create(
            [
                {
                    "name": self.env._("Export transaction %s", tx_id),
                    "connection_id": connection.id,
                    "direction": "inbound",
                    "record_type": QUARANTINE_TYPE,
                    "wave_id": tx_id,
                    "res_model": move._name if move else False,
                    "res_id": move.id if move else False,
                    "payload": payload,
                    "reasons": reason,
                    "suggested_fix": self.env._(
                        "Fix the mapping or the file, then import the file again: "
                        "transactions already booked are not booked twice."
                    ),
                }
            ]
        )
        context["quarantines"][tx_id] = record
        return record

    def _record_run(self, connection, result):
        now = fields.Datetime.now()
        # errors of rows without a Transaction ID are not transactions
        failed = len({e["transaction_id"] for e in result["errors"] if e["transaction_id"]})
        # Sync runs are server-owned: the sync's path checks the connection's
        # company against the importing user, then writes as superuser.
        self.env["wave.sync.job"]._wave_sync_create(
            [
                {
                    "name": self.env._("Export file import"),
                    "connection_id": connection.id,
                    "kind": "expense_file",
                    "direction": "inbound",
                    "trigger": "wizard",
                    "state": "partial" if result["errors"] else "done",
                    "records_total": result["transactions"],
                    "records_done": result["transactions"] - failed,
                    "records_created": result["bills"] + result["payments"] + result["entries"],
                    "records_skipped": result["existing"] + result["skipped"],
                    "records_failed": len(result["errors"]),
                    "date_started": now,
                    "date_finished": now,
                }
            ]
        )
