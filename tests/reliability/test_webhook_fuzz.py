# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook fuzzing: ``POST /wave/webhook/<id>`` against a real Odoo HTTP server.

Runs in the pytest-odoo session (``--odoo-http``). A seeded generator builds
``WAVE_FUZZ_EXAMPLES`` requests (default 10,000, about 2-3 minutes here) over 12
kinds: missing, wrong and truncated signatures, bodies changed after
signing, replays of a delivery already received, bodies over the size limit,
invalid UTF-8, deeply nested JSON, wrong content types, wrong methods, and valid
signatures over unexpected JSON shapes.

Expected: no 5xx; every request refused (or, for replays, answered "duplicate");
no new webhook event, queue job or journal entry; one log line per request, none
with the secret or a piece of the payload.
"""

import hashlib
import hmac
import json
import logging
import os
import random
import time

from odoo.tests import HttpCase, tagged

SECRET = "fuzz-webhook-secret-4b1d"
MARKER = "PAYLOADMARKER"
EXAMPLES = int(os.environ.get("WAVE_FUZZ_EXAMPLES", "10000"))
SEED = int(os.environ.get("WAVE_FUZZ_SEED", "20260512"))
HUGE_EVERY = 1000  # bodies over 1 MiB are expensive: one request in 1000
LOGGER = "odoo.addons.wave_accounting_integration.controllers.webhook"


def sign(body, secret=SECRET):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


class FuzzCases:
    """Seeded request generator: ``(kind, method, headers, body, allowed statuses)``."""

    def __init__(self, seed, valid_body):
        self.rng = random.Random(seed)
        self.valid_body = valid_body
        self.kinds = [
            self.no_signature,
            self.wrong_signature,
            self.truncated_signature,
            self.tampered_body,
            self.replay,
            self.invalid_utf8,
            self.deep_json,
            self.wrong_content_type,
            self.wrong_method,
            self.unexpected_shape,
            self.signature_garbage,
            self.wrong_secret,
        ]

    # -- building blocks ---------------------------------------------------
    def text(self, size=None):
        size = size if size is not None else self.rng.randint(0, 64)
        alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 {}[]":,.\\/-_éß漢\u2028'
        return "".join(self.rng.choice(alphabet) for _ in range(size))

    def payload(self):
        payload = {
            "event_id": f"{MARKER}-{self.rng.randrange(10**9)}",
            "event_type": self.rng.choice(["invoice.paid", "invoice.created", "x", ""]),
            "business_id": self.rng.choice(["QnVzaW5lc3M6eA==", MARKER, None]),
            "data": {"invoice_id": MARKER, "note": self.text()},
        }
        return json.dumps(payload).encode()

    def headers(self, body, signature="valid", content_type="application/json"):
        headers = {"Content-Type": content_type}
        if signature == "valid":
            headers["X-Wave-Signature"] = sign(body)
        elif signature is not None:
            headers["X-Wave-Signature"] = signature
        return headers

    # -- kinds -------------------------------------------------------------
    def no_signature(self):
        body = self.payload()
        return "POST", self.headers(body, signature=None), body, {401}

    def wrong_signature(self):
        body = self.payload()
        signature = "%064x" % self.rng.getrandbits(256)
        return "POST", self.headers(body, signature), body, {401}

    def truncated_signature(self):
        body = self.payload()
        valid = sign(body)
        return "POST", self.headers(body, valid[: self.rng.randrange(len(valid))]), body, {401}

    def tampered_body(self):
        body = self.payload()
        headers = self.headers(body)
        return "POST", headers, body + b" ", {401}

    def replay(self):
        # The delivery received once in setUp: a duplicate, never a new event.
        return "POST", self.headers(self.valid_body), self.valid_body, {200}

    def invalid_utf8(self):
        body = b'{"event_id": "' + bytes(self.rng.randrange(128, 256) for _ in range(8)) + b'"}'
        signed = self.rng.random() < 0.5
        return "POST", self.headers(body, "valid" if signed else "bad"), body, {400, 401}

    def deep_json(self):
        depth = self.rng.choice([100, 1000, 10000, 100000])
        body = (b"[" * depth) + (b"]" * depth)
        if self.rng.random() < 0.5:
            body = (b'{"a":' * depth) + b"1" + (b"}" * depth)
        return "POST", self.headers(body), body, {400}

    def wrong_content_type(self):
        body = self.payload()
        content_type = self.rng.choice(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "x/y"]
        )
        return "POST", self.headers(body, "bad-signature", content_type), body, {401}

    def wrong_method(self):
        method = self.rng.choice(["GET", "PUT", "DELETE", "PATCH"])
        body = self.payload()
        return method, self.headers(body), body, {405}

    def unexpected_shape(self):
        shape = self.rng.choice(
            [
                [],
                [1, 2],
                "text",
                42,
                None,
                True,
                {},
                {"event_id": 5, "event_type": "invoice.paid"},
                {"event_id": "", "event_type": "invoice.paid"},
                {"event_id": "x" * 300, "event_type": "invoice.paid"},
                {"event_id": MARKER, "event_type": ["invoice.paid"]},
                {"event_id": MARKER, "event_type": "invoice.paid", "data": []},
                {"event_id": MARKER, "event_type": "invoice.paid", "business_id": 7},
                {"event_id": MARKER, "event_type": "x", "data": {"invoice_id": {"a": 1}}},
            ]
        )
        body = json.dumps(shape).encode()
        return "POST", self.headers(body), body, {400}

    def signature_garbage(self):
        body = self.payload()
        garbage = self.rng.choice(
            ["sha256=", "sha256=zz", "x y", "-", "é" * 10, "a" * 5000, "sha1=" + sign(body)[:40]]
        )
        try:
            garbage.encode("latin-1")
        except UnicodeEncodeError:
            garbage = "bad"
        return "POST", self.headers(body, garbage), body, {401}

    def wrong_secret(self):
        body = self.payload()
        return "POST", self.headers(body, sign(body, "another-secret")), body, {401}

    def huge(self):
        body = b'{"event_id": "' + b"a" * (1024 * 1024 + 10) + b'"}'
        return "POST", self.headers(body), body, {413}

    def generate(self, count):
        for index in range(count):
            if index % HUGE_EVERY == HUGE_EVERY - 1:
                yield "huge", *self.huge()
            else:
                kind = self.kinds[index % len(self.kinds)]
                yield kind.__name__, *kind()


@tagged("post_install", "-at_install", "wave_fuzz")
class TestWebhookFuzz(HttpCase):
    def setUp(self):
        super().setUp()
        connection = self.env["wave.api"].sudo()._get_or_create_for_company(self.env.company)
        connection.write({"webhook_secret": SECRET, "business_id": "QnVzaW5lc3M6ZnV6eg=="})
        self.connection = connection
        self.url = f"{self.base_url()}/wave/webhook/{connection.id}"
        # One valid delivery of another business: stored once ("ignored"), no job.
        self.valid_body = json.dumps(
            {
                "event_id": "fuzz-replayed-event",
                "event_type": "invoice.paid",
                "business_id": "QnVzaW5lc3M6b3RoZXI=",
                "data": {"invoice_id": "SW52b2ljZTp4"},
            }
        ).encode()
        response = self.opener.post(
            self.url, data=self.valid_body, headers={"X-Wave-Signature": sign(self.valid_body)}
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.lines = _Lines()
        logger = logging.getLogger(LOGGER)
        logger.addHandler(self.lines)
        self.addCleanup(logger.removeHandler, self.lines)
        self.addCleanup(logger.setLevel, logger.level)
        logger.setLevel(logging.INFO)

    def _counts(self):
        self.env.invalidate_all()
        return (
            self.env["wave.webhook.event"].sudo().search_count([]),
            self.env["queue.job"].sudo().search_count([]),
            self.env["account.move"].sudo().search_count([]),
        )

    def test_fuzz(self):
        before = self._counts()
        event = (
            self.env["wave.webhook.event"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("event_id", "=", "fuzz-replayed-event"),
                ]
            )
        )
        self.assertEqual(event.state, "ignored")
        session = self.opener  # keep-alive, carries the test cursor cookie
        unexpected, server_errors, by_kind = [], 0, {}
        sent_to_controller = 0
        started = time.monotonic()
        for kind, method, headers, body, allowed in FuzzCases(SEED, self.valid_body).generate(
            EXAMPLES
        ):
            response = session.request(method, self.url, data=body, headers=headers, timeout=60)
            status = response.status_code
            by_kind[kind] = by_kind.get(kind, 0) + 1
            if status >= 500:
                server_errors += 1
            if status not in allowed:
                unexpected.append((kind, status, response.text[:120]))
            if method == "POST":
                sent_to_controller += 1
        elapsed = time.monotonic() - started
        logging.getLogger(__name__).warning(
            "webhook fuzz: %s requests in %.1f s (%.0f/s), kinds %s",
            EXAMPLES,
            elapsed,
            EXAMPLES / elapsed,
            by_kind,
        )
        self.assertGreaterEqual(sum(by_kind.values()), EXAMPLES)
        self.assertEqual(server_errors, 0, unexpected[:20])
        self.assertFalse(unexpected, unexpected[:20])
        self.assertEqual(self._counts(), before)
        event.invalidate_recordset()
        self.assertEqual(event.delivery_count, 1 + by_kind["replay"])
        # One log line per request that reached the controller; no secret, no payload.
        self.assertEqual(len(self.lines.lines), sent_to_controller)
        leaks = [line for line in self.lines.lines if SECRET in line or MARKER in line]
        self.assertFalse(leaks, leaks[:5])
