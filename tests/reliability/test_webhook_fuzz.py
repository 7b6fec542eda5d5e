# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook fuzzing: ``POST /wave/webhook/<id>`` against a real Odoo HTTP server.

Runs in the pytest-odoo session (``--odoo-http``). ``WAVE_FUZZ_EXAMPLES`` requests
in all (default 10,000), in two tests:

* ``TestWebhookFuzz`` (four fifths): a seeded generator over 13 kinds: missing,
  wrong and truncated signatures, bodies changed after signing, replays of a
  delivery already received, bodies over the size limit, invalid UTF-8, deeply
  nested JSON, wrong content types, wrong methods, unknown connection ids, and
  valid signatures over unexpected JSON shapes. Expected: no 5xx; every request
  refused (or, for replays, answered "duplicate"); no new webhook event, queue job
  or journal entry; one log line per request, none with the secret or a piece of
  the payload.
* ``TestWebhookFuzzAcceptPath`` (one fifth): hypothesis builds *validly signed,
  well-formed* events of the connection's own business (a live Wave sandbox) and
  puts hostile values in them (NUL, lone surrogates, strings up to 1 MB, huge and
  non-finite numbers, deep nesting, unknown event types, wrong types). Each goes
  through the route; each accepted event's drain job, then its own job, is run.
  Expected: no 5xx; every refused request changes nothing; every accepted event
  ends done, or failed with a plain message; values that PostgreSQL cannot store
  are always refused.

The seed differs per run (``WAVE_FUZZ_SEED`` fixes it); it is logged at the start
and written in every failure message, so a failing run can be replayed.
"""

import hashlib
import hmac
import json
import logging
import os
import random
import re
import time
import uuid

from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from odoo.addons.queue_job.job import Job
from odoo.addons.wave_accounting_integration.tests import security_tally as tally
from odoo.addons.wave_accounting_integration.tests.common import WaveSandboxCommon
from odoo.addons.wave_accounting_integration.tests.security_tally import TallyMixin
from odoo.tests import HttpCase, tagged

SECRET = "fuzz-webhook-secret-4b1d"
MARKER = "PAYLOADMARKER"
EXAMPLES = int(os.environ.get("WAVE_FUZZ_EXAMPLES", "10000"))
ACCEPT_EXAMPLES = max(EXAMPLES // 5, 1)
REFUSE_EXAMPLES = max(EXAMPLES - ACCEPT_EXAMPLES, 1)
SEED = int(os.environ.get("WAVE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
MAX_BODY = 1024 * 1024
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


def capture_route_log(test):
    """Collect the webhook route's log lines (INFO and up) for the length of ``test``."""
    lines = _Lines()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(lines)
    test.addCleanup(logger.removeHandler, lines)
    test.addCleanup(logger.setLevel, logger.level)
    logger.setLevel(logging.INFO)
    return lines


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
            self.unknown_connection,
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

    def unknown_connection(self):
        # a valid signature, but for a connection id that does not exist (or cannot)
        body = self.payload()
        connection_id = self.rng.choice([0, 999999, 2**31 - 1, 2**31, 2**63, 10**30])
        return "POST", self.headers(body), body, {401}, f"/wave/webhook/{connection_id}"

    def huge(self):
        body = b'{"event_id": "' + b"a" * (1024 * 1024 + 10) + b'"}'
        return "POST", self.headers(body), body, {413}

    def generate(self, count):
        for index in range(count):
            if index % HUGE_EVERY == HUGE_EVERY - 1:
                case = self.huge()
                kind = "huge"
            else:
                method = self.kinds[index % len(self.kinds)]
                case, kind = method(), method.__name__
            yield kind, *case[:4], (case[4] if len(case) > 4 else None)


