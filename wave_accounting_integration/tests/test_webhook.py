# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The webhook route over real HTTP: signatures, limits, deduplication, enqueueing."""

import hashlib
import hmac
import json
import logging
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import WaveCommon

SECRET = "webhook-secret-SECRET"
LOGGER = "odoo.addons.wave_accounting_integration.controllers.webhook"


def sign(body, secret=SECRET):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@tagged("post_install", "-at_install")
class TestWebhookRoute(WaveCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.business = cls.connection.business_id
        cls.url = f"/wave/webhook/{cls.connection.id}"

    def event_body(self, event_type="invoice.paid", invoice_id="SW52b2ljZTox", **extra):
        event = {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "business_id": self.business,
            "occurred_at": "2026-01-31T12:00:00.000Z",
            "data": {"invoice_id": invoice_id, "total": "99.00"},
        }
        event.update(extra)
        return json.dumps(event, separators=(",", ":")).encode()

    def post(self, body, signature=None, headers=None, url=None):
        all_headers = {"Content-Type": "application/json"}
        if signature is not False:
            all_headers["X-Wave-Signature"] = signature or sign(body)
        all_headers.update(headers or {})
        return self.url_open(url or self.url, data=body, headers=all_headers)

    def events(self):
        self.env.invalidate_all()
        return self.env["wave.webhook.event"].search([("connection_id", "=", self.connection.id)])

    def jobs(self):
        """The events' processing jobs (one per invoice)."""
        return self.env["queue.job"].sudo().search([("model_name", "=", "wave.webhook.event")])

    def drain_jobs(self, state=None):
        """The connections' drain jobs (the acknowledgement's only job)."""
        domain = [("method_name", "=", "_job_drain_webhook_events")]
        return self.env["queue.job"].sudo().search(domain + ([("state", "=", state)] * bool(state)))

    def drain(self):
        """Run the pending drain jobs as the job runner would, oldest first."""
        self.run_webhook_drains()

    def test_valid_delivery_is_accepted_and_queued(self):
        body = self.event_body()
        with self.assertLogs(LOGGER, level=logging.INFO) as logs:
            response = self.post(body)
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.json(), {"status": "accepted"})
        event = self.events()
        self.assertEqual(len(event), 1)
        values = {
            "event_type": "invoice.paid",
            "wave_invoice_id": "SW52b2ljZTox",
            "business_id": self.business,
            "state": "received",
            "delivery_count": 1,
        }
        self.assertRecordValues(event, [values])
        # The acknowledgement stored the event and made sure one drain job waits.
        self.assertFalse(self.jobs())
        drain = self.drain_jobs()
        self.assertEqual(len(drain), 1)
        self.assertRecordValues(
            drain,
            [
                {
                    "state": "pending",
                    "model_name": "wave.api",
                    "channel": "root.wave.webhook",
                    "identity_key": f"wave-webhook-drain:{self.connection.id}",
                    "company_id": self.connection.company_id.id,
                }
            ],
        )
        self.drain()
        self.assertRecordValues(event, [dict(values, state="queued")])
        job = self.jobs()
        self.assertEqual(len(job), 1)
        self.assertEqual(job.uuid, event.queue_job_uuid)
        self.assertEqual(job.method_name, "_job_process_webhook")
        self.assertEqual(job.channel, "root.wave.webhook")
        self.assertEqual(job.identity_key, f"wave-webhook:{self.connection.id}:SW52b2ljZTox")
        output = "\n".join(logs.output)
        self.assertIn(event.event_id, output)
        self.assertNotIn(SECRET, output)
        self.assertNotIn(sign(body), output)
        self.assertNotIn("99.00", output)

    def test_duplicate_delivery_acknowledged_once(self):
        body = self.event_body()
        self.assertEqual(self.post(body).status_code, 202)
        response = self.post(body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "duplicate"})
        event = self.events()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.delivery_count, 2)
        self.assertEqual(len(self.drain_jobs()), 1)
        self.drain()
        self.assertEqual(len(self.jobs()), 1)
        # a delivery of an event already given its job enqueues nothing
        self.assertEqual(self.post(body).json(), {"status": "duplicate"})
        self.assertFalse(self.drain_jobs("pending"))
        self.assertEqual(len(self.jobs()), 1)
        self.assertEqual(self.events().delivery_count, 3)

    def test_redelivery_restores_a_lost_drain_job(self):
        """A worker stopped after committing the event but before its drain job:
        Wave had no answer and delivers again; the duplicate enqueues the drain."""
        body = self.event_body()
        self.assertEqual(self.post(body).status_code, 202)
        self.drain_jobs().unlink()
        response = self.post(body)
        self.assertEqual(response.json(), {"status": "duplicate"})
        self.assertEqual(len(self.drain_jobs("pending")), 1)
        self.drain()
        event = self.events()
        self.assertEqual(event.state, "queued")
        self.assertEqual(self.jobs().uuid, event.queue_job_uuid)

    def test_started_drain_job_gets_a_pending_one(self):
        """A drain job already started may not see a later event (its snapshot): the
        next acknowledgement finds no pending one and enqueues another."""
        self.assertEqual(self.post(self.event_body(invoice_id="SW52b2ljZTox")).status_code, 202)
        self.drain_jobs().state = "started"
        self.assertEqual(self.post(self.event_body(invoice_id="SW52b2ljZToy")).status_code, 202)
        self.assertEqual(len(self.drain_jobs("pending")), 1)
        self.assertEqual(self.post(self.event_body(invoice_id="SW52b2ljZToz")).status_code, 202)
        self.assertEqual(len(self.drain_jobs()), 2, "one started, one pending")
        self.drain()
        events = self.events()
        self.assertEqual(events.mapped("state"), ["queued"] * 3)
        self.assertEqual(len(self.jobs()), 3, "one job per invoice")
        self.assertEqual(set(events.mapped("queue_job_uuid")), set(self.jobs().mapped("uuid")))

    def test_drain_job_runs_in_batches(self):
        for invoice_id in ("SW52b2ljZTox", "SW52b2ljZToy", "SW52b2ljZToz"):
            self.assertEqual(self.post(self.event_body(invoice_id=invoice_id)).status_code, 202)
        self.drain_jobs().state = "started"  # this run, as the job runner started it
        # sudo: as the job runner runs it (as OdooBot).
        self.connection.sudo()._job_drain_webhook_events(limit=2)
        self.assertEqual(sorted(self.events().mapped("state")), ["queued", "queued", "received"])
        self.assertEqual(len(self.drain_jobs("pending")), 1, "the next drain for the rest")
        self.drain()
        self.assertEqual(self.events().mapped("state"), ["queued"] * 3)
        self.assertEqual(len(self.jobs()), 3)

    def test_events_of_one_invoice_share_a_pending_job(self):
        self.assertEqual(self.post(self.event_body("invoice.approved")).status_code, 202)
        self.assertEqual(self.post(self.event_body("invoice.paid")).status_code, 202)
        events = self.events()
        self.assertEqual(len(events), 2)
        self.assertEqual(len(self.drain_jobs()), 1)
        self.drain()
        events = self.events()
        self.assertEqual(len(self.jobs()), 1)
        self.assertEqual(len(set(events.mapped("queue_job_uuid"))), 1)

    def test_missing_or_invalid_signature_refused(self):
        body = self.event_body()
        with self.assertLogs(LOGGER, level=logging.WARNING) as logs:
            self.assertEqual(self.post(body, signature=False).status_code, 401)
            self.assertEqual(self.post(body, signature="0" * 64).status_code, 401)
            self.assertEqual(self.post(body, signature=sign(body, "wrong")).status_code, 401)
            self.assertEqual(
                self.post(body, url="/wave/webhook/999999").status_code, 401, "unknown connection"
            )
        self.assertFalse(self.events())
        self.assertFalse(self.jobs())
        self.assertFalse(self.drain_jobs())
        output = "\n".join(logs.output)
        self.assertIn("missing signature", output)
        self.assertIn("invalid signature", output)
        self.assertNotIn(SECRET, output)
        self.assertNotIn("SW52b2ljZTox", output, "no payload in the logs")

    def test_prefixed_signature_and_configured_header(self):
        body = self.event_body()
        self.assertEqual(self.post(body, signature="sha256=" + sign(body)).status_code, 202)
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("wave_accounting_integration.webhook_signature_header", "X-Other-Sig")
        params.set_param("wave_accounting_integration.webhook_signature_algorithm", "sha512")
        body = self.event_body()
        self.assertEqual(self.post(body).status_code, 401, "old header no longer read")
        signature = hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()
        response = self.post(body, signature=False, headers={"X-Other-Sig": signature})
        self.assertEqual(response.status_code, 202)

    def test_previous_secret_during_rotation_only(self):
        now = fields.Datetime.now()
        self.connection.sudo().write(
            {
                "webhook_secret": "new-secret-SECRET",
                "webhook_secret_previous": SECRET,
                "webhook_secret_previous_until": now + timedelta(hours=1),
            }
        )
        body = self.event_body()
        self.assertEqual(self.post(body, signature=sign(body, SECRET)).status_code, 202)
        body = self.event_body()
        self.assertEqual(self.post(body, sign(body, "new-secret-SECRET")).status_code, 202)
        self.connection.sudo().webhook_secret_previous_until = now - timedelta(seconds=1)
        body = self.event_body()
        self.assertEqual(self.post(body, signature=sign(body, SECRET)).status_code, 401)
        self.assertEqual(len(self.events()), 2)

    def test_connection_changes_apply_at_once(self):
        """The acknowledgement reads its connection from each worker's cache, never a
        stale one: a new secret, an archived or restored connection, another business,
        a connection created or deleted are seen by the very next delivery."""
        connection = self.connection.sudo()
        self.assertEqual(self.post(self.event_body()).status_code, 202)  # cached now
        connection.webhook_secret = "rotated-SECRET"
        body = self.event_body()
        self.assertEqual(self.post(body).status_code, 401, "the old secret, replaced")
        self.assertEqual(self.post(body, sign(body, "rotated-SECRET")).status_code, 202)
        connection.action_archive()
        body = self.event_body()
        self.assertEqual(self.post(body, sign(body, "rotated-SECRET")).status_code, 401)
        connection.action_unarchive()
        body = self.event_body()
        self.assertEqual(self.post(body, sign(body, "rotated-SECRET")).status_code, 202)
        connection.business_id = "QnVzaW5lc3M6b3RoZXI="
        body = self.event_body()
        response = self.post(body, sign(body, "rotated-SECRET"))
        self.assertEqual(response.json(), {"status": "ignored"}, "another business now")

        # a connection of another company, made after the cache was filled
        company = self.env["res.company"].create({"name": "Webhook second company"})
        other = (
            self.env["wave.api"]
            .sudo()
            .create(
                {
                    "name": "Wave second",
                    "company_id": company.id,
                    "webhook_secret": "second-SECRET",
                    "business_id": "QnVzaW5lc3M6c2Vjb25k",
                }
            )
        )
        url = f"/wave/webhook/{other.id}"
        body = self.event_body(business_id=other.business_id)
        response = self.post(body, sign(body, "second-SECRET"), url=url)
        self.assertEqual(response.status_code, 202)
        self.env.invalidate_all()
        event = self.env["wave.webhook.event"].sudo().search([("connection_id", "=", other.id)])
        self.assertEqual(event.company_id, company)
        self.assertEqual(
            self.drain_jobs().filtered(lambda j: j.company_id == company).records.ids, other.ids
        )
        self.drain()
        event = self.env["wave.webhook.event"].sudo().search([("connection_id", "=", other.id)])
        self.assertEqual(
            self.jobs().filtered(lambda j: j.company_id == company).uuid, event.queue_job_uuid
        )
        other.unlink()
        body = self.event_body(business_id="QnVzaW5lc3M6c2Vjb25k")
        self.assertEqual(self.post(body, sign(body, "second-SECRET"), url=url).status_code, 401)

    def test_oversize_body_refused(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "wave_accounting_integration.webhook_max_body_size", "2048"
        )
        body = self.event_body(padding="x" * 4096)
        with self.assertLogs(LOGGER, level=logging.WARNING) as logs:
            self.assertEqual(self.post(body).status_code, 413)
        self.assertIn("body too large", logs.output[0])
        self.assertFalse(self.events())

    def test_default_size_limit_is_one_mebibyte(self):
        body = self.event_body(padding="x" * (1024 * 1024))
        self.assertEqual(self.post(body).status_code, 413)

    def test_bad_json_and_shape_refused(self):
        for body in (b"not json {", b"\xff\xfe\x00", b"[1, 2]", b'{"event_type": "invoice.paid"}'):
            self.assertEqual(self.post(body).status_code, 400, body)
        body = self.event_body(data="not an object")
        self.assertEqual(self.post(body).status_code, 400)
        self.assertFalse(self.events())

    def test_get_not_allowed(self):
        self.assertEqual(self.url_open(self.url).status_code, 405)

    def test_other_business_and_unknown_types_ignored(self):
        body = self.event_body(business_id="QnVzaW5lc3M6b3RoZXI=")
        response = self.post(body)
        self.assertEqual((response.status_code, response.json()), (200, {"status": "ignored"}))
        body = self.event_body("estimate.approved")
        self.assertEqual(self.post(body).status_code, 200)
        events = self.events()
        self.assertEqual(events.mapped("state"), ["ignored", "ignored"])
        self.assertFalse(self.jobs())
        self.assertFalse(self.drain_jobs())

    def test_job_not_ready_connection_marks_failed(self):
        self.connection.sudo().state = "disconnected"
        self.assertEqual(self.post(self.event_body()).status_code, 202)
        event = self.events()
        event._job_process_webhook()
        self.assertEqual(event.state, "failed")
        self.assertEqual(event.attempts, 1)
        self.assertIn("not ready", event.error)
