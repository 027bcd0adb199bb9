"""Bounded exponential backoff with jitter: how every retry in the bot waits.

Transports reconnecting, sends retrying and the app restarting a crashed transport all wait
the same way, so a long outage never turns into a tight loop or an unbounded delay.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["Backoff"]


class Backoff:
    """Exponential delays from ``initial`` up to ``maximum`` seconds, with some jitter.

    The jitter (a fraction either way) keeps a fleet of clients from retrying in step after
    a homeserver restart; the bound keeps a long outage from stretching the delay forever.
    """

    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 60.0,
        *,
        factor: float = 2.0,
        jitter: float = 0.1,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff needs 0 < initial <= maximum, factor >= 1, 0 <= jitter < 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rand = rand
        self._attempt = 0

    @property
    def attempts(self) -> int:
        """How many delays were handed out since the last success."""
        return self._attempt

    def next_delay(self) -> float:
        """The delay before the next attempt; each call grows it, up to ``maximum``."""
        base = min(self.initial * self.factor**self._attempt, self.maximum)
        self._attempt += 1
        spread = base * self.jitter * (2 * self._rand() - 1)
        return max(self.initial * (1 - self.jitter), min(base + spread, self.maximum))

    def reset(self) -> None:
        """Start again from ``initial`` (after a success)."""
        self._attempt = 0