@tagged("post_install", "-at_install", "wave_fuzz")
class TestWebhookFuzz(TallyMixin, HttpCase):
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
        self.lines = capture_route_log(self)

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
        logging.getLogger(__name__).warning("webhook fuzz seed: WAVE_FUZZ_SEED=%s", SEED)
        for kind, method, headers, body, allowed, path in FuzzCases(SEED, self.valid_body).generate(
            REFUSE_EXAMPLES
        ):
            url = f"{self.base_url()}{path}" if path else self.url
            response = session.request(method, url, data=body, headers=headers, timeout=60)
            status = response.status_code
            by_kind[kind] = by_kind.get(kind, 0) + 1
            if status >= 500:
                server_errors += 1
            if status not in allowed:
                unexpected.append((kind, status, response.text[:120]))
            # Per request: the answer; the database is compared once, after the loop.
            tally.record(
                "webhook: unsigned, forged, malformed or replayed requests",
                tally.classify(status in allowed, status=status),
            )
            if method == "POST":
                sent_to_controller += 1
        elapsed = time.monotonic() - started
        logging.getLogger(__name__).warning(
            "webhook fuzz: %s requests in %.1f s (%.0f/s), kinds %s",
            REFUSE_EXAMPLES,
            elapsed,
            REFUSE_EXAMPLES / elapsed,
            by_kind,
        )
        seed_note = f"WAVE_FUZZ_SEED={SEED}"
        self.assertGreaterEqual(sum(by_kind.values()), REFUSE_EXAMPLES)
        self.assertEqual(server_errors, 0, (seed_note, unexpected[:20]))
        self.assertFalse(unexpected, (seed_note, unexpected[:20]))
        changed = self._counts() != before
        if changed:
            tally.record("webhook: unsigned, forged, malformed or replayed requests", "leak")
        self.assertFalse(changed, seed_note)
        event.invalidate_recordset()
        self.assertEqual(event.delivery_count, 1 + by_kind["replay"])
        # One log line per request that reached the controller; no secret, no payload.
        self.assertEqual(len(self.lines.lines), sent_to_controller)
        leaks = [line for line in self.lines.lines if SECRET in line or MARKER in line]
        self.assertFalse(leaks, leaks[:5])


# ----------------------------------------------------------------------
# The accept path: validly signed, well-formed events with hostile values
# ----------------------------------------------------------------------
ID_FIELDS = ("event_id", "business_id", "data.invoice_id")
TARGETS = (*ID_FIELDS, "event_type", "occurred_at", "data.note", "extra", "data")
# JSON texts that json.dumps cannot write: put in the body in place of a placeholder.
RAW_REFUSED = ("1e400", "-1e400", "NaN", "Infinity", "-Infinity")
RAW_ACCEPTABLE = ("1e308", "-0", "0.000000000000000000001", "9223372036854775807")
INJECTIONS = (
    "'; DROP TABLE wave_webhook_event; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%s%s%n",
    "{{7*7}}${7*7}",
    "\u202egnp.exe",
    "\r\nX-Injected: 1",
)


BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _with_marker(text):
    return MARKER + text


hostile_values = st.one_of(
    # refused wherever they are: PostgreSQL cannot store them
    st.tuples(st.just("nul"), st.text(max_size=20).map(lambda t: _with_marker(t + "\x00" + t))),
    st.tuples(
        st.just("surrogate"),
        st.tuples(st.text(max_size=10), st.integers(0xD800, 0xDFFF)).map(
            lambda p: _with_marker(p[0] + chr(p[1]))
        ),
    ),
    st.tuples(st.just("raw_refused"), st.sampled_from(RAW_REFUSED)),
    st.tuples(st.just("bigint"), st.integers(19, 5000).map(lambda k: "9" * k)),
    # refused in an id, a type or a time; accepted elsewhere (or 413 when too big)
    st.tuples(
        st.just("long"), st.integers(201, MAX_BODY + 4096).map(lambda n: _with_marker("x" * n))
    ),
    st.tuples(st.just("deep"), st.integers(1, 3000)),
    st.tuples(
        st.just("wrong_type"),
        st.sampled_from([0, -1, 1.5, True, False, [], {}, ["a"], {"a": 1}, 2**62]),
    ),
    st.tuples(st.just("raw_ok"), st.sampled_from(RAW_ACCEPTABLE)),
    st.tuples(st.just("unicode"), st.text(min_size=1, max_size=200).map(_with_marker)),
    st.tuples(st.just("injection"), st.sampled_from(INJECTIONS).map(_with_marker)),
    st.tuples(st.just("unknown_type"), st.from_regex(r"[a-z]{1,12}\.[a-z_]{1,20}", fullmatch=True)),
    st.tuples(st.just("valid"), st.none()),
)
hostile_events = st.tuples(
    st.lists(st.tuples(st.sampled_from(TARGETS), hostile_values), min_size=1, max_size=3),
    st.booleans(),  # ensure_ascii
)


