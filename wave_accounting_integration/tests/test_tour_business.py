# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Choosing another Wave business while data is linked: refused in the browser.

Issue 19 saw a company with 550 imported invoices moved to another Wave business
(another currency) in one click, with only a success message. The administrator
now reads what is linked and, without ticking the confirmation, is refused with
the reason; the connection keeps its business (read from the database after the
tour). A screenshot of the refusal is kept with the other screenshots.
"""

from odoo.tests import tagged

from .test_tour_ui import WaveTourCase


@tagged("post_install", "-at_install")
class TestBusinessSwitchTour(WaveTourCase):
    def test_switch_refused_when_data_is_linked(self):
        # The invoice imported from Wave (booked to suspense) and its customer are linked.
        linked = self.env["account.move"].search(
            [("company_id", "=", self.connection.company_id.id), ("wave_id", "!=", False)]
        )
        self.assertTrue(linked)
        self._tour(
            "wave_business_switch_refused_tour",
            login="wave_admin",
            url="/odoo/action-wave_accounting_integration.wave_api_action",
            screenshot="wave_business_switch_refused",
        )
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.business_id, self.wave_us.id)
        self.assertEqual(self.connection.business_name, "Acme Widgets Inc.")
        self.assertEqual(self.connection.business_currency, "USD")
        self.assertTrue(all(linked.mapped("wave_id")))
