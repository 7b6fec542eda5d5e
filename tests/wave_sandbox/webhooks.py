"""Webhook subscriptions and deliveries (background thread, retries with backoff).

Wave's real event names and signature scheme are unconfirmed; the scheme is configurable
(default: hex HMAC-SHA256 of the raw body in ``X-Wave-Signature``).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

from .store import Estimate, fmt_datetime

EVENT_TYPES = [
    "invoice.created",
    "invoice.updated",
    "invoice.approved",
    "invoice.sent",
    "invoice.viewed",
    "invoice.overdue",
    "invoice.partially_paid",
    "invoice.paid",
    "invoice.deleted",
    # Estimate events: names as unverified as the invoice ones (see README); delivered
    # only to subscriptions whose user granted estimate:read or estimate:* (Wave's
    # webhooks guide: "event delivery will be skipped" otherwise).
    "estimate.created",
    "estimate.updated",
    "estimate.approved",
    "estimate.sent",
    "estimate.viewed",
    "estimate.accepted",
    "estimate.rejected",
    "estimate.converted",
    "estimate.deleted",
]
# Event family -> the scopes of which one must be granted for a delivery.
FAMILY_SCOPES = {
    "invoice": ("invoice:read", "invoice:*"),
    "estimate": ("estimate:read", "estimate:*"),
}


def scope_allows(scopes, event_type) -> bool:
    """Whether a subscription granted ``scopes`` (None: every scope) gets ``event_type``."""
    if scopes is None or "*" in scopes:
        return True
    needed = FAMILY_SCOPES.get(event_type.split(".", 1)[0])
    return needed is None or any(s in scopes for s in needed)


DEFAULT_SCHEME = {
    "algorithm": "sha256",
    "encoding": "hex",
    "header": "X-Wave-Signature",
    "prefix": "",
    "timestamped": False,
}


def sign(body: bytes, secret: str, scheme: dict, timestamp: int | None = None) -> str:
    """Signature header value for ``body`` under ``scheme`` (see README)."""
    algo = getattr(hashlib, scheme.get("algorithm", "sha256"))
    message = body
    if scheme.get("timestamped"):
        message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, algo).digest()
    sig = (
        base64.b64encode(digest).decode() if scheme.get("encoding") == "base64" else (digest.hex())
    )
    sig = scheme.get("prefix", "") + sig
    if scheme.get("timestamped"):
        return f"t={timestamp},v1={sig}"
    return sig


class Webhooks:
    def __init__(self, state, retry_delays=(0.5, 1.0, 2.0, 4.0), timeout=5.0):
        self.state = state
        self.retry_delays = list(retry_delays)
        self.timeout = timeout
        self.scheme = dict(DEFAULT_SCHEME)
        self.deliveries: list[dict] = []
        self.events: list[dict] = []
        self._queue: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.duplicate_next = 0
        self.skipped: list[tuple] = []  # (subscription id, event id) skipped for scope
        self.hold_count = 0
        self._held: list[dict] = []
        if not hasattr(state, "webhook_subscriptions"):
            state.webhook_subscriptions = {}

    # lifecycle ------------------------------------------------------------------
    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wave-webhooks", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread:
            # a delivery may be waiting for its answer: it is a daemon, do not wait long
            self._thread.join(timeout=1)

    # subscriptions --------------------------------------------------------------
    @property
    def subscriptions(self) -> dict:
        return self.state.webhook_subscriptions

    def subscribe(self, url, secret, event_types=None, business_id=None, scopes=None) -> dict:
        """``scopes``: what the subscribing user granted (None: all, as a full-access
        token); events of a family it lacks the read scope of are skipped."""
        sub = {
            "scopes": None if scopes is None else sorted(scopes),
            "id": str(uuid.uuid4()),
            "url": url,
            "secret": secret,
            "event_types": list(event_types or ["*"]),
            "business_id": business_id,
            "active": True,
        }
        self.subscriptions[sub["id"]] = sub
        return sub

    def unsubscribe(self, sub_id):
        self.subscriptions.pop(sub_id, None)

    # events ---------------------------------------------------------------------
    def on_event(self, event_type, business, invoice=None, extra=None):
        data = dict(extra or {})
        if isinstance(invoice, Estimate):
            estimate, invoice = invoice, None
            data.update(
                {
                    "estimate_id": estimate.id,
                    "estimate_number": estimate.estimate_number,
                    "status": estimate.status,
                    "customer_id": estimate.customer.id,
                    "currency": estimate.currency_code,
                    "total": estimate.total.value,
                    "invoice_id": estimate.invoice_id,
                    "modified_at": fmt_datetime(estimate.modified_at),
                }
            )
            if not estimate.invoice_id:
                data.pop("invoice_id")
        if invoice is not None:
            data.update(
                {
                    "invoice_id": invoice.id,
                    "invoice_number": invoice.invoice_number,
                    "status": invoice.status,
                    "customer_id": invoice.customer.id,
                    "currency": invoice.currency_code,
                    "total": invoice.total.value,
                    "amount_paid": invoice.amount_paid.value,
                    "amount_due": invoice.amount_due.value,
                    "modified_at": fmt_datetime(invoice.modified_at),
                }
            )
        event = {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "business_id": business.id if business is not None else None,
            "occurred_at": fmt_datetime(self.state.now()),
            "data": data,
        }
        self.dispatch(event)
        return event

    def dispatch(self, event):
        """Queue ``event`` for every matching subscription (never delivers inline)."""
        self.events.append(event)
        if self.hold_count > 0:
            self._held.append(event)
            self.hold_count -= 1
            if self.hold_count == 0:
                held, self._held = self._held[::-1], []
                for ev in held:
                    self._enqueue_event(ev)
            return
        self._enqueue_event(event)
        if self.duplicate_next > 0:
            self.duplicate_next -= 1
            self._enqueue_event(event)

    def _enqueue_event(self, event):
        for sub in list(self.subscriptions.values()):
            if not sub["active"]:
                continue
            if "*" not in sub["event_types"] and event["event_type"] not in sub["event_types"]:
                continue
            if sub["business_id"] and sub["business_id"] != event["business_id"]:
                continue
            if not scope_allows(sub.get("scopes"), event["event_type"]):
                self.skipped.append((sub["id"], event["event_id"]))
                continue
            self._enqueue(self._new_delivery(sub, event))

    def _new_delivery(self, sub, event):
        delivery = {
            "id": str(uuid.uuid4()),
            "subscription_id": sub["id"],
            "url": sub["url"],
            "event_id": event["event_id"],
            "event_type": event["event_type"],
            "body": json.dumps(event, separators=(",", ":")),
            "attempts": [],
            "status": "pending",
        }
        self.deliveries.append(delivery)
        return delivery

    def redeliver(self, delivery_id):
        for d in self.deliveries:
            if d["id"] == delivery_id:
                sub = self.subscriptions.get(d["subscription_id"])
                if sub:
                    self._enqueue(self._new_delivery(sub, json.loads(d["body"])))
                    return True
        return False

    def _enqueue(self, delivery, delay=0.0):
        with self._cond:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), delivery))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    # worker ---------------------------------------------------------------------
    def _run(self):
        while not self._stop.is_set():
            with self._cond:
                if not self._queue:
                    self._cond.wait(timeout=0.5)
                    continue
                due, _, delivery = self._queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(timeout=min(wait, 0.5))
                    continue
                heapq.heappop(self._queue)
            self._attempt(delivery)

    def _attempt(self, delivery):
        sub = self.subscriptions.get(delivery["subscription_id"])
        if sub is None:
            delivery["status"] = "cancelled"
            return
        body = delivery["body"].encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "WaveSandbox-Webhooks/1.0",
            "X-Wave-Event-Id": delivery["event_id"],
            "X-Wave-Event-Type": delivery["event_type"],
            self.scheme["header"]: sign(body, sub["secret"], self.scheme, ts),
        }
        attempt = {"at": fmt_datetime(self.state.now()), "status": None, "error": None}
        try:
            req = urllib.request.Request(delivery["url"], data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                attempt["status"] = resp.status
        except urllib.error.HTTPError as exc:
            attempt["status"] = exc.code
        except Exception as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
        delivery["attempts"].append(attempt)
        if attempt["status"] is not None and 200 <= attempt["status"] < 300:
            delivery["status"] = "delivered"
            return
        n = len(delivery["attempts"])
        if n <= len(self.retry_delays):
            delivery["status"] = "retrying"
            self._enqueue(delivery, self.retry_delays[n - 1])
        else:
            delivery["status"] = "failed"
