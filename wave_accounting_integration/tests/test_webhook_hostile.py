# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Hostile but validly signed webhook bodies, signature failures, time window, purge."""

import datetime
import json
import logging
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from . import security_tally as tally
from .common import WaveCommon
from .security_tally import TallyMixin
from .test_webhook import sign

MARKER = "HOSTILEMARKER"
TOLERANCE = "wave_accounting_integration.webhook_timestamp_tolerance"
RETENTION = "wave_accounting_integration.webhook_event_retention_days"


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append(record.getMessage())
        except (TypeError, ValueError):  # a message that cannot be formatted: kept as is
            self.messages.append(str(record.msg))


@tagged("post_install", "-at_install")
class TestWebhookHostile(TallyMixin, WaveCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = f"/wave/webhook/{cls.connection.id}"

    def event(self, **changes):
        event = {
            "event_id": str(uuid.uuid4()),
            "event_type": "invoice.paid",
            "business_id": self.connection.business_id,
            "occurred_at": "2026-01-31T12:00:00.000Z",
            "data": {"invoice_id": "SW52b2ljZTox", "total": "99.00"},
        }
        for key, value in changes.items():
            if key.startswith("data_"):
                event["data"][key[5:]] = value
            else:
                event[key] = value
        return event

    def post(self, body, signature=None, url=None):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature is not False:
            headers["X-Wave-Signature"] = signature or sign(body)
        return self.url_open(url or self.url, data=body, headers=headers)

    def counts(self):
        self.env.invalidate_all()
        return (
            self.env["wave.webhook.event"].sudo().search_count([]),
            self.env["queue.job"].sudo().search_count([]),
        )

    def capture_all_logs(self):
        handler = _Records()
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(root.removeHandler, handler)
        return handler

    def test_hostile_values_refused_before_any_insert(self):
        long_id = MARKER + "x" * 300
        bodies = {
            "NUL in the event id": self.event(event_id=MARKER + "\x00"),
            "NUL in another field": self.event(data_note=MARKER + "\x00" + "y" * 1000),
            "NUL in a key": self.event(**{"data_" + MARKER + "\x00": 1}),
            "lone surrogate in the type": self.event(event_type="invoice.paid\ud800"),
            "lone surrogate in the invoice id": self.event(data_invoice_id="\udfff" + MARKER),
            "event id too long": self.event(event_id=long_id),
            "event type too long": self.event(event_type="a" * 101),
            "business id too long": self.event(business_id=long_id),
            "invoice id too long": self.event(data_invoice_id=long_id),
            "invoice id with a space": self.event(data_invoice_id=MARKER + " x"),
            "event id a number": self.event(event_id=12345),
            "invoice id a number": self.event(data_invoice_id=2**70),
            "business id a list": self.event(business_id=[MARKER]),
            "huge number": self.event(data_total=2**64),
            "deep nesting": self.event(data_note=json.loads("[" * 40 + "]" * 40)),
        }
        raw_bodies = {
            "1e400": json.dumps(self.event(data_total="@@")).replace('"@@"', "1e400"),
            "NaN": json.dumps(self.event(data_total="@@")).replace('"@@"', "NaN"),
            "-Infinity": json.dumps(self.event(data_total="@@")).replace('"@@"', "-Infinity"),
            "5000 digits": json.dumps(self.event(data_total="@@")).replace('"@@"', "9" * 5000),
        }
        logs = self.capture_all_logs()
        before = self.counts()
        for name, payload in [*bodies.items(), *raw_bodies.items()]:
            body = payload if isinstance(payload, str) else json.dumps(payload)
            response = self.post(body.encode("utf-8", "surrogatepass"))
            leaked = self.counts() != before or MARKER.encode() in response.content
            outcome = tally.classify(response.status_code == 400, leaked, response.status_code)
            tally.record("webhook: signed body with hostile values", outcome)
            self.assertEqual(response.status_code, 400, name)
            self.assertEqual(response.json()["status"], "rejected", name)
        self.assertEqual(self.counts(), before, "nothing inserted, nothing queued")
        leaks = [message[:200] for message in logs.messages if MARKER in message]
        self.assertFalse(leaks, "no body value in any log line")
        self.assertTrue(all(len(message) < 1000 for message in logs.messages))

    def test_limits_are_inclusive(self):
        body = self.event(
            event_id="e" * 200,
            event_type="invoice.paid",
            business_id=self.connection.business_id,
            data_invoice_id="i" * 200,
            data_note=[[[["deep but fine"]]]],
            data_total=2**62,
        )
        self.assertEqual(self.post(body).status_code, 202)
        unknown = self.event(event_type="t" * 100)
        self.assertEqual(self.post(unknown).status_code, 200, "unknown type: ignored")
        text = self.event(data_note="Ünïcödé 漢字 😀 <b>html</b> '; --")
        self.assertEqual(self.post(text).status_code, 202)

    def test_one_answer_for_every_signature_failure(self):
        body = json.dumps(self.event()).encode()
        answers = {
            "missing": self.post(body, signature=False),
            "wrong": self.post(body, signature="0" * 64),
            "wrong secret": self.post(body, signature=sign(body, "another")),
            "unknown connection": self.post(body, url="/wave/webhook/999999"),
            "id beyond PostgreSQL integers": self.post(body, url=f"/wave/webhook/{2**40}"),
        }
        self.connection.sudo().active = False
        answers["archived connection"] = self.post(body)
        for answer in answers.values():
            outcome = tally.classify(
                answer.status_code == 401, self.counts()[0] != 0, answer.status_code
            )
            tally.record("webhook: signature failures (one 401 answer)", outcome)
        shapes = {
            (r.status_code, r.content, r.headers.get("Content-Type")) for r in answers.values()
        }
        self.assertEqual(len(shapes), 1, {k: r.content for k, r in answers.items()})
        status, content, _type = shapes.pop()
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(content), {"status": "rejected", "reason": "invalid signature"})
        self.assertEqual(self.counts()[0], 0)

    def test_time_window_is_optional(self):
        params = self.env["ir.config_parameter"].sudo()
        old = self.event(occurred_at="2020-01-01T00:00:00.000Z")
        self.assertEqual(self.post(old).status_code, 202, "off by default")
        params.set_param(TOLERANCE, "300")
        now = datetime.datetime.now(datetime.UTC)
        fresh = self.event(occurred_at=now.isoformat().replace("+00:00", "Z"))
        self.assertEqual(self.post(fresh).status_code, 202)
        for occurred_at in (
            (now - timedelta(minutes=10)).isoformat(),
            (now + timedelta(minutes=10)).isoformat(),
            "not a date",
            None,
            12,
        ):
            before = self.counts()
            response = self.post(self.event(occurred_at=occurred_at))
            outcome = tally.classify(
                response.status_code == 400, self.counts() != before, response.status_code
            )
            tally.record("webhook: event time outside the window (when on)", outcome)
            self.assertEqual(response.status_code, 400, occurred_at)
            self.assertEqual(self.counts(), before)
        missing = self.event()
        del missing["occurred_at"]
        self.assertEqual(self.post(missing).status_code, 400)

    def test_purge_keeps_event_ids_for_the_replay_window(self):
        Event = self.env["wave.webhook.event"].sudo()
        params = self.env["ir.config_parameter"].sudo()
        now = fields.Datetime.now()

        def make(days, state):
            event, _new = Event._register_delivery(
                self.connection, str(uuid.uuid4()), "invoice.paid", None, None, state=state
            )
            event.write({"received_at": now - timedelta(days=days)})
            return event

        recent, older, oldest = make(5, "done"), make(7, "ignored"), make(30, "failed")
        pending = make(30, "received")
        everything = recent | older | oldest | pending
        self.assertEqual(Event._cron_purge_events(), 0, "off by default")
        params.set_param(RETENTION, "1")
        self.assertEqual(Event._cron_purge_events(), 0, "no time window: ids are kept")
        params.set_param(TOLERANCE, str(3 * 24 * 3600))  # kept at least 2 x 3 days
        self.assertEqual(Event._cron_purge_events(), 2)
        self.assertEqual(everything.exists(), recent | pending)
        cron = self.env.ref("wave_accounting_integration.ir_cron_wave_webhook_purge")
        self.assertEqual(cron.code.strip(), "model._cron_purge_events()")
