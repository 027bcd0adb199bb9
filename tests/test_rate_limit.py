"""Token bucket and per-user command limit, on a fake clock."""

from __future__ import annotations

from infrabot.rate_limit import TokenBucket, UserRateLimiter, Verdict
from tests.irc.irc_harness import Clock


def test_bucket_bursts_then_paces() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=5, clock=clock)
    assert [bucket.try_take() for _ in range(6)] == [True] * 5 + [False]
    assert bucket.delay() == 1.0
    clock.now += 0.5
    assert not bucket.try_take()
    assert abs(bucket.delay() - 0.5) < 1e-9
    clock.now += 0.5
    assert bucket.try_take()


def test_bucket_takes_several_or_none() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=5, clock=clock)
    assert bucket.try_take(3)
    assert not bucket.try_take(3)  # only 2 left: none taken
    assert bucket.try_take(2)
    assert not bucket.try_take()


def test_bucket_never_saves_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    clock.now += 3600
    assert sum(bucket.try_take() for _ in range(10)) == 3


def test_bucket_stays_within_inspircd_defaults() -> None:
    """Threshold 10, commandrate 1000 (one a second): penalty must never reach 10 s."""
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=5, clock=clock)
    penalty = 0.0
    for _ in range(2000):  # a bot trying to send as fast as it can, for 2000 steps of 0.1 s
        while bucket.try_take():
            penalty += 1.0
        assert penalty < 10
        clock.now += 0.1
        penalty = max(0.0, penalty - 0.1)


def test_charge_goes_into_debt() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.charge()
    bucket.charge()
    assert not bucket.try_take()
    assert bucket.delay() == 2.0


def test_zero_rate_is_unlimited() -> None:
    bucket = TokenBucket(rate=0, burst=1)
    assert all(bucket.try_take() for _ in range(1000))
    assert bucket.delay() == 0


def test_user_limiter_allows_burst_then_warns_once_then_ignores() -> None:
    clock = Clock()
    limiter = UserRateLimiter(rate=0.5, burst=3, quiet_seconds=60, clock=clock)
    verdicts = [limiter.check("u@h") for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.IGNORE, Verdict.IGNORE]
    assert limiter.check("other@h") == Verdict.ALLOW  # others are not affected
    clock.now += 2
    assert limiter.check("u@h") == Verdict.ALLOW
    assert limiter.check("u@h") == Verdict.IGNORE  # still within the quiet minute
    clock.now += 61
    for _ in range(3):
        limiter.check("u@h")
    assert limiter.check("u@h") == Verdict.WARN


def test_user_limiter_off() -> None:
    limiter = UserRateLimiter(rate=0, burst=1)
    assert all(limiter.check("u") == Verdict.ALLOW for _ in range(100))


def test_user_limiter_forgets_oldest_users() -> None:
    limiter = UserRateLimiter(rate=1, burst=1, max_users=2)
    for user in ("a", "b", "c"):
        limiter.check(user)
    assert len(limiter._buckets) == 2
