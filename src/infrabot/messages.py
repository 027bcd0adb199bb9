"""The transport-neutral messages that flow between chat networks and the command router.

Transports parse what their network sends into these frozen objects at the edge; the core
never sees a protocol line or an SDK event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NewType

__all__ = ["Handles", "IncomingMessage", "Mention", "Network", "Reply", "Room", "Sender"]

Network = NewType("Network", str)
"""The name of a chat network a transport serves: ``irc``, ``matrix`` or ``console``."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message.

    ``name`` is what the network shows (an IRC nick, a Matrix display name) and is never
    proof of anything. ``account`` is the identity the network vouches for (an IRC services
    account, a Matrix user ID), or None when the sender is not identified.
    ``address`` is where a private reply goes (an IRC nick, a Matrix user ID).
    """

    network: Network
    name: str
    account: str | None
    address: str


@dataclass(frozen=True, slots=True)
class Handles:
    """A person's chat handles as the inventory records them.

    They prove nothing by themselves: a transport decides what each means on its network
    (a nick can be taken by anyone; a services account or a Matrix user ID is vouched for).
    """

    irc_nick: str | None = None
    irc_account: str | None = None
    matrix_id: str | None = None


@dataclass(frozen=True, slots=True)
class Room:
    """Where a message was said: a channel or room, or a private conversation."""

    network: Network
    id: str
    private: bool = False


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One line of text a user said where the bot could hear it.

    ``bot_name`` is the bot's own current name on that network, so the router can tell
    when the bot is addressed by name (``infrabot: owner pypi``).

    ``vouch`` is there when the network has not said yet who the sender is: it asks (an IRC
    WHOX or WHOIS) and gives the account the network vouches for, or None. Transports hand
    every message over; the router decides what is meant for the bot and asks only then, so
    channel talk costs the network nothing.
    """

    sender: Sender
    room: Room
    text: str
    bot_name: str = "infrabot"
    event_id: str | None = None
    vouch: Callable[[], Awaitable[str | None]] | None = field(
        default=None, compare=False, repr=False
    )


@dataclass(frozen=True, slots=True)
class Mention:
    """A person to highlight in a reply, on the network the reply goes to."""

    address: str
    name: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says back.

    ``lines`` never contain CR, LF or NUL; the router guarantees it. ``room`` is where the
    reply goes; ``in_reply_to`` is the message it answers, if any, so transports can thread
    it (Matrix) or address the asker (IRC). ``delivery_key`` is the same for every attempt
    at one delivery (one step of a page to one person): a network that deduplicates re-sends
    by it (Matrix transaction IDs) then shows that message once, however often it is retried.
    """

    room: Room
    lines: tuple[str, ...]
    in_reply_to: IncomingMessage | None = None
    mentions: tuple[Mention, ...] = field(default=())
    address_asker: bool = True
    delivery_key: str | None = None
