"""Whether the bot can do its work right now: what ``/health/ready`` answers.

Ready means every configured transport is connected and the store takes a write (a page the
bot cannot keep is a page lost). The answer names each part, whether it is up, and since when,
so whoever is woken by a failing probe sees at once what is down and for how long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from infrabot.errors import StoreError
from infrabot.messages import Network
from infrabot.transports.base import Linked

__all__ = ["Check", "Health", "Writable"]

STORE_CHECK_EVERY = 1.0
"""Seconds a store check is trusted: a probe storm must not turn into a storm of writes."""


class Writable(Protocol):
    """A store that says whether it takes writes (:meth:`~infrabot.store.Store.check_writable`)."""

    def check_writable(self) -> None:
        """Raise :class:`StoreError` when a write fails now."""
        ...


@dataclass(frozen=True, slots=True)
class Check:
    """One part of the bot: up or down, since when (wall-clock seconds), and why it is down."""

    name: str
    up: bool
    since: float
    reason: str = ""

    def as_json(self, now: float) -> dict[str, Any]:
        """The check as the health endpoint shows it."""
        body: dict[str, Any] = {
            "up": self.up,
            "since": datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds"),
            "for_seconds": round(max(0.0, now - self.since), 1),
        }
        if not self.up:
            body["reason"] = self.reason
        return body


class Health:
    """Answers "is the bot ready?" from the transports' links and a write to the store.

    ``transports`` is called at each check, so transports started after the health check
    was made are seen; one that says nothing about its link counts as up.
    """

    def __init__(
        self,
        transports: Callable[[], Mapping[Network, object]],
        store: Writable | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._transports = transports
        self._store = store
        self._clock = clock
        self._started = clock()
        self._store_check: tuple[float, Check] | None = None

    def checks(self) -> list[Check]:
        """Every part's state now: the transports, then the store."""
        now = self._clock()
        checks = [self._link_check(name, t, now) for name, t in self._transports().items()]
        if self._store is not None:
            checks.append(self._store_state(now))
        return checks

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """Whether every part is up, and the body that says so (or names what is down)."""
        now = self._clock()
        checks = self.checks()
        down = [c.name for c in checks if not c.up]
        body = {
            "status": "not ready" if down else "ready",
            "down": down,
            "checks": {c.name: c.as_json(now) for c in checks},
        }
        return not down, body

    def _link_check(self, name: Network, transport: object, now: float) -> Check:
        if not isinstance(transport, Linked):
            return Check(name, True, self._started)
        link = transport.link
        return Check(name, link.connected, link.since, link.reason)

    def _store_state(self, now: float) -> Check:
        last = self._store_check
        if last is not None and 0 <= now - last[0] < STORE_CHECK_EVERY:
            return last[1]
        assert self._store is not None
        previous = last[1] if last is not None else None
        try:
            self._store.check_writable()
            up, reason = True, ""
        except StoreError as exc:
            up, reason = False, str(exc)
        # since: the moment the store last changed between up and down
        since = previous.since if previous is not None and previous.up == up else now
        if previous is None and up:
            since = self._started
        check = Check("store", up, since, reason)
        self._store_check = (now, check)
        return check
