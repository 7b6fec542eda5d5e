# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Ledger parity report against the Wave sandbox over HTTP.

Four Wave invoices are created in the sandbox (unpaid, paid, partly paid, draft)
and the same four in Odoo (bound by ``wave_id``); a fifth Wave invoice lies outside
the compared range. Wave-side changes made by a test are undone in its cleanup (the
sandbox is not rolled back with the test transaction).
"""

import datetime

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools.misc import formatLang

from .common import WaveSandboxCommon

PARTNER_QUERY = """
query ParityFixtures($businessId: ID!) {
  business(id: $businessId) {
    customers(page: 1, pageSize: 2, sort: [NAME_ASC]) { edges { node { id name } } }
    products(isSold: true, page: 1, pageSize: 1, sort: [NAME_ASC]) {
      edges { node { id name incomeAccount { id name } } }
    }
    salesTaxes(page: 1, pageSize: 20) { edges { node { id name abbreviation } } }
    accounts(subtypes: [CASH_AND_BANK], page: 1, pageSize: 1) { edges { node { id name } } }
  }
}
"""


def nodes(connection):
    return [edge["node"] for edge in connection["edges"]]


@tagged("post_install", "-at_install")
class TestParity(WaveSandboxCommon):
    sandbox_customers = 3
    sandbox_vendors = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.import_draft_invoices = True
        # Invoices only: the estimates' side has its own test (test_parity_estimates).
        cls.connection.sync_estimates = False
        cls.client = cls.connection._get_client()
        cls.addClassCleanup(cls.client.close)
        data = cls.client.execute(PARTNER_QUERY, {"businessId": cls.wave_us.id})["business"]
        cls.customers = nodes(data["customers"])
        cls.product = nodes(data["products"])[0]
        cls.sales_tax = next(t for t in nodes(data["salesTaxes"]) if t["abbreviation"] == "NY")
        cls.bank_account = nodes(data["accounts"])[0]

        company = cls.company_data["company"]
        cls.revenue = cls.company_data["default_account_revenue"]
        cls.tax = cls.env["account.tax"].create(
            {
                "name": "NY 4%",
                "amount": 4.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company.id,
                "wave_id": cls.sales_tax["id"],
            }
        )
        cls.env["wave.account.map"].create(
            {
                "connection_id": cls.connection.id,
                "wave_account_id": cls.product["incomeAccount"]["id"],
                "wave_account_name": cls.product["incomeAccount"]["name"],
                "wave_account_type": "INCOME",
                "account_id": cls.revenue.id,
            }
        )
        cls.partners = cls.env["res.partner"].create(
            [
                {"name": customer["name"], "wave_id": customer["id"], "company_id": company.id}
                for customer in cls.customers[:2]
            ]
        )
        today = fields.Date.context_today(cls.env["res.partner"])
        cls.date_from = today - datetime.timedelta(days=10)
        cls.date_to = today
        cls.invoice_date = today - datetime.timedelta(days=2)
        cls.due_date = today + datetime.timedelta(days=30)

        # Wave: unpaid, paid, partly paid, draft; one more outside the range.
        cls.wave_a = cls._wave_invoice(0, "100.00")
        cls.wave_b = cls._wave_invoice(0, "250.00", paid="260.00")
        cls.wave_c = cls._wave_invoice(1, "80.00", paid="30.00")
        cls.wave_d = cls._wave_invoice(1, "40.00", status="DRAFT")
        cls._wave_invoice(1, "999.00", invoice_date=today - datetime.timedelta(days=60))

        # Odoo: the same four.
        cls.move_a = cls._odoo_invoice(cls.wave_a, 0, 100.0)
        cls.move_b = cls._odoo_invoice(cls.wave_b, 0, 250.0, paid=260.0)
        cls.move_c = cls._odoo_invoice(cls.wave_c, 1, 80.0, paid=30.0)
        cls.move_d = cls._odoo_invoice(cls.wave_d, 1, 40.0, post=False)

    # ------------------------------------------------------------------
    # Fixtures
    # ------------------------------------------------------------------
    @classmethod
    def _wave_invoice(cls, customer, price, status="SAVED", paid=None, invoice_date=None):
        invoice = cls.client.mutate(
            "invoiceCreate",
            {
                "businessId": cls.wave_us.id,
                "customerId": cls.customers[customer]["id"],
                "status": status,
                "invoiceDate": fields.Date.to_string(invoice_date or cls.invoice_date),
                "dueDate": fields.Date.to_string(cls.due_date),
                "items": [
                    {
                        "productId": cls.product["id"],
                        "quantity": "1",
                        "unitPrice": price,
                        "taxes": [{"salesTaxId": cls.sales_tax["id"]}],
                    }
                ],
            },
            "invoice { id invoiceNumber status total { value } }",
        )["invoice"]
        if paid:
            cls._wave_payment(invoice["id"], paid)
        return invoice

    @classmethod
    def _wave_payment(cls, invoice_id, amount):
        return cls.client.mutate(
            "invoicePaymentCreateManual",
            {
                "invoiceId": invoice_id,
                "paymentAccountId": cls.bank_account["id"],
                "amount": amount,
                "paymentDate": fields.Date.to_string(cls.invoice_date),
                "paymentMethod": "CASH",
                "exchangeRate": "1",
            },
            "invoicePayment { id }",
        )["invoicePayment"]

    @classmethod
    def _odoo_invoice(cls, wave_invoice, customer, price, paid=None, post=True):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.partners[customer].id,
                "invoice_date": cls.invoice_date,
                "invoice_date_due": cls.due_date,
                "wave_id": wave_invoice["id"],
                "wave_origin": "wave",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product_a.id,
                            "account_id": cls.revenue.id,
                            "quantity": 1,
                            "price_unit": price,
                            "tax_ids": [Command.set(cls.tax.ids)],
                        }
                    )
                ],
            }
        )
        if post:
            move.action_post()
        if paid:
            cls._odoo_payment(move, paid)
        return move

    @classmethod
    def _odoo_payment(cls, move, amount):
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(
                {
                    "payment_date": cls.invoice_date,
                    "journal_id": cls.company_data["default_journal_bank"].id,
                    "amount": amount,
                    "payment_difference_handling": "open",
                }
            )
            ._create_payments()
        )

    def _parity(self, **kwargs):
        return self.env["wave.parity.checker"]._compute_report(
            self.connection, self.date_from, self.date_to, **kwargs
        )

    def _differences(self, report):
        """``{(category, key): (wave value, odoo value, difference)}`` of differing lines."""
        return {
            (line.category, line.key): (line.wave_value, line.odoo_value, line.difference)
            for line in report.line_ids.filtered("is_difference")
        }

    def _figure(self, report, category, key):
        line = report.line_ids.filtered(lambda ln: ln.category == category and ln.key == key)
        self.assertEqual(len(line), 1, f"one line {category} / {key}")
        return line

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------
    def test_parity_without_difference(self):
        self.assertEqual(self.move_b.payment_state, "paid")
        self.assertEqual(self.move_c.payment_state, "partial")
        report = self._parity()
        self.assertEqual(self._differences(report), {})
        self.assertEqual(report.difference_count, 0)
        self.assertEqual((report.wave_invoice_count, report.odoo_invoice_count), (4, 4))
        # 4 invoices of the range: one page of 200, one request.
        self.assertEqual(report.request_count, 1)
        self.assertEqual(self.connection.last_parity_report_id, report)
        self.assertEqual(self.connection.last_parity_difference_count, 0)
        for bucket in ("Unpaid", "Paid", "Partially paid", "Draft"):
            line = self._figure(report, "status_count", bucket)
            self.assertEqual((line.wave_amount, line.odoo_amount), (1, 1))
        self.assertEqual(self._figure(report, "status_total", "Paid (USD)").wave_value, "260.00")
        # Ledger figures leave the draft out: 100 + 250 + 80 and 4 % of it.
        account = self._figure(report, "account", f"{self.revenue.display_name} (USD)")
        self.assertEqual((account.wave_value, account.odoo_value), ("430.00", "430.00"))
        self.assertEqual((account.res_model, account.res_id), ("account.account", self.revenue.id))
        tax = self._figure(report, "tax", f"{self.sales_tax['name']} (USD)")
        self.assertEqual((tax.wave_value, tax.odoo_value), ("17.20", "17.20"))
        self.assertEqual(
            (tax.res_model, tax.res_id, tax.wave_id),
            ("account.tax", self.tax.id, self.sales_tax["id"]),
        )
        balances = report.line_ids.filtered(lambda ln: ln.category == "partner")
        self.assertEqual(sorted(balances.mapped("wave_value")), ["104.00", "53.20"])
        self.assertEqual(set(balances.mapped("res_id")), set(self.partners.ids))
        # What the screen shows: a verdict, amounts as money, counts as counts.
        self.assertIn("Wave and Odoo match", report.summary_html)
        usd = self.env.ref("base.USD")
        self.assertEqual(
            self._figure(report, "status_total", "Paid (USD)").wave_shown,
            formatLang(self.env, 260.0, currency_obj=usd),
        )
        self.assertIn("$", self._figure(report, "status_total", "Paid (USD)").odoo_shown)
        self.assertEqual(self._figure(report, "status_count", "Paid").wave_shown, "1")

    def test_odoo_amount_changed(self):
        self.move_a.button_draft()
        self.move_a.invoice_line_ids.price_unit = 90.0
        self.move_a.action_post()
        report = self._parity()
        number = self.wave_a["invoiceNumber"]
        customer = f"{self.customers[0]['name']} (USD)"
        self.assertEqual(
            self._differences(report),
            {
                ("invoice", f"{number}: total"): ("104.00", "93.60", 10.40),
                ("invoice", f"{number}: amount due"): ("104.00", "93.60", 10.40),
                ("status_total", "Unpaid (USD)"): ("104.00", "93.60", 10.40),
                ("account", f"{self.revenue.display_name} (USD)"): ("430.00", "420.00", 10.0),
                ("partner", customer): ("104.00", "93.60", 10.40),
                ("tax", f"{self.sales_tax['name']} (USD)"): ("17.20", "16.80", 0.40),
            },
        )
        self.assertEqual(report.difference_count, 6)
        self.assertIn("6 differences between Wave and Odoo", report.summary_html)
        self.assertNotIn("Wave and Odoo match", report.summary_html)
        total = self._figure(report, "invoice", f"{number}: total")
        self.assertEqual((total.res_model, total.res_id), ("account.move", self.move_a.id))
        self.assertEqual(total.wave_id, self.wave_a["id"])

    def test_wave_payment_added(self):
        payment = self._wave_payment(self.wave_a["id"], "50.00")
        self.addCleanup(self.client.mutate, "invoicePaymentDelete", {"id": payment["id"]})
        report = self._parity()
        number = self.wave_a["invoiceNumber"]
        customer = f"{self.customers[0]['name']} (USD)"
        self.assertEqual(
            self._differences(report),
            {
                ("invoice", f"{number}: status"): ("PARTIAL", "Unpaid", 0.0),
                ("invoice", f"{number}: amount due"): ("54.00", "104.00", -50.0),
                ("status_count", "Unpaid"): ("0", "1", -1.0),
                ("status_count", "Partially paid"): ("2", "1", 1.0),
                ("status_total", "Unpaid (USD)"): ("0.00", "104.00", -104.0),
                ("status_total", "Partially paid (USD)"): ("187.20", "83.20", 104.0),
                ("partner", customer): ("54.00", "104.00", -50.0),
            },
        )

    def test_missing_on_each_side(self):
        orphan = self.move_a.copy({"invoice_date": self.invoice_date})
        orphan.wave_id = "SW52b2ljZTpnb25l"  # bound to a Wave invoice that does not exist
        orphan.action_post()
        draft = self._wave_invoice(1, "10.00", status="DRAFT")
        self.addCleanup(self.client.mutate, "invoiceDelete", {"invoiceId": draft["id"]})
        report = self._parity()
        invoice_lines = report.line_ids.filtered(
            lambda ln: ln.category == "invoice" and ln.is_difference
        )
        self.assertEqual(
            sorted(invoice_lines.mapped("key")),
            sorted(
                [f"{draft['invoiceNumber']}: missing in Odoo", f"{orphan.name}: missing in Wave"]
            ),
        )
        missing = invoice_lines.filtered(lambda ln: ln.res_id == orphan.id)
        self.assertEqual((missing.odoo_value, missing.odoo_amount), ("open", 104.0))

        # A Wave draft is not expected in Odoo when drafts are not imported.
        self.connection.import_draft_invoices = False
        report = self._parity()
        self.assertEqual(
            report.line_ids.filtered(lambda ln: ln.category == "invoice").mapped("key"),
            [f"{orphan.name}: missing in Wave"],
        )

    def test_wizard_as_wave_user_and_pages(self):
        wizard = (
            self.env["wave.parity.report.wizard"]
            .with_user(self.wave_accountant)
            .create({"date_from": self.date_from, "date_to": self.date_to})
        )
        self.assertEqual(wizard.connection_id, self.connection)
        action = wizard.action_compute()
        report = self.connection.last_parity_report_id
        # The result opens on the report and its verdict; the lines and the
        # quarantine are one click away.
        self.assertEqual((action["res_model"], action["res_id"]), ("wave.parity.report", report.id))
        lines = report.with_user(self.wave_accountant).action_open_lines()
        self.assertEqual(lines["res_model"], "wave.parity.line")
        self.assertEqual(lines["domain"], [("report_id", "=", report.id)])
        quarantine = report.with_user(self.wave_accountant).action_open_quarantine()
        self.assertEqual(quarantine["res_model"], "wave.quarantine")
        self.assertIn(("connection_id", "=", self.connection.id), quarantine["domain"])
        self.assertEqual(report.create_uid, self.wave_accountant)
        self.assertEqual(report.difference_count, 0)
        # Two invoices a page: two requests for the four invoices of the range.
        self.assertEqual(self._parity(page_size=2).request_count, 2)

    def test_totals_per_currency_never_added(self):
        """Lines in two currencies: the verdict shows one total per currency, as money."""
        cad, eur = self.env.ref("base.CAD"), self.env.ref("base.EUR")
        report = (
            self.env["wave.parity.report"]
            .sudo()  # reports are written by the parity checker; same company's connection
            .create(
                {
                    "connection_id": self.connection.id,
                    "date_from": self.date_from,
                    "date_to": self.date_to,
                    "line_ids": [
                        Command.create(
                            {
                                "category": "status_total",
                                "key": f"Paid ({currency.name})",
                                "currency_id": currency.id,
                                "wave_value": f"{amount:.2f}",
                                "odoo_value": f"{amount:.2f}",
                                "wave_amount": amount,
                                "odoo_amount": amount,
                            }
                        )
                        for currency, amount in ((cad, 1000.0), (eur, 250.5))
                    ],
                }
            )
        )
        self.assertEqual(report.company_id, self.connection.company_id)
        html = str(report.with_user(self.wave_accountant).summary_html)
        self.assertIn(formatLang(self.env, 1000.0, currency_obj=cad), html)
        self.assertIn(formatLang(self.env, 250.5, currency_obj=eur), html)
        for added in (1250.5, 1250.50):
            self.assertNotIn(formatLang(self.env, added), html)
        self.assertIn("Wave and Odoo match", html)
