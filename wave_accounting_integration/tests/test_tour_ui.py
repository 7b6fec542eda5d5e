# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Browser tours of the accountant and administrator screens (headless Chromium).

Screenshots of the dashboard and the quarantine are kept in
``<repo>/artifacts/screenshots/``.
"""

import base64
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .common import WaveSandboxCommon
from .screen_checks import SCREENSHOTS  # also imported from here by the other tours


class WaveTourCase(WaveSandboxCommon, HttpCase):
    """Sandbox data shared by the tour files: a quarantined invoice, a fuzzy match."""

    sandbox_invoices = 0
    sandbox_customers = 4
    sandbox_vendors = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import ops

        state = cls.sandbox.state
        wave = cls.wave_us
        connection = cls.connection
        cls.env["wave.reference.importer"]._sync_accounts(connection)
        # An invoice on a Wave account nobody mapped: booked to suspense and quarantined.
        with state.lock:
            account = ops.create_account(
                state, wave, {"name": "Special Projects", "subtype": "INCOME"}
            )
            product = ops.create_product(
                state,
                wave,
                {
                    "name": "Special project",
                    "unitPrice": Decimal("500"),
                    "incomeAccountId": account.id,
                },
            )
            customer = next(c for c in wave.customers if not c.currency_code)
            today = state.today()
            cls.wave_invoice = ops.create_invoice(
                state,
                wave,
                {
                    "customerId": customer.id,
                    "invoiceDate": today,
                    "dueDate": today + dt.timedelta(days=30),
                    "items": [{"productId": product.id, "quantity": Decimal(1)}],
                    "status": "SAVED",
                },
            )
        connection._job_poll("invoices", trigger="manual")
        cls.quarantine = cls.env["wave.quarantine"].search(
            [("wave_id", "=", cls.wave_invoice.id), ("state", "=", "open")]
        )
        cls.special_map = cls.env["wave.account.map"].search(
            [("connection_id", "=", connection.id), ("wave_account_id", "=", account.id)]
        )
        cls.tour_account = cls.env["account.account"].create(
            {"code": "WAVE42", "name": "Wave special income", "account_type": "income"}
        )
        # A fuzzy contact match waiting for confirmation.
        Partner = cls.env["res.partner"]
        cls.globex = Partner.create({"name": "Globex Industries Ltd", "is_company": True})
        cls.globex_map = cls.env["wave.partner.map"].create(
            {
                "connection_id": connection.id,
                "wave_type": "customer",
                "wave_id": "Q3VzdG9tZXI6Z2xvYmV4",
                "wave_name": "Globex Industries",
                "partner_id": cls.globex.id,
                "candidate_partner_ids": [(6, 0, cls.globex.ids)],
                "match_method": "fuzzy",
                "match_score": 88.0,
                "state": "review",
            }
        )

    def _tour(self, tour, login="wave_admin", screenshot=None, url=None):
        """Run ``tour``; with ``screenshot``, capture the page when the tour ends."""
        url = url or "/odoo"
        if not screenshot:
            return self.start_tour(url, tour, login=login, timeout=180)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{screenshot}.png"
        path.unlink(missing_ok=True)
        original_stop = ChromeBrowser.stop

        def stop(browser):
            try:
                future = browser._websocket_send("Page.captureScreenshot", with_future=True)
                path.write_bytes(base64.b64decode(future.result(timeout=30)["data"]))
            finally:
                original_stop(browser)

        with patch.object(ChromeBrowser, "stop", stop):
            self.start_tour(url, tour, login=login, timeout=180)
        self.assertTrue(path.is_file(), path)
        self.assertGreater(path.stat().st_size, 5000, "a real screenshot, not an empty file")
        self.assertEqual(path.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        return path


@tagged("post_install", "-at_install")
class TestWaveTours(WaveTourCase):
    def test_dashboard_and_golive_checklist(self):
        self.assertEqual(len(self.quarantine), 1)
        self._tour(
            "wave_dashboard_tour",
            login="wave_accountant",
            url="/odoo/action-wave_accounting_integration.wave_dashboard_action",
            screenshot="wave_dashboard",
        )

    def test_confirm_fuzzy_partner_match(self):
        self._tour(
            "wave_partner_confirm_tour",
            login="wave_accountant",
            url="/odoo/action-wave_accounting_integration.wave_partner_map_action",
        )
        self.assertEqual(self.globex_map.state, "matched")
        self.assertEqual(self.globex_map.partner_id, self.globex)
