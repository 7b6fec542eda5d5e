# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The request budget of one Wave token, shared by every Odoo worker and process.

Wave answers HTTP 429 when a token sends too many requests (about 60 a minute).
Every Odoo worker, cron thread and queue job talking to the same Wave business
must therefore draw from ONE budget: its state is a row of ``wave.rate.bucket``
(never the token itself), locked with ``SELECT ... FOR UPDATE`` in a short
cursor of its own and committed at once, so that the lock is held for a few
milliseconds and a rollback of the calling job never gives tokens back.

The arithmetic is lib's pure :func:`take_token` / :func:`penalize_state`.
"""

import contextlib
import logging
import time

from odoo import fields, models

from ..lib import BucketState, WaveRateLimitedError, penalize_state, take_token
from ..lib.rate_limit import DEFAULT_RESERVE_RATIO, acquire_waiting, reserve_for

_logger = logging.getLogger(__name__)

#: A job waits this long at most for budget; beyond it is rescheduled.
DEFAULT_MAX_WAIT = 5.0


class WaveRateBucket(models.Model):
    _name = "wave.rate.bucket"
    _description = "Wave Request Budget"
    _log_access = False

    key = fields.Char(
        required=True,
        index=True,
        help="What the budget belongs to: 'connection:<id>' (never the token itself).",
    )
    connection_id = fields.Many2one("wave.api", ondelete="cascade", index=True)
    tokens = fields.Float(help="Requests that may be sent right now.")
    updated_at = fields.Float(help="When the tokens were counted (Unix time).")
    paused_until = fields.Float(help="After a 429, nothing is sent before this (Unix time).")

    _sql_constraints = [("key_uniq", "UNIQUE(key)", "One budget per Wave token.")]


class PgTokenBucket:
    """Rate limiter of :class:`WaveClient` backed by a ``wave.rate.bucket`` row.

    ``cursor_factory()`` returns a context manager yielding a cursor; production
    passes the registry's (a new connection each time, committed at once), tests
    pass the test cursor (then nothing is committed). Implements the client's
    rate-limiter protocol: ``acquire(priority)`` and ``penalize(retry_after)``.

    ``acquire`` sleeps while the wait stays under ``max_wait`` seconds in
    total, and otherwise raises :class:`WaveRateLimitedError` with
    ``retry_after`` so that the job is rescheduled (see
    ``services/job_guard.py``). ``waits`` / ``waited`` count the waits of
    this client for the request log.
    """

    def __init__(
        self,
        cursor_factory,
        key,
        capacity,
        period,
        *,
        connection_id=None,
        commit=True,
        reserve_ratio=DEFAULT_RESERVE_RATIO,
        max_wait=DEFAULT_MAX_WAIT,
        clock=time.time,
        sleep=time.sleep,
    ):
        """Describe the bucket; nothing is read before the first request."""
        if capacity <= 0 or period <= 0:
            raise ValueError("capacity and period must be positive")
        self.cursor_factory = cursor_factory
        self.key = key
        self.capacity = capacity
        self.period = float(period)
        self.connection_id = connection_id
        self.commit = commit
        self.reserve_ratio = reserve_ratio
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.waits = 0
        self.waited = 0.0
        self.penalties = 0

    # -- storage -------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        """Yield ``(cr, state)`` with the bucket row locked; the caller writes it back.

        Raw SQL: a row lock with an upsert is not expressible through the ORM,
        and this runs before every request, so it must stay at a few cheap
        statements.
        """
        with self.cursor_factory() as cr:
            if self.commit:
                # Our own short transaction: READ COMMITTED so that, once the
                # lock is granted, we read the other worker's committed state
                # (REPEATABLE READ would raise a serialization failure).
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute(
                """INSERT INTO wave_rate_bucket (key, connection_id, tokens, updated_at,
                                                 paused_until)
                   VALUES (%s, %s, %s, %s, 0)
                   ON CONFLICT (key) DO NOTHING""",
                (self.key, self.connection_id, float(self.capacity), self.clock()),
            )
            cr.execute(
                "SELECT tokens, updated_at, paused_until FROM wave_rate_bucket "
                "WHERE key = %s FOR UPDATE",
                (self.key,),
            )
            tokens, updated_at, paused_until = cr.fetchone()
            holder = {"state": BucketState(tokens or 0.0, updated_at or 0.0, paused_until or 0.0)}
            yield cr, holder
            state = holder["state"]
            cr.execute(
                "UPDATE wave_rate_bucket SET tokens = %s, updated_at = %s, paused_until = %s "
                "WHERE key = %s",
                (state.tokens, state.updated_at, state.paused_until, self.key),
            )
            if self.commit:
                cr.commit()  # pylint: disable=invalid-commit

    @property
    def state(self):
        """The stored state (not refilled), for inspection and tests."""
        with self.cursor_factory() as cr:
            cr.execute(
                "SELECT tokens, updated_at, paused_until FROM wave_rate_bucket WHERE key = %s",
                (self.key,),
            )
            row = cr.fetchone()
        return BucketState(*row) if row else None

    # -- rate-limiter protocol -------------------------------------------------------
    def try_acquire(self, priority="bulk"):
        """Take a token if possible; return the seconds to wait (0.0 = taken)."""
        reserve = reserve_for(priority, self.capacity, self.reserve_ratio)
        with self._locked() as (_cr, holder):
            holder["state"], wait = take_token(
                holder["state"], self.clock(), self.capacity, self.period, reserve
            )
        return wait

    def acquire(self, priority="bulk"):
        """Take a token, sleeping briefly if needed; raise if the wait is too long."""
        try:
            acquire_waiting(
                self.try_acquire, priority, self.max_wait, self.sleep, "bucket", self._count_wait
            )
        except WaveRateLimitedError as error:
            _logger.info(
                "Wave budget %s exhausted for %s work: retry in %.1f s",
                self.key,
                priority,
                error.retry_after,
            )
            raise

    def _count_wait(self, seconds):
        self.waits += 1
        self.waited += seconds

    def penalize(self, retry_after):
        """Wave answered 429: nobody sends anything for ``retry_after`` seconds."""
        self.penalties += 1
        with self._locked() as (_cr, holder):
            holder["state"] = penalize_state(
                holder["state"], self.clock(), self.capacity, self.period, retry_after
            )

    def pop_counters(self):
        """Return and reset ``(waits, waited_seconds, penalties)`` since the last call."""
        counters = (self.waits, self.waited, self.penalties)
        self.waits, self.waited, self.penalties = 0, 0.0, 0
        return counters
