"""Webhooks: signing, retries with backoff, duplicates, out-of-order, bursts, test events."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "whsec_test"


class Receiver:
    """A tiny local HTTP receiver; fails the first ``fail_first`` requests with HTTP 500."""

    def __init__(self, fail_first=0):
        self.received, self.fail_first = [], fail_first
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body, time.monotonic()))
                status = 500 if len(outer.received) <= outer.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def events(self):
        return [json.loads(b) for _, b, _ in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def hook(api):
    receivers, subs = [], []

    def make(fail_first=0, event_types=None):
        rec = Receiver(fail_first)
        receivers.append(rec)
        sub = api.admin(
            "POST",
            "webhooks/subscriptions",
            json={"url": rec.url, "secret": SECRET, "event_types": event_types},
        ).json()
        subs.append(sub["id"])
        return rec

    yield make
    for sid in subs:
        api.admin("DELETE", f"webhooks/subscriptions/{sid}")
    for rec in receivers:
        rec.close()


def _invoice_setup(api, b):
    cust = api.mutate("customerCreate", {"businessId": b.id, "name": "Hook Co"}, "customer { id }")[
        "customer"
    ]["id"]
    prod = api.mutate(
        "productCreate", {"businessId": b.id, "name": "Thing", "unitPrice": "10"}, "product { id }"
    )["product"]["id"]
    bank = next(a.id for a in b.accounts if a.subtype_value == "CASH_AND_BANK")
    return cust, prod, bank


def test_invoice_events_signed(api, fresh, hook):
    rec = hook()
    cust, prod, bank = _invoice_setup(api, fresh)
    inv = api.mutate(
        "invoiceCreate",
        {"businessId": fresh.id, "customerId": cust, "items": [{"productId": prod}]},
        "invoice { id }",
    )["invoice"]["id"]
    api.mutate("invoiceApprove", {"invoiceId": inv})
    api.mutate("invoiceMarkSent", {"invoiceId": inv, "sendMethod": "MARKED_SENT"})
    api.admin("POST", "invoices/view", json={"invoice_id": inv})
    pay = {
        "invoiceId": inv,
        "paymentAccountId": bank,
        "paymentDate": "2026-01-02",
        "paymentMethod": "CASH",
        "exchangeRate": "1",
    }
    api.mutate("invoicePaymentCreateManual", dict(pay, amount="4"))
    api.mutate("invoicePaymentCreateManual", dict(pay, amount="6"))
    api.mutate("invoicePatch", {"id": inv, "memo": "m"})
    rec.wait(7)
    types = [e["event_type"] for e in rec.events()]
    assert types == [
        "invoice.created",
        "invoice.approved",
        "invoice.sent",
        "invoice.viewed",
        "invoice.partially_paid",
        "invoice.paid",
        "invoice.updated",
    ]
    for headers, body, _ in rec.received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Wave-Signature"] == expected
        event = json.loads(body)
        assert headers["X-Wave-Event-Id"] == event["event_id"]
        assert headers["X-Wave-Event-Type"] == event["event_type"]
        assert set(event) == {"event_id", "event_type", "business_id", "occurred_at", "data"}
        assert event["business_id"] == fresh.id and event["data"]["invoice_id"] == inv
    # delete emits invoice.deleted (drafts only)
    draft = api.mutate(
        "invoiceCreate",
        {"businessId": fresh.id, "customerId": cust, "items": [{"productId": prod}]},
        "invoice { id }",
    )["invoice"]["id"]
    api.mutate("invoiceDelete", {"invoiceId": draft})
    rec.wait(9)
    assert [e["event_type"] for e in rec.events()][-2:] == ["invoice.created", "invoice.deleted"]


def test_retries_with_backoff_and_log(api, fresh, hook):
    rec = hook(fail_first=2)
    r = api.admin(
        "POST", "webhooks/test", json={"event_type": "invoice.paid", "business_id": fresh.id}
    )
    event_id = r.json()["events"][0]
    rec.wait(3)
    assert len(rec.received) == 3
    assert {json.loads(b)["event_id"] for _, b, _ in rec.received} == {event_id}
    gaps = [b[2] - a[2] for a, b in zip(rec.received, rec.received[1:], strict=False)]
    assert gaps[1] > gaps[0] * 1.2  # backoff grows (0.05 s, 0.1 s)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        log = api.admin("GET", "webhooks/deliveries").json()["deliveries"]
        mine = [d for d in log if d["event_id"] == event_id and d["url"] == rec.url]
        if mine and mine[0]["status"] == "delivered":
            break
        time.sleep(0.02)
    assert [a["status"] for a in mine[0]["attempts"]] == [500, 500, 200]


def test_duplicates_out_of_order_burst(api, fresh, hook, sandbox):
    rec = hook(event_types=["invoice.updated"])
    api.admin("POST", "webhooks/duplicate", json={"next": 1})
    api.admin(
        "POST",
        "webhooks/burst",
        json={"count": 1, "event_type": "invoice.updated", "business_id": fresh.id},
    )
    rec.wait(2)
    ids = [e["event_id"] for e in rec.events()]
    assert len(ids) == 2 and ids[0] == ids[1]
    api.admin("POST", "webhooks/out-of-order", json={"next": 3})
    sent = api.admin(
        "POST",
        "webhooks/burst",
        json={"count": 3, "event_type": "invoice.updated", "business_id": fresh.id},
    ).json()["events"]
    rec.wait(5)
    assert [e["event_id"] for e in rec.events()[2:]] == sent[::-1]
    burst = api.admin(
        "POST",
        "webhooks/burst",
        json={"count": 25, "event_type": "invoice.updated", "business_id": fresh.id},
    ).json()["events"]
    rec.wait(30)
    assert {e["event_id"] for e in rec.events()[5:]} == set(burst)
    # event-type filter: other types are not delivered to this subscription
    api.admin("POST", "webhooks/test", json={"event_type": "invoice.paid", "business_id": fresh.id})
    time.sleep(0.2)
    assert len(rec.received) == 30


def test_configurable_scheme_and_overdue(api, fresh, hook, sandbox):
    rec = hook(event_types=["invoice.overdue"])
    api.admin(
        "POST",
        "webhooks/config",
        json={"scheme": {"header": "X-Custom-Sig", "encoding": "base64", "timestamped": True}},
    )
    try:
        cust, prod, _ = _invoice_setup(api, fresh)
        api.mutate(
            "invoiceCreate",
            {
                "businessId": fresh.id,
                "customerId": cust,
                "status": "SAVED",
                "invoiceDate": "2020-01-01",
                "dueDate": "2020-01-31",
                "items": [{"productId": prod}],
            },
        )
        emitted = api.admin("POST", "webhooks/scan-overdue").json()["emitted"]
        assert emitted >= 1
        assert api.admin("POST", "webhooks/scan-overdue").json()["emitted"] == 0  # once only
        rec.wait(1)
        headers, body, _ = rec.received[0]
        assert json.loads(body)["event_type"] == "invoice.overdue"
        sig = headers["X-Custom-Sig"]
        assert sig.startswith("t=") and ",v1=" in sig
    finally:
        api.admin(
            "POST",
            "webhooks/config",
            json={
                "scheme": {"header": "X-Wave-Signature", "encoding": "hex", "timestamped": False}
            },
        )


def test_delivery_is_not_inline(api, fresh, sandbox):
    """A slow receiver must not slow down the GraphQL mutation."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)  # accepts connections but never answers
    sub = api.admin(
        "POST",
        "webhooks/subscriptions",
        json={"url": f"http://127.0.0.1:{srv.getsockname()[1]}/", "secret": "s"},
    ).json()
    try:
        t = time.perf_counter()
        api.mutate("customerCreate", {"businessId": fresh.id, "name": "Fast"})
        cust, prod, _ = _invoice_setup(api, fresh)
        api.mutate(
            "invoiceCreate",
            {"businessId": fresh.id, "customerId": cust, "items": [{"productId": prod}]},
        )
        assert time.perf_counter() - t < 1.0
    finally:
        api.admin("DELETE", f"webhooks/subscriptions/{sub['id']}")
        srv.close()
