# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared fixtures: users of each role and a Wave connection for the test company."""

from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

WAVE_USER = "wave_accounting_integration.group_wave_user"
WAVE_ADMIN = "wave_accounting_integration.group_wave_admin"


class WaveCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company_data["company"]
        # The suite's default user (``accountman``) runs the sync as an administrator would.
        cls.env.user.groups_id |= cls.env.ref(WAVE_ADMIN)
        cls.wave_admin = new_test_user(
            cls.env,
            login="wave_admin",
            groups=f"base.group_user,base.group_system,account.group_account_manager,{WAVE_ADMIN}",
            company_id=company.id,
            company_ids=[company.id],
        )
        cls.wave_accountant = new_test_user(
            cls.env,
            login="wave_accountant",
            groups=f"base.group_user,account.group_account_user,{WAVE_USER}",
            company_id=company.id,
            company_ids=[company.id],
        )
        cls.plain_accountant = new_test_user(
            cls.env,
            login="plain_accountant",
            groups="base.group_user,account.group_account_user",
            company_id=company.id,
            company_ids=[company.id],
        )
        cls.portal_user = new_test_user(
            cls.env, login="wave_portal", groups="base.group_portal", company_id=company.id
        )
        cls.connection = (
            cls.env["wave.api"]
            .sudo()
            .create(
                {
                    "name": "Wave test",
                    "company_id": company.id,
                    "client_id": "client-id-1",
                    "client_secret": "client-secret-SECRET",
                    "access_token": "access-token-SECRET",
                    "refresh_token": "refresh-token-SECRET",
                    "webhook_secret": "webhook-secret-SECRET",
                    "business_id": "QnVzaW5lc3M6dGVzdA==",
                    "business_name": "Test Business",
                }
            )
        )
