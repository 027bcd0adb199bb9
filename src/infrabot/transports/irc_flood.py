"""Outgoing flood control: a token bucket, and a fair queue with a cap per conversation.

InspIRCd's default connect class (threshold 10, commandrate 1000, fakelag on) lets a client
burst 10 commands, then about one a second; past that it delays (fakelag) or, with too much
queued, disconnects. The defaults here (one line a second, bursts of 5) stay well inside.
The fair queue hands out lines round-robin over (target, asker) pairs, so a 60-line answer to
one person never holds back a one-line answer to another.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

__all__ = ["FairQueue", "OutLine", "TokenBucket", "UserRateLimiter", "Verdict"]


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


@dataclass(frozen=True, slots=True)
class OutLine:
    """One line to send: ``command target :text``."""

    command: str
    target: str
    text: str


Key = Hashable


class FairQueue:
    """Lines waiting to be sent, served round-robin across keys.

    At most ``per_key`` lines (or the ``limit`` given to :meth:`push`) wait for one key: past
    that the tail is replaced by one summary line built by ``summary(hidden, target)``.
    ``total`` bounds all keys together the same way.
    """

    def __init__(
        self,
        per_key: int = 20,
        total: int = 500,
        summary: Callable[[int, str], str] | None = None,
    ) -> None:
        self.per_key = max(per_key, 2)
        self.total = max(total, self.per_key)
        self._summary = summary or _default_summary
        self._queues: OrderedDict[Key, deque[OutLine]] = OrderedDict()
        self._size = 0
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return self._size

    def push(self, key: Key, lines: Sequence[OutLine], limit: int | None = None) -> int:
        """Queue ``lines`` under ``key``; returns how many were left out (summarized)."""
        if not lines:
            return 0
        queue = self._queues.setdefault(key, deque())
        per_key = max(limit, 2) if limit is not None else self.per_key
        room = min(per_key - len(queue), self.total - self._size)
        if room <= 0:
            return len(lines)  # already full: the summary queued earlier stands for these too
        accepted = list(lines)
        hidden = 0
        if len(accepted) > room:
            hidden = len(accepted) - (room - 1)
            last = accepted[room - 1]
            accepted = [
                *accepted[: room - 1],
                OutLine(last.command, last.target, self._summary(hidden, last.target)),
            ]
        queue.extend(accepted)
        self._size += len(accepted)
        self._ready.set()
        return hidden

    def pop(self) -> OutLine | None:
        """The next line in round-robin order, or None when nothing waits."""
        while self._queues:
            key, queue = next(iter(self._queues.items()))
            if not queue:
                del self._queues[key]
                continue
            line = queue.popleft()
            self._size -= 1
            # The key goes to the back of the line of keys, or away when it has nothing left.
            if queue:
                self._queues.move_to_end(key)
            else:
                del self._queues[key]
            if not self._size:
                self._ready.clear()
            return line
        self._ready.clear()
        return None

    async def get(self) -> OutLine:
        """Wait for the next line."""
        while True:
            line = self.pop()
            if line is not None:
                return line
            await self._ready.wait()

    def clear(self) -> None:
        """Drop everything waiting."""
        self._queues.clear()
        self._size = 0
        self._ready.clear()


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


def _default_summary(hidden: int, target: str) -> str:
    if target.startswith(("#", "&", "!", "+")):
        return f"({hidden} more lines: ask me in private)"
    return f"({hidden} more lines not sent: narrow the question)"
