"""What users say, handed to the router as transport-neutral messages; CTCP answered here.

Every message in a channel or in private goes to the router, which decides what is meant for
the bot. The sender's account is given when the server already vouched for it (``account-tag``,
or a tracked channel member under ``account-notify``); otherwise the message carries a
``vouch`` that asks the server, which the router calls only for a message meant for the bot.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.errors import TransportError
from infrabot.messages import IncomingMessage, Network, Room, Sender
from infrabot.rate_limit import UserRateLimiter, Verdict
from infrabot.text import clean_line
from infrabot.transports.base import Deliver
from infrabot.transports.irc_accounts import Accounts
from infrabot.transports.irc_connection import IrcConnection
from infrabot.transports.irc_host import EventHandler, IrcHost
from infrabot.transports.irc_identity import irc_lower
from infrabot.transports.irc_privmsg import UserLine, user_line
from infrabot.transports.irc_queue import OutLine

__all__ = ["Intake"]

log = logging.getLogger(__name__)

_REMEMBERED = 1000  # senders and rooms kept for reuse, each


class Intake:
    """Users' messages to the router, and answers to CTCP VERSION and PING."""

    def __init__(
        self,
        host: IrcHost,
        accounts: Accounts,
        network: Network,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.accounts = accounts
        self.network = network
        self.deliver: Deliver | None = None
        """Where messages go; set when the transport starts."""
        # CTCP is answered by the transport itself: it gets a limit of its own (commands have
        # the router's, the same on every network)
        self.ctcp_limiter = UserRateLimiter(0.5, 5, clock=clock)
        self._senders: dict[tuple[str, str | None], Sender] = {}
        self._rooms: dict[tuple[str, bool], Room] = {}

    def handlers(self) -> dict[str, EventHandler]:
        """The server events this piece handles, by the library's event name."""
        return {"pubmsg": self.on_message, "privmsg": self.on_message, "ctcp": self.on_ctcp}

    def on_message(self, conn: IrcConnection, event: Event) -> None:
        """A message the library read (the quick path left it: text around a CTCP part)."""
        self.on_line(conn, user_line(event))

    def on_line(self, conn: IrcConnection, line: UserLine) -> None:
        """A user's PRIVMSG goes to the router; a NOTICE is never answered (nor looked at)."""
        nick = line.nick
        if line.notice or not nick or irc_lower(nick) == irc_lower(self.host.nick):
            return
        private = line.private
        settled, account = self.accounts.settled(
            nick, line.account, None if private else line.target
        )
        message = IncomingMessage(  # positional: made for every line, and cheaper so
            self._sender(nick, account),  # sender
            self._room(nick if private else line.target, private),  # room
            line.text,
            self.host.nick,  # bot_name
            line.msgid,  # event_id
            None if settled else functools.partial(self.accounts.lookup, conn, nick),  # vouch
        )
        self._dispatch(message)

    def _sender(self, nick: str, account: str | None) -> Sender:
        """The sender ``nick`` logged in as ``account``: the same few people say most things,
        and a frozen object can be handed out again."""
        key = (nick, account)
        sender = self._senders.get(key)
        if sender is None:
            if len(self._senders) >= _REMEMBERED:
                self._senders.clear()
            sender = self._senders[key] = Sender(self.network, nick, account, nick)
        return sender

    def _room(self, target: str, private: bool) -> Room:
        """The room ``target`` (a channel, or a nick in private), made once."""
        key = (target, private)
        room = self._rooms.get(key)
        if room is None:
            if len(self._rooms) >= _REMEMBERED:
                self._rooms.clear()
            room = self._rooms[key] = Room(self.network, target, private=private)
        return room

    def _dispatch(self, message: IncomingMessage) -> None:
        """Hand ``message`` over: an answer ready at once (a remembered one) is written
        before the read that brought the question returns; the rest runs beside."""
        if self.deliver is None:
            return
        try:
            rest = self.deliver(message)
        except Exception as exc:
            _failed(message, exc)
        else:
            if rest is not None:
                self.host.spawn(_finish(message, rest))

    def on_ctcp(self, conn: IrcConnection, event: Event) -> None:
        nick = event.source.nick
        kind = event.arguments[0].upper() if event.arguments else ""
        if kind not in ("VERSION", "PING"):
            return
        who = irc_lower(f"{event.source.user}@{event.source.host}")
        if self.ctcp_limiter.check(who) != Verdict.ALLOW:
            return
        if kind == "VERSION":
            body = f"VERSION {clean_line(self.host.config.version, None)}"
        else:
            param = clean_line(event.arguments[1] if len(event.arguments) > 1 else "", None)[:64]
            body = f"PING {param}".rstrip()
        limit = self.host.config.max_private_lines
        self.host.output.submit(
            irc_lower(nick), [OutLine("NOTICE", nick, f"\x01{body}\x01")], limit
        )


async def _finish(message: IncomingMessage, rest: Awaitable[None]) -> None:
    try:
        await rest
    except Exception as exc:
        _failed(message, exc)


def _failed(message: IncomingMessage, exc: Exception) -> None:
    """Say why ``message`` got no answer, once: a full queue in a flood or a lost connection
    in one line, anything else with its traceback."""
    sender, room = message.sender.name, message.room.id
    if isinstance(exc, TransportError):
        log.info("could not answer %s in %s: %s", sender, room, exc)
    else:
        log.error("failed to answer %s in %s", sender, room, exc_info=exc)
