# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""No secret ever reaches a log: Python logging, the request log, the chatter.

Known secrets are set on a connection talking to the sandbox over HTTP; the test
runs a query, a mutation Wave refuses, an OAuth token refresh (one accepted, one
refused) and webhook deliveries with bad signatures, while every log record of
every logger is captured at DEBUG level.
"""

import hashlib
import hmac
import json
import logging
import urllib.parse

import requests

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..lib import WaveError, WaveValidationError
from .common import WaveSandboxCommon

CLIENT_ID = "parity-client"
CLIENT_SECRET = "client-secret-7f3a9c1e5b"
WEBHOOK_SECRET = "webhook-secret-0d2e4c6a8b"
REDIRECT_URI = "http://127.0.0.1/wave/oauth/callback"


class _Capture(logging.Handler):
    """Keeps the full text of every record (message, arguments, traceback)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.texts = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if record.stack_info:
            text += record.stack_info
        self.texts.append(text)


@tagged("post_install", "-at_install")
class TestSecretsInLogs(WaveSandboxCommon, HttpCase):
    def setUp(self):
        super().setUp()
        self.capture = _Capture()
        root = logging.getLogger()
        root.addHandler(self.capture)
        self.addCleanup(root.removeHandler, self.capture)
        # odoo.sql_db stays as configured: at DEBUG (--log-sql) Odoo itself prints every
        # query with its parameters, whatever the addon does.
        for name, level in (
            ("odoo", logging.DEBUG),
            ("odoo.sql_db", logging.INFO),
            ("urllib3", logging.DEBUG),
            ("requests", logging.DEBUG),
            ("werkzeug", logging.DEBUG),
        ):
            logger = logging.getLogger(name)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(level)

    def _oauth_tokens(self):
        """A real access/refresh pair from the sandbox's authorization-code flow."""
        self.sandbox.register_oauth_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        response = requests.get(
            self.sandbox.authorize_url,
            params={
                "client_id": CLIENT_ID,
                "response_type": "code",
                "scope": "business:read user:read customer:* invoice:*",
                "redirect_uri": REDIRECT_URI,
                "state": "s",
                "auto_approve": "1",
            },
            allow_redirects=False,
            timeout=30,
        )
        code = urllib.parse.parse_qs(urllib.parse.urlparse(response.headers["Location"]).query)[
            "code"
        ][0]
        return requests.post(
            self.sandbox.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": REDIRECT_URI,
            },
            timeout=30,
        ).json()

    def _post_webhook(self, body, signature):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Wave-Signature"] = signature
        return self.url_open(f"/wave/webhook/{self.connection.id}", data=body, headers=headers)

    def test_no_secret_in_logs(self):
        connection = self.connection.sudo()
        tokens = self._oauth_tokens()
        secrets = {
            "full access token": self.wave_token,
            "client secret": CLIENT_SECRET,
            "webhook secret": WEBHOOK_SECRET,
            "access token": tokens["access_token"],
            "refresh token": tokens["refresh_token"],
        }
        connection.write(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "webhook_secret": WEBHOOK_SECRET,
            }
        )

        # 1. Full-access token: a query and a mutation Wave refuses.
        client = connection._get_client()
        self.assertTrue(client.execute("query Me { user { id } }")["user"]["id"])
        with self.assertRaises(WaveValidationError):
            client.mutate(
                "customerCreate", {"businessId": self.wave_us.id, "name": ""}, "customer { id }"
            )
        client.close()

        # 2. OAuth: an expired access token is refreshed (the pair rotates) ...
        connection.write(
            {
                "auth_method": "oauth",
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "token_expires_at": fields.Datetime.subtract(fields.Datetime.now(), hours=1),
            }
        )
        client = connection._get_client()
        client.execute("query Me { user { id } }")
        client.close()
        self.assertNotEqual(connection.refresh_token, tokens["refresh_token"])
        secrets["rotated access token"] = connection.access_token
        secrets["rotated refresh token"] = connection.refresh_token
        # ... and a refresh with a used refresh token is refused by Wave.
        connection.write(
            {
                "refresh_token": tokens["refresh_token"],
                "token_expires_at": fields.Datetime.subtract(fields.Datetime.now(), hours=1),
            }
        )
        client = connection._get_client()
        with self.assertRaises(WaveError):
            client.execute("query Me { user { id } }")
        client.close()

        # 3. Webhook deliveries: no signature, a wrong one, the secret itself as signature.
        body = json.dumps({"event_id": "e1", "event_type": "invoice.paid", "data": {}}).encode()
        wrong = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
        for signature in (None, wrong, WEBHOOK_SECRET, "sha256=" + WEBHOOK_SECRET):
            self.assertEqual(self._post_webhook(body, signature).status_code, 401)

        # Every log record, every request-log line, every chatter message.
        self.assertGreater(len(self.capture.texts), 5)
        request_logs = (
            self.env["wave.request.log"].sudo().search([("connection_id", "=", self.connection.id)])
        )
        self.assertGreaterEqual(len(request_logs), 2, request_logs.mapped("operation_name"))
        stored = [
            json.dumps(values, default=str)
            for values in request_logs.read(
                [name for name, field in request_logs._fields.items() if field.store]
            )
        ]
        messages = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "wave.api"), ("res_id", "=", self.connection.id)])
        )
        stored += [str(message.body) for message in messages]
        stored += [
            str(value.old_value_char) + str(value.new_value_char)
            for value in messages.tracking_value_ids
        ]
        for label, secret in secrets.items():
            with self.subTest(secret=label):
                self.assertTrue(secret)
                logged = sum(text.count(secret) for text in self.capture.texts)
                self.assertEqual(logged, 0, f"{label} found in {logged} log records")
                self.assertEqual(
                    sum(text.count(secret) for text in stored),
                    0,
                    f"{label} found in the request log or the chatter",
                )
