"""Escalating unacknowledged pages on time, and finishing steps a crash interrupted.

The deadlines are in the store, so a restarted bot picks up where the last one stopped: it
first finishes the deliveries of every open page's current step, then climbs the ladder of
each page whose deadline has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from infrabot import metrics
from infrabot.paging.delivery import Deliveries
from infrabot.paging.plan import Level
from infrabot.store import PageRecord, Store

__all__ = ["Escalation"]

log = logging.getLogger(__name__)

Plan = Callable[[str, str], tuple[Level, ...]]


class Escalation:
    """The loop that moves open pages up their ladder every ``after`` seconds."""

    def __init__(
        self,
        *,
        store: Store,
        plan: Plan,
        deliveries: Deliveries,
        after: float,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.after = after
        self.retry = 10.0
        """Seconds between attempts at deliveries that failed."""
        self._plan = plan
        self._deliveries = deliveries
        self._clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the pages again now (one was created, acknowledged or resolved)."""
        self._wake.set()

    async def run(self) -> None:
        """Finish interrupted deliveries, then escalate on time, forever.

        A delivery that failed (a network down, the bot just started and not connected yet)
        is tried again every :attr:`retry` seconds while its step is the page's current one.
        """
        for page in self.store.unclosed_pages():  # steps a crash interrupted, first
            if page.state == "open":
                await self._deliver_again(page)
        retry_at: dict[str, float] = {}
        while True:
            deadlines = await self._one_pass(retry_at)
            wait = min(deadlines) - self._clock() if deadlines else 60.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, min(wait, 60.0))):
                    await self._wake.wait()

    async def _one_pass(self, retry_at: dict[str, float]) -> list[float]:
        """Escalate what is due, retry what failed; return when to look again."""
        now = self._clock()
        deadlines: list[float] = []
        for page in self.store.unclosed_pages():
            if page.state != "open" or page.next_at is None:
                continue
            if page.next_at <= now:
                await self._escalate(page)
                deadlines.append(now + self.after)
                continue
            deadlines.append(page.next_at)
            if not self.store.unconfirmed(page.id, page.level):
                continue
            due = retry_at.setdefault(page.id, now + self.retry)
            if due <= now:
                await self._deliver_again(page)
                retry_at[page.id] = due = now + self.retry
            deadlines.append(due)
        return deadlines

    async def _deliver_again(self, page: PageRecord) -> None:
        """Make the deliveries of the page's current step that are not confirmed yet."""
        levels = self._plan(page.target_kind, page.target)
        level = levels[min(page.level, len(levels) - 1)]
        await self._deliveries.step(page, page.level, level)
        log.info("made what was left of the deliveries of %s step %d", page.id, page.level)

    async def _escalate(self, page: PageRecord) -> None:
        levels = self._plan(page.target_kind, page.target)
        step = page.level + 1
        level = levels[min(step, len(levels) - 1)]
        verb = "escalating to" if step < len(levels) else "reminding"
        detail = f"{verb} {level.label}"
        metrics.escalated("escalated" if step < len(levels) else "reminded")
        self.store.update_page(
            page.id,
            ("escalated" if step < len(levels) else "reminded", detail),
            level=step,
            next_at=self._clock() + self.after,
        )
        fresh = self.store.page(page.id)
        assert fresh is not None
        preface = self._deliveries.notices.escalation(page, self.after, detail)
        await self._deliveries.step(fresh, step, level, preface=preface)
