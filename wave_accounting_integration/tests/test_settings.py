# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import WaveCommon


@tagged("post_install", "-at_install")
class TestSettings(WaveCommon):
    def _settings(self, user, **values):
        return self.env["res.config.settings"].with_user(user).create(values)

    def test_round_trip(self):
        settings = self._settings(
            self.wave_admin,
            wave_client_id="new-client",
            wave_client_secret="new-secret",
            wave_api_url="http://127.0.0.1:8765/graphql/public",
            wave_authorize_url="http://127.0.0.1:8765/oauth2/authorize/",
            wave_token_url="http://127.0.0.1:8765/oauth2/token/",
            wave_allow_insecure_loopback=True,
            wave_fuzzy_match_threshold=85,
            wave_vendor_creation_policy="create",
            wave_sync_outbound=True,
            wave_suspense_account_id=self.company_data["default_account_revenue"].id,
        )
        settings.execute()
        connection = self.connection
        self.assertEqual(connection.client_id, "new-client")
        self.assertEqual(connection.client_secret, "new-secret")
        self.assertEqual(connection.fuzzy_match_threshold, 85)
        self.assertEqual(connection.vendor_creation_policy, "create")
        self.assertTrue(connection.sync_outbound)
        self.assertEqual(
            connection.suspense_account_id, self.company_data["default_account_revenue"]
        )

        reopened = self.env["res.config.settings"].with_user(self.wave_admin).create({})
        self.assertEqual(reopened.wave_client_id, "new-client")
        self.assertEqual(reopened.wave_fuzzy_match_threshold, 85)
        self.assertEqual(reopened.wave_api_url, "http://127.0.0.1:8765/graphql/public")
        # Secrets never travel back to the browser.
        self.assertFalse(reopened.wave_client_secret)
        self.assertFalse(reopened.wave_webhook_secret)

    def test_empty_secret_keeps_stored_one(self):
        self._settings(self.wave_admin, wave_client_id="client-id-1").execute()
        self.assertEqual(self.connection.client_secret, "client-secret-SECRET")

    def test_settings_are_per_company(self):
        other = self.setup_other_company()["company"]
        self.wave_admin.write({"company_ids": [(4, other.id)]})
        admin_other = self.wave_admin.with_company(other)
        self.env["res.config.settings"].with_user(admin_other).with_company(other).create(
            {"wave_fuzzy_match_threshold": 70}
        ).execute()
        other_connection = self.env["wave.api"]._for_company(other)
        self.assertEqual(other_connection.fuzzy_match_threshold, 70)
        self.assertEqual(self.connection.fuzzy_match_threshold, 90)

    def test_https_enforced(self):
        with self.assertRaises(ValidationError):
            self.connection.api_url = "http://gql.waveapps.com/graphql/public"
        with self.assertRaises(ValidationError):
            self.connection.write(
                {"api_url": "http://10.1.2.3/graphql/public", "allow_insecure_loopback": True}
            )
        with self.assertRaises(ValidationError):
            self.connection.api_url = "http://127.0.0.1:8765/graphql/public"
        self.connection.write(
            {"api_url": "http://127.0.0.1:8765/graphql/public", "allow_insecure_loopback": True}
        )

    def test_accountant_cannot_open_settings(self):
        with self.assertRaises(AccessError):
            self._settings(self.wave_accountant, wave_fuzzy_match_threshold=10)
        self.assertEqual(self.connection.fuzzy_match_threshold, 90)

    def test_settings_admin_without_wave_group_changes_nothing(self):
        """A settings administrator who is not a Wave administrator can save the
        other apps' settings without touching (or reading) the Wave connection."""
        settings_admin = new_test_user(
            self.env, login="settings_only", groups="base.group_user,base.group_system"
        )
        settings = self._settings(settings_admin, wave_fuzzy_match_threshold=10)
        self.assertFalse(settings.wave_client_id)
        settings.execute()
        self.assertEqual(self.connection.fuzzy_match_threshold, 90)
