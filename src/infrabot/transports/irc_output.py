"""From a reply's lines to the socket: the fair queue, pacing by the token bucket, and knowing
when the lines have really left.

:meth:`Output.submit` writes at once when nothing waits and the bucket allows every line (one
write for the whole answer); otherwise the lines wait in the :class:`~.irc_queue.FairQueue` and
:meth:`Output.run` paces them out. :meth:`Output.confirm` returns only when every line of a
reply was written to the socket: handed to the kernel, nothing left in our own buffer. With
``acknowledged`` it also waits until the server's side has acknowledged every byte we wrote
(Linux ``SIOCOUTQ``), because a crashing process's socket is reset, not drained, when unread
data is waiting for it, and bytes still in its kernel buffer are lost then; it asks the server
for a PONG meanwhile, whose arrival brings the acknowledgement without the peer's delay.

What happens to waiting lines when the connection is lost: lines to a nick are withdrawn at
once, and refused while no connection is up (while we are away the nick may change hands, so
the caller must look the person up again); lines to a channel wait for the next connection.
Either way a caller of :meth:`confirm` waits at most ``timeout`` seconds, then its unwritten
lines are withdrawn and it gets :class:`~infrabot.errors.TransportError`; :meth:`close` (the
bot stopping) withdraws everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Sequence
from typing import Protocol

from infrabot.errors import TransportError
from infrabot.rate_limit import TokenBucket
from infrabot.transports.irc_identity import irc_lower
from infrabot.transports.irc_queue import FairQueue, OutLine, Queued, Ticket

__all__ = ["SEND_TIMEOUT", "Link", "Output"]

log = logging.getLogger(__name__)

SEND_TIMEOUT = 120.0
"""Seconds :meth:`Output.confirm` waits before it withdraws what is left and gives up."""

_CHANNEL_TYPES = ("#", "&", "!", "+")


class Link(Protocol):
    """The connection lines are written to (the transport's ``_Connection``)."""

    def frame(self, line: str) -> bytes:
        """``line`` as bytes on the wire; raises ``ValueError`` for a line that cannot go."""
        ...

    def write(self, data: bytes) -> bool:
        """Write ``data``; False when the connection is closing and nothing was written."""
        ...

    def flushed(self) -> bool:
        """Whether everything written so far is in the kernel (none left in our buffer)."""
        ...

    def acknowledged(self) -> bool | None:
        """Whether the peer acknowledged every byte written so far; None when we cannot tell."""
        ...

    def nudge(self) -> None:
        """Ask the peer for an answer, so that its acknowledgement comes with it at once."""
        ...


class Output:
    """The way out for every paced line of one transport: see the module docstring."""

    def __init__(
        self, bucket: TokenBucket, queue: FairQueue, *, timeout: float = SEND_TIMEOUT
    ) -> None:
        self.bucket = bucket
        self.queue = queue
        self.timeout = timeout
        self._link: Link | None = None
        self._wake = asyncio.Event()

    # --- the connection comes and goes

    def attach(self, link: Link) -> None:
        """``link`` is registered: lines may go out on it from now on."""
        self._link = link
        self.flush()

    def detach(self, reason: str = "connection lost") -> None:
        """The connection is gone: lines to a nick are withdrawn, lines to a channel wait."""
        self._link = None
        self.queue.withdraw(
            lambda item: not item.line.target.startswith(_CHANNEL_TYPES),
            f"{reason} before they were written",
        )

    def close(self, reason: str = "stopping") -> None:
        """The transport stops: everything waiting is withdrawn."""
        self._link = None
        self.queue.clear(reason)

    def withdraw_to(self, nick: str, reason: str) -> None:
        """Withdraw the lines waiting for ``nick`` (who left or changed nick)."""
        key = irc_lower(nick)
        self.queue.withdraw(lambda item: irc_lower(item.line.target) == key, reason)

    # --- lines in

    def submit(self, flow: Hashable, lines: Sequence[OutLine], limit: int) -> Ticket:
        """Send ``lines`` (all to one target) for ``flow``: now if possible, else queued."""
        link = self._link
        if (
            link is not None
            and not len(self.queue)
            and len(lines) <= limit
            and self.bucket.try_take(len(lines))
        ):
            # Nothing waits and the bucket allows every line: straight out, in one write.
            self.queue.sent_directly(flow, len(lines))
            ticket = Ticket(lines[0].target if lines else "", len(lines))
            self._write(link, [(line, ticket) for line in lines])
            return ticket
        if link is None and lines and not lines[0].target.startswith(_CHANNEL_TYPES):
            # lines to a nick go out on the connection they were meant for, or not at all
            ticket = Ticket(lines[0].target)
            ticket.lost, ticket.reason = len(lines), "not connected"
            return ticket
        ticket = self.queue.push(flow, lines, limit)
        self.flush()
        return ticket

    def confirmed(self, tickets: Sequence[Ticket], *, acknowledged: bool = False) -> bool:
        """Whether :meth:`confirm` has nothing to wait for: the usual case, every line written
        at once with nothing left in our buffer. Raises as :meth:`confirm` does."""
        if acknowledged:
            return False
        for ticket in tickets:
            if not ticket.settled or ticket.unflushed:
                return False
        for ticket in tickets:
            ticket.check()
        return True

    async def confirm(self, tickets: Sequence[Ticket], *, acknowledged: bool = False) -> None:
        """Return when every line of ``tickets`` was written (and, with ``acknowledged``, the
        server's side has acknowledged it); raise :class:`TransportError` when any was not."""
        if self.confirmed(tickets, acknowledged=acknowledged):
            return
        try:
            async with asyncio.timeout(self.timeout):
                for ticket in tickets:
                    await ticket.settle()
                for ticket in tickets:
                    ticket.check()
                    await self._drained(ticket, acknowledged)
        except TimeoutError:
            late = f"not written within {self.timeout:g} s"
            waiting = set(map(id, tickets))
            self.queue.withdraw(lambda item: id(item.ticket) in waiting, late)
            for ticket in tickets:
                ticket.check()
            raise TransportError(f"irc: {late}") from None

    async def _drained(self, ticket: Ticket, acknowledged: bool) -> None:
        """Until the link ``ticket`` was written on has let go of everything (polled: rare)."""
        if ticket.link is None or not (acknowledged or ticket.unflushed):
            return
        if ticket.spans:
            raise TransportError(f"irc: the connection changed while writing to {ticket.target}")
        if acknowledged and self._link is not None and self._link is ticket.link:
            # The server's kernel delays its ACK (up to 40 ms) when it has nothing to send us;
            # an answer it owes us carries the ACK at once. Every millisecond spent here is
            # one in which a crash would leave a delivery made but not confirmed (made again).
            self._link.nudge()
        delay = 0.0005
        while True:
            link = self._link
            if link is None or link is not ticket.link:
                raise TransportError(f"irc: connection lost before {ticket.target} got it all")
            done = link.acknowledged() if acknowledged else None
            if done or (done is None and link.flushed()):
                return
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    # --- lines out

    def flush(self) -> None:
        """Write what the bucket allows right now; :meth:`run` paces the rest.

        Lines that may go now leave in one write: an answer's lines then reach the server in
        one segment, and its relay to users is not held back by Nagle's algorithm.
        """
        link = self._link
        if link is None:
            return
        batch: list[Queued] = []
        while len(self.queue) and self.bucket.try_take():
            item = self.queue.pop()
            if item is None:
                break
            batch.append(item)
        if batch:
            self._write(link, [(item.line, item.ticket) for item in batch])
        if len(self.queue):
            self._wake.set()

    def _write(self, link: Link, items: Sequence[tuple[OutLine, Ticket]]) -> None:
        data = bytearray()
        framed: dict[Ticket, int] = {}  # lines framed, per ticket
        for line, ticket in items:
            try:
                data += link.frame(f"{line.command} {line.target} :{line.text}")
            except Exception as exc:  # a line we built wrong is dropped, never fatal
                log.warning("could not send to %s: %s", line.target, exc)
                ticket.left_out(1, f"cannot be sent ({exc})")
                continue
            framed[ticket] = framed.get(ticket, 0) + 1
        if not framed:
            return
        if not link.write(bytes(data)):
            for ticket, count in framed.items():
                ticket.left_out(count, "connection closing")
            return
        flushed = link.flushed()
        for ticket, count in framed.items():
            ticket.written(link, flushed, count)

    async def run(self) -> None:
        """Pace queued lines out as the token bucket allows, while a link is attached."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(self.queue) and self._link is not None:
                await asyncio.sleep(self.bucket.delay())
                self.flush()
