"""What a person's handle on each network may look like, by that network's own grammar.

A handle from the inventory becomes the target of a message (``PRIVMSG <nick>`` on IRC) or is
compared with what a network vouches for. A value outside its grammar could name a second
target (``a,b``), a channel (``#python-infra``) or carry the rest of a protocol line
(``x :SPOOFED``), so it is refused when the inventory is loaded, with the file and line.

- **IRC nick** (RFC 2812, section 2.3.1): a letter or one of ``[ ] \\ ` _ ^ { | }`` first, then
  letters, digits, those and ``-``: the grammar the IRC transport checks every target against
  (:func:`infrabot.transports.irc_names.is_nick`). A server may allow longer nicks than most
  (its ``NICKLEN``), so the length is left to the transport, which knows the server's.
- **IRC services account**: services (Atheme, Anope) register accounts under nicknames, and the
  network reports them as such, so the same grammar.
- **Matrix user ID** (the Matrix specification, appendix "User Identifiers"):
  ``@localpart:server_name``, at most 255 characters. The localpart may use the historical
  grammar (any printable ASCII character but ``:``), which the specification requires clients
  to accept; the server name is a DNS name, an IPv4 address or a bracketed IPv6 address, with
  an optional port.
"""

from __future__ import annotations

import re

from infrabot.transports.irc_names import is_nick

__all__ = ["MATRIX_USER_ID", "irc_account", "irc_nick", "matrix_user_id"]

MATRIX_USER_ID = re.compile(
    r"@[\x21-\x39\x3b-\x7e]+"  # localpart: printable ASCII but ':' (the historical grammar)
    r":(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]+)"  # server name: IPv6 literal, IPv4 or DNS
    r"(?::[0-9]{1,5})?"  # port
)
"""A Matrix user ID, to be matched whole (``fullmatch``); at most 255 characters."""

_MATRIX_ID_MAX = 255
_ANY_NICK_LENGTH = 200  # as long as a name in the inventory may be
_NICK_RULE = (
    "starts with a letter or one of [ ] \\ ` _ ^ { | } and holds only letters, digits, those and -"
)


def irc_nick(value: str) -> str:
    """``value`` if it is an IRC nickname; else :class:`ValueError` saying what one is."""
    if not is_nick(value, _ANY_NICK_LENGTH):
        raise ValueError(f"not an IRC nick, which {_NICK_RULE}")
    return value


def irc_account(value: str) -> str:
    """``value`` if it is an IRC services account name; else :class:`ValueError`."""
    if not is_nick(value, _ANY_NICK_LENGTH):
        raise ValueError(f"not an IRC services account, whose name {_NICK_RULE}")
    return value


def matrix_user_id(value: str) -> str:
    """``value`` if it is a Matrix user ID; else :class:`ValueError` saying what one is."""
    if len(value) > _MATRIX_ID_MAX or MATRIX_USER_ID.fullmatch(value) is None:
        raise ValueError(
            "not a Matrix user ID, which reads @localpart:server such as @ada:example.org"
        )
    return value
