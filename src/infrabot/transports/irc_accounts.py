"""Who is who on IRC: the accounts services vouch for, and how to reach a recorded person.

Accounts come from the server as it offers them: ``account-tag`` on each message,
``extended-join`` and ``account-notify`` for the users the bot shares a channel with (kept in
the :class:`~.irc_identity.AccountTracker`), and otherwise a question (WHOX, else WHOIS)
answered through :class:`~.irc_identity.AccountLookups`. A nick alone is never an identity.
"""

from __future__ import annotations

import asyncio

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.errors import TransportError
from infrabot.messages import Handles, Network, Sender
from infrabot.transports.irc_channels import WHOX_CHANNEL_TOKEN
from infrabot.transports.irc_connection import IrcConnection
from infrabot.transports.irc_host import EventHandler, IrcHost
from infrabot.transports.irc_identity import irc_lower, normalize_account
from infrabot.transports.irc_names import is_nick

__all__ = ["WHOX_LOOKUP_TOKEN", "Accounts"]

WHOX_LOOKUP_TOKEN = "72"
"""The WHOX query type of one nick's account (a whole channel's is another)."""


class Accounts:
    """The IRC side of :class:`~infrabot.transports.base.People`, and the account events."""

    def __init__(self, host: IrcHost, network: Network) -> None:
        self.host = host
        self.network = network
        self.conn: IrcConnection | None = None
        """The connection questions go out on (None while there is none)."""

    def handlers(self) -> dict[str, EventHandler]:
        """The server events this piece handles, by the library's event name."""
        return {
            "account": self.on_account,
            "whospcrpl": self.on_whox,
            "whoisaccount": self.on_whois_account,
            "endofwho": self.on_lookup_end,
            "endofwhois": self.on_lookup_end,
        }

    # --- what the server says

    def on_account(self, conn: IrcConnection, event: Event) -> None:
        self.host.tracker.set_account(event.source.nick, event.target)

    def on_whox(self, conn: IrcConnection, event: Event) -> None:
        # 354 <me> <token> <nick> <account>
        args = event.arguments
        if len(args) >= 3 and args[0] in (WHOX_CHANNEL_TOKEN, WHOX_LOOKUP_TOKEN):
            self.host.tracker.set_account(args[1], args[2])  # kept only if we share a channel
            if args[0] == WHOX_LOOKUP_TOKEN:
                self.host.lookups.answer(args[1], normalize_account(args[2]))

    def on_whois_account(self, conn: IrcConnection, event: Event) -> None:
        # 330 <me> <nick> <account> :is logged in as
        if len(event.arguments) >= 2:
            self.host.lookups.answer(event.arguments[0], event.arguments[1])

    def on_lookup_end(self, conn: IrcConnection, event: Event) -> None:
        # 315 end of WHO / 318 end of WHOIS: whoever was not answered has no account.
        if event.arguments:
            self.host.lookups.answer(event.arguments[0], None)

    # --- asking

    async def lookup(self, conn: IrcConnection, nick: str) -> str | None:
        """Ask the server which account ``nick`` is logged in to (WHOX, else WHOIS)."""
        host = self.host

        def question() -> None:
            host.bucket.charge()
            if "WHOX" in host.shaper.isupport:
                conn.send_raw(f"WHO {nick} %tna,{WHOX_LOOKUP_TOKEN}")
            else:
                conn.send_raw(f"WHOIS {nick}")

        return await host.lookups.ask(nick, question)

    def settled(
        self, nick: str, tagged: str | None, channel: str | None
    ) -> tuple[bool, str | None]:
        """(True, account) when the message's ``account`` tag (``tagged``, None when absent)
        or what we track settles it; (False, None) to ask."""
        host = self.host
        if "account-tag" in host.caps:
            host.tracker.spoke(nick, channel, tagged)
            return True, tagged
        if "account-notify" in host.caps and host.tracker.known(nick):
            return True, host.tracker.account(nick)
        return False, None

    # --- People

    def mention_address(self, person: Handles) -> str | None:
        """The recorded nick: a highlight reaches whoever holds it, and says nothing private."""
        nick = person.irc_nick
        return nick if nick and is_nick(nick) else None

    async def private_address(self, person: Handles) -> str | None:
        """The nick of a client that services say is logged in as ``person``'s account right
        now; None when there is none. A nick alone is never enough. Raises
        :class:`TransportError` while not connected (the question cannot be asked).

        First the users we share a channel with (their accounts are kept current); else the
        server is asked (WHOX, or WHOIS) about the recorded nick and the account name used as
        a nick, and a nick is returned only if its account is the person's.
        """
        account = person.irc_account
        if not account:
            return None
        tracker = self.host.tracker
        known = tracker.nick_of(account)
        if known is not None:
            return known
        conn = self.conn
        if conn is None or not self.host.registered.is_set():
            # nobody can vouch for anyone yet: a failure to retry, not "not logged in"
            raise TransportError("irc: not connected, so nobody can be vouched for yet")
        # A nick we share a channel with is already settled: nick_of found no account there.
        candidates = list(
            dict.fromkeys(
                n for n in (person.irc_nick, account) if n and is_nick(n) and not tracker.known(n)
            )
        )
        found = await asyncio.gather(*(self.lookup(conn, n) for n in candidates))
        for nick, logged_in in zip(candidates, found, strict=True):
            if logged_in is not None and irc_lower(logged_in) == irc_lower(account):
                return nick
        return None

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """Whether ``sender`` is logged in as ``person``'s services account (never by nick)."""
        return (
            sender.network == self.network
            and bool(sender.account and person.irc_account)
            and irc_lower(sender.account or "") == irc_lower(person.irc_account or "")
        )
