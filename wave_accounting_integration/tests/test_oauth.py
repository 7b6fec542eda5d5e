# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OAuth2 with the Wave sandbox, through Odoo's real HTTP routes and real cursors."""

import logging
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests

from odoo import SUPERUSER_ID, api, sql_db
from odoo.addons.wave_accounting_integration.services.job_guard import job_guard
from odoo.tests import HttpCase, tagged

from ..lib import WaveGrantRevokedError, refresh_token
from .common import WaveSandboxCommon

CLIENT_ID = "odoo-test-client"
CLIENT_SECRET = "odoo-client-secret-SECRET"


def _with_params(url, **params):
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit(parts._replace(query=query))


@tagged("post_install", "-at_install")
class TestOAuth(WaveSandboxCommon, HttpCase):
    sandbox_customers = 2
    sandbox_vendors = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.redirect_uri = f"{cls.base_url()}/wave/oauth/callback"
        cls.sandbox.register_oauth_client(CLIENT_ID, CLIENT_SECRET, [cls.redirect_uri])
        cls.connection.write(
            {
                "auth_method": "oauth",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "full_access_token": False,
                "state": "draft",
                "business_id": False,
                "business_name": False,
            }
        )

    def setUp(self):
        super().setUp()
        self.sandbox.configure(access_token_ttl=7200)
        self.authenticate("wave_admin", "wave_admin")

    # -- helpers -----------------------------------------------------------------------
    def _start(self):
        """Start the flow as the admin; return the sandbox authorize URL."""
        response = self.url_open(
            f"/wave/oauth/start?connection_id={self.connection.id}", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.sandbox.authorize_url), location)
        return location

    def _approve(self, authorize_url, **extra):
        """The user approves in the sandbox; return Wave's redirect to our callback."""
        response = requests.get(
            _with_params(authorize_url, auto_approve="1", **extra),
            allow_redirects=False,
            timeout=10,
        )
        self.assertEqual(response.status_code, 302, response.text)
        callback = response.headers["Location"]
        self.assertTrue(callback.startswith(self.redirect_uri), callback)
        return callback

    def _connect(self, **extra):
        callback = self._approve(self._start(), **extra)
        response = self.url_open(callback, allow_redirects=False)
        self.env.invalidate_all()
        return callback, response

    def _refused(self, response):
        self.assertEqual(response.status_code, 400)
        self.assertIn("security token (state)", response.text)

    # -- the flow ----------------------------------------------------------------------
    def test_full_flow_one_business(self):
        authorize_url = self._start()
        params = parse_qs(urlsplit(authorize_url).query)
        scopes = params["scope"][0].split()
        self.assertIn("invoice:read", scopes)
        self.assertNotIn("invoice:write", scopes)  # export is off: least privilege
        self.assertEqual(params["redirect_uri"], [self.redirect_uri])
        self.assertGreaterEqual(len(params["state"][0]), 32)
        # The user restricts the grant to the US business on Wave's consent page.
        callback = self._approve(authorize_url, businessId=self.wave_us.id)
        response = self.url_open(callback, allow_redirects=False)
        self.env.invalidate_all()
        self.assertIn(response.status_code, (302, 303))
        self.assertIn(f"wave_api_action/{self.connection.id}", response.headers["Location"])
        connection = self.connection
        self.assertEqual(connection.state, "connected")
        self.assertTrue(connection.access_token.startswith("sbx_at_"))
        self.assertTrue(connection.refresh_token.startswith("sbx_rt_"))
        self.assertTrue(connection.token_expires_at)
        self.assertEqual(connection.business_id, self.wave_us.id)
        self.assertEqual(connection.business_currency, "USD")
        self.assertIn("invoice:read", connection.granted_scopes)
        self.assertTrue(connection._is_ready())
        self.assertNotIn(connection.access_token, response.text + str(response.headers))
        # The stored token works against Wave.
        data = connection._get_client("interactive").execute("query { user { id } }")
        self.assertTrue(data["user"]["id"])

    def test_several_businesses_selection(self):
        _callback, response = self._connect()
        self.assertIn(response.status_code, (302, 303))
        location = response.headers["Location"]
        self.assertIn("wave_business_select_action/", location)
        wizard = self.env["wave.business.select"].browse(int(location.rsplit("/", 1)[1]))
        self.assertEqual(
            set(wizard.line_ids.mapped("business_id")), {self.wave_us.id, self.wave_ca.id}
        )
        self.assertFalse(self.connection._is_ready())  # no business chosen yet
        ca_line = wizard.line_ids.filtered(lambda line: line.business_id == self.wave_ca.id)
        ca_line.with_user(self.wave_admin).action_select()
        self.assertEqual(self.connection.business_id, self.wave_ca.id)
        self.assertEqual(self.connection.business_currency, "CAD")
        self.assertTrue(self.connection._is_ready())

    def test_forged_state_refused(self):
        callback = self._approve(self._start())
        query = parse_qs(urlsplit(callback).query)
        forged = _with_params(self.redirect_uri, code=query["code"][0], state="forged-state")
        self._refused(self.url_open(forged, allow_redirects=False))
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, "draft")
        self.assertFalse(self.connection.access_token)
        # The pending state was consumed by the attempt: the genuine answer is refused too.
        self._refused(self.url_open(callback, allow_redirects=False))

    def test_replayed_state_refused(self):
        callback, response = self._connect(businessId=self.wave_us.id)
        self.assertIn(response.status_code, (302, 303))
        token = self.connection.access_token
        self._refused(self.url_open(callback, allow_redirects=False))
        self.env.invalidate_all()
        self.assertEqual(self.connection.access_token, token)

    def test_state_of_another_session_refused(self):
        callback = self._approve(self._start())
        self.authenticate("wave_admin", "wave_admin")  # a new session
        self._refused(self.url_open(callback, allow_redirects=False))

    def test_wave_denied(self):
        authorize_url = self._start()
        response = requests.get(
            _with_params(authorize_url, auto_approve="deny"), allow_redirects=False, timeout=10
        )
        page = self.url_open(response.headers["Location"], allow_redirects=False)
        self.assertEqual(page.status_code, 400)
        self.assertIn("access_denied", page.text)

    def test_start_is_admin_only(self):
        self.authenticate("wave_accountant", "wave_accountant")
        response = self.url_open(
            f"/wave/oauth/start?connection_id={self.connection.id}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 403)

    # -- tokens ------------------------------------------------------------------------
    def test_refresh_ahead_of_expiry_and_rotation(self):
        self._connect(businessId=self.wave_us.id)
        connection = self.connection.sudo()
        old_access, old_refresh = connection.access_token, connection.refresh_token
        connection.token_expires_at = "2000-01-01 00:00:00"
        with (
            self.assertLogs(level=logging.DEBUG) as logs,
            self.assertLogs("odoo", level=logging.DEBUG) as odoo_logs,
        ):
            data = connection._get_client().execute("query { user { id } }")
        self.assertTrue(data["user"]["id"])
        self.env.invalidate_all()
        # No secret in any log record (every logger, DEBUG included), except
        # Odoo's own SQL trace (``--log-level=debug_sql`` prints every parameter).
        text = "\n".join(
            line
            for line in logs.output + odoo_logs.output
            if not line.startswith("DEBUG:odoo.sql_db:")
        )
        self.assertIn("access token refreshed", text)
        for secret in (
            old_access,
            old_refresh,
            connection.access_token,
            connection.refresh_token,
            CLIENT_SECRET,
        ):
            self.assertNotIn(secret, text)
        self.assertNotEqual(connection.access_token, old_access)
        self.assertNotEqual(connection.refresh_token, old_refresh)
        self.assertGreater(connection.token_expires_at.year, 2000)
        # Rotation: Wave no longer accepts the previous refresh token.
        with self.assertRaises(WaveGrantRevokedError):
            refresh_token(
                self.sandbox.token_url,
                CLIENT_ID,
                CLIENT_SECRET,
                old_refresh,
                allow_insecure_loopback=True,
                timeout=10,
            )

    def test_expired_token_refreshed_once_on_unauthenticated(self):
        self.sandbox.configure(access_token_ttl=1)
        self._connect(businessId=self.wave_us.id)
        connection = self.connection.sudo()
        old_access = connection.access_token
        # Odoo believes the token is valid for long; Wave says it expired.
        connection.token_expires_at = "2999-01-01 00:00:00"
        self.sandbox.configure(access_token_ttl=7200)
        time.sleep(1.2)
        # Refreshes as Wave saw them: each one spends a refresh token.
        spent_before = sum(1 for rec in self.sandbox.state.refresh_tokens.values() if rec["used"])
        data = connection._get_client().execute("query { user { id } }")
        self.assertTrue(data["user"]["id"])
        spent = sum(1 for rec in self.sandbox.state.refresh_tokens.values() if rec["used"])
        self.assertEqual(spent - spent_before, 1, "exactly one refresh reached Wave")
        self.env.invalidate_all()
        self.assertNotEqual(connection.access_token, old_access)
        log = self.env["wave.request.log"].search([("connection_id", "=", connection.id)], limit=1)
        self.assertEqual((log.outcome, log.error_codes), ("success", False))

    def test_revoked_grant_disconnects_and_notifies(self):
        self._connect(businessId=self.wave_us.id)
        self.sandbox.revoke_tokens(client_id=CLIENT_ID)
        connection = self.connection.sudo()
        try:
            connection._get_client().execute("query { user { id } }")
        except WaveGrantRevokedError as error:
            self.assertIn("reconnect", error.message)
        else:
            self.fail("the revoked grant was accepted")
        self.env.invalidate_all()
        self.assertEqual(connection.state, "disconnected")
        self.assertFalse(connection.access_token or connection.refresh_token)
        self.assertFalse(connection._is_ready())
        activities = connection.activity_ids
        self.assertIn(self.wave_admin, activities.user_id)
        self.assertNotIn(self.wave_accountant, activities.user_id)
        self.assertIn("refused the authorization", connection.message_ids[0].body)
        # Jobs stop cleanly.
        with job_guard(connection) as guard:
            connection._get_client().execute("query { user { id } }")
        self.assertTrue(guard.stopped)

    # -- concurrent refresh across real database cursors ------------------------------
    def _committed_connection(self, access, refresh):
        """A connection committed in its own cursor (two workers must see it)."""
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            env = api.Environment(
                cr, SUPERUSER_ID, {"mail_create_nolog": True, "tracking_disable": True}
            )
            connection = env["wave.api"].create(
                {
                    "name": "Concurrent refresh test",
                    "active": False,  # the committed company may have its own connection
                    "company_id": env.ref("base.main_company").id,
                    "auth_method": "oauth",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "access_token": access,
                    "refresh_token": refresh,
                    "token_expires_at": "2000-01-01 00:00:00",
                    "api_url": self.sandbox.graphql_url,
                    "authorize_url": self.sandbox.authorize_url,
                    "token_url": self.sandbox.token_url,
                    "allow_insecure_loopback": True,
                    "business_id": self.wave_us.id,
                    "state": "connected",
                }
            )
            cr.commit()  # pylint: disable=invalid-commit
            connection_id = connection.id

        def cleanup():
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["wave.api"].with_context(active_test=False).browse(connection_id).unlink()
                cr.commit()  # pylint: disable=invalid-commit

        self.addCleanup(cleanup)
        return connection_id

    def _refresh_in_own_cursor(self, connection_id, stale, results, barrier=None):
        dbname = self.env.cr.dbname
        try:
            with sql_db.db_connect(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                connection = env["wave.api"].with_context(active_test=False).browse(connection_id)
                if barrier:
                    barrier.wait(timeout=10)

                class _Same:
                    def __enter__(self):
                        return cr

                    def __exit__(self, *exc):
                        return False

                results.append(connection._wave_refresh_serialized(stale, cursor_factory=_Same))
        except Exception as error:  # reported to the test thread
            results.append(error)

    def test_concurrent_refresh_keeps_a_working_token(self):
        from wave_sandbox.oauth import issue_token_pair

        user_id = self.sandbox.user.id
        access, refresh = issue_token_pair(
            self.sandbox.state, CLIENT_ID, user_id, ["business:read", "user:read"], None, 7200
        )
        connection_id = self._committed_connection(access, refresh)
        issued_before = len(self.sandbox.state.refresh_tokens)
        results = []
        barrier = threading.Barrier(2)
        workers = [
            threading.Thread(
                target=self._refresh_in_own_cursor, args=(connection_id, access, results, barrier)
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        self.assertEqual(len(results), 2, results)
        for result in results:
            self.assertNotIsInstance(result, Exception)
        self.assertEqual(results[0].access_token, results[1].access_token)
        self.assertEqual(results[0].refresh_token, results[1].refresh_token)
        # One refresh only reached Wave; the other worker reused its tokens.
        self.assertEqual(len(self.sandbox.state.refresh_tokens), issued_before + 1)
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                "SELECT access_token, refresh_token FROM wave_api WHERE id = %s", (connection_id,)
            )
            stored = cr.fetchone()
        self.assertEqual(stored, (results[0].access_token, results[0].refresh_token))
        response = requests.post(
            self.sandbox.graphql_url,
            json={"query": "query { user { id } }"},
            headers={"Authorization": f"Bearer {stored[0]}"},
            timeout=10,
        )
        self.assertTrue(response.json()["data"]["user"]["id"])

    def test_refresh_waits_for_the_row_lock(self):
        from wave_sandbox.oauth import issue_token_pair

        access, refresh = issue_token_pair(
            self.sandbox.state, CLIENT_ID, self.sandbox.user.id, ["user:read"], None, 7200
        )
        connection_id = self._committed_connection(access, refresh)
        results = []
        with sql_db.db_connect(self.env.cr.dbname).cursor() as holder:
            # Another worker is refreshing: it holds the row.
            holder.execute(
                "SELECT id FROM wave_api WHERE id = %s FOR NO KEY UPDATE", (connection_id,)
            )
            waiter = threading.Thread(
                target=self._refresh_in_own_cursor, args=(connection_id, access, results)
            )
            waiter.start()
            time.sleep(0.5)
            self.assertTrue(waiter.is_alive())  # blocked on the lock, nothing sent
            self.assertEqual(results, [])
            holder.rollback()
        waiter.join(30)
        self.assertEqual(len(results), 1)
        self.assertNotIsInstance(results[0], Exception)
        self.assertNotEqual(results[0].access_token, access)
