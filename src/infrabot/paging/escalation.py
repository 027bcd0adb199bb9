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
        """The longest wait between attempts at deliveries that failed."""
        self.first_retry = 1.0
        """Seconds before the first attempt again (each later wait twice the last one)."""
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
        is tried again, first after :attr:`first_retry` seconds, then less often up to every
        :attr:`retry` seconds, until it goes: also once its page has climbed to a later step,
        as the people of an earlier step were never told. A page due to climb first tries
        again what its steps have left, so that a step is finished, where the network allows,
        before the next one starts.
        """
        for page in self.store.unclosed_pages():  # steps a crash interrupted, first
            if page.state == "open":
                await self._deliver_again(page, page.level)
        retry_at: dict[str, tuple[float, float]] = {}
        while True:
            deadlines = await self._one_pass(retry_at)
            wait = min(deadlines) - self._clock() if deadlines else 60.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, min(wait, 60.0))):
                    await self._wake.wait()

    async def _one_pass(self, retry_at: dict[str, tuple[float, float]]) -> list[float]:
        """Retry what failed, escalate what is due; return when to look again."""
        deadlines: list[float] = []
        for page in self.store.unclosed_pages():
            if page.state != "open" or page.next_at is None:
                continue
            now = self._clock()
            due = page.next_at <= now
            retry = await self._retry(page, retry_at, force=due)
            if retry is not None:
                deadlines.append(retry)
            if due:
                await self._escalate(page)
                deadlines.append(now + self.after)
            else:
                deadlines.append(page.next_at)
        return deadlines

    async def _retry(
        self, page: PageRecord, retry_at: dict[str, tuple[float, float]], *, force: bool
    ) -> float | None:
        """Try again the deliveries of ``page`` left unconfirmed, when due (or ``force``);
        return when to try next, None when nothing is left."""
        steps = self.store.unconfirmed_steps(page.id)
        if not steps:
            retry_at.pop(page.id, None)
            return None
        now = self._clock()
        due, delay = retry_at.setdefault(page.id, (now + self.first_retry, self.first_retry))
        if due > now and not force:
            return due
        for step in steps:
            await self._deliver_again(page, step)
        if not self.store.unconfirmed_steps(page.id):
            retry_at.pop(page.id, None)
            return None
        delay = min(delay * 2, self.retry)
        retry_at[page.id] = (now + delay, delay)
        return now + delay

    async def _deliver_again(self, page: PageRecord, step: int) -> None:
        """Make the deliveries of the page's ``step`` that are not confirmed yet."""
        levels = self._plan(page.target_kind, page.target)
        level = levels[min(step, len(levels) - 1)]
        await self._deliveries.step(page, step, level)
        log.info("made what was left of the deliveries of %s step %d", page.id, step)

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
