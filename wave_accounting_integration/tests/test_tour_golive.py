# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The go-live checklist reaches *Ready* in the browser, with a full-access token
and with OAuth (headless Chromium, the Wave sandbox over HTTP).

Issue 19 saw a full-access token read as permission names: "Missing permissions
… Connect again" and *Not ready*, whatever the user did. A screenshot of each
ready checklist is kept with the other screenshots (``test_tour_ui.SCREENSHOTS``).
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .test_tour_ui import WaveTourCase


@tagged("post_install", "-at_install")
class TestGoLiveReadyTours(WaveTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Set up as a careful administrator would before going live: the quarantined
        # invoice fixed (its account mapped, replayed), the contact confirmed, every
        # Wave account mapped, one verified webhook delivery.
        Map = cls.env["wave.account.map"]
        unmapped = Map.search(
            [("connection_id", "=", cls.connection.id), ("account_id", "=", False)]
        )
        unmapped.account_id = cls.tour_account
        cls.quarantine.action_replay()
        cls.globex_map.action_confirm()
        cls.env["wave.webhook.event"].sudo().create(  # deliveries are written by the webhook
            {
                "connection_id": cls.connection.id,
                "event_id": "evt-golive-ready",
                "event_type": "invoice.viewed",
                "state": "done",
                "received_at": fields.Datetime.now() - timedelta(hours=1),
            }
        )

    def _ready_tour(self, screenshot):
        self._tour(
            "wave_golive_ready_tour",
            login="wave_admin",
            url="/odoo/action-wave_accounting_integration.wave_dashboard_action",
            screenshot=screenshot,
        )
        # What the administrator saw is what the checks found.
        checklist = self.env["wave.golive.checklist"].search(
            [("connection_id", "=", self.connection.id)], order="id desc", limit=1
        )
        states = {line.code: line.state for line in checklist.line_ids}
        self.assertNotIn("fail", states.values(), states)
        return states

    def test_ready_with_a_full_access_token(self):
        self.assertEqual(self.connection.auth_method, "token")
        states = self._ready_tour("wave_golive_full_access_token")
        self.assertEqual(states["scopes"], "ok")
        self.assertEqual(states["oauth"], "warning")  # Wave recommends OAuth for production

    def test_ready_with_oauth(self):
        # Wave grants what the addon asks for (the features switched on, estimates too).
        granted = " ".join(self.connection._wave_oauth_scopes())
        token = self.sandbox.issue_full_access_token(scopes=granted)
        self.connection.sudo().write(  # the tokens OAuth would have stored
            {
                "auth_method": "oauth",
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
                "full_access_token": False,
                "access_token": token,
                "refresh_token": "refresh-golive",
                "token_expires_at": fields.Datetime.now() + timedelta(hours=2),
                "granted_scopes": granted,
            }
        )
        states = self._ready_tour("wave_golive_oauth")
        self.assertEqual(states["scopes"], "ok")
        self.assertEqual(states["oauth"], "ok")
