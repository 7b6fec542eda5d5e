# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The secret rotation and the real webhook route agree on which secrets are accepted.

``wave.api._webhook_secrets_accepted()`` is the one list; the route must accept a
delivery signed with each secret of that list and refuse any other, during and
after the overlap window of a rotation.
"""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import WaveCommon

OLD_SECRET = "webhook-secret-SECRET"


def sign(body, secret):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@tagged("post_install", "-at_install")
class TestSecretRotationWebhook(WaveCommon, HttpCase):
    def _post_signed(self, secret):
        body = json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "event_type": "invoice.paid",
                "business_id": self.connection.business_id,
                "data": {"invoice_id": "SW52b2ljZTox"},
            }
        ).encode()
        response = self.url_open(
            f"/wave/webhook/{self.connection.id}",
            data=body,
            headers={"Content-Type": "application/json", "X-Wave-Signature": sign(body, secret)},
        )
        return response.status_code

    def test_route_accepts_exactly_the_secrets_the_rotation_accepts(self):
        connection = self.connection.sudo()
        self.assertEqual(connection.webhook_secret, OLD_SECRET)
        Rotator = self.env["wave.secret.rotator"].with_user(self.wave_admin)
        new = Rotator._rotate_webhook_secret(self.connection.with_user(self.wave_admin), None, 2)

        # Inside the overlap: the new and the previous secret, nothing else.
        self.assertEqual(connection._webhook_secrets_accepted(), [new, OLD_SECRET])
        self.assertEqual(self._post_signed(new), 202)
        self.assertEqual(self._post_signed(OLD_SECRET), 202, "previous secret inside the overlap")
        self.assertEqual(self._post_signed("never-a-secret"), 401)

        # The overlap is over (the cron has not run yet): the previous secret is refused.
        connection.webhook_secret_previous_until = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(connection._webhook_secrets_accepted(), [new])
        self.assertEqual(self._post_signed(OLD_SECRET), 401, "previous secret after the overlap")
        self.assertEqual(self._post_signed(new), 202)

        # Retired by the cron: still refused, the new one still accepted.
        self.assertEqual(self.env["wave.secret.rotator"]._cron_retire_webhook_secrets(), 1)
        self.assertEqual(self._post_signed(OLD_SECRET), 401, "retired secret")
        self.assertEqual(self._post_signed(new), 202)

    def test_rotation_without_overlap_refuses_the_old_secret_at_once(self):
        Rotator = self.env["wave.secret.rotator"].with_user(self.wave_admin)
        new = Rotator._rotate_webhook_secret(
            self.connection.with_user(self.wave_admin), "rotated-SECRET-0", 0
        )
        self.assertEqual(self.connection.sudo()._webhook_secrets_accepted(), [new])
        self.assertEqual(self._post_signed(OLD_SECRET), 401)
        self.assertEqual(self._post_signed(new), 202)
