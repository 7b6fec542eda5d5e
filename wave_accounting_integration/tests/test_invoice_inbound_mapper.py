# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The Wave invoice mapper (values) and the importer's validation, without Wave."""

from odoo import Command
from odoo.tests import tagged

from ..mappers.invoice_inbound import invoice_vals, snapshot_from_vals, suspense_account_names
from ..services.invoice_importer import InvoiceRejected
from .common import WaveCommon


@tagged("post_install", "-at_install")
class TestInvoiceInboundMapper(WaveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company_data["company"]
        cls.tax = cls.company_data["default_tax_sale"]
        cls.income = cls.company_data["default_account_revenue"]
        cls.suspense = cls.company_data["default_account_assets"]
        mapping = cls.env["wave.partner.map"].create(
            {
                "connection_id": cls.connection.id,
                "wave_type": "customer",
                "wave_id": "C1",
                "wave_name": "Customer One",
                "partner_id": cls.partner_a.id,
                "state": "matched",
            }
        )
        cls.refs = {
            "taxes": {"T1": cls.tax},
            "products": {"P1": cls.product_a},
            "accounts": {"A1": cls.income, "A2": cls.env["account.account"]},
            "customers": {"C1": mapping},
            "discount_map": cls.env["wave.account.map"],
            "currencies": {company.currency_id.name: company.currency_id},
            "journal": cls.company_data["default_journal_sale"],
            "suspense": cls.suspense,
        }

    def _node(self, **extra):
        node = {
            "id": "INV1",
            "invoiceNumber": "42",
            "status": "SENT",
            "invoiceDate": "2026-01-15",
            "dueDate": "2026-02-14",
            "poNumber": "PO-7",
            "memo": "Thanks",
            "modifiedAt": "2026-01-15T10:00:00.000Z",
            "currency": {"code": self.company_data["company"].currency_id.name},
            "customer": {"id": "C1", "name": "Customer One"},
            "total": {"value": "0"},
            "discountTotal": {"value": "5.00"},
            "discounts": [{"name": "Loyalty"}],
            "items": [
                {
                    "description": "Consulting",
                    "quantity": "2",
                    "unitPrice": "50.00",
                    "product": {"id": "P1", "name": "Product A"},
                    "account": {"id": "A1", "name": "Sales"},
                    "taxes": [{"salesTax": {"id": "T1", "name": "Tax"}}],
                },
                {
                    "quantity": "1",
                    "unitPrice": "10.00",
                    "account": {"id": "A2", "name": "Unmapped income"},
                    "taxes": [],
                },
            ],
        }
        node.update(extra)
        return node

    def test_invoice_vals_one_line_per_kind(self):
        company = self.company_data["company"]
        node = self._node()
        vals = invoice_vals(node, self.refs, company, "Discount")
        self.assertEqual(vals["partner_id"], self.partner_a.id)
        self.assertEqual(vals["journal_id"], self.refs["journal"].id)
        self.assertEqual(vals["ref"], "PO-7")
        self.assertEqual(vals["payment_reference"], "42")
        self.assertEqual(vals["wave_status"], "SENT")
        self.assertNotIn("invoice_currency_rate", vals)
        lines = [cmd[2] for cmd in vals["invoice_line_ids"]]
        item, unmapped, discount = lines
        self.assertEqual(item["product_id"], self.product_a.id)
        self.assertEqual((item["quantity"], item["price_unit"]), (2.0, 50.0))
        self.assertEqual(item["tax_ids"], [Command.set([self.tax.id])])
        self.assertEqual(item["account_id"], self.income.id)
        self.assertEqual(unmapped["name"], "/")
        self.assertEqual(unmapped["account_id"], self.suspense.id)
        self.assertEqual(discount["name"], "Loyalty")
        self.assertEqual(discount["price_unit"], -5.0)
        self.assertEqual(discount["tax_ids"], [Command.clear()])
        self.assertEqual(discount["account_id"], self.suspense.id)
        self.assertEqual(
            suspense_account_names(node, self.refs, "Discounts"), ["Unmapped income", "Discounts"]
        )
        # the snapshot the values announce is the one the created invoice gives
        move = self.env["account.move"].create(vals)
        self.assertEqual(snapshot_from_vals(vals), move._wave_snapshot())

    def test_validation_collects_every_reason(self):
        Importer = self.env["wave.invoice.importer"]
        node = self._node(
            customer={"id": "C9", "name": "Stranger"},
            discountTotal={"value": "0"},
            items=[
                {
                    "quantity": "1",
                    "unitPrice": "1",
                    "taxes": [{"salesTax": {"id": "T9", "name": "Unknown tax"}}],
                }
            ],
        )
        with self.assertRaises(InvoiceRejected) as caught:
            Importer._validate(self.connection, node, self.refs)
        reasons = " | ".join(str(reason) for reason in caught.exception.reasons)
        self.assertIn("Stranger", reasons)
        self.assertIn("Unknown tax", reasons)
        with self.assertRaises(InvoiceRejected) as caught:
            Importer._validate(self.connection, self._node(total=None), self.refs)
        self.assertIn("total", str(caught.exception.reasons[0]))
        # a complete node passes
        Importer._validate(self.connection, self._node(), self.refs)

    def test_memo_markup_from_wave_is_stored_as_text(self):
        """A Wave memo with a link and a script shows as text in the invoice, not as HTML."""
        memo = '<a href="javascript:alert(1)">x</a><script>alert(2)</script>'
        vals = invoice_vals(self._node(memo=memo), self.refs, self.company_data["company"], "D")
        move = self.env["account.move"].create(vals)
        narration = str(move.narration)
        self.assertNotIn("<a", narration)
        self.assertNotIn("<script", narration)
        self.assertIn("&lt;a href=", narration)
        self.assertIn("&lt;script&gt;", narration)
