"""The order in which waiting lines leave: quiet askers first, and a cap per conversation.

Lines are queued per *flow*: the person a reply answers (or, for a reply to nobody in
particular, its target). Each flow keeps its own lines in order. Whenever a line may go, the
flow that used the queue least lately goes first. Its use counts each line once when asked for
(queued or not: a flood that overflows its cap still counts) and once more when sent, and
halves every :data:`HALF_LIFE` seconds. So during a flood the one who asks a single question is
answered next, before the backlog of those who flood; flows that use about as much take turns
(each line sent moves its flow back); ties go to whoever has waited longest.

Round-robin over flows is not enough: with 30 flows waiting and one line a second, a new flow
waits behind 30 lines. Start-time fair queueing does no better: a new flow's first line gets
the current virtual time as its start tag, the same as the 30 flows' heads of this round.

Each (flow, target) pair holds at most ``per_key`` lines (or the ``limit`` given to
:meth:`FairQueue.push`); past that the tail becomes one summary line. ``total`` bounds all
flows together the same way. Every push returns a :class:`Ticket` that learns the fate of each
of its lines: written, or left out (summarized, withdrawn).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from infrabot.errors import TransportError

__all__ = ["HALF_LIFE", "FairQueue", "OutLine", "Queued", "Ticket"]

HALF_LIFE = 30.0
"""Seconds after which a flow's use counts half as much when choosing who goes next."""

Flow = Hashable


@dataclass(frozen=True, slots=True)
class OutLine:
    """One line to send: ``command target :text``."""

    command: str
    target: str
    text: str


class Ticket:
    """What became of the lines of one push: how many still wait, how many were left out.

    ``link`` is the connection its lines were last written on; ``spans`` says they went out on
    more than one, and ``unflushed`` that some stayed in our own buffer after the write.
    """

    __slots__ = ("_future", "link", "lost", "reason", "spans", "target", "unflushed", "waiting")

    def __init__(self, target: str, waiting: int = 0) -> None:
        self.target = target
        self.waiting = waiting
        self.lost = 0
        self.reason = ""
        self.link: object | None = None
        self.spans = False
        self.unflushed = False
        self._future: asyncio.Future[None] | None = None

    @property
    def settled(self) -> bool:
        """Whether every line was written or left out."""
        return self.waiting <= 0

    def written(self, link: object, flushed: bool, count: int = 1) -> None:
        """``count`` of the lines were written on ``link`` (all in the kernel, if ``flushed``)."""
        if self.link is not None and self.link is not link:
            self.spans = True
        self.link = link
        self.unflushed = self.unflushed or not flushed
        self.waiting -= count
        self._settle()

    def left_out(self, count: int, reason: str) -> None:
        """``count`` of the lines will never be written, for ``reason``."""
        self.waiting -= count
        self.lost += count
        self.reason = self.reason or reason
        self._settle()

    def _settle(self) -> None:
        if self.waiting <= 0 and self._future is not None and not self._future.done():
            self._future.set_result(None)

    async def settle(self) -> None:
        """Wait until every line was written or left out."""
        if not self.settled:
            if self._future is None:
                self._future = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._future)

    def check(self) -> None:
        """Raise :class:`TransportError` if any line was left out."""
        if self.lost:
            lost, target = self.lost, self.target
            raise TransportError(f"irc: {lost} line(s) to {target} not sent: {self.reason}")


@dataclass(slots=True)
class Queued:
    """A waiting line, the ticket it reports to, and when it was queued (for ties)."""

    line: OutLine
    ticket: Ticket
    seq: int


@dataclass(slots=True)
class _Use:
    """How much a flow used the queue lately, as of ``stamp`` (halving every half-life)."""

    lines: float
    stamp: float

    def now(self, now: float, half_life: float) -> float:
        return self.lines * math.exp2((self.stamp - now) / half_life)


