# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""An administrator of company B cannot act on company A's Wave connection.

Each attack is tried as B's administrator on A's connection and must be refused
while A's connection stays exactly as it was (tokens, state, business).
"""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WAVE_ADMIN, WaveCommon

SNAPSHOT_FIELDS = (
    "state",
    "access_token",
    "refresh_token",
    "client_id",
    "client_secret",
    "business_id",
    "business_name",
    "granted_scopes",
    "last_error",
)


@tagged("post_install", "-at_install")
class TestConnectionCompanyIsolation(WaveCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_b = cls.env["res.company"].create({"name": "Wave Company B"})
        cls.connection.write({"state": "connected"})
        cls.admin_b = new_test_user(
            cls.env,
            login="wave_admin_b",
            password="wave_admin_b",
            groups=f"base.group_user,base.group_system,account.group_account_manager,{WAVE_ADMIN}",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.connection_b = (
            cls.env["wave.api"]
            .sudo()
            .create(
                {
                    "name": "Wave B",
                    "company_id": cls.company_b.id,
                    "client_id": "client-b",
                    "client_secret": "secret-b",
                    "business_id": "QnVzaW5lc3M6Yg==",
                }
            )
        )

    def _snapshot(self):
        self.env.invalidate_all()
        return self.connection.sudo().read(list(SNAPSHOT_FIELDS))[0]

    def _as_admin_b(self, connection=None):
        connection = connection or self.connection
        return connection.with_user(self.admin_b).with_context(
            allowed_company_ids=self.admin_b.company_ids.ids
        )

    def test_foreign_admin_buttons_refused_and_nothing_changes(self):
        before = self._snapshot()
        attacks = {
            "disconnect": lambda c: c.action_wave_disconnect(),
            "test connection": lambda c: c.action_wave_test_connection(),
            "choose business": lambda c: c.action_wave_choose_business(businesses=[]),
            "connect": lambda c: c.action_wave_connect(),
            "authorize url": lambda c: c._wave_oauth_authorize_url("state"),
            "oauth complete": lambda c: c._wave_oauth_complete("code"),
            "select business": lambda c: c._wave_select_business(
                {"id": "QnVzaW5lc3M6ZXZpbA==", "name": "Evil"}
            ),
        }
        for name, attack in attacks.items():
            with self.subTest(attack=name), self.assertRaises(AccessError):
                attack(self._as_admin_b())
            self.assertEqual(self._snapshot(), before, f"{name} changed A's connection")

    def test_own_company_admin_still_manages_own_connection(self):
        connection_b = self._as_admin_b(self.connection_b)
        connection_b.action_wave_disconnect()
        self.assertEqual(self.connection_b.state, "disconnected")

    def test_oauth_start_for_foreign_connection_is_refused(self):
        before = self._snapshot()
        self.authenticate("wave_admin_b", "wave_admin_b")
        response = self.url_open(
            f"/wave/oauth/start?connection_id={self.connection.id}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("client-id-1", response.text)
        self.assertNotIn("Location", response.headers)
        # Same answer as for an id that does not exist (no enumeration).
        missing = self.url_open("/wave/oauth/start?connection_id=999999", allow_redirects=False)
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(self._snapshot(), before)

    def test_oauth_start_for_own_connection_redirects(self):
        self.authenticate("wave_admin_b", "wave_admin_b")
        response = self.url_open(
            f"/wave/oauth/start?connection_id={self.connection_b.id}", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("client_id=client-b", response.headers["Location"])
