# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Export-file fuzzing: generated files through the importer and its wizard.

Runs in the pytest-odoo session. Hypothesis starts from a real export of the Wave
sandbox (an expense, a bill and an owner investment) and changes it: encodings
(UTF-8 with and without BOM, UTF-16, Windows-1252, Latin-1), bytes that are not
text, NUL characters, formula cells, numbers (``1e400``, ``nan``, thousands
separators, 400 digits, ...), dates, long cells, missing and extra columns, short
and long rows, and sizes around the file size limit. ``WAVE_EXPORT_FUZZ_EXAMPLES``
files (default 100); each one is imported inside a savepoint rolled back after it.

Expected: no server error (only a UserError or ValidationError with a plain
message, or per-transaction errors and quarantine); nothing booked from a row that
must be refused; nothing booked at all when the file is refused; what is booked
and quarantined is neutralised and bounded.

The seed differs per run (``WAVE_FUZZ_SEED`` fixes it); it is logged and written
in every failure message.
"""

import base64
import io
import json
import logging
import os
import random

from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from odoo.addons.wave_accounting_integration.tests import security_tally as tally
from odoo.addons.wave_accounting_integration.tests.security_tally import TallyMixin
from odoo.addons.wave_accounting_integration.tests.test_export_file import ExportFileCommon
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

EXAMPLES = int(os.environ.get("WAVE_EXPORT_FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("WAVE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
SIZE_LIMIT = 16 * 1024  # set for the run, so that sizes around the limit are cheap
BAD_BYTES = "\ue000BADBYTES\ue000"  # replaced by raw bytes after encoding
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1")
ID = "Transaction ID"

# (kind, value, must the row be refused?)
refused_cells = st.one_of(
    st.tuples(st.just("nul"), st.text(max_size=10).map(lambda t: t + "\x00" + t)),
    st.tuples(st.just("bytes"), st.just(BAD_BYTES)),
    st.tuples(st.just("long"), st.integers(2001, 6000).map(lambda n: "l" * n)),
)
refused_amounts = st.sampled_from(
    [
        *("1e400", "-1e400", "1E5", "nan", "NaN", "inf", "-Infinity", "12,5", "1,2,3"),
        *("9" * 400, "1.1234567", "(-1.00)", "--1", "0x10", "1_000", "١٢٣", "1.2.3", "$$1"),
    ]
)
refused_dates = st.sampled_from(["0001-01-01", "9999-12-31", "2025-02-30", "31.02.2025", "x"])
free_cells = st.one_of(
    st.tuples(
        st.just("formula"),
        st.sampled_from(FORMULA_STARTS).flatmap(
            lambda start: st.text(max_size=30).map(lambda t: start + t)
        ),
    ),
    st.tuples(st.just("unicode"), st.text(max_size=50)),
    st.tuples(st.just("text"), st.sampled_from(["", " ", "\u202e", "<b>x</b>", "'; --", '"'])),
)
mutation = st.one_of(
    st.tuples(st.just("refused"), refused_cells, st.sampled_from(["text", "any"])),
    st.tuples(st.just("amount"), refused_amounts, st.just("amount")),
    st.tuples(st.just("date"), refused_dates, st.just("date")),
    st.tuples(st.just("free"), free_cells, st.sampled_from(["text", "any"])),
)
files = st.fixed_dictionaries(
    {
        "encoding": st.sampled_from(ENCODINGS),
        "cells": st.lists(st.tuples(st.integers(0, 50), mutation), max_size=6),
        "header": st.sampled_from(["keep", "drop", "extra", "duplicate", "reorder", "garbage"]),
        "header_pick": st.integers(0, 50),
        "rows": st.lists(
            st.tuples(st.integers(0, 50), st.sampled_from(["short", "long", "blank", "copy"])),
            max_size=3,
        ),
        "repeat": st.sampled_from([1, 1, 1, 2, 4, 40, 200]),
        "via_wizard": st.booleans(),
    }
)


def neutralised(text):
    return not text or not text.startswith(FORMULA_STARTS) or text.startswith("'")


@tagged("post_install", "-at_install", "wave_fuzz")
class TestExportFileFuzz(TallyMixin, ExportFileCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rows = cls.rows(cls, cls.full_csv)
        kinds = {t.id: t.kind for t in cls.wave_us.extra_transactions}
        keep = {}
        for tx_id, kind in kinds.items():
            keep.setdefault(kind, tx_id)
        chosen = {keep[kind] for kind in ("expense", "bill") if kind in keep}
        cls.base_rows = [r for r in rows if r[ID] in chosen]
        cls.base_rows += cls.owner_investment_rows(cls, rows[0])
        cls.columns = list(cls.base_rows[0])

    def build(self, spec):
        """``(bytes, {transaction ids that must not be booked})``."""
        rows = [dict(row) for row in self.base_rows] * spec["repeat"]  # copies share dicts
        columns = self.header(spec)
        has_split = "Debit Amount" in columns and "Credit Amount" in columns
        unread = {"Amount (One column)"} if has_split else {"Debit Amount", "Credit Amount"}
        read = set(columns) - unread
        final = {}  # (row, column) -> (group, value): the last change of a cell wins
        amount_columns = ("Debit Amount", "Credit Amount", "Amount (One column)")
        for index, (group, value, where) in spec["cells"]:
            row = rows[index % len(rows)]
            if group in ("refused", "free"):
                value = value[1]
            if where == "amount":
                column = amount_columns[index % 3]
            elif where == "date":
                column = "Transaction Date"
            else:
                others = [c for c in self.columns if c != ID or group == "free"]
                column = others[index % len(others)]
            final[(id(row), column)] = (row, group, value)
        refused = set()
        for (_row_id, column), (row, group, value) in final.items():
            if column == ID and column in read:
                refused.add(row[ID])  # its other rows stay behind: unbalanced
            elif group != "free" and column in read:
                refused.add(row[ID])
            row[column] = value
        text = self.write(rows, columns, spec["rows"], refused)
        encoding = spec["encoding"]
        data = text.encode(encoding, errors="replace")
        if encoding.startswith("utf-16"):
            marker, bad = BAD_BYTES.encode("utf-16-le"), b"\x00\xd8"  # a lone surrogate
        else:
            marker = BAD_BYTES.encode(encoding.replace("-sig", ""), "replace")
            bad = b"\xff\x81\xfe"
        return data.replace(marker, bad), refused

    def header(self, spec):
        columns = list(self.columns)
        pick = columns[spec["header_pick"] % len(columns)]
        if spec["header"] == "drop":
            columns.remove(pick)
        elif spec["header"] == "extra":
            columns.append("Extra \x00 column" if spec["header_pick"] % 2 else "Extra")
        elif spec["header"] == "duplicate":
            columns.append(pick)
        elif spec["header"] == "reorder":
            columns.reverse()
        elif spec["header"] == "garbage":
            columns[0] = "=" + columns[0]
        return columns

    @staticmethod
    def write(rows, columns, row_changes, refused):
        buffer = io.StringIO()
        buffer.write(",".join(f'"{c}"' for c in columns) + "\n")
        for index, row in enumerate(rows):
            values = ['"{}"'.format(str(row.get(c, "")).replace('"', '""')) for c in columns]
            for row_index, change in row_changes:
                if row_index % len(rows) != index:
                    continue
                if change == "short":
                    values = values[: len(values) // 2]
                    refused.add(row.get(ID))
                elif change == "long":
                    values += ['"surplus"']
                    refused.add(row.get(ID))
                elif change == "blank":
                    buffer.write("\n")
                else:  # a copy: doubled amounts, most likely unbalanced
                    buffer.write(",".join(values) + "\n")
            buffer.write(",".join(values) + "\n")
        return buffer.getvalue()

    def wave_ids(self):
        self.env.invalidate_all()
        domain = [("wave_origin", "=", "wave")]
        return set(self.env["account.move"].search(domain).mapped("wave_id")) | set(
            self.env["account.payment"].search(domain).mapped("wave_id")
        )

    def run_import(self, data, via_wizard):
        if via_wizard:
            wizard = self.env["wave.export.file.import"].create(
                {"connection_id": self.connection.id, "data_file": base64.b64encode(data)}
            )
            wizard.action_import()
            return {
                "errors": [
                    {"transaction_id": m.transaction_id or "", "reason": m.reason}
                    for m in wizard.message_ids.filtered(lambda m: m.level == "error")
                ]
            }
        return self.env["wave.export.file"]._import_file(self.connection, data)

    def check_one(self, spec, seed_note, outcomes):
        data, refused = self.build(spec)
        note(f"{seed_note}; {len(data)} bytes; must refuse {sorted(map(str, refused))[:5]}")
        before = self.wave_ids()
        attack = "export file: sizes, encodings, numbers, formula cells"
        try:
            result = self.run_import(data, spec["via_wizard"])
        except (UserError, ValidationError) as error:
            tally.record(attack, tally.classify(True, self.wave_ids() != before))
            message = str(error.args[0] if error.args else error)
            self.assertTrue(message, seed_note)
            self.assertNotIn("Traceback", message, seed_note)
            self.assertLess(len(message), 1000, seed_note)
            self.assertEqual(self.wave_ids(), before, (seed_note, "refused file booked"))
            outcomes["refused file"] = outcomes.get("refused file", 0) + 1
            return
        except Exception:
            tally.record(attack, "server_error")
            raise
        booked = self.wave_ids() - before
        leaked = {tx_id for tx_id in booked if tx_id.split("#")[0] in refused}
        # A file with refused rows is refused for those rows (a plain reason each);
        # booking one of them is a leak.
        if leaked:
            outcome = "leak"
        elif refused or result["errors"]:
            outcome = "refused"
        else:
            outcome = "accepted"
        tally.record(attack, outcome)
        self.assertFalse(leaked, (seed_note, "booked from a refused row", leaked))
        for error in result["errors"]:
            self.assertTrue(error["reason"], seed_note)
            self.assertNotIn("Traceback", error["reason"], seed_note)
        moves = self.env["account.move"].search([("wave_id", "in", list(booked))])
        texts = [*moves.mapped("ref"), *moves.partner_id.mapped("name")]
        texts += moves.invoice_line_ids.mapped("name")
        self.assertTrue(all(neutralised(text) for text in texts), (seed_note, texts))
        quarantine = self.env["wave.quarantine"].search([])
        sizes = [len(json.dumps(q.payload)) for q in quarantine]
        self.assertLess(max(sizes, default=0), 100 * 1024, seed_note)
        key = "booked" if booked else "nothing booked"
        outcomes[key] = outcomes.get(key, 0) + 1

    def test_fuzz_export_files(self):
        seed_note = f"WAVE_FUZZ_SEED={SEED}"
        logging.getLogger(__name__).warning("export file fuzz seed: %s", seed_note)
        self.env["ir.config_parameter"].sudo().set_param(
            "wave_accounting_integration.export_file_max_size", str(SIZE_LIMIT)
        )
        outcomes = {}

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(files)
        def one_file(spec):
            savepoint = self.env.cr.savepoint()
            try:
                self.check_one(spec, seed_note, outcomes)
            finally:
                savepoint.close(rollback=True)
                self.env.invalidate_all()

        one_file()
        logging.getLogger(__name__).warning("export file fuzz: %s (%s)", outcomes, seed_note)
        self.assertGreaterEqual(sum(outcomes.values()), EXAMPLES, seed_note)
        if EXAMPLES >= 50:
            for outcome in ("refused file", "booked"):
                self.assertTrue(outcomes.get(outcome), (seed_note, outcomes))