class FairQueue:
    """Lines waiting to be sent: see the module docstring for the order and the caps."""

    def __init__(
        self,
        per_key: int = 20,
        total: int = 500,
        summary: Callable[[int, str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        half_life: float = HALF_LIFE,
    ) -> None:
        self.per_key = max(per_key, 2)
        self.total = max(total, self.per_key)
        self.half_life = half_life
        self._summary = summary or _default_summary
        self._clock = clock
        self._flows: dict[Flow, deque[Queued]] = {}
        self._counts: dict[tuple[Flow, str], int] = {}
        self._usage: dict[Flow, _Use] = {}
        self._size = 0
        self._seq = 0

    def __len__(self) -> int:
        return self._size

    def push(self, flow: Flow, lines: Sequence[OutLine], limit: int | None = None) -> Ticket:
        """Queue ``lines`` for ``flow`` (all to one target); the ticket counts what was cut."""
        ticket = Ticket(lines[0].target if lines else "")
        if not lines:
            return ticket
        self._use(flow, len(lines))
        key = (flow, lines[0].target)
        per_key = max(limit, 2) if limit is not None else self.per_key
        room = min(per_key - self._counts.get(key, 0), self.total - self._size)
        if room <= 0:
            # already full: the summary queued earlier stands for these too
            ticket.lost, ticket.reason = len(lines), "too many lines waiting"
            return ticket
        accepted = list(lines)
        if len(accepted) > room:
            hidden = len(accepted) - (room - 1)
            last = accepted[room - 1]
            summary = OutLine(last.command, last.target, self._summary(hidden, last.target))
            accepted = [*accepted[: room - 1], summary]
            ticket.lost, ticket.reason = hidden, "too many lines waiting; the rest summarized"
        ticket.waiting = len(accepted)
        queue = self._flows.setdefault(flow, deque())
        for line in accepted:
            self._seq += 1
            queue.append(Queued(line, ticket, self._seq))
        self._counts[key] = self._counts.get(key, 0) + len(accepted)
        self._size += len(accepted)
        return ticket

    def pop(self) -> Queued | None:
        """The next line: the head of the flow that used the queue least lately."""
        if not self._flows:
            return None
        now = self._clock()
        flow = min(self._flows, key=lambda f: self._rank(f, now))
        self._use(flow, 1)
        return self._take(flow)

    def sent_directly(self, flow: Flow, count: int) -> None:
        """``flow`` had ``count`` lines sent without waiting: they count as asked and sent."""
        self._use(flow, 2 * count)

    def _rank(self, flow: Flow, now: float) -> tuple[float, int]:
        """Use lately (least first), then who has waited longest."""
        use = self._usage.get(flow)
        return (use.now(now, self.half_life) if use else 0.0, self._flows[flow][0].seq)

    def _take(self, flow: Flow) -> Queued:
        queue = self._flows[flow]
        item = queue.popleft()
        if not queue:
            del self._flows[flow]
        self._forget_one(flow, item.line.target)
        return item

    def _forget_one(self, flow: Flow, target: str) -> None:
        key = (flow, target)
        left = self._counts[key] - 1
        if left:
            self._counts[key] = left
        else:
            del self._counts[key]
        self._size -= 1

    def _use(self, flow: Flow, count: int) -> None:
        now = self._clock()
        use = self._usage.get(flow)
        if use is None:
            self._usage[flow] = _Use(count, now)
            if len(self._usage) > 2 * len(self._flows) + 256:
                self._fade(now)
        else:
            use.lines = use.now(now, self.half_life) + count
            use.stamp = now

    def _fade(self, now: float) -> None:
        """Forget flows with nothing waiting whose count has faded (a few half-lives)."""
        for flow in [
            f
            for f, a in self._usage.items()
            if f not in self._flows and a.now(now, self.half_life) < 0.1
        ]:
            del self._usage[flow]

    def withdraw(self, where: Callable[[Queued], bool], reason: str) -> int:
        """Take out every waiting line ``where`` is true for; their tickets learn ``reason``."""
        if not self._size:
            return 0
        removed = 0
        for flow in list(self._flows):
            queue = self._flows[flow]
            keep: deque[Queued] = deque()
            for item in queue:
                if where(item):
                    self._forget_one(flow, item.line.target)
                    item.ticket.left_out(1, reason)
                    removed += 1
                else:
                    keep.append(item)
            if keep:
                self._flows[flow] = keep
            else:
                del self._flows[flow]
        return removed

    def clear(self, reason: str = "dropped") -> None:
        """Drop everything waiting."""
        self.withdraw(lambda item: True, reason)


def _default_summary(hidden: int, target: str) -> str:
    if target.startswith(("#", "&", "!", "+")):
        return f"({hidden} more lines: ask me in private)"
    return f"({hidden} more lines not sent: narrow the question)"
