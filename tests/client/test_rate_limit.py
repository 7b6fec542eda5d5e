"""Token bucket arithmetic and the in-memory TokenBucket."""

import threading

import pytest
import wave_client_lib as lib


def test_take_token_full_bucket():
    state, wait = lib.take_token(None, 0.0, 60, 60.0, 0.0)
    assert wait == 0.0 and state.tokens == 59.0


def test_take_token_empty_bucket_waits_one_token():
    state = lib.BucketState(0.0, 10.0)
    new_state, wait = lib.take_token(state, 10.0, 60, 60.0, 0.0)
    assert wait == pytest.approx(1.0) and new_state.tokens == 0.0
    new_state, wait = lib.take_token(new_state, 11.0, 60, 60.0, 0.0)
    assert wait == 0.0 and new_state.tokens == pytest.approx(0.0)


def test_refill_is_capped():
    state = lib.BucketState(10.0, 0.0)
    new_state, wait = lib.take_token(state, 1000.0, 60, 60.0, 0.0)
    assert wait == 0.0 and new_state.tokens == 59.0


def test_bulk_keeps_reserve_for_interactive():
    state = lib.BucketState(12.0, 0.0)  # reserve = 20% of 60 = 12 tokens
    same, wait = lib.take_token(state, 0.0, 60, 60.0, 12.0)
    assert wait == pytest.approx(1.0) and same.tokens == 12.0
    after, wait = lib.take_token(state, 0.0, 60, 60.0, 0.0)
    assert wait == 0.0 and after.tokens == 11.0


def test_penalize_pauses_everyone():
    state = lib.penalize_state(None, 100.0, 60, 60.0, 30.0)
    assert state.paused_until == 130.0 and state.tokens == 0.0
    _, wait = lib.take_token(state, 110.0, 60, 60.0, 0.0)
    assert wait == pytest.approx(20.0)
    _, wait = lib.take_token(state, 130.0, 60, 60.0, 0.0)
    assert wait == pytest.approx(1.0)  # refill restarts after the pause
    _, wait = lib.take_token(state, 131.0, 60, 60.0, 0.0)
    assert wait == 0.0


def test_penalize_never_shortens_a_pause():
    state = lib.penalize_state(None, 0.0, 60, 60.0, 50.0)
    state = lib.penalize_state(state, 10.0, 60, 60.0, 5.0)
    assert state.paused_until == 50.0


def test_bucket_priorities(helpers):
    fake_clock, sleep_recorder = helpers.FakeClock, helpers.SleepRecorder
    clock = fake_clock(0.0)
    bucket = lib.TokenBucket(10, 10.0, clock, max_wait=0.0, sleep=sleep_recorder(clock))
    taken = 0
    while True:
        try:
            bucket.acquire("bulk")
        except lib.WaveRateLimitedError as exc:
            assert exc.retry_after == pytest.approx(1.0)
            break
        taken += 1
    assert taken == 8  # 20% of 10 kept for interactive/webhook work
    bucket.acquire("interactive")
    bucket.acquire("webhook")
    with pytest.raises(lib.WaveRateLimitedError):
        bucket.acquire("interactive")
    with pytest.raises(ValueError):
        bucket.acquire("urgent")


def test_bucket_blocks_briefly_then_raises(helpers):
    fake_clock, sleep_recorder = helpers.FakeClock, helpers.SleepRecorder
    clock = fake_clock(0.0)
    sleep = sleep_recorder(clock)
    bucket = lib.TokenBucket(2, 2.0, clock, max_wait=5.0, sleep=sleep, reserve_ratio=0.0)
    for _ in range(5):
        bucket.acquire("bulk")
    assert sleep.delays == [pytest.approx(1.0)] * 3
    bucket.penalize(30.0)
    with pytest.raises(lib.WaveRateLimitedError) as info:
        bucket.acquire("interactive")
    assert info.value.retry_after == pytest.approx(30.0)
    clock.now += 31.0
    bucket.acquire("interactive")


def test_bucket_is_thread_safe(helpers):
    clock = helpers.FakeClock(0.0)
    bucket = lib.TokenBucket(1000, 1000.0, clock, max_wait=0.0, reserve_ratio=0.0)
    ok = []

    def worker():
        for _ in range(100):
            try:
                bucket.acquire("bulk")
                ok.append(1)
            except lib.WaveRateLimitedError:
                pass

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ok) == 1000
