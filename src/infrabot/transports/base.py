"""The seam between the core and a chat network.

A transport connects, turns what its network says into :class:`IncomingMessage` objects, hands
each to ``deliver``, and sends :class:`Reply` objects back. It reconnects on its own; ``run``
returns only when ``stop`` is called (or raises when it cannot go on at all).

It also says what a person's recorded :class:`Handles` mean on its network (:class:`People`):
where a highlight points, where a private message reaches that person and nobody else, and
whether a sender is that person. The core never decides that by itself.

An answer ready at once (a remembered one) is handed over before ``deliver`` returns; only
what has to wait comes back as an awaitable. A transport that can write without waiting says
so with :meth:`SendsNow.send_now`, and such an answer then leaves in the same turn of the event
loop as the question that asked for it.

A transport that keeps a connection says whether it is connected now, and since when, in a
:class:`Link` (:class:`Linked`): health checks and metrics read it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from infrabot.messages import Handles, IncomingMessage, Network, Reply, Sender

__all__ = ["Deliver", "Link", "Linked", "People", "SendsNow", "Transport", "hand_over"]

Deliver = Callable[[IncomingMessage], Awaitable[None] | None]
"""What a transport calls with each message it receives: it answers what it can at once and
returns what is left to do (to be awaited), or None when the message needs nothing more."""


async def hand_over(deliver: Deliver, message: IncomingMessage) -> None:
    """Give ``message`` to ``deliver`` and wait until it is answered."""
    rest = deliver(message)
    if rest is not None:
        await rest


class Link:
    """Whether a transport is connected to its network now, since when, and how often.

    ``since`` is wall-clock time (what an operator compares with other logs); ``reason``
    says in a few fixed words why it is down (never text from the network).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.connected = False
        self.since = clock()
        self.reason = "not connected yet"
        self.connections = 0
        """How many times the link came up: 1 + reconnects."""

    def up(self) -> None:
        """The transport is connected (and ready to answer) from now on."""
        if not self.connected:
            self.connected, self.since, self.reason = True, self._clock(), ""
            self.connections += 1

    def down(self, reason: str) -> None:
        """The transport is not connected; ``since`` stays the moment it was lost."""
        if self.connected:
            self.since = self._clock()
        self.connected, self.reason = False, reason


@runtime_checkable
class Linked(Protocol):
    """A transport that says whether it is connected."""

    link: Link


class People(Protocol):
    """How one network addresses and recognises the people of the inventory."""

    network: Network

    def mention_address(self, person: Handles) -> str | None:
        """What to highlight in a room so ``person`` notices (proves nothing), if anything."""
        ...

    async def private_address(self, person: Handles) -> str | None:
        """Where a private message reaches ``person`` and nobody else, as the network vouches
        right now; None when there is no such place (not recorded, not logged in). Raises
        :class:`~infrabot.errors.TransportError` when the network cannot be asked now."""
        ...

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """Whether ``sender`` is ``person`` by the identity the network vouches for."""
        ...

    def is_operator(self, sender: Sender) -> bool:
        """Whether ``sender`` is whoever runs the bot's process (the console): an admin by
        position, not by any handle."""
        ...


class Transport(People, Protocol):
    """A connection to one chat network."""

    async def run(self, deliver: Deliver) -> None:
        """Connect and serve until :meth:`stop`; hand every incoming message to ``deliver``."""
        ...

    async def send(self, reply: Reply) -> None:
        """Send ``reply`` to its room (or privately), within the network's limits.

        Returns once the network has the message (IRC: written to the socket after pacing,
        and for a reply with a ``delivery_key`` acknowledged by the server's side; Matrix: the
        homeserver answered with an event ID); raises :class:`TransportError` when it could
        not be handed over.
        """
        ...

    async def stop(self) -> None:
        """Disconnect cleanly and make :meth:`run` return."""
        ...


class SendsNow(Protocol):
    """A transport that can hand a reply over without waiting, when its network allows."""

    def send_now(self, reply: Reply) -> Awaitable[None] | None:
        """Do as much of :meth:`Transport.send` as needs no waiting: None when the reply was
        handed over entirely, else an awaitable that finishes the send (raising as ``send``
        does). Raises at once what ``send`` would raise before its first wait."""
        ...
