"""Logging the bot in: capability negotiation, SASL, and NickServ as the fallback.

The exchange itself is a pure state machine (:mod:`.irc_caps`); this piece feeds it the
server's CAP, AUTHENTICATE and numeric replies, writes the lines it returns, and keeps trying
(spaced out) while the bot is not logged in.
"""

from __future__ import annotations

import asyncio
import logging

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.transports.irc_connection import IrcConnection
from infrabot.transports.irc_host import EventHandler, IrcHost

__all__ = ["CAP_TIMEOUT", "Login"]

log = logging.getLogger(__name__)

CAP_TIMEOUT = 10.0
"""Seconds a server may take over capability negotiation before the bot ends it."""


class Login:
    """Capabilities and the bot's own services login, for the host's current connection."""

    def __init__(self, host: IrcHost) -> None:
        self.host = host

    def handlers(self) -> dict[str, EventHandler]:
        """The server events this piece handles, by the library's event name."""
        return {
            "cap": self.on_cap,
            "authenticate": self.on_authenticate,
            "loggedin": self.on_loggedin,
            "saslsuccess": self.on_sasl_success,
            "saslalready": self.on_sasl_success,
            "saslfail": self.on_sasl_failure,
            "sasltoolong": self.on_sasl_failure,
            "saslaborted": self.on_sasl_failure,
        }

    def on_cap(self, conn: IrcConnection, event: Event) -> None:
        host = self.host
        lines = host.negotiation.on_cap(
            list(event.arguments),
            registered=host.registered.is_set(),
            logged_in=host.account is not None,
        )
        _send_all(conn, lines)

    def on_authenticate(self, conn: IrcConnection, event: Event) -> None:
        _send_all(conn, self.host.negotiation.on_authenticate(event.target))

    def on_loggedin(self, conn: IrcConnection, event: Event) -> None:
        # 900 <nick> <nick!user@host> <account> :You are now logged in as <account>
        if len(event.arguments) >= 2:
            self.host.account = event.arguments[1]
            log.info("logged in to services as %s", self.host.account)

    def on_sasl_success(self, conn: IrcConnection, event: Event) -> None:
        _send_all(conn, self.host.negotiation.on_sasl_result(True))

    def on_sasl_failure(self, conn: IrcConnection, event: Event) -> None:
        host = self.host
        reason = f"{event.type}: {' '.join(event.arguments)}"
        _send_all(conn, host.negotiation.on_sasl_result(False, reason))
        if host.registered.is_set():
            self.identify(conn)  # a late SASL try failed: NickServ is the way left
        host.spawn(self._retry_sasl_later(conn, 2.0 * (host.negotiation.retries + 1)))

    async def _retry_sasl_later(self, conn: IrcConnection, delay: float) -> None:
        """A few more SASL tries, spaced out, while the bot is not logged in."""
        await asyncio.sleep(delay)
        if self.host.current(conn) and self.host.account is None:
            _send_all(conn, self.host.negotiation.retry_sasl())

    async def guard(self, conn: IrcConnection) -> None:
        """Never let a server that stalls negotiation hold registration forever."""
        await asyncio.sleep(CAP_TIMEOUT)
        if self.host.current(conn) and not self.host.negotiation.done:
            log.warning("capability negotiation stalled; ending it")
            _send_all(conn, self.host.negotiation.end())

    def on_registered(self, conn: IrcConnection) -> None:
        """Registration is done: log in the old way if SASL did not."""
        if self.host.negotiation.sasl_state != "done":
            self.identify(conn)

    def identify(self, conn: IrcConnection) -> None:
        """Log in the old way, by a message to NickServ, when that is configured."""
        config = self.host.config
        if config.nickserv_password and self.host.account is None:
            account = config.sasl_username or config.nick
            secret = config.nickserv_password.get_secret_value()
            conn.send_raw(f"PRIVMSG NickServ :IDENTIFY {account} {secret}")

    def retry(self, conn: IrcConnection) -> None:
        """Ask again for capabilities when SASL was not offered at connect time.

        Servers with cap-notify say ``CAP NEW sasl`` when services link; for the others,
        a fresh ``CAP LS`` shows whether SASL is there now.
        """
        host = self.host
        if host.registered.is_set() and host.negotiation.should_ask_again(host.account is not None):
            host.bucket.charge()
            conn.send_raw("CAP LS 302")


def _send_all(conn: IrcConnection, lines: list[str]) -> None:
    for line in lines:
        conn.send_raw(line)
