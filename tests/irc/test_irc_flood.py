"""Token bucket, fair queue and per-user command limit, on a fake clock."""

from __future__ import annotations

from infrabot.transports.irc_flood import (
    FairQueue,
    OutLine,
    TokenBucket,
    UserRateLimiter,
    Verdict,
)


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(target: str, n: int, tag: str = "") -> list[OutLine]:
    return [OutLine("PRIVMSG", target, f"{tag}{i}") for i in range(n)]


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


def test_fair_queue_round_robin_across_keys() -> None:
    queue = FairQueue(per_key=100)
    queue.push("long", lines("bob", 5, "long"))
    queue.push("a", lines("#c", 1, "a"))
    queue.push("b", lines("#c", 2, "b"))
    order = [queue.pop().text for _ in range(8)]  # type: ignore[union-attr]
    assert order == ["long0", "a0", "b0", "long1", "b1", "long2", "long3", "long4"]
    assert queue.pop() is None
    assert len(queue) == 0


def test_fair_queue_caps_lines_with_a_summary() -> None:
    queue = FairQueue(per_key=10)
    hidden = queue.push("k", lines("#python-infra", 25))
    assert hidden == 16
    out = [queue.pop() for _ in range(10)]
    assert [o.text for o in out[:9]] == [str(i) for i in range(9)]  # type: ignore[union-attr]
    assert out[9].text == "(16 more lines: ask me in private)"  # type: ignore[union-attr]
    assert queue.pop() is None


def test_fair_queue_private_summary_and_explicit_limit() -> None:
    queue = FairQueue(per_key=4)
    assert queue.push("k", lines("bob", 60), limit=60) == 0
    assert queue.push("k2", lines("carol", 70), limit=60) == 11
    texts = []
    while (line := queue.pop()) is not None:
        texts.append(line.text)
    assert "(11 more lines not sent: narrow the question)" in texts


def test_fair_queue_when_full_drops_new_lines() -> None:
    queue = FairQueue(per_key=3)
    queue.push("k", lines("#c", 5))
    assert queue.push("k", lines("#c", 2)) == 2
    assert len(queue) == 3


def test_fair_queue_total_cap() -> None:
    queue = FairQueue(per_key=5, total=6)
    queue.push("a", lines("#c", 5))
    assert queue.push("b", lines("#c", 5)) == 5  # only one slot left: the summary takes it
    assert len(queue) == 6


async def test_fair_queue_get_waits_for_a_line() -> None:
    import asyncio

    queue = FairQueue()
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    queue.push("k", lines("#c", 1))
    assert (await asyncio.wait_for(waiter, 1)).text == "0"


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
