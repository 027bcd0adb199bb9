"""What the pieces of the IRC transport share: the state of the one connection they serve.

The transport (:mod:`.irc`) is the host; the pieces that handle the server's events
(:mod:`.irc_login`, :mod:`.irc_channels`, :mod:`.irc_nicks`, :mod:`.irc_intake`) see it
through this protocol only, so none of them imports the transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.config import IrcConfig
from infrabot.rate_limit import TokenBucket
from infrabot.transports.irc_caps import CapNegotiation
from infrabot.transports.irc_connection import IrcConnection
from infrabot.transports.irc_identity import AccountLookups, AccountTracker
from infrabot.transports.irc_lines import LineShaper
from infrabot.transports.irc_output import Output

__all__ = ["EventHandler", "IrcHost"]

EventHandler = Callable[[IrcConnection, Event], None]
"""Handles one kind of server event on the connection it came from."""


class IrcHost(Protocol):
    """The transport as its pieces see it."""

    config: IrcConfig
    nick: str
    """The bot's nick right now (it may differ from ``config.nick`` while it is taken)."""
    account: str | None
    """The services account the bot is logged in to, once services say so."""
    connections: int
    bucket: TokenBucket
    """Flood control: every line the bot writes is charged here."""
    tracker: AccountTracker
    lookups: AccountLookups
    output: Output
    shaper: LineShaper
    negotiation: CapNegotiation
    registered: asyncio.Event

    @property
    def caps(self) -> set[str]:
        """The capabilities the server acknowledged on this connection."""
        ...

    def current(self, conn: IrcConnection) -> bool:
        """Whether ``conn`` is the live connection (not one given up on)."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` beside the connection, cancelled when the transport stops."""
        ...
