# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Books match Wave on real-world data (issue 16): decimals, currencies, counters,
deleted ids answered in other shapes, pages that shift, values Wave's enums lack.

Every check reads the sandbox's own records or the database, never the counters
or reports of the code under test.
"""

import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from odoo.tests import tagged

from ..services import inbound_poller
from .books_common import WaveBooksCommon
from .test_outbound import OutboundCommon

# Wave prices and quantities Odoo rounds with its default 2 decimals.
FRACTIONAL_LINES = [
    [("0.335", "3"), ("33.333", "2")],
    [("1.23456", "7"), ("12.5", "0.333")],
    [("0.335", "0.333"), ("33.333", "1.5"), ("1.23456", "10")],
]


@tagged("post_install", "-at_install")
class TestBooksMatchInbound(WaveBooksCommon):
    sandbox_invoices = 24
    sandbox_customers = 6
    sandbox_vendors = 23

    # helpers -----------------------------------------------------------------
    def wave_invoice(self, lines, status="SAVED", **extra):
        items = [
            {
                "productId": self.product.id,
                "unitPrice": Decimal(price),
                "quantity": Decimal(qty),
                "taxes": [],
            }
            for price, qty in lines
        ]
        data = dict(
            customerId=self.customer.id,
            invoiceDate=self.today,
            dueDate=self.today + dt.timedelta(days=30),
            items=items,
            status=status,
            **extra,
        )
        with self.state.lock:
            return self.ops.create_invoice(self.state, self.wave_us, data)

    def move_of(self, invoice):
        return self.env["account.move"].search([("wave_id", "=", invoice.id)])

    def open_entries(self, invoice):
        return self.env["wave.quarantine"].search(
            [("wave_id", "=", invoice.id), ("state", "=", "open")]
        )

    def digits(self):
        self.env.cr.execute(
            "SELECT name, digits FROM decimal_precision WHERE name IN "
            "('Product Price', 'Product Unit of Measure')"
        )
        return dict(self.env.cr.fetchall())

    def set_inactive(self, code):
        currency = self.env.ref(f"base.{code}")
        currency.active = False
        return currency

    def sync_job(self):
        return (
            self.env["wave.sync.job"]
            .sudo()
            .create(
                {
                    "name": "poll",
                    "connection_id": self.connection.id,
                    "kind": "vendors",
                    "direction": "inbound",
                    "trigger": "manual",
                }
            )
        )

    # 1. decimal precision -------------------------------------------------------
    def test_install_keeps_wave_decimals(self):
        """The addon's install raised both precisions to Wave's 5 decimals (database)."""
        self.assertEqual(self.digits(), {"Product Price": 5, "Product Unit of Measure": 5})

    def test_fractional_prices_and_quantities_match_wave_to_the_cent(self):
        invoices = [self.wave_invoice(lines) for lines in FRACTIONAL_LINES]
        self.env["wave.invoice.importer"]._import_by_ids(
            self.connection, [inv.id for inv in invoices]
        )
        for invoice, lines in zip(invoices, FRACTIONAL_LINES, strict=True):
            move = self.move_of(invoice)
            self.assertEqual(move.state, "posted", self.open_entries(invoice).reasons)
            self.assertEqual(f"{move.amount_total:.2f}", invoice.total.value)
            self.assertEqual(
                [
                    (Decimal(str(line.price_unit)), Decimal(str(line.quantity)))
                    for line in move.invoice_line_ids
                ],
                [(Decimal(price), Decimal(qty)) for price, qty in lines],
            )

    def test_low_precision_quarantines_with_the_real_cause(self):
        self.env.ref("product.decimal_price").digits = 2
        invoice = self.wave_invoice(FRACTIONAL_LINES[1])
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [invoice.id])
        self.assertFalse(self.move_of(invoice))
        entry = self.open_entries(invoice)
        self.assertEqual(len(entry), 1)
        self.assertIn("1.23456", entry.reasons)
        self.assertIn("Product Price", entry.reasons)
        self.assertNotIn("sales tax", (entry.suggested_fix or "").lower())
        # the go-live checklist says so and its fix raises the precision
        checklist = self.env["wave.golive.checklist"].create({"connection_id": self.connection.id})
        checklist._run_checks()
        line = checklist.line_ids.filtered(lambda c: c.code == "precision")
        self.assertEqual((line.state, line.fix), ("fail", "precision"))
        line.action_fix()
        self.assertEqual(self.digits()["Product Price"], 5)
        self.assertEqual(checklist.line_ids.filtered(lambda c: c.code == "precision").state, "ok")
        entry.action_replay()
        self.assertEqual(f"{self.move_of(invoice).amount_total:.2f}", invoice.total.value)

    # 2. inactive currencies ---------------------------------------------------
    def test_default_policy_activates_the_currency(self):
        self.assertEqual(self.connection.currency_policy, "activate")
        chf = self.set_inactive("CHF")
        invoice = self.wave_invoice([("40", "2")], currency="CHF")
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [invoice.id])
        self.assertTrue(chf.active)
        move = self.move_of(invoice)
        self.assertEqual((move.state, move.currency_id), ("posted", chf))
        self.assertEqual(f"{move.amount_total:.2f}", invoice.total.value)

    def test_ask_policy_quarantines_with_a_one_click_fix(self):
        self.connection.currency_policy = "ask"
        sek = self.set_inactive("SEK")
        invoice = self.wave_invoice([("100", "1")], currency="SEK")
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [invoice.id])
        self.assertFalse(self.move_of(invoice))
        entry = self.open_entries(invoice)
        self.assertIn("SEK", entry.reasons)
        self.assertEqual(entry.fix_currency_id, sek)
        self.assertFalse(sek.active)
        entry.with_user(self.wave_accountant).action_activate_currency_and_replay()
        self.assertTrue(sek.active)
        self.assertEqual(entry.state, "resolved")
        self.assertEqual(f"{self.move_of(invoice).amount_total:.2f}", invoice.total.value)

    def test_preview_and_checklist_list_the_inactive_currencies(self):
        self.set_inactive("CHF")
        self.wave_invoice([("40", "2")], currency="CHF")
        wizard = self.env["wave.historical.import"].create(
            {"connection_id": self.connection.id, "date_from": self.today, "date_to": self.today}
        )
        wizard.action_preview()
        self.assertIn("CHF", wizard.currency_preview.splitlines()[0])
        self.assertIn("CHF", wizard.currency_preview.splitlines()[1])
        self.assertIn("activated", wizard.currency_preview.splitlines()[1])
        self.connection.currency_policy = "ask"
        wizard.action_preview()
        self.assertIn("quarantine", wizard.currency_preview.splitlines()[1])
        checklist = self.env["wave.golive.checklist"].create({"connection_id": self.connection.id})
        checklist._run_checks()
        line = checklist.line_ids.filtered(lambda c: c.code == "currencies")
        self.assertEqual((line.state, line.fix), ("warning", "currencies"))
        self.assertIn("CHF", line.message)
        line.action_fix()
        self.assertTrue(self.env.ref("base.CHF").active)
        line = checklist.line_ids.filtered(lambda c: c.code == "currencies")
        self.assertEqual(line.state, "ok")

    # 4. deletion detection with another NOT_FOUND shape -------------------------
    def test_deleted_invoice_found_whatever_the_not_found_shape(self):
        self.connection.import_draft_invoices = True
        for shape in ("wave", "bare"):
            draft = self.wave_invoice([("10", "1")], status="DRAFT")
            self.env["wave.invoice.importer"]._import_by_ids(self.connection, [draft.id])
            self.assertEqual(self.move_of(draft).state, "draft")
            with self.state.lock:
                self.ops.delete_invoice(self.state, draft)
            self.sandbox.configure(not_found_shape=shape)
            try:
                self.env["wave.invoice.importer"]._import_by_ids(self.connection, [draft.id])
            finally:
                self.sandbox.configure(not_found_shape="wave")
            self.assertEqual(self.move_of(draft).state, "cancel", shape)

    # 5. the parent run's counters ---------------------------------------------
    def test_parent_run_sums_its_chunks(self):
        self.env["ir.config_parameter"].set_param("wave_accounting_integration.import_page_size", 4)
        for code in ("EUR", "CAD"):
            self.env.ref(f"base.{code}").active = True
        invoices = [inv for inv in self.wave_us.invoices if not inv.deleted]
        dates = [inv.invoice_date for inv in invoices]
        runs = []
        for _round in range(2):  # the second run finds everything already imported
            wizard = self.env["wave.historical.import"].create(
                {
                    "connection_id": self.connection.id,
                    "date_from": min(dates),
                    "date_to": max(dates),
                }
            )
            parent = self.env["wave.sync.job"].browse(
                wizard.with_context(queue_job__no_delay=False).action_import()["res_id"]
            )
            self.assertGreater(len(parent.child_ids), 1)
            for chunk in parent.child_ids:
                self.assertTrue(chunk._job_import_chunk())
            runs.append(parent)
        self.env.flush_all()
        drafts = sum(1 for inv in invoices if inv.status == "DRAFT")
        self.assertTrue(drafts)
        for parent in runs:
            self.env.cr.execute(
                """SELECT p.records_skipped, p.records_updated, p.records_created,
                          p.records_failed, SUM(c.records_skipped), SUM(c.records_updated),
                          SUM(c.records_created), SUM(c.records_failed)
                     FROM wave_sync_job p JOIN wave_sync_job c ON c.parent_id = p.id
                    WHERE p.id = %s GROUP BY p.id""",
                [parent.id],
            )
            row = self.env.cr.fetchone()
            self.assertEqual(row[:4], row[4:])
        self.env.cr.execute("SELECT records_skipped FROM wave_sync_job WHERE id = %s", [runs[0].id])
        self.assertGreaterEqual(self.env.cr.fetchone()[0], drafts)  # drafts are skipped
        self.env.cr.execute("SELECT records_skipped FROM wave_sync_job WHERE id = %s", [runs[1].id])
        self.assertGreaterEqual(self.env.cr.fetchone()[0], len(invoices) - drafts)

    # 6. unsorted pages --------------------------------------------------------
    def test_vendor_and_tax_polls_miss_nothing_when_pages_shift(self):
        with self.state.lock:
            for n in range(9):
                self.ops.create_sales_tax(
                    self.state,
                    self.wave_us,
                    {
                        "businessId": self.wave_us.id,
                        "name": f"Shift tax {n}",
                        "abbreviation": f"ST{n}",
                        "rate": Decimal("0.01") * (n + 1),
                    },
                )
        self.sandbox.configure(unsorted_pages=["vendors", "salesTaxes"])
        self.addCleanup(self.sandbox.configure, unsorted_pages=[])
        page_size = 3
        # the switch works: one plain walk through the pages misses records
        client = self.connection._get_client()
        query = inbound_poller.MODIFIED_SINCE_QUERIES["vendors"]
        walked = {
            node["id"]
            for node in client.iterate(
                query,
                {"businessId": self.wave_us.id, "after": None},
                "business.changed",
                page_size=page_size,
            )
        }
        wave_vendors = {v.id for v in self.wave_us.vendors}
        self.assertLess(len(walked), len(wave_vendors))
        with patch.object(inbound_poller, "INBOUND_PAGE_SIZE", page_size):
            for entity in ("vendors", "sales_taxes"):
                self.env["wave.inbound.poller"]._poll(self.connection, entity, self.sync_job())
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT wave_id FROM wave_partner_map"
            " WHERE connection_id = %s AND wave_type = 'vendor'",
            [self.connection.id],
        )
        self.assertEqual({row[0] for row in self.env.cr.fetchall()}, wave_vendors)
        wave_taxes = {t.id for t in self.wave_us.sales_taxes if not t.is_archived}
        self.env.cr.execute(
            "SELECT wave_id FROM account_tax WHERE wave_id = ANY(%s)", [list(wave_taxes)]
        )
        self.assertEqual({row[0] for row in self.env.cr.fetchall()}, wave_taxes)


@tagged("post_install", "-at_install")
class TestBooksMatchOutbound(OutboundCommon):
    """3. A value Wave's enums lack poisons only its own record, not the batch."""

    def wave_invoice_numbers(self):
        return {inv.invoice_number for inv in self.wave_us.invoices if not inv.deleted}

    def test_currency_wave_lacks_goes_to_quarantine_and_the_rest_is_sent(self):
        ves = self.env.ref("base.VES")
        ves.active = True
        moves = self.env["account.move"]
        for n in range(5):
            move = self._invoice(post=False, n=n)
            if n == 2:
                move.currency_id = ves
            move.action_post()
            moves |= move
        self._export(moves, rounds=3)
        numbers = self.wave_invoice_numbers()
        bad = moves.filtered(lambda m: m.currency_id == ves)
        self.assertEqual(
            {m.name for m in moves if m.name in numbers}, set((moves - bad).mapped("name"))
        )
        entry = self.env["wave.quarantine"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bad.id), ("state", "=", "open")]
        )
        self.assertIn("VES", entry.reasons)

    def test_country_wave_lacks_goes_to_quarantine_and_the_rest_is_sent(self):
        kosovo = self.env.ref("base.xk")
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"Poison batch customer {n}",
                    "street": f"{n} Main Street",
                    "city": "Town",
                    "country_id": (kosovo if n == 3 else self.env.ref("base.us")).id,
                }
                for n in range(5)
            ]
        )
        self.env["wave.outbound.dependencies"]._sync_customers(self.connection, partners)
        in_wave = {c.name for c in self.wave_us.customers}
        bad = partners.filtered(lambda p: p.country_id == kosovo)
        self.assertEqual(
            {p.name for p in partners if p.name in in_wave}, set((partners - bad).mapped("name"))
        )
        entry = self.env["wave.quarantine"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", bad.id), ("state", "=", "open")]
        )
        self.assertIn("XK", entry.reasons)
