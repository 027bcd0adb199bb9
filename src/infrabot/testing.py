"""What tests need, shipped with the package (as httpx ships ``MockTransport``).

:func:`until` (and :func:`until_blocking` outside an event loop) is the one way tests wait
for something to happen: it polls, and fails with what it waited for after a deadline, so a
slow machine only makes a test slower, never wrong.

:class:`FakeTransport` records every reply the bot sends, hands the bot messages a test
makes up, and answers the :class:`~infrabot.transports.base.People` questions the way the real
network of its name does: on ``irc`` a private message goes only to a client logged in as the
recorded services account (all are, unless named in ``logged_out``) and identity is that
account, never a nick; on ``matrix`` both are the user ID.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from infrabot.messages import Handles, IncomingMessage, Network, Reply, Sender
from infrabot.transports.base import Deliver, hand_over

__all__ = ["FakeTransport", "until", "until_blocking"]


async def until(
    condition: Callable[[], object], within: float = 10.0, what: str = "the condition"
) -> None:
    """Return once ``condition()`` is true; raise :class:`AssertionError` after ``within`` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.01)


def until_blocking(
    condition: Callable[[], object], within: float = 10.0, what: str = "the condition"
) -> None:
    """:func:`until` for code outside an event loop (a subprocess, a raw socket)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        time.sleep(0.01)


class FakeTransport:
    """A network that exists only in memory; ``sent`` may be shared by several of them."""

    def __init__(
        self,
        network: str = "irc",
        *,
        sent: list[Reply] | None = None,
        logged_out: set[str] | None = None,
    ) -> None:
        self.network = Network(network)
        self.sent: list[Reply] = [] if sent is None else sent
        self.logged_out: set[str] = set() if logged_out is None else logged_out
        self._deliver: Deliver | None = None
        self._stopped = asyncio.Event()
        self.running = asyncio.Event()
        """Set while :meth:`run` serves."""

    async def run(self, deliver: Deliver) -> None:
        """Serve until :meth:`stop`: :meth:`receive` hands messages to ``deliver``."""
        self._deliver = deliver
        self._stopped.clear()
        self.running.set()
        try:
            await self._stopped.wait()
        finally:
            self.running.clear()
            self._deliver = None

    async def receive(self, message: IncomingMessage) -> None:
        """Hand ``message`` to the bot as if the network had delivered it; waits for it."""
        if self._deliver is None:
            raise RuntimeError("the fake transport is not running")
        await hand_over(self._deliver, message)

    async def send(self, reply: Reply) -> None:
        """Record ``reply``."""
        self.sent.append(reply)

    async def stop(self) -> None:
        """Make :meth:`run` return."""
        self._stopped.set()

    def mention_address(self, person: Handles) -> str | None:
        """The recorded nick on IRC, the user ID on Matrix."""
        return person.irc_nick if self.network == "irc" else person.matrix_id

    async def private_address(self, person: Handles) -> str | None:
        """On IRC the nick of the account's client, unless its account is ``logged_out``."""
        if self.network != "irc":
            return person.matrix_id
        account = person.irc_account
        if not account or account in self.logged_out:
            return None
        return person.irc_nick or account

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """The services account on IRC (case-folded), the user ID on Matrix."""
        if sender.network != self.network or not sender.account:
            return False
        if self.network == "irc":
            return sender.account.casefold() == (person.irc_account or "").casefold()
        return sender.account == person.matrix_id

    def is_operator(self, sender: Sender) -> bool:
        """Only on ``console``, as the real console: whoever runs the process."""
        return self.network == "console" and sender.network == self.network
