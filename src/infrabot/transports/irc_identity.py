"""Who is logged in to which services account, as the IRC server tells us.

Sources, most trusted first: the ``account`` message tag (account-tag: present on every
message from a logged-in user, absent otherwise), ``ACCOUNT`` messages (account-notify), the
account argument of an extended JOIN, and WHOX (354) or WHOIS (330) replies. A nick is never
an identity: a user we know nothing about has no account.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "AccountLookups",
    "AccountTracker",
    "account_from_tags",
    "irc_lower",
    "normalize_account",
]

log = logging.getLogger(__name__)

_NOT_LOGGED_IN = {"*", "0", ""}


@functools.lru_cache(maxsize=4096)  # the same few nicks, many times a message
def irc_lower(name: str) -> str:
    """``name`` case-folded the rfc1459 way (``[]\\~`` are the upper case of ``{}|^``)."""
    return name.lower().translate(_RFC1459)


_RFC1459 = str.maketrans("[]\\~", "{}|^")


def normalize_account(value: str | None) -> str | None:
    """An account name as the server gave it, or None for its ways of saying "not logged in"."""
    return None if value is None or value in _NOT_LOGGED_IN else value


def account_from_tags(tags: Iterable[Mapping[str, str | None]] | None) -> str | None:
    """The ``account`` tag's value among a message's IRCv3 tags, or None."""
    for tag in tags or ():
        if tag.get("key") == "account":
            return normalize_account(tag.get("value"))
    return None


@dataclass
class _User:
    account: str | None
    known: bool  # whether ``account`` came from the server (a None may mean "not asked yet")
    channels: set[str] = field(default_factory=set)


class AccountTracker:
    """Accounts of the users we share channels with, kept current from server events."""

    def __init__(self) -> None:
        self._users: dict[str, _User] = {}

    def clear(self) -> None:
        """Forget everything (a new connection knows nobody)."""
        self._users.clear()

    def _user(self, nick: str) -> _User:
        key = irc_lower(nick)
        user = self._users.get(key)
        if user is None:
            user = self._users[key] = _User(account=None, known=False)
        return user

    def known(self, nick: str) -> bool:
        """Whether the server told us this user's account state, and keeps us told.

        Only users who share a channel with us count: for anyone else we would not hear of a
        logout, a quit, or someone else taking the nick.
        """
        user = self._users.get(irc_lower(nick))
        return user is not None and user.known and bool(user.channels)

    def shares_channel(self, nick: str) -> bool:
        """Whether ``nick`` is in a channel with us: only then do we hear of their changes."""
        user = self._users.get(irc_lower(nick))
        return user is not None and bool(user.channels)

    def account(self, nick: str) -> str | None:
        """The account ``nick`` is logged in to, or None (also when unknown)."""
        user = self._users.get(irc_lower(nick))
        return user.account if user is not None and user.known else None

    def nick_of(self, account: str) -> str | None:
        """A nick (lower case) that services say is logged in as ``account`` right now.

        Only users who share a channel with us count (see :meth:`known`).
        """
        wanted = irc_lower(account)
        for nick, user in self._users.items():
            if user.known and user.channels and user.account and irc_lower(user.account) == wanted:
                return nick
        return None

    def set_account(self, nick: str, account: str | None) -> None:
        """Record what the server said (``*``/``0``/None mean not logged in).

        Kept only for users who share a channel with us (see :meth:`known`).
        """
        user = self._users.get(irc_lower(nick))
        if user is None or not user.channels:
            return
        user.account = normalize_account(account)
        user.known = True

    def spoke(self, nick: str, channel: str | None, account: str | None) -> None:
        """``nick`` said something in ``channel`` (None: to us alone) with ``account`` as its
        account tag: :meth:`seen_in` and :meth:`set_account` at once, for every message."""
        key = irc_lower(nick)
        user = self._users.get(key)
        if channel is not None:
            if user is None:
                user = self._users[key] = _User(account=None, known=False)
            user.channels.add(irc_lower(channel))
        if user is not None and user.channels:
            user.account = normalize_account(account)
            user.known = True

    def joined(
        self, nick: str, channel: str, account: str | None = None, *, extended: bool
    ) -> None:
        """``nick`` joined ``channel``; with extended-join the account comes with it."""
        user = self._user(nick)
        user.channels.add(irc_lower(channel))
        if extended:
            self.set_account(nick, account)

    def seen_in(self, nick: str, channel: str) -> None:
        """``nick`` is in ``channel`` (from NAMES or WHO); the account stays as known."""
        self._user(nick).channels.add(irc_lower(channel))

    def parted(self, nick: str, channel: str) -> None:
        """``nick`` left ``channel``; forget them when no channel is shared any more.

        Once we share no channel, account-notify stops telling us about them.
        """
        user = self._users.get(irc_lower(nick))
        if user is None:
            return
        user.channels.discard(irc_lower(channel))
        if not user.channels:
            del self._users[irc_lower(nick)]

    def we_left(self, channel: str) -> None:
        """We left ``channel``: everyone seen only there is forgotten."""
        for nick in [n for n, u in self._users.items() if irc_lower(channel) in u.channels]:
            self.parted(nick, channel)

    def quit(self, nick: str) -> None:
        """``nick`` left the network."""
        self._users.pop(irc_lower(nick), None)

    def renamed(self, old: str, new: str) -> None:
        """``old`` is now ``new``; the account goes with the connection, not the nick."""
        user = self._users.pop(irc_lower(old), None)
        if user is not None:
            self._users[irc_lower(new)] = user


class AccountLookups:
    """Questions to the server about which account a nick is logged in to.

    Several askers of one nick share one question; the WHOX (354) or WHOIS (330) reply
    answers it, and the end of the WHO or WHOIS list answers "not logged in" for whoever was
    not named. A question the server leaves unanswered is "not logged in" after ``timeout``.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._pending: dict[str, list[asyncio.Future[str | None]]] = {}

    async def ask(self, nick: str, question: Callable[[], None]) -> str | None:
        """The account ``nick`` is logged in to, or None; ``question`` sends the question
        (only when no other asker of the same nick is waiting)."""
        key = irc_lower(nick)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        first = key not in self._pending
        self._pending.setdefault(key, []).append(future)
        if first:
            question()
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            log.warning("no account answer for %s in time; treating as not logged in", nick)
            return None

    def answer(self, nick: str, account: str | None) -> None:
        """What the server said of ``nick`` (None: not logged in)."""
        for future in self._pending.pop(irc_lower(nick), []):
            if not future.done():
                future.set_result(account)

    def abandon(self) -> None:
        """The connection is gone: every waiting asker hears "not logged in"."""
        for futures in self._pending.values():
            for future in futures:
                if not future.done():
                    future.set_result(None)
        self._pending = {}
