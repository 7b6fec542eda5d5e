# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The request budget shared by all workers: PostgreSQL rows, real cursors, real 429s."""

import threading
import time
import uuid

from odoo import sql_db
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.wave_accounting_integration.services.job_guard import job_guard
from odoo.tests import tagged

from ..lib import WaveRateLimitedError
from ..models.wave_rate_bucket import PgTokenBucket
from .common import WaveSandboxCommon


@tagged("post_install", "-at_install")
class TestRateBucket(WaveSandboxCommon):
    sandbox_customers = 1
    sandbox_vendors = 1

    def setUp(self):
        super().setUp()
        self.sandbox.faults.clear()
        self.sandbox.counters.reset()
        self.sandbox.rate_limiter.reset()

    # -- shared by workers: real cursors, committed rows --------------------------------
    def _real_bucket(self, key, capacity, period=60, **kwargs):
        """A bucket as a worker has it: its own connection, committing each take."""
        dbname = self.env.cr.dbname

        def factory():
            return sql_db.db_connect(dbname).cursor()

        kwargs.setdefault("sleep", lambda _s: None)
        return PgTokenBucket(factory, key, capacity, period, **kwargs)

    def _test_key(self):
        key = f"test:{uuid.uuid4().hex}"

        def cleanup():
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
                cr.execute("DELETE FROM wave_rate_bucket WHERE key = %s", (key,))
                cr.commit()  # pylint: disable=invalid-commit

        self.addCleanup(cleanup)
        return key

    def test_two_workers_share_one_budget(self):
        key = self._test_key()
        worker_a = self._real_bucket(key, 3, max_wait=0)
        worker_b = self._real_bucket(key, 3, max_wait=0)
        worker_a.acquire("interactive")
        worker_a.acquire("interactive")
        worker_b.acquire("interactive")
        with self.assertRaises(WaveRateLimitedError) as caught:
            worker_b.acquire("interactive")
        self.assertAlmostEqual(caught.exception.retry_after, 20.0, delta=1.0)
        with self.assertRaises(WaveRateLimitedError):
            worker_a.acquire("interactive")
        self.assertLess(worker_a.state.tokens, 1)

    def test_bulk_keeps_a_reserve_for_interactive_work(self):
        key = self._test_key()
        bucket = self._real_bucket(key, 10, max_wait=0)
        for _i in range(8):
            bucket.acquire("bulk")
        with self.assertRaises(WaveRateLimitedError):
            bucket.acquire("bulk")
        bucket.acquire("webhook")
        bucket.acquire("interactive")
        with self.assertRaises(WaveRateLimitedError):
            bucket.acquire("interactive")

    def test_concurrent_workers_never_overspend(self):
        key = self._test_key()
        granted, refused, errors = [], [], []
        barrier = threading.Barrier(4)

        def worker():
            bucket = self._real_bucket(key, 12, max_wait=0)
            barrier.wait(timeout=10)
            for _i in range(5):
                try:
                    bucket.acquire("interactive")
                    granted.append(1)
                except WaveRateLimitedError:
                    refused.append(1)
                except Exception as error:  # reported below
                    errors.append(error)

        threads = [threading.Thread(target=worker) for _i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(len(granted), 12)  # 4 workers x 5 tries, 12 tokens (refill ~0)
        self.assertEqual(len(refused), 8)

    def test_short_wait_sleeps_long_wait_reschedules(self):
        key = self._test_key()
        slept, now = [], [time.time()]

        def sleep(seconds):  # a clock that moves only when we sleep
            slept.append(seconds)
            now[0] += seconds

        bucket = self._real_bucket(key, 60, 60, max_wait=5, sleep=sleep, clock=lambda: now[0])
        bucket.penalize(2)  # Wave said 429, Retry-After: 2
        bucket.acquire("interactive")  # waits the pause, then one token's refill
        self.assertAlmostEqual(slept[0], 2.0, delta=0.2)
        self.assertAlmostEqual(sum(slept), 3.0, delta=0.2)
        bucket.penalize(30)
        with self.assertRaises(WaveRateLimitedError) as caught:
            bucket.acquire("bulk")
        self.assertAlmostEqual(caught.exception.retry_after, 30.0, delta=1.0)
        with self.assertRaises(RetryableJobError) as job_error:
            with job_guard(self.connection):
                raise caught.exception
        self.assertGreaterEqual(job_error.exception.seconds, 30)

    # -- through the client, against the sandbox's 429 ---------------------------------
    def _bucket_row(self):
        self.env.cr.execute(
            "SELECT tokens, paused_until FROM wave_rate_bucket WHERE key = %s",
            (f"connection:{self.connection.id}",),
        )
        return self.env.cr.fetchone()

    def test_429_waits_as_told_and_pauses_the_bucket(self):
        self.sandbox.faults.add(kind="rate_limit", retry_after=1, count=1, operation="*")
        client = self.connection._wave_build_client("interactive")
        started = time.time()
        data = client.execute("query Ping { user { id } }")
        elapsed = time.time() - started
        self.assertTrue(data["user"]["id"])
        self.assertGreaterEqual(elapsed, 0.9)  # Retry-After: 1 was honoured
        self.assertEqual(self.sandbox.counters.total, 2)
        _tokens, paused_until = self._bucket_row()
        self.assertGreaterEqual(paused_until, started + 0.9)
        log = self.env["wave.request.log"].search(
            [("connection_id", "=", self.connection.id)], limit=1
        )
        self.assertEqual((log.outcome, log.retries), ("success", 1))
        self.assertGreaterEqual(log.rate_limit_waits, 1)
        self.assertGreaterEqual(log.rate_limit_wait_ms, 500)

    def test_sandbox_limit_reached_job_is_rescheduled(self):
        self.sandbox.configure(rate_limit=2, rate_window=60)
        self.addCleanup(self.sandbox.configure, rate_limit=0)
        client = self.connection._wave_build_client("bulk")
        client.execute("query Ping { user { id } }")
        client.execute("query Ping { user { id } }")
        try:  # not assertRaises: its savepoint would roll the bucket's pause back
            with job_guard(self.connection):
                client.execute("query Ping { user { id } }")
        except RetryableJobError as error:
            self.assertGreater(error.seconds, 5)
        else:
            self.fail("the job was not rescheduled")
        self.assertEqual(self.sandbox.counters.by_status.get("429"), 1)  # no hammering
        _tokens, paused_until = self._bucket_row()
        self.assertGreater(paused_until, time.time() + 5)
