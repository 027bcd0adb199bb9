"""The bot's own nick, and what other users' nick changes and quits mean for it.

A taken nick at registration falls back to the configured alternatives, then to numbered
ones; once registered, the bot takes its main nick back when its holder leaves it (and
tries again now and then). Whoever changes nick or quits gets nothing private that was
queued for the old nick: the next holder of that nick is someone else.
"""

from __future__ import annotations

import logging
import random

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.transports.irc_connection import IrcConnection
from infrabot.transports.irc_host import EventHandler, IrcHost
from infrabot.transports.irc_identity import irc_lower

__all__ = ["Nicks"]

log = logging.getLogger(__name__)


class Nicks:
    """The nick of the host's current connection, and others' nick changes and quits."""

    def __init__(self, host: IrcHost) -> None:
        self.host = host
        self._tries = 0

    def reset(self) -> None:
        """A new connection: the configured nick is tried first again."""
        self._tries = 0

    def handlers(self) -> dict[str, EventHandler]:
        """The server events this piece handles, by the library's event name."""
        taken = self.on_nick_taken
        return {
            "nicknameinuse": taken,
            "erroneusnickname": taken,
            "unavailresource": taken,
            "nickcollision": taken,
            "nick": self.on_nick,
            "quit": self.on_quit,
        }

    def on_nick_taken(self, conn: IrcConnection, event: Event) -> None:
        config = self.host.config
        if self.host.registered.is_set():
            return  # a regain attempt failed; keep the nick we have
        candidates = [*config.alt_nicks, config.nick + "_", config.nick + "__"]
        if self._tries < len(candidates):
            nick = candidates[self._tries]
        else:
            nick = f"{config.nick[:12]}{random.randint(100, 9999)}"
        self._tries += 1
        log.warning(
            "nick %s is taken; trying %s", event.arguments[0] if event.arguments else "?", nick
        )
        conn.nick(nick)

    def on_nick(self, conn: IrcConnection, event: Event) -> None:
        host = self.host
        old, new = event.source.nick, event.target
        if irc_lower(old) == irc_lower(host.nick):
            host.nick = new
            log.info("now known as %s", new)
            return
        host.tracker.renamed(old, new)
        # whoever holds the old nick next is someone else: nothing private goes to them
        host.output.withdraw_to(old, f"{old} changed nick")
        self._freed(conn, old)

    def on_quit(self, conn: IrcConnection, event: Event) -> None:
        nick = event.source.nick
        self.host.tracker.quit(nick)
        self.host.output.withdraw_to(nick, f"{nick} quit")
        self._freed(conn, nick)

    def _freed(self, conn: IrcConnection, nick: str) -> None:
        if irc_lower(nick) == irc_lower(self.host.config.nick):
            self.regain(conn)

    def regain(self, conn: IrcConnection) -> None:
        """Ask for the configured nick when the bot goes by another."""
        host = self.host
        if irc_lower(host.nick) != irc_lower(host.config.nick) and host.registered.is_set():
            host.bucket.charge()
            conn.nick(host.config.nick)
