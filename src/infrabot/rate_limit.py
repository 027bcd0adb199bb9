"""Rate limits: a token bucket, and the per-user limit on commands that every network shares.

A user over the limit is told once (per quiet period) and then ignored, so a flood of commands
costs the bot at most one line of output, on whatever network it comes from.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["TokenBucket", "UserRateLimiter", "Verdict"]


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; a rate of 0 or less never waits."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()

    @property
    def unlimited(self) -> bool:
        """Whether the bucket lets everything through at once."""
        return self.rate <= 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        if self.unlimited:
            return 0.0
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def try_take(self, count: int = 1) -> bool:
        """Take ``count`` tokens if that many are available now; else take none."""
        if self.unlimited:
            return True
        self._refill()
        if self._tokens >= count:
            self._tokens -= count
            return True
        return False

    def charge(self) -> None:
        """Spend a token even if that goes into debt (for lines that cannot wait: PING, JOIN)."""
        if not self.unlimited:
            self._refill()
            self._tokens -= 1


class Verdict:
    """What :meth:`UserRateLimiter.check` decided about one incoming command."""

    ALLOW = "allow"
    WARN = "warn"  # refuse, and tell the user once why
    IGNORE = "ignore"  # refuse silently: they were already told


class UserRateLimiter:
    """Commands each user may send: ``burst`` at once, then ``rate`` a second.

    A user over the limit is told once (per ``quiet_seconds``) and then ignored, so a flood
    of commands costs us at most one line of output. A rate of 0 or less allows everything.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        quiet_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.quiet_seconds = quiet_seconds
        self._clock = clock
        self._max_users = max_users
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._warned: dict[str, float] = {}

    def check(self, user: str) -> str:
        """One of the :class:`Verdict` values for a command from ``user`` now."""
        if self.rate <= 0:
            return Verdict.ALLOW
        bucket = self._buckets.get(user)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self._clock)
            self._buckets[user] = bucket
            if len(self._buckets) > self._max_users:  # forget the least recently seen
                old, _ = self._buckets.popitem(last=False)
                self._warned.pop(old, None)
        self._buckets.move_to_end(user)
        if bucket.try_take():
            return Verdict.ALLOW
        now = self._clock()
        warned = self._warned.get(user)
        if warned is not None and now - warned < self.quiet_seconds:
            return Verdict.IGNORE
        self._warned[user] = now
        return Verdict.WARN