class HostileEvent:
    """One event of the connection's business with hostile values put in it.

    ``must_refuse``: the documented limits (``models/wave_webhook_event.py``) say
    the route refuses it (400), written here independently of the route's code.
    """

    def __init__(self, business_id, changes, ensure_ascii):
        self.payload = {
            "event_id": f"fuzz-{uuid.uuid4()}",
            "event_type": "invoice.paid",
            "business_id": business_id,
            "occurred_at": "2026-01-31T12:00:00.000Z",
            "data": {"invoice_id": f"SW52b2ljZTpmdXp6-{uuid.uuid4().hex}", "total": "9.99"},
        }
        self.raw = {}
        self.must_refuse = False
        final = {target: change for target, change in changes if change[0] != "valid"}
        # "data" first: its keys are then changed only if it is still an object
        for target in sorted(final, key=lambda name: name.startswith("data.")):
            kind, value = final[target]
            if target.startswith("data.") and not isinstance(self.payload["data"], dict):
                continue
            self.must_refuse |= self._refused(target, kind, value)
            if kind == "deep":
                value = self._placeholder("[" * value + "]" * value)
            elif kind in ("raw_refused", "bigint", "raw_ok"):
                value = self._placeholder(value)
            if target.startswith("data."):
                self.payload["data"] = {**self.payload["data"], target[5:]: value}
            else:
                self.payload[target] = value
        text = json.dumps(self.payload, ensure_ascii=ensure_ascii)
        for placeholder, raw in self.raw.items():
            text = text.replace(json.dumps(placeholder), raw)
        self.body = text.encode("utf-8", "surrogatepass")

    @staticmethod
    def _refused(target, kind, value):
        if kind in ("raw_refused", "bigint"):  # non-finite, or 19+ digits: beyond 64 bits
            return True
        if kind == "deep":  # the top object is level 1, "data" level 2
            not_a_list = (*ID_FIELDS, "event_type", "data")
            return (2 if target.startswith("data.") else 1) + value > 32 or target in not_a_list
        if kind == "raw_ok":
            value = 0.0  # a number, whatever its text
        if isinstance(value, str) and BAD_TEXT.search(value):
            return True
        if target in ID_FIELDS:
            return not (isinstance(value, str) and re.fullmatch(r"[\x21-\x7e]{1,200}", value))
        if target == "event_type":
            return not (isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", value))
        if target == "data":
            return not isinstance(value, dict)
        return False

    def _placeholder(self, raw):
        placeholder = f"__raw_{len(self.raw)}_{uuid.uuid4().hex}__"
        self.raw[placeholder] = raw
        return placeholder


@tagged("post_install", "-at_install", "wave_fuzz")
class TestWebhookFuzzAcceptPath(TallyMixin, WaveSandboxCommon, HttpCase):
    sandbox_invoices = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().webhook_secret = SECRET

    def setUp(self):
        super().setUp()
        self.url = f"{self.base_url()}/wave/webhook/{self.connection.id}"
        self.lines = capture_route_log(self)

    def _counts(self):
        self.env.invalidate_all()
        return (
            self.env["wave.webhook.event"].sudo().search_count([]),
            self.env["queue.job"].sudo().search_count([]),
        )

    def _run_job(self, event, seed_note):
        """Run the connection's drain job, then the event's job, as the job runner
        would; both must end cleanly."""
        self.assertEqual(event.state, "received", seed_note)  # stored, waiting for the drain
        drains = (
            self.env["queue.job"]
            .sudo()
            .search([("method_name", "=", "_job_drain_webhook_events"), ("state", "=", "pending")])
        )
        self.assertEqual(len(drains), 1, seed_note)
        drain = Job.load(self.env, drains.uuid)
        drain.perform()
        drain.set_done()
        drain.store()
        event.invalidate_recordset()
        self.assertTrue(event.queue_job_uuid, seed_note)
        job = Job.load(self.env, event.queue_job_uuid)
        job.perform()  # an exception here is a failure of the test, with its traceback
        job.set_done()
        job.store()
        self.env.flush_all()
        event.invalidate_recordset()
        self.assertIn(event.state, ("done", "failed"), seed_note)
        if event.state == "failed":
            self.assertTrue(event.error, seed_note)
            self.assertNotIn("Traceback", event.error, seed_note)
            self.assertLess(len(event.error), 2000, seed_note)

    def _check_answer(self, event, response, before, seed_note, logged_ids):
        """The answer to one hostile event, what it stored, and its job."""
        status = response.status_code
        self.assertLess(status, 500, (seed_note, response.text[:200]))
        self.assertIn(status, (200, 202, 400, 413), seed_note)
        if len(event.body) > MAX_BODY:
            self.assertEqual(status, 413, seed_note)
        elif event.must_refuse:
            self.assertEqual(status, 400, (seed_note, response.text[:200]))
        if status in (400, 413):
            self.assertEqual(response.json()["status"], "rejected", seed_note)
            self.assertEqual(self._counts(), before, seed_note)
            return
        if response.json()["status"] == "duplicate":  # an event id drawn twice
            self.assertEqual(self._counts(), before, seed_note)
            return
        logged_ids.update((event.payload["event_id"], event.payload["event_type"]))
        after = self._counts()
        stored = (
            self.env["wave.webhook.event"]
            .sudo()
            .search([("event_id", "=", event.payload["event_id"])])
        )
        self.assertEqual(len(stored), 1, seed_note)
        self.assertEqual(after[0], before[0] + 1, seed_note)
        if status == 200:
            self.assertEqual(stored.state, "ignored", seed_note)
            self.assertEqual(after[1], before[1], seed_note)
            return
        self.assertEqual(after[1], before[1] + 1, seed_note)  # the connection's drain job
        self._run_job(stored, seed_note)

    def test_fuzz_accept_path(self):
        seed_note = f"WAVE_FUZZ_SEED={SEED}"
        logging.getLogger(__name__).warning("webhook accept-path fuzz seed: %s", seed_note)
        outcomes, logged_ids = {}, set()
        session = self.opener
        business_id = self.connection.business_id

        @seed(SEED)
        @settings(
            max_examples=ACCEPT_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(hostile_events)
        def send(case):
            changes, ensure_ascii = case
            event = HostileEvent(business_id, changes, ensure_ascii)
            note(f"{seed_note}; changes: {[(t, k) for t, (k, _v) in changes]}")
            before = self._counts()
            headers = {"Content-Type": "application/json", "X-Wave-Signature": sign(event.body)}
            response = session.post(self.url, data=event.body, headers=headers, timeout=120)
            outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
            status = response.status_code
            refused = status in (400, 413)
            changed = refused and self._counts() != before
            tally.record(
                "webhook: signed, well-formed events with hostile values",
                tally.classify(refused, changed, status),
            )
            self._check_answer(event, response, before, seed_note, logged_ids)

        started = time.monotonic()
        send()
        elapsed = time.monotonic() - started
        total = sum(outcomes.values())
        logging.getLogger(__name__).warning(
            "webhook accept-path fuzz: %s requests in %.1f s, statuses %s (%s)",
            total,
            elapsed,
            outcomes,
            seed_note,
        )
        self.assertGreaterEqual(total, ACCEPT_EXAMPLES, seed_note)
        if ACCEPT_EXAMPLES >= 100:
            for status in (200, 202, 400):
                self.assertTrue(outcomes.get(status), (seed_note, outcomes))
        # Body values are never logged: no line carries the marker, none is long.
        # (The id and type of a stored event are logged: they are taken out first.)
        lines = []
        for line in self.lines.lines:
            for value in logged_ids:
                line = line.replace(f"={value} ", "=<value> ")
            lines.append(line)
        leaks = [line[:200] for line in lines if MARKER in line or len(line) > 400]
        self.assertFalse(leaks, (seed_note, leaks[:5]))
