"""Token-bucket rate limiting shared by every request to one Wave token.

The arithmetic lives in pure functions (:func:`take_token`,
:func:`penalize_state`) over an immutable :class:`BucketState`, so that a
PostgreSQL-backed bucket shared by all Odoo workers can persist the same
state in a row (``SELECT ... FOR UPDATE``, compute, ``UPDATE``) and reuse the
same math. :class:`TokenBucket` is the in-memory, thread-safe implementation.

Priorities: ``interactive`` and ``webhook`` may use the whole bucket; ``bulk``
must leave ``reserve_ratio`` of the capacity for them.
"""

import threading
import time
from typing import NamedTuple

from .exceptions import WaveRateLimitedError

PRIORITIES = ("interactive", "webhook", "bulk")
DEFAULT_RESERVE_RATIO = 0.2


class BucketState(NamedTuple):
    """Persistable bucket state: tokens left, when they were counted, pause end."""

    tokens: float
    updated_at: float
    paused_until: float = 0.0


def initial_state(capacity, now):
    """Return a full bucket at time ``now``."""
    return BucketState(float(capacity), float(now), 0.0)


def refill(state, now, capacity, period):
    """Return ``state`` with the tokens earned since ``state.updated_at`` added."""
    rate = capacity / period
    elapsed = max(0.0, now - state.updated_at)
    tokens = min(float(capacity), state.tokens + elapsed * rate)
    return BucketState(tokens, max(state.updated_at, now), state.paused_until)


def take_token(state, now, capacity, period, reserve):
    """Try to take one token; return ``(new_state, wait_seconds)``.

    ``reserve`` is the number of tokens that must stay in the bucket after the
    take (0 for interactive work). When ``wait_seconds`` is 0 the token was
    taken; otherwise nothing was taken and the caller should wait that long
    (or reschedule) and call again. ``state`` may be None (full bucket).
    """
    if state is None:
        state = initial_state(capacity, now)
    state = refill(state, now, capacity, period)
    if now < state.paused_until:
        return state, state.paused_until - now
    needed = 1.0 + reserve
    if state.tokens >= needed - 1e-9:
        return state._replace(tokens=state.tokens - 1.0), 0.0
    rate = capacity / period
    return state, (needed - state.tokens) / rate


def penalize_state(state, now, capacity, period, retry_after):
    """Return the state after a 429: empty bucket, paused for ``retry_after`` s."""
    if state is None:
        state = initial_state(capacity, now)
    state = refill(state, now, capacity, period)
    until = max(state.paused_until, now + max(0.0, float(retry_after)))
    # Tokens start to refill only once the pause is over.
    return BucketState(0.0, until, until)


def reserve_for(priority, capacity, reserve_ratio=DEFAULT_RESERVE_RATIO):
    """Return the tokens ``priority`` must leave in the bucket."""
    if priority not in PRIORITIES:
        raise ValueError(f"Unknown priority {priority!r}; expected one of {PRIORITIES}")
    if priority == "bulk":
        return capacity * reserve_ratio
    return 0.0


def acquire_waiting(try_acquire, priority, max_wait, sleep, source, on_wait=None):
    """Take a token through ``try_acquire``, sleeping at most ``max_wait`` seconds in all.

    Past that, raise :class:`WaveRateLimitedError` so that a job is rescheduled
    instead of spinning. ``on_wait(seconds)`` is told of every sleep.
    """
    waited = 0.0
    while True:
        wait = try_acquire(priority)
        if wait <= 0:
            return
        if waited + wait > max_wait:
            raise WaveRateLimitedError(
                retry_after=wait, details={"priority": priority, "source": source}
            )
        if on_wait:
            on_wait(wait)
        sleep(wait)
        waited += wait


class TokenBucket:
    """In-memory, thread-safe token bucket implementing the rate-limiter protocol.

    ``acquire(priority)`` blocks (via ``sleep``) while the total wait stays
    under ``max_wait`` seconds, and otherwise raises
    :class:`WaveRateLimitedError` with ``retry_after`` so that the caller
    reschedules instead of spinning. ``penalize(retry_after)`` empties and
    pauses the bucket after a 429.
    """

    def __init__(
        self,
        capacity=60,
        period=60.0,
        clock=time.monotonic,
        *,
        reserve_ratio=DEFAULT_RESERVE_RATIO,
        max_wait=10.0,
        sleep=time.sleep,
    ):
        """Create a full bucket of ``capacity`` tokens refilled over ``period`` s."""
        if capacity <= 0 or period <= 0:
            raise ValueError("capacity and period must be positive")
        self.capacity = capacity
        self.period = float(period)
        self.clock = clock
        self.reserve_ratio = reserve_ratio
        self.max_wait = max_wait
        self.sleep = sleep
        self._lock = threading.Lock()
        self._state = initial_state(capacity, clock())

    @property
    def state(self):
        """Return the current (refilled) state, for inspection and tests."""
        with self._lock:
            return refill(self._state, self.clock(), self.capacity, self.period)

    def try_acquire(self, priority="bulk"):
        """Take a token if possible; return the seconds to wait (0.0 = taken)."""
        reserve = reserve_for(priority, self.capacity, self.reserve_ratio)
        with self._lock:
            self._state, wait = take_token(
                self._state, self.clock(), self.capacity, self.period, reserve
            )
        return wait

    def acquire(self, priority="bulk"):
        """Take a token, sleeping briefly if needed; raise if the wait is too long."""
        acquire_waiting(self.try_acquire, priority, self.max_wait, self.sleep, "local")

    def penalize(self, retry_after):
        """Pause the bucket for ``retry_after`` seconds (Wave answered 429)."""
        with self._lock:
            self._state = penalize_state(
                self._state, self.clock(), self.capacity, self.period, retry_after
            )
