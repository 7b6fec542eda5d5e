# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import WaveCommon

SECRET_FIELDS = (
    "client_secret",
    "access_token",
    "refresh_token",
    "full_access_token",
    "webhook_secret",
    "webhook_secret_previous",
)


@tagged("post_install", "-at_install")
class TestSecretsAccess(WaveCommon):
    def test_admin_reads_secrets(self):
        connection = self.connection.with_user(self.wave_admin)
        self.assertEqual(connection.client_secret, "client-secret-SECRET")
        self.assertEqual(connection.refresh_token, "refresh-token-SECRET")

    def test_accountant_cannot_read_secrets_through_orm(self):
        connection = self.connection.with_user(self.wave_accountant)
        self.assertEqual(connection.business_name, "Test Business")
        for field_name in SECRET_FIELDS:
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                connection.read([field_name])

    def test_accountant_cannot_read_secrets_through_rpc_paths(self):
        """search_read / web_read are what RPC and the web client call."""
        Connection = self.env["wave.api"].with_user(self.wave_accountant)
        with self.assertRaises(AccessError):
            Connection.search_read([], ["client_secret"])
        with self.assertRaises(AccessError):
            Connection.browse(self.connection.id).web_read({"access_token": {}})
        # Reading every field leaves the secrets out instead of leaking them.
        values = Connection.browse(self.connection.id).read()[0]
        for field_name in SECRET_FIELDS:
            self.assertNotIn(field_name, values)
        # Nor can they be searched on (which would leak them one character at a time).
        with self.assertRaises(AccessError):
            Connection.search([("client_secret", "like", "SECRET")])

    def test_accountant_cannot_write_connection(self):
        with self.assertRaises(AccessError):
            self.connection.with_user(self.wave_accountant).write({"rate_limit": 10})

    def test_plain_accountant_and_portal_see_nothing(self):
        for user in (self.plain_accountant, self.portal_user):
            for model in (
                "wave.api",
                "wave.sync.job",
                "wave.account.map",
                "wave.partner.map",
                "wave.quarantine",
                "wave.audit.log",
            ):
                with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([])

    def test_accountant_works_mappings_not_audit(self):
        AccountMap = self.env["wave.account.map"].with_user(self.wave_accountant)
        mapping = AccountMap.create(
            {
                "connection_id": self.connection.id,
                "wave_account_id": "QWNjb3VudDox",
                "wave_account_name": "Sales",
                "wave_account_type": "INCOME",
            }
        )
        mapping.account_id = self.company_data["default_account_revenue"]
        self.assertFalse(mapping.use_suspense)
        with self.assertRaises(AccessError):
            self.env["wave.audit.log"].with_user(self.wave_accountant).create(
                {"res_model": "res.partner", "action": "create"}
            )

    def test_other_company_is_invisible(self):
        other = self.setup_other_company()["company"]
        foreign = self.env["wave.api"].sudo().create({"company_id": other.id})
        visible = self.env["wave.api"].with_user(self.wave_admin).search([])
        self.assertIn(self.connection, visible)
        self.assertNotIn(foreign, visible)
