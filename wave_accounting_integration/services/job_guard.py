"""The one job guard: what every queue job does when talking to Wave fails.

Every job entry point (``data/queue_job_data.xml``) runs its work inside
:func:`job_guard`. The table :data:`ERROR_POLICY` is the single place that
decides, for each kind of failure, whether the job retries now, retries later
(and when), stops and notifies the administrators, or lets the error reach
queue_job as a failure:

=============================  ==========================================================
Failure                        What the job does
=============================  ==========================================================
Wave's budget spent (429)      retry later, after ``Retry-After``; does not use a retry
Grant revoked / token refused  stop cleanly: connection disconnected, admins notified
Outcome unknown (lost answer)  fails the job: never retried blindly (outbound engines
                               record it in the ledger, whose lookup settles it first)
Wave 5xx / network failure     retry later (``SERVER_RETRY_SECONDS``), bounded by retries
Same Wave record written by    retry soon (``CONCURRENT_RETRY_SECONDS``): the unique
another job (unique index),    Wave-id index kept one copy, the retry finds it; a
deadlock, serialization        deadlock or lock wait is retried the same way, and so
failure or lock not granted,   is a job that needs rows another job created after it
rows created meanwhile         began (:data:`CONCURRENCY_ERRORS`)
A service's JobRetryLater      retry later, after its ``seconds`` (else as a 5xx)
Anything else                  fails the job (queue_job shows it; nothing is hidden)
=============================  ==========================================================
"""

import contextlib
import logging
import math

import psycopg2
from psycopg2.errors import LockNotAvailable, TransactionRollbackError, UniqueViolation

from odoo import _
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.exceptions import UserError

from ..lib import (
    WaveAuthenticationError,
    WaveRateLimitedError,
    WaveServerError,
    WaveTransportError,
)
from ..lib.text import by_count
from ..models.wave_mixin import ConcurrentRowsError

_logger = logging.getLogger(__name__)

SERVER_RETRY_SECONDS = 60
CONCURRENT_RETRY_SECONDS = 5
DEFAULT_RATE_LIMIT_SECONDS = 60

RETRY_LATER = "retry_later"
RETRY_LATER_FREE = "retry_later_free"  # rescheduled without using up a retry
STOP = "stop"


class JobRetryLater(Exception):
    """Raised by a service that knows the job must run again later (not a failure).

    ``seconds``: when; ``free``: the wait does not use up one of the job's retries.
    """

    def __init__(self, message, seconds=None, free=False):
        super().__init__(message)
        self.seconds = seconds
        self.free = free


def _rate_limit_seconds(error):
    return max(1, math.ceil(getattr(error, "retry_after", None) or DEFAULT_RATE_LIMIT_SECONDS))


# Database errors caused by another transaction at the same time: the same Wave record
# inserted by another job (unique index), a serialization failure or a deadlock (both
# TransactionRollbackError) or a lock not granted, and rows another job created after
# this one began (ConcurrentRowsError, see claim_new_rows). Nothing is wrong with the
# data: the job runs again. Services that catch errors to quarantine a record re-raise
# these.
CONCURRENCY_ERRORS = (
    UniqueViolation,
    TransactionRollbackError,
    LockNotAvailable,
    ConcurrentRowsError,
)

# (exception classes, action, seconds or a function of the error)
ERROR_POLICY = (
    (WaveRateLimitedError, RETRY_LATER_FREE, _rate_limit_seconds),
    (WaveAuthenticationError, STOP, None),
    ((WaveServerError, WaveTransportError), RETRY_LATER, SERVER_RETRY_SECONDS),
    (CONCURRENCY_ERRORS, RETRY_LATER, CONCURRENT_RETRY_SECONDS),
)


def policy_for(error):
    """``(action, seconds)`` for ``error``, or ``(None, None)``: let it fail the job."""
    if isinstance(error, JobRetryLater):
        action = RETRY_LATER_FREE if error.free else RETRY_LATER
        return action, error.seconds or SERVER_RETRY_SECONDS
    for classes, action, seconds in ERROR_POLICY:
        if isinstance(error, classes):
            return action, seconds(error) if callable(seconds) else seconds
    return None, None


class GuardResult:
    """What :func:`job_guard` observed: ``stopped`` is True when the job must end now."""

    stopped = False
    error = None


@contextlib.contextmanager
def job_guard(connection, on_retry=None):
    """Run a queue job's body under :data:`ERROR_POLICY`.

    ``on_retry(error)`` (optional) runs before a retry is raised, e.g. to commit an
    outbound ledger or to close a sync run. When the policy says *stop*, the
    connection is disconnected, administrators are notified and the block ends
    without an exception: code after the ``with`` checks ``guard.stopped``.
    """
    guard = GuardResult()
    try:
        yield guard
    except Exception as error:
        action, seconds = policy_for(error)
        if action is None:
            raise
        if action == STOP:
            connection._wave_mark_revoked(error)
            guard.stopped, guard.error = True, error
            _logger.warning("Wave job stopped: connection %s is disconnected.", connection.id)
            return
        if on_retry and not isinstance(error, psycopg2.Error):
            # A database error aborted the transaction: nothing can be written now
            # (queue_job rolls it back and runs the job again).
            on_retry(error)
        _logger.info("Wave job retried in %ss: %s", seconds, type(error).__name__)
        raise RetryableJobError(
            str(error), seconds=seconds, ignore_retry=action == RETRY_LATER_FREE
        ) from error


@contextlib.contextmanager
def replay_guard(quarantine):
    """A replay clicked by a person: what a job would retry becomes a plain message.

    Same table as :func:`job_guard`; nothing is retried behind the person's back.
    """
    try:
        yield
    except Exception as error:
        action, seconds = policy_for(error)
        if action is None:
            raise
        if action == STOP:
            quarantine.connection_id._wave_mark_revoked(error)
            raise UserError(
                _(
                    "Wave refused the connection's authorization, so %(name)s was not replayed. "
                    "An administrator must connect to Wave again.",
                    name=quarantine.name,
                )
            ) from None
        raise UserError(
            by_count(
                seconds or SERVER_RETRY_SECONDS,
                _(
                    "Wave is busy or could not be reached, so %(name)s was not replayed. "
                    "Try again in %(count)s second."
                ),
                _(
                    "Wave is busy or could not be reached, so %(name)s was not replayed. "
                    "Try again in %(count)s seconds."
                ),
                name=quarantine.name,
            )
        ) from None
