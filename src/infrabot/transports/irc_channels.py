"""The channels the bot is in, and getting back into the configured ones.

Joins at registration (with their keys), tracks its own joins, parts and kicks, rejoins after
a kick when configured to (or stays out), and now and then joins again any configured
channel it is missing (a failed join, a lost rejoin). Other users' joins and parts go to the
account tracker, which forgets whoever shares no channel with the bot.
"""

from __future__ import annotations

import asyncio
import logging

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.transports.irc_connection import IrcConnection
from infrabot.transports.irc_host import EventHandler, IrcHost
from infrabot.transports.irc_identity import irc_lower

__all__ = ["WHOX_CHANNEL_TOKEN", "Channels"]

log = logging.getLogger(__name__)

WHOX_CHANNEL_TOKEN = "71"
"""The WHOX query type of a whole channel's accounts (a lookup of one nick is another)."""


class Channels:
    """Membership of the host's current connection."""

    def __init__(self, host: IrcHost) -> None:
        self.host = host
        self.joined: set[str] = set()
        """Channels the bot is in right now (lower case)."""
        self._stay_out: set[str] = set()

    def reset(self) -> None:
        """A new connection: in no channel yet."""
        self.joined = set()
        self._stay_out = set()

    def handlers(self) -> dict[str, EventHandler]:
        """The server events this piece handles, by the library's event name."""
        refused = self.on_join_refused
        return {
            "join": self.on_join,
            "namreply": self.on_namreply,
            "part": self.on_part,
            "kick": self.on_kick,
            "channelisfull": refused,
            "inviteonlychan": refused,
            "bannedfromchan": refused,
            "badchannelkey": refused,
        }

    def join_all(self, conn: IrcConnection) -> None:
        """Join every configured channel."""
        for channel in self.host.config.channels:
            self.join(conn, channel)

    def join(self, conn: IrcConnection, channel: str) -> None:
        key = self.host.config.channel_keys.get(channel)
        self.host.bucket.charge()
        if key is not None:
            conn.send_raw(f"JOIN {channel} {key.get_secret_value()}")
        else:
            conn.send_raw(f"JOIN {channel}")

    def rejoin_missing(self, conn: IrcConnection) -> None:
        """Join again any configured channel we are not in (a failed join, a lost rejoin).

        A channel we were kicked from stays left when ``rejoin_on_kick`` is off.
        """
        if not self.host.registered.is_set():
            return
        for channel in self.host.config.channels:
            name = irc_lower(channel)
            if name not in self.joined and name not in self._stay_out:
                self.join(conn, channel)

    def _is_me(self, nick: str) -> bool:
        return irc_lower(nick) == irc_lower(self.host.nick)

    def on_join(self, conn: IrcConnection, event: Event) -> None:
        host = self.host
        nick, channel = event.source.nick, event.target
        extended = "extended-join" in host.caps
        if self._is_me(nick):
            self.joined.add(irc_lower(channel))
            host.shaper.user, host.shaper.host = event.source.user, event.source.host
            log.info("joined %s", channel)
            if not extended or "account-notify" not in host.caps:
                self._who_channel(conn, channel)
            return
        account = event.arguments[0] if extended and event.arguments else None
        host.tracker.joined(nick, channel, account, extended=extended)

    def _who_channel(self, conn: IrcConnection, channel: str) -> None:
        if "WHOX" in self.host.shaper.isupport:
            self.host.bucket.charge()
            conn.send_raw(f"WHO {channel} %tna,{WHOX_CHANNEL_TOKEN}")

    def on_join_refused(self, conn: IrcConnection, event: Event) -> None:
        # 471/473/474/475 <me> <channel> :reason; rejoin_missing tries again later.
        channel = event.arguments[0] if event.arguments else "?"
        log.warning("cannot join %s: %s (%s)", channel, event.arguments[-1:], event.type)

    def on_namreply(self, conn: IrcConnection, event: Event) -> None:
        if len(event.arguments) >= 3:
            channel = event.arguments[1]
            for name in event.arguments[2].split():
                self.host.tracker.seen_in(name.lstrip("~&@%+"), channel)

    def on_part(self, conn: IrcConnection, event: Event) -> None:
        nick, channel = event.source.nick, event.target
        if self._is_me(nick):
            self.joined.discard(irc_lower(channel))
            self.host.tracker.we_left(channel)
        else:
            self.host.tracker.parted(nick, channel)

    def on_kick(self, conn: IrcConnection, event: Event) -> None:
        host = self.host
        channel = event.target
        kicked = event.arguments[0] if event.arguments else ""
        if not self._is_me(kicked):
            host.tracker.parted(kicked, channel)
            return
        self.joined.discard(irc_lower(channel))
        host.tracker.we_left(channel)
        log.warning("kicked from %s by %s: %s", channel, event.source.nick, event.arguments[1:])
        if host.config.rejoin_on_kick:
            host.spawn(self._rejoin_later(conn, channel))
        else:
            self._stay_out.add(irc_lower(channel))

    async def _rejoin_later(self, conn: IrcConnection, channel: str) -> None:
        await asyncio.sleep(self.host.config.rejoin_delay)
        if self.host.current(conn) and irc_lower(channel) not in self.joined:
            self.join(conn, channel)
