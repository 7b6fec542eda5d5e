# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave's accounting transactions export file, produced by the sandbox, booked in Odoo."""

import base64
import csv
import io
import json
from collections import defaultdict
from decimal import Decimal

import requests

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import WaveSandboxCommon

OWNER_TX = "owner-investment-0001"


class ExportFileCommon(WaveSandboxCommon):
    """The sandbox's export, every Wave account mapped; helpers to write and import files."""

    sandbox_invoices = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company_data["company"]
        Account = cls.env["account.account"]

        def account_of(account_type):
            return Account.search(
                [*Account._check_company_domain(company), ("account_type", "=", account_type)],
                limit=1,
            )

        cls.suspense = Account.create(
            {"name": "Wave suspense", "code": "WSUSP", "account_type": "asset_current"}
        )
        cls.card_journal = cls.env["account.journal"].create(
            {"name": "Wave card", "code": "WCARD", "type": "credit"}
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.connection.sudo().write(
            {"vendor_creation_policy": "create", "suspense_account_id": cls.suspense.id}
        )
        by_subtype = {
            "CASH_AND_BANK": (cls.bank_journal.default_account_id, cls.bank_journal),
            "CREDIT_CARD": (cls.card_journal.default_account_id, cls.card_journal),
            "PAYABLE_BILLS": (cls.company_data["default_account_payable"], None),
            "RECEIVABLE_INVOICES": (cls.company_data["default_account_receivable"], None),
        }
        by_type = {
            "ASSET": account_of("asset_current"),
            "LIABILITY": account_of("liability_current"),
            "EQUITY": account_of("equity"),
            "INCOME": cls.company_data["default_account_revenue"],
            "EXPENSE": cls.company_data["default_account_expense"],
        }
        vals_list = []
        for wave_account in cls.wave_us.accounts:
            account, journal = by_subtype.get(
                wave_account.subtype_value, (by_type[wave_account.type.value], None)
            )
            vals_list.append(
                {
                    "connection_id": cls.connection.id,
                    "wave_account_id": wave_account.id,
                    "wave_account_name": wave_account.name,
                    "wave_account_type": wave_account.type.value,
                    "wave_account_subtype": wave_account.subtype_value,
                    "account_id": account.id,
                    "journal_id": journal.id if journal else False,
                }
            )
        cls.maps = cls.env["wave.account.map"].create(vals_list)
        cls.wave_accounts = {a.name: a for a in cls.wave_us.accounts}
        cls.full_csv = cls.export()

    # ------------------------------------------------------------------
    @classmethod
    def export(cls, **params):
        response = requests.get(
            cls.sandbox.base_url + "/sandbox/export",
            params={"businessId": cls.wave_us.id, **params},
            headers={"X-Sandbox-Admin-Token": cls.sandbox.admin_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.text

    def rows(self, text):
        return list(csv.DictReader(io.StringIO(text)))

    def write_csv(self, rows):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    def owner_investment_rows(self, template):
        """A transaction without vendor (owner puts money in): a journal entry."""
        bank, equity = (
            self.wave_accounts["Checking Account"],
            self.wave_accounts["Owner Investment / Drawings"],
        )
        common = dict.fromkeys(template, "")
        common.update(
            {
                "Transaction ID": OWNER_TX,
                "Transaction Date": "2025-03-01",
                "Transaction Description": "Owner investment",
            }
        )
        return [
            dict(
                common,
                **{
                    "Account Name": bank.name,
                    "Account ID": bank.id,
                    "Debit Amount": "5000.00",
                    "Amount (One column)": "5000.00",
                },
            ),
            dict(
                common,
                **{
                    "Account Name": equity.name,
                    "Account ID": equity.id,
                    "Credit Amount": "5000.00",
                    "Amount (One column)": "-5000.00",
                },
            ),
        ]

    def import_text(self, text, encoding="utf-8", dry_run=False):
        return self.env["wave.export.file"]._import_file(
            self.connection, text.encode(encoding), dry_run=dry_run
        )

    def wave_moves(self):
        return self.env["account.move"].search(
            [("company_id", "=", self.connection.company_id.id), ("wave_origin", "=", "wave")]
        )

    def totals(self, rows):
        totals = defaultdict(Decimal)
        for row in rows:
            totals[row["Transaction ID"]] += Decimal(row["Debit Amount"] or 0)
        return totals


@tagged("post_install", "-at_install")
class TestExportFile(ExportFileCommon):
    def test_import_bills_payments_entries_then_reimport_is_noop(self):
        rows = self.rows(self.full_csv)
        rows += self.owner_investment_rows(rows[0])
        text = self.write_csv(rows)
        kinds = {t.id: t.kind for t in self.wave_us.extra_transactions}
        invoice_txs = {r["Transaction ID"] for r in rows if r["Invoice Number"]}
        self.assertTrue(invoice_txs)

        result = self.import_text(text)
        self.assertEqual(result["errors"], [])
        self.assertEqual(result["encoding"], "utf-8-sig")
        expected_bills = sum(1 for k in kinds.values() if k in ("bill", "expense"))
        expected_payments = sum(1 for k in kinds.values() if k in ("expense", "bill_payment"))
        self.assertEqual(result["bills"], expected_bills)
        self.assertEqual(result["payments"], expected_payments)
        self.assertEqual(result["entries"], 1)
        self.assertEqual(result["skipped"], len(invoice_txs))

        totals = self.totals(rows)
        bills = self.env["account.move"].search([("wave_id", "in", list(kinds))])
        self.assertEqual(len(bills), expected_bills)
        for bill in bills:
            self.assertEqual(bill.move_type, "in_invoice")
            self.assertEqual(bill.state, "posted")
            self.assertEqual(Decimal(str(bill.amount_total)), totals[bill.wave_id], bill.ref)
        expense_bills = bills.filtered(lambda b: kinds[b.wave_id] == "expense")
        self.assertTrue(expense_bills)
        self.assertEqual(set(expense_bills.mapped("payment_state")), {"paid"})
        paid_bill_numbers = {
            t.bill_number for t in self.wave_us.extra_transactions if t.kind == "bill_payment"
        }
        for bill in bills.filtered(lambda b: kinds[b.wave_id] == "bill"):
            expected = "paid" if bill.ref in paid_bill_numbers else "not_paid"
            self.assertEqual(bill.payment_state, expected, bill.ref)
        payments = self.env["account.payment"].search([("wave_id", "in", list(kinds))])
        self.assertEqual(len(payments), expected_payments)
        self.assertTrue(all(p.is_reconciled for p in payments))
        self.assertEqual(set(payments.mapped("state")), {"paid"})
        card = payments.filtered(lambda p: p.journal_id == self.card_journal)
        self.assertTrue(card, "card expenses are paid from the card journal")
        self.assertEqual(card.outstanding_account_id, self.card_journal.default_account_id)
        entry = self.env["account.move"].search([("wave_id", "=", OWNER_TX)])
        self.assertRecordValues(
            entry, [{"move_type": "entry", "state": "posted", "amount_total": 5000.0}]
        )
        self.assertEqual(entry.journal_id.type, "general")
        vendors = {t.vendor.name for t in self.wave_us.extra_transactions}
        self.assertEqual(set(bills.partner_id.mapped("name")), vendors)

        moves_before = len(self.wave_moves())
        payments_before = self.env["account.payment"].search_count([])
        again = self.import_text(text)
        self.assertEqual(
            (again["bills"], again["payments"], again["entries"], again["errors"]), (0, 0, 0, [])
        )
        self.assertEqual(again["existing"], len(kinds) + 1)
        self.assertEqual(len(self.wave_moves()), moves_before)
        self.assertEqual(self.env["account.payment"].search_count([]), payments_before)
        runs = self.env["wave.sync.job"].search([("kind", "=", "expense_file")])
        self.assertEqual(len(runs), 2)

    def booked_ids(self):
        domain = [("company_id", "=", self.connection.company_id.id), ("wave_origin", "=", "wave")]
        return set(self.env["account.move"].search(domain).mapped("wave_id")) | set(
            self.env["account.payment"].search(domain).mapped("wave_id")
        )

    def test_overlapping_file_adds_only_new_transactions(self):
        extra = sorted(self.wave_us.extra_transactions, key=lambda t: t.date)
        cut = extra[1].date
        first = self.import_text(self.export(end=cut.isoformat()))
        self.assertEqual(first["errors"], [])
        self.assertEqual(self.booked_ids(), {t.id for t in extra if t.date <= cut})
        second = self.import_text(self.export(start=extra[0].date.isoformat()))
        self.assertEqual(second["errors"], [])
        self.assertEqual(second["existing"], len([t for t in extra if t.date <= cut]))
        self.assertEqual(self.booked_ids(), {t.id for t in extra})

    def test_bad_rows_are_reported_and_quarantined(self):
        rows = self.rows(self.full_csv)
        by_kind = {t.kind: t for t in self.wave_us.extra_transactions}
        expense = next(t for t in self.wave_us.extra_transactions if t.kind == "expense")
        bill = by_kind["bill"]
        # unbalanced: the expense's debit grows by one cent
        expense_rows = [r for r in rows if r["Transaction ID"] == expense.id]
        debit_row = next(r for r in expense_rows if r["Debit Amount"])
        debit_row["Debit Amount"] = str(Decimal(debit_row["Debit Amount"]) + Decimal("0.01"))
        # unknown account on the bill
        bill_row = next(r for r in rows if r["Transaction ID"] == bill.id and r["Debit Amount"])
        bill_row.update({"Account ID": "QWNjb3VudDpub3BlPQ==", "Account Name": "Nope Account"})
        # malformed: a bad amount and a bad date in the owner investment
        extra = self.owner_investment_rows(rows[0])
        extra[0]["Debit Amount"] = "12,3x"
        extra[1]["Transaction Date"] = "31.02.2025"
        no_id = dict(extra[0], **{"Transaction ID": "", "Debit Amount": "1.00"})
        text = self.write_csv(rows + extra + [no_id])
        text += "short,row\n"  # wrong number of columns

        result = self.import_text(text)
        errors = {e["transaction_id"]: e for e in result["errors"]}
        self.assertIn("Unbalanced", errors[expense.id]["reason"])
        self.assertIn("Nope Account", errors[bill.id]["reason"])
        self.assertIn("Invalid amount", errors[OWNER_TX]["reason"])
        self.assertIn("Invalid date", errors[OWNER_TX]["reason"])
        self.assertIn("No Transaction ID", errors[""]["reason"])
        self.assertIn("short", errors)  # the short row's first field is its transaction id
        self.assertIn("wrong number of columns", errors["short"]["reason"])
        line_numbers = {r["Transaction ID"]: i + 2 for i, r in reversed(list(enumerate(rows)))}
        self.assertEqual(errors[expense.id]["row"], line_numbers[expense.id])
        # nothing half-imported: no bill, no payment for the bad transactions
        bad = [expense.id, bill.id, OWNER_TX, "short"]
        self.assertFalse(self.env["account.move"].search([("wave_id", "in", bad)]))
        self.assertFalse(self.env["account.payment"].search([("wave_id", "in", bad)]))
        quarantine = self.env["wave.quarantine"].search([("wave_id", "in", bad)])
        self.assertEqual(len(quarantine), 4)
        self.assertTrue(all(q.payload["rows"] for q in quarantine))
        # the good ones went through
        self.assertTrue(result["bills"] + result["payments"])
        again = self.import_text(text)
        self.assertEqual(len(again["errors"]), len(result["errors"]))
        quarantine = self.env["wave.quarantine"].search([("wave_id", "in", bad)])
        self.assertEqual(len(quarantine), 4, "re-import updates the quarantine, no duplicate")
        self.assertEqual(set(quarantine.mapped("attempts")), {2})

    def test_cp1252_file_is_decoded(self):
        rows = self.rows(self.full_csv)
        expense = next(t for t in self.wave_us.extra_transactions if t.kind == "expense")
        rows = [r for r in rows if r["Transaction ID"] == expense.id]
        for row in rows:
            row["Vendor"] = "Café Déjà Vu €"
        result = self.import_text(self.write_csv(rows), encoding="cp1252")
        self.assertEqual(result["encoding"], "cp1252")
        self.assertEqual(result["errors"], [])
        bill = self.env["account.move"].search([("wave_id", "=", expense.id)])
        self.assertEqual(bill.partner_id.name, "Café Déjà Vu €")

    def test_unmapped_account_goes_to_suspense_and_quarantine(self):
        expense = next(t for t in self.wave_us.extra_transactions if t.kind == "expense")
        expense_account = next(acc for acc, debit, _c, _d in expense.lines if debit)
        self.maps.filtered(lambda m: m.wave_account_id == expense_account.id).account_id = False
        rows = [r for r in self.rows(self.full_csv) if r["Transaction ID"] == expense.id]
        result = self.import_text(self.write_csv(rows))
        self.assertEqual(result["errors"], [])
        self.assertEqual(len(result["warnings"]), 1)
        bill = self.env["account.move"].search([("wave_id", "=", expense.id)])
        self.assertEqual(bill.invoice_line_ids.account_id, self.suspense)
        quarantine = self.env["wave.quarantine"].search([("wave_id", "=", expense.id)])
        self.assertEqual((quarantine.res_model, quarantine.res_id), ("account.move", bill.id))

    def test_vendor_review_policy_blocks_the_bill(self):
        self.connection.sudo().vendor_creation_policy = "review"
        bill = next(t for t in self.wave_us.extra_transactions if t.kind == "bill")
        rows = [r for r in self.rows(self.full_csv) if r["Transaction ID"] == bill.id]
        result = self.import_text(self.write_csv(rows))
        self.assertEqual(len(result["errors"]), 1)
        self.assertIn(bill.vendor.name, result["errors"][0]["reason"])
        self.assertFalse(self.env["account.move"].search([("wave_id", "=", bill.id)]))

    def test_wizard_dry_run_then_import(self):
        data = base64.b64encode(self.full_csv.encode())
        Wizard = self.env["wave.export.file.import"]
        dry = Wizard.create(
            {"connection_id": self.connection.id, "data_file": data, "dry_run": True}
        )
        dry.action_import()
        self.assertEqual(dry.state, "done")
        self.assertTrue(dry.bills_count)
        self.assertFalse(self.wave_moves(), "a dry run books nothing")
        self.assertFalse(self.env["wave.sync.job"].search([("kind", "=", "expense_file")]))
        wizard = Wizard.create({"connection_id": self.connection.id, "data_file": data})
        wizard.action_import()
        self.assertEqual(
            (wizard.bills_count, wizard.payments_count, wizard.error_count),
            (dry.bills_count, dry.payments_count, 0),
        )
        self.assertEqual(len(self.wave_moves()), wizard.bills_count + wizard.entries_count)

    # ------------------------------------------------------------------
    # Hostile files
    # ------------------------------------------------------------------
    def expense_rows(self, rows=None):
        expense = next(t for t in self.wave_us.extra_transactions if t.kind == "expense")
        rows = rows if rows is not None else self.rows(self.full_csv)
        return expense, [r for r in rows if r["Transaction ID"] == expense.id]

    def one_column(self, rows):
        return [
            {k: v for k, v in row.items() if k not in ("Debit Amount", "Credit Amount")}
            for row in rows
        ]

    def test_file_size_limit(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "wave_accounting_integration.export_file_max_size", "2048"
        )
        text = self.full_csv + "\n" * 4096
        with self.assertRaisesRegex(UserError, "too large"):
            self.import_text(text)
        wizard = self.env["wave.export.file.import"].create(
            {"connection_id": self.connection.id, "data_file": base64.b64encode(text.encode())}
        )
        with self.assertRaisesRegex(UserError, "too large"):
            wizard.action_import()
        self.assertFalse(self.wave_moves())
        self.assertFalse(self.env["wave.sync.job"].search([("kind", "=", "expense_file")]))

    def test_default_size_limit_is_five_mebibytes(self):
        text = "Transaction ID,Transaction Date\n" + "x" * (5 * 1024 * 1024)
        with self.assertRaisesRegex(UserError, "too large"):
            self.import_text(text)

    def test_amounts_are_parsed_strictly(self):
        template = self.rows(self.full_csv)[0]
        good = self.owner_investment_rows(template)
        bad_ids, bad_rows = {}, []
        for value in ("1e400", "1E5", "nan", "inf", "-Infinity", "12,5", "1,2,3", "9" * 400):
            rows = self.owner_investment_rows(template)
            tx_id = f"bad-amount-{len(bad_ids)}"
            for row in rows:
                row["Transaction ID"] = tx_id
            rows[0]["Debit Amount"] = value
            rows[1]["Credit Amount"] = value
            bad_ids[tx_id] = value
            bad_rows += rows
        result = self.import_text(self.write_csv(good + bad_rows))
        errors = {e["transaction_id"]: e["reason"] for e in result["errors"]}
        self.assertEqual(set(errors), set(bad_ids))
        self.assertTrue(all("Invalid amount" in reason for reason in errors.values()))
        self.assertEqual(result["entries"], 1, "the good transaction is booked")
        self.assertFalse(self.env["account.move"].search([("wave_id", "in", list(bad_ids))]))
        # one amount column: a negative amount is a number, not a formula
        rows = self.one_column(self.owner_investment_rows(template))
        for row in rows:
            row["Transaction ID"] = "one-column-tx"
        rows[0]["Amount (One column)"] = "1,000.00"
        rows[1]["Amount (One column)"] = "-1,000.00"
        result = self.import_text(self.write_csv(rows))
        self.assertEqual((result["entries"], result["errors"]), (1, []))
        entry = self.env["account.move"].search([("wave_id", "=", "one-column-tx")])
        self.assertEqual(entry.amount_total, 1000.0)

    def test_nul_and_undecodable_bytes_refused_per_row(self):
        template = self.rows(self.full_csv)[0]
        expense, expense_rows = self.expense_rows()
        for row in expense_rows:
            row["Vendor"] = "Café Déjà Vu"
        nul_rows = self.owner_investment_rows(template)
        nul_rows[0]["Transaction Description"] = "owner\x00investment"
        bytes_rows = self.owner_investment_rows(template)
        for row in bytes_rows:
            row["Transaction ID"] = "bytes-tx"
        bytes_rows[1]["Transaction Description"] = "BADBYTES"
        data = self.write_csv(expense_rows + nul_rows + bytes_rows).encode()
        data = data.replace(b"BADBYTES", b"bad \xff\xfe bytes")
        result = self.env["wave.export.file"]._import_file(self.connection, data)
        errors = {e["transaction_id"]: e["reason"] for e in result["errors"]}
        self.assertEqual(set(errors), {OWNER_TX, "bytes-tx"})
        self.assertIn("NUL character", errors[OWNER_TX])
        self.assertIn("not text in the file's encoding", errors["bytes-tx"])
        refused = [OWNER_TX, "bytes-tx"]
        self.assertFalse(self.env["account.move"].search([("wave_id", "in", refused)]))
        # the other rows are read as UTF-8 and booked
        self.assertEqual(result["encoding"], "utf-8-sig")
        bill = self.env["account.move"].search([("wave_id", "=", expense.id)])
        self.assertEqual(bill.partner_id.name, "Café Déjà Vu")
        quarantine = self.env["wave.quarantine"].search([("wave_id", "in", refused)])
        self.assertEqual(len(quarantine), 2)
        payload = json.dumps([q.payload for q in quarantine])
        self.assertNotIn("\\u0000", payload)
        self.assertIn("\\ufffd", payload)

    def test_formula_cells_neutralised(self):
        expense, rows = self.expense_rows()
        for row in rows:
            row.update(
                {
                    "Vendor": '=HYPERLINK("http://evil.example","x")',
                    "Transaction Description": "+cmd|' /C calc'!A0",
                    "Transaction Line Description": "@SUM(1+1)",
                    "Notes / Memo": "-2+3",
                }
            )
        result = self.import_text(self.write_csv(rows))
        self.assertEqual(result["errors"], [])
        bill = self.env["account.move"].search([("wave_id", "=", expense.id)])
        self.assertEqual(bill.partner_id.name, '\'=HYPERLINK("http://evil.example","x")')
        self.assertEqual(bill.ref, "'+cmd|' /C calc'!A0")
        self.assertEqual(set(bill.invoice_line_ids.mapped("name")), {"'@SUM(1+1)"})
        self.assertIn("'-2+3", bill.narration)
        # quarantined rows are neutralised too; numbers stay numbers
        bad = self.owner_investment_rows(self.rows(self.full_csv)[0])
        bad[0].update({"Account Name": "=1+1", "Account ID": "=1+1", "Debit Amount": "-5.00"})
        self.import_text(self.write_csv(bad))
        quarantine = self.env["wave.quarantine"].search([("wave_id", "=", OWNER_TX)])
        raw = quarantine.payload["rows"][0]
        self.assertEqual((raw["Account Name"], raw["Debit Amount"]), ("'=1+1", "-5.00"))

    def test_quarantine_payload_is_bounded(self):
        rows = self.owner_investment_rows(self.rows(self.full_csv)[0])
        rows = [dict(rows[0], **{"Transaction Description": "d" * 1500}) for _i in range(100)]
        result = self.import_text(self.write_csv(rows))
        self.assertIn("Unbalanced", result["errors"][0]["reason"])
        quarantine = self.env["wave.quarantine"].search([("wave_id", "=", OWNER_TX)])
        payload = quarantine.payload
        self.assertEqual(len(payload["rows"]), 20)
        self.assertEqual(payload["rows_left_out"], 80)
        self.assertLessEqual(max(len(v) for row in payload["rows"] for v in row.values()), 200)
        self.assertLess(len(json.dumps(payload)), 100 * 1024)

    def test_rows_without_transaction_id_do_not_break_the_run_record(self):
        rows = self.owner_investment_rows(self.rows(self.full_csv)[0])
        no_id = [dict(rows[0], **{"Transaction ID": ""}) for _i in range(3)]
        result = self.import_text(self.write_csv(rows + no_id))
        self.assertEqual((result["entries"], len(result["errors"])), (1, 3))
        run = self.env["wave.sync.job"].search([("kind", "=", "expense_file")])
        self.assertRecordValues(run, [{"records_total": 1, "records_done": 1, "records_failed": 3}])

    def test_entry_without_description_is_referenced_by_its_transaction_id(self):
        """Found by the export-file fuzz: a journal entry whose rows have no description
        raised a KeyError (a server error) instead of using the transaction id."""
        rows = self.owner_investment_rows(self.rows(self.full_csv)[0])
        rows = [dict(row, **{"Transaction Description": ""}) for row in rows]
        result = self.import_text(self.write_csv(rows))
        self.assertEqual((result["entries"], result["errors"]), (1, []))
        entry = self.wave_moves().filtered(lambda m: m.wave_id == OWNER_TX)
        self.assertEqual(entry.ref, OWNER_TX)

    def test_row_that_cannot_be_told_apart_refuses_the_file(self):
        """Found by the export-file fuzz (``WAVE_FUZZ_SEED=446741205``): with the
        Transaction ID column twice in the header, a row cut short lost its id (the csv
        reader keeps the last, missing, cell) and its transaction was booked from the
        other rows plus a copied one. A duplicated column, or a row cut before its
        Transaction ID, now refuses the whole file: nothing is booked."""
        rows = self.owner_investment_rows(self.rows(self.full_csv)[0])
        columns = list(rows[0])
        header = ",".join(f'"{c}"' for c in [*columns, "Transaction ID"])

        def line(row, cut=False):
            values = [row[c] for c in columns] + [row["Transaction ID"]]
            values = values[: len(values) // 2] if cut else values
            return ",".join(f'"{v}"' for v in values)

        # The first row twice (a copy), then cut short: the copy and the second row
        # balance, so only the cut row's loss makes the transaction wrong.
        text = "\n".join([header, line(rows[0]), line(rows[0], cut=True), line(rows[1])])
        # one column twice: the sentence is in the singular
        with self.assertRaisesRegex(UserError, "The column Transaction ID appears more than once"):
            self.import_text(text + "\n")
        self.assertFalse(self.wave_moves())
        # The same rows with the columns reversed: the cut row has no Transaction ID.
        columns.reverse()
        header = ",".join(f'"{c}"' for c in columns)
        cut = ",".join(f'"{rows[0][c]}"' for c in columns[: len(columns) // 2])
        full = [",".join(f'"{row[c]}"' for c in columns) for row in rows]
        with self.assertRaisesRegex(UserError, "Line 3 of the file is cut short"):
            self.import_text("\n".join([header, full[0], cut, *full[1:]]) + "\n")
        self.assertFalse(self.wave_moves())
        # A column the import does not read may appear twice.
        columns = [*rows[0], "Extra", "Extra"]
        text = "\n".join(
            [
                ",".join(columns),
                *(",".join([*(f'"{row[c]}"' for c in rows[0]), "", ""]) for row in rows),
            ]
        )
        self.assertEqual(self.import_text(text + "\n")["entries"], 1)
