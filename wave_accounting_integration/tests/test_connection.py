# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The connection against the Wave sandbox over real HTTP: buttons, faults, secrets."""

import logging

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.wave_accounting_integration.services.job_guard import job_guard
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..lib import (
    WaveGrantRevokedError,
    WaveOutcomeUnknownError,
    WaveRateLimitedError,
    WaveServerError,
    WaveTransportError,
    WaveValidationError,
)
from .common import WaveSandboxCommon


@tagged("post_install", "-at_install")
class TestConnection(WaveSandboxCommon):
    sandbox_customers = 2
    sandbox_vendors = 1

    def setUp(self):
        super().setUp()
        self.sandbox.faults.clear()
        self.sandbox.counters.reset()

    def _client(self, **options):
        options.setdefault("backoff_base", 0.01)
        return self.connection._wave_build_client("bulk", **options)

    def _raises(self, exc_type, func, *args, **kwargs):
        """Like assertRaises, without its savepoint rollback (the request log and the
        disconnection are written in the test cursor and must stay visible)."""
        try:
            func(*args, **kwargs)
        except exc_type as error:
            return error
        self.fail(f"{exc_type.__name__} not raised")

    def _logs(self):
        return self.env["wave.request.log"].search([("connection_id", "=", self.connection.id)])

    # -- buttons ---------------------------------------------------------------------
    def test_test_connection_stores_business(self):
        self.connection.write({"business_name": False, "business_currency": False})
        action = self.connection.with_user(self.wave_admin).action_wave_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(self.wave_us.name, action["params"]["message"])
        self.assertIn("USD", action["params"]["message"])
        self.assertEqual(self.connection.business_name, self.wave_us.name)
        self.assertEqual(self.connection.business_currency, "USD")
        self.assertIn("full-access token", action["params"]["message"])
        # No scope names stored for a full-access token (the go-live check reads them).
        self.assertFalse(self.connection.granted_scopes)
        checklist = self.env["wave.golive.checklist"].create({"connection_id": self.connection.id})
        checklist._run_checks()
        scopes = checklist.line_ids.filtered(lambda line: line.code == "scopes")
        self.assertEqual(scopes.state, "ok", scopes.message)
        self.assertTrue(self.connection.last_connection_check)
        self.assertFalse(self.connection.last_error)

    def test_test_connection_without_business_offers_the_choice(self):
        self.connection.write({"business_id": False})
        action = self.connection.with_user(self.wave_admin).action_wave_test_connection()
        self.assertEqual(action["res_model"], "wave.business.select")
        wizard = self.env["wave.business.select"].browse(action["res_id"])
        self.assertEqual(
            set(wizard.line_ids.mapped("business_id")), {self.wave_us.id, self.wave_ca.id}
        )
        wizard.line_ids.filtered(lambda line: line.business_id == self.wave_ca.id).with_user(
            self.wave_admin
        ).action_select()
        self.assertEqual(self.connection.business_id, self.wave_ca.id)
        self.assertEqual(self.connection.business_currency, "CAD")

    def _business_wizard(self):
        action = self.connection.with_user(self.wave_admin).action_wave_choose_business()
        return self.env["wave.business.select"].with_user(self.wave_admin).browse(action["res_id"])

    def test_choosing_another_business_with_linked_data_needs_confirmation(self):
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        invoice.sudo().write({"wave_id": "SW52b2ljZTpsaW5rZWQ="})  # as the sync would
        wizard = self._business_wizard()
        self.assertEqual(wizard.display_name, "Choose the Wave business")
        self.assertEqual(wizard.linked_invoice_count, 1)
        self.assertEqual(wizard.current_business_name, self.wave_us.name)
        # The business's name ends in a period: one period, not two ("Inc..").
        self.assertEqual(self.wave_us.name, "Acme Widgets Inc.")
        self.assertEqual(wizard.linked_title, "Data is already linked to Acme Widgets Inc.")
        self.assertRegex(
            wizard.linked_detail,
            r"^1 invoice, 0 payments and \d+ contacts? of this company came from",
        )
        canada = wizard.line_ids.filtered(lambda line: line.business_id == self.wave_ca.id)
        # Without the confirmation: refused with an explanation, nothing changes.
        with self.assertRaisesRegex(
            UserError, "1 invoice, .*linked to the Wave business"
        ) as refused:
            canada.action_select()
        message = str(refused.exception)
        self.assertIn(
            f"Wave business Acme Widgets Inc. Choosing {self.wave_ca.name} would", message
        )
        self.assertNotRegex(message, r"[^.]\.\.[^.]")
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.business_id, self.wave_us.id)
        self.assertEqual(self.connection.business_currency, "USD")
        # The same business again needs no confirmation.
        wizard.line_ids.filtered(lambda line: line.business_id == self.wave_us.id).action_select()
        self.assertEqual(self.connection.business_id, self.wave_us.id)
        # Confirmed: the switch happens.
        wizard.confirm_switch = True
        canada.action_select()
        self.assertEqual(self.connection.business_id, self.wave_ca.id)
        self.assertEqual(self.connection.business_currency, "CAD")

    def test_choosing_another_business_without_linked_data(self):
        wizard = self._business_wizard()
        self.assertEqual(wizard.linked_invoice_count, 0)
        wizard.line_ids.filtered(lambda line: line.business_id == self.wave_ca.id).action_select()
        self.assertEqual(self.connection.business_id, self.wave_ca.id)

    def test_switching_to_oauth_while_connected_offers_connect(self):
        self.assertEqual(self.connection.state, "connected")
        settings = (
            self.env["res.config.settings"]
            .with_user(self.wave_admin)
            .create(
                {"wave_auth_method": "oauth", "wave_client_id": "cid", "wave_client_secret": "sec"}
            )
        )
        settings.execute()
        # No longer "Connected": the settings screen shows Connect to Wave again.
        self.assertEqual(self.connection.state, "disconnected")
        self.assertIn("Connect to Wave", self.connection.last_error)
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn(
            "wave_state == 'connected' and wave_auth_method == wave_saved_auth_method", arch
        )
        # Test connection says what to do, with the way to do it.
        settings = self.env["res.config.settings"].with_user(self.wave_admin).create({})
        action = settings.action_wave_test_connection()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(
            action["params"]["links"][0]["url"],
            f"/wave/oauth/start?connection_id={self.connection.id}",
        )
        self.assertIn("%s", action["params"]["message"])
        action = settings.action_wave_connect()
        self.assertEqual(action["url"], f"/wave/oauth/start?connection_id={self.connection.id}")
        # Without a client ID: the message says what to enter first.
        self.connection.sudo().client_secret = False
        action = self.connection.with_user(self.wave_admin).action_wave_test_connection()
        self.assertIn("client ID and secret", action["params"]["message"])

    def test_buttons_are_admin_only(self):
        for method in (
            "action_wave_test_connection",
            "action_wave_disconnect",
            "action_wave_connect",
        ):
            with self.assertRaises(AccessError):
                getattr(self.connection.with_user(self.wave_accountant), method)()

    def test_disconnect_clears_tokens(self):
        self.connection.with_user(self.wave_admin).action_wave_disconnect()
        self.assertEqual(self.connection.state, "disconnected")
        self.assertFalse(self.connection.full_access_token)
        self.assertFalse(self.connection.access_token)
        self.assertFalse(self.connection._is_ready())

    def test_settings_buttons(self):
        settings = self.env["res.config.settings"].with_user(self.wave_admin).create({})
        action = settings.action_wave_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        settings = (
            self.env["res.config.settings"]
            .with_user(self.wave_admin)
            .create(
                {"wave_auth_method": "oauth", "wave_client_id": "cid", "wave_client_secret": "sec"}
            )
        )
        action = settings.action_wave_connect()
        self.assertEqual(action["url"], f"/wave/oauth/start?connection_id={self.connection.id}")

    def test_pasted_token_connects(self):
        self.connection.write({"state": "draft"})
        action = self.connection.with_user(self.wave_admin).action_wave_connect()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.connection.state, "connected")

    def test_rejected_full_access_token_disconnects(self):
        token = self.sandbox.issue_full_access_token()
        self.connection.full_access_token = token
        self.sandbox.revoke_tokens(token=token)
        self._raises(WaveGrantRevokedError, self._client().execute, "query { user { id } }")
        self.assertEqual(self.connection.state, "disconnected")
        self.assertFalse(self.connection._is_ready())
        activities = self.connection.activity_ids
        self.assertIn(self.wave_admin, activities.user_id)
        self.assertNotIn(self.wave_accountant, activities.user_id)

    # -- transport rules through Odoo ---------------------------------------------------
    def test_server_errors_bounded_retries_then_clear_failure(self):
        self.sandbox.faults.add(kind="http_error", status=503, operation="*")
        error = self._raises(
            WaveServerError, self._client(max_retries=2).execute, "query Ping { user { id } }"
        )
        self.assertIn("try again later", error.message)
        self.assertEqual(self.sandbox.counters.total, 3)  # one try + 2 retries
        log = self._logs()[:1]
        self.assertEqual((log.outcome, log.retries, log.http_status), ("error", 2, 503))

    def test_lost_connection_query_retried(self):
        self.sandbox.faults.add(kind="hang", delay=0.2, count=2, operation="*")
        data = self._client(max_retries=3).execute("query Ping { user { id } }")
        self.assertTrue(data["user"]["id"])
        self.assertEqual(self._logs()[:1].retries, 2)

    def test_timeout_exhausted_clear_failure(self):
        self.sandbox.faults.add(kind="hang", delay=0.1, operation="*")
        error = self._raises(
            WaveTransportError, self._client(max_retries=1).execute, "query Ping { user { id } }"
        )
        self.assertEqual(error.code, "NO_RESPONSE")
        self.assertEqual(self.sandbox.counters.total, 2)

    def test_lost_mutation_response_is_not_resent(self):
        self.sandbox.faults.add(kind="drop_after", operation="customerCreate", count=1)
        self._raises(
            WaveOutcomeUnknownError,
            self._client().mutate,
            "customerCreate",
            {"businessId": self.wave_us.id, "name": "Lost Response Co"},
            "customer { id name }",
        )
        self.assertEqual(self.sandbox.counters.by_operation.get("customerCreate"), 1)
        names = [c.name for c in self.wave_us.customers]
        self.assertEqual(names.count("Lost Response Co"), 1)  # applied once, never twice
        self.assertEqual(self._logs()[:1].outcome, "outcome_unknown")

    def test_validation_error_is_readable(self):
        error = self._raises(
            WaveValidationError,
            self._client().mutate,
            "customerCreate",
            {"businessId": self.wave_us.id, "name": ""},
            "customer { id }",
        )
        self.assertTrue(error.input_errors)
        self.assertIn("Name is required", error.message)
        self.assertNotIn("{", error.message)
        error = self._raises(
            WaveValidationError,
            self._client().execute,
            'query { business(id: "x", name: 2) { id } }',
        )
        self.assertIn("name", error.message)
        self.assertEqual(self._logs()[:1].outcome, "error")

    def test_https_rule(self):
        with self.assertRaises(ValidationError):
            self.connection.write({"allow_insecure_loopback": False})
        with self.assertRaises(ValidationError):
            self.connection.write({"api_url": "http://wave.example.com/graphql/public"})

    # -- jobs --------------------------------------------------------------------------
    def test_job_guard(self):
        with self.assertRaises(RetryableJobError) as caught:
            with job_guard(self.connection):
                raise WaveRateLimitedError(retry_after=12.2)
        self.assertEqual(caught.exception.seconds, 13)
        with self.assertRaises(RetryableJobError):
            with job_guard(self.connection):
                raise WaveServerError()
        with self.assertRaises(WaveOutcomeUnknownError):
            with job_guard(self.connection):
                raise WaveOutcomeUnknownError()
        with job_guard(self.connection) as guard:
            raise WaveGrantRevokedError()
        self.assertIsInstance(guard.error, WaveGrantRevokedError)
        self.assertTrue(guard.stopped)
        self.assertEqual(self.connection.state, "disconnected")
        self.assertFalse(self.connection._is_ready())

    # -- secrets -----------------------------------------------------------------------
    def test_secrets_absent_from_logs_and_accountant_fields(self):
        secrets = [self.wave_token, "client-secret-SECRET"]
        self.sandbox.faults.add(kind="http_error", status=500, count=1, operation="*")
        module_logger = "odoo.addons.wave_accounting_integration"
        with self.assertLogs(module_logger, level=logging.DEBUG) as logs:
            client = self._client()
            client.execute("query Ping { user { id } }")
            client.mutate(
                "customerCreate",
                {"businessId": self.wave_us.id, "name": "Secretive", "internalNotes": "token"},
                "customer { id }",
            )
            logging.getLogger("odoo.addons.wave_accounting_integration").debug("marker")
        text = "\n".join(logs.output)
        for secret in secrets:
            self.assertNotIn(secret, text)
        log_text = str(self._logs().read(["variables", "error", "error_codes"]))
        for secret in secrets:
            self.assertNotIn(secret, log_text)
        # Accountants read the connection and the log, never the secrets.
        as_accountant = self.connection.with_user(self.wave_accountant)
        self.assertTrue(as_accountant.business_name)
        readable = as_accountant.read(
            [
                name
                for name, field in as_accountant._fields.items()
                if field.is_accessible(as_accountant.env)
            ]
        )
        for secret in secrets:
            self.assertNotIn(secret, str(readable))
        with self.assertRaises(AccessError):
            as_accountant.read(["full_access_token"])
        self.assertTrue(self._logs().with_user(self.wave_accountant).read(["variables"]))
