"""The seam between the core and a chat network.

A transport connects, turns what its network says into :class:`IncomingMessage` objects, hands
each to ``deliver``, and sends :class:`Reply` objects back. It reconnects on its own; ``run``
returns only when ``stop`` is called (or raises when it cannot go on at all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from infrabot.messages import IncomingMessage, Network, Reply

__all__ = ["Deliver", "Transport"]

Deliver = Callable[[IncomingMessage], Awaitable[None]]
"""What a transport calls with each message it receives."""


class Transport(Protocol):
    """A connection to one chat network."""

    network: Network

    async def run(self, deliver: Deliver) -> None:
        """Connect and serve until :meth:`stop`; hand every incoming message to ``deliver``."""
        ...

    async def send(self, reply: Reply) -> None:
        """Send ``reply`` to its room (or privately), within the network's limits."""
        ...

    async def stop(self) -> None:
        """Disconnect cleanly and make :meth:`run` return."""
        ...
