# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tour: map the account of a quarantined invoice, then replay it."""

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
