"""Seeded, reproducible fault injection, matched per GraphQL operation.

A fault matches a request when its ``operation`` is ``"*"``, the request's
``operationName``, or one of the request's root field names (e.g. ``invoiceCreate``).
Each fault fires with probability ``rate`` (drawn from an RNG seeded at construction) and,
if ``count`` is set, only for the next ``count`` matching requests.

Kinds:
  ``http_error``   answer ``status`` (default 503) with a JSON error body, nothing applied.
  ``hang``         sleep ``delay`` seconds (default 30), then close the socket; nothing applied.
  ``drop_after``   apply the operation, then close the socket without any response.
  ``rate_limit``   answer HTTP 429 (with Retry-After = ``retry_after``, default 1).
  ``revoke_token`` revoke the calling token, then answer UNAUTHENTICATED.
  ``slow``         sleep ``delay`` seconds (default 1), then serve normally.
  ``malformed``    apply the operation, then answer HTTP 200 with a truncated JSON body.
"""

from __future__ import annotations

import itertools
import random
import threading

KINDS = {"http_error", "hang", "drop_after", "rate_limit", "revoke_token", "slow", "malformed"}


class Fault:
    __slots__ = (
        "delay",
        "fired",
        "fired_on",
        "id",
        "kind",
        "operation",
        "rate",
        "remaining",
        "retry_after",
        "status",
    )

    def __init__(
        self, id, kind, operation="*", rate=1.0, count=None, status=503, delay=None, retry_after=1
    ):
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        self.id, self.kind, self.operation = id, kind, operation
        self.rate, self.remaining, self.status = float(rate), count, int(status)
        self.delay = float(delay if delay is not None else (30 if kind == "hang" else 1))
        self.retry_after, self.fired = int(retry_after), 0
        # The fault's log: how often it fired on each operation (root field or
        # operation name) of the requests it hit.
        self.fired_on: dict[str, int] = {}

    def as_dict(self):
        return {
            "id": self.id,
            "kind": self.kind,
            "operation": self.operation,
            "rate": self.rate,
            "remaining": self.remaining,
            "status": self.status,
            "delay": self.delay,
            "retry_after": self.retry_after,
            "fired": self.fired,
            "fired_on": dict(self.fired_on),
        }


class Faults:
    def __init__(self, seed: int = 42):
        self.seed = seed
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, **spec) -> Fault:
        with self.lock:
            fault = Fault(next(self._ids), **spec)
            self.faults.append(fault)
            return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.rng = random.Random(self.seed)

    def remove(self, fault_id: int) -> None:
        with self.lock:
            self.faults = [f for f in self.faults if f.id != fault_id]

    def pick(self, names: set[str]) -> Fault | None:
        """Return the first fault that fires for a request touching ``names``."""
        with self.lock:
            for fault in self.faults:
                if fault.remaining == 0:
                    continue
                if fault.operation != "*" and fault.operation not in names:
                    continue
                if fault.rate < 1.0 and self.rng.random() >= fault.rate:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.fired += 1
                for name in sorted(names) or ["(none)"]:
                    fault.fired_on[name] = fault.fired_on.get(name, 0) + 1
                return fault
        return None

    def list(self):
        with self.lock:
            return [f.as_dict() for f in self.faults]
