# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tour: connect to the Wave sandbox through its real OAuth consent page."""

import re
from urllib.parse import urljoin

import requests

from odoo.tests import tagged

from .test_tour_ui import WaveTourCase


@tagged("post_install", "-at_install")
class TestConnectTour(WaveTourCase):
    def test_connect_through_oauth_consent_page(self):
        """Connect to Wave: the real consent page of the sandbox, then the screen."""
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        redirect_uri = self.base_url() + "/wave/oauth/callback"
        self.sandbox.register_oauth_client(
            "odoo-tour", "odoo-tour-SECRET", [redirect_uri], name="Odoo tour"
        )
        self.connection.sudo().write(
            {
                "auth_method": "oauth",
                "client_id": "odoo-tour",
                "client_secret": "odoo-tour-SECRET",
                "full_access_token": False,
                "state": "draft",
                "business_id": False,
                "business_name": False,
            }
        )
        self.authenticate("wave_admin", "wave_admin")
        start = self.url_open(
            f"/wave/oauth/start?connection_id={self.connection.id}", allow_redirects=False
        )
        self.assertIn(start.status_code, (302, 303))
        authorize = start.headers["Location"]
        self.assertTrue(authorize.startswith(self.sandbox.authorize_url), authorize)
        # The consent page, as a browser would show it; the administrator clicks Allow.
        page = requests.get(authorize, timeout=30)
        self.assertEqual(page.status_code, 200)
        self.assertIn('id="allow"', page.text)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        form.update(decision="allow", businessId=self.wave_us.id)
        granted = requests.post(
            urljoin(authorize, "/oauth2/authorize/"),
            data=form,
            allow_redirects=False,
            timeout=30,
        )
        callback = granted.headers["Location"]
        self.assertTrue(callback.startswith(redirect_uri), callback)
        done = self.url_open(callback, allow_redirects=False)
        self.assertIn(done.status_code, (302, 303), done.text[:500])
        self.assertIn("wave_api_action", done.headers["Location"])
        connection = self.connection.sudo()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.business_id, self.wave_us.id)
        self.assertEqual(connection.business_name, self.wave_us.name)
        self.assertTrue(connection.access_token and connection.refresh_token)
        self._tour(
            "wave_connection_tour",
            url="/odoo/action-wave_accounting_integration.wave_api_action",
        )
