# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tour: map the account of a quarantined invoice, then replay it."""

from decimal import Decimal

from odoo.tests import tagged

from .test_tour_ui import WaveTourCase


@tagged("post_install", "-at_install")
class TestQuarantineTour(WaveTourCase):
    def test_map_account_then_replay_quarantined_invoice(self):
        self.assertIn("suspense", self.quarantine.reasons)
        self.assertFalse(self.special_map.account_id)
        self._tour(
            "wave_account_map_tour",
            login="wave_accountant",
            url="/odoo/action-wave_accounting_integration.wave_account_map_action",
            screenshot="wave_account_map",
        )
        self.assertEqual(self.special_map.account_id, self.tour_account)
        self._tour(
            "wave_quarantine_replay_tour",
            login="wave_accountant",
            url="/odoo/action-wave_accounting_integration.wave_quarantine_action",
            screenshot="wave_quarantine",
        )
        self.assertEqual(self.quarantine.state, "resolved")
        move = self.env["account.move"].search([("wave_id", "=", self.wave_invoice.id)])
        self.assertEqual(move.invoice_line_ids.account_id, self.tour_account)

    def test_inactive_currency_fixed_by_its_one_click_fix(self):
        """A quarantined invoice in an inactive currency, fixed in the browser."""
        from wave_sandbox import ops

        self.connection.currency_policy = "ask"
        sek = self.env.ref("base.SEK")
        sek.active = False
        state = self.sandbox.state
        customer = next(c for c in self.wave_us.customers if not c.currency_code)
        with state.lock:
            invoice = ops.create_invoice(
                state,
                self.wave_us,
                {
                    "customerId": customer.id,
                    "invoiceDate": state.today(),
                    "dueDate": state.today(),
                    "currency": "SEK",
                    "items": [
                        {
                            "productId": self.wave_us.products[0].id,
                            "unitPrice": Decimal("120"),
                            "quantity": Decimal(2),
                        }
                    ],
                    "status": "SAVED",
                },
            )
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [invoice.id])
        entry = self.env["wave.quarantine"].search([("wave_id", "=", invoice.id)])
        self.assertEqual(entry.state, "open")
        self.assertFalse(self.env["account.move"].search([("wave_id", "=", invoice.id)]))
        self._tour(
            "wave_quarantine_currency_fix_tour",
            login="wave_accountant",
            url="/odoo/action-wave_accounting_integration.wave_quarantine_action",
            screenshot="wave_quarantine_currency_fix",
        )
        self.assertTrue(sek.active)
        self.assertEqual(entry.state, "resolved")
        self.assertFalse(
            self.env["wave.quarantine"].search(
                [("wave_id", "=", invoice.id), ("state", "=", "open")]
            )
        )
        move = self.env["account.move"].search([("wave_id", "=", invoice.id)])
        self.assertEqual((move.state, move.currency_id), ("posted", sek))
        self.assertEqual(f"{move.amount_total:.2f}", invoice.total.value)
