# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared fixtures: users of each role and a Wave connection for the test company."""

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.queue_job.job import Job
from odoo.tests import new_test_user

WAVE_USER = "wave_accounting_integration.group_wave_user"
WAVE_ADMIN = "wave_accounting_integration.group_wave_admin"


class WaveCommon(AccountTestInvoicingCommon):
    def run_webhook_drains(self, env=None):
        """Run the pending drain jobs of the webhook events (which give each stored
        event its invoice's job) as the job runner would, oldest first; returns them."""
        env = env or self.env
        # sudo: queue jobs are technical records; the test runs them as the runner does.
        drains = (
            env["queue.job"]
            .sudo()
            .search(
                [("method_name", "=", "_job_drain_webhook_events"), ("state", "=", "pending")],
                order="id",
            )
        )
        for record in drains:
            job = Job.load(env, record.uuid)
            job.perform()
            job.set_done()
            job.store()
        env.flush_all()
        env.invalidate_all()
        return drains

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


class WaveSandboxCommon(WaveCommon):
    """A real Wave sandbox over HTTP on loopback, and the test company connected to it.

    The sandbox (``tests/wave_sandbox``) is a project test fixture, not part of
    the addon: ``make test`` puts ``tests/`` on ``sys.path``. Subclasses set
    ``sandbox_invoices`` (per business) and ``sandbox_rate_limit`` (0 = off).
    """

    sandbox_invoices = 0
    sandbox_rate_limit = 0
    sandbox_customers = 12
    sandbox_vendors = 6

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import WaveSandbox

        cls.sandbox = WaveSandbox(seed=42, port=0, rate_limit=cls.sandbox_rate_limit)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.wave_us, cls.wave_ca = cls.sandbox.seed_demo(
            invoices_per_business=cls.sandbox_invoices,
            customers=cls.sandbox_customers,
            vendors=cls.sandbox_vendors,
        )
        cls.wave_token = cls.sandbox.issue_full_access_token()
        cls.connection.sudo().write(
            {
                "auth_method": "token",
                "full_access_token": cls.wave_token,
                "access_token": False,
                "refresh_token": False,
                "api_url": cls.sandbox.graphql_url,
                "authorize_url": cls.sandbox.authorize_url,
                "token_url": cls.sandbox.token_url,
                "allow_insecure_loopback": True,
                "business_id": cls.wave_us.id,
                "business_name": cls.wave_us.name,
                "business_currency": cls.wave_us.currency_code,
                "state": "connected",
                "rate_limit": 10000,
            }
        )

    def sandbox_admin(self, method, path, **kwargs):
        """Call the sandbox's admin API (``/sandbox/...``)."""
        import requests

        response = requests.request(
            method,
            self.sandbox.base_url + path,
            headers={"X-Sandbox-Admin-Token": self.sandbox.admin_token},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()
