"""A user's PRIVMSG or NOTICE, read straight into what the intake needs.

Almost every line a busy bot reads is someone talking, and it is the line whose answer someone
waits for. The library's general parser (``irc.client``) makes an event, a nick mask, tag
dictionaries and an extra event for the raw line out of each; :func:`parse_user_line` reads
the common shape with a few ``partition`` calls instead. A line it cannot be sure to read
exactly as the library does (no user prefix, CTCP or its low-level quoting, odd spacing, a
last parameter without its colon) it leaves to the library, so the two readings always agree:
the tests hold them against each other over hostile lines.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from irc.client import Event  # type: ignore[import-untyped]

from infrabot.transports.irc_identity import account_from_tags, normalize_account

__all__ = ["UserLine", "parse_user_line", "user_line"]

# The library's test for a channel (``irc.client.is_channel``): the fixed four, not CHANTYPES.
_CHANNEL_START = "#&+!"
# IRCv3 tag value escapes, as the library undoes them (an unknown escape is the character).
_TAG_ESCAPE = re.compile(r"\\(.)")
_TAG_ESCAPES = {":": ";", "s": " ", "n": "\n", "r": "\r", "\\": "\\"}


class UserLine(NamedTuple):
    """What a user said in one PRIVMSG or NOTICE, as the intake needs it."""

    nick: str
    target: str
    """The channel, or our nick for a private message."""
    text: str
    private: bool
    """Sent to us alone, not to a channel."""
    notice: bool
    """A NOTICE (which bots never answer), not a PRIVMSG."""
    account: str | None
    """The ``account`` tag's value: the services account, or None (no tag, or logged out)."""
    msgid: str | None
    """The ``msgid`` tag's value, if any."""


def parse_user_line(line: str) -> UserLine | None:
    """``line`` read as a user's PRIVMSG or NOTICE; None for any line the library must read.

    The shapes taken are ``[@tags ]:nick!user@host PRIVMSG|NOTICE target :text`` with single
    spaces, a target without whitespace, and text without CTCP (``\\x01``) or the low-level
    quote (``\\x10``).
    """
    rest = line
    tags = ""
    if line.startswith("@"):
        tags, _, rest = line[1:].partition(" ")
    if not rest.startswith(":"):
        return None  # no prefix: from the server itself
    parts = rest[1:].split(" ", 3)  # prefix, command, target, text (with its colon)
    if len(parts) != 4:
        return None
    prefix, command, target, text = parts
    if command == "PRIVMSG":
        notice = False
    elif command == "NOTICE":
        notice = True
    else:
        return None
    nick, bang, _ = prefix.partition("!")
    if (
        not bang  # a server's name, not nick!user@host
        or not target
        or target[0] == ":"
        or not target.isprintable()  # the library splits parameters on any whitespace
        or not text.startswith(":")
        or "\x01" in text
        or "\x10" in text
    ):
        return None
    account, msgid = _account_and_msgid(tags) if tags else (None, None)
    return UserLine(nick, target, text[1:], target[0] not in _CHANNEL_START, notice, account, msgid)


def _account_and_msgid(tags: str) -> tuple[str | None, str | None]:
    """The first ``account`` (normalized) and ``msgid`` values among raw IRCv3 tags."""
    account = msgid = None
    have_account = have_msgid = False
    for item in tags.split(";"):
        key, _, value = item.partition("=")
        if key == "account" and not have_account:
            have_account = True
            account = normalize_account(_unescape(value))
        elif key == "msgid" and not have_msgid:
            have_msgid = True
            msgid = _unescape(value)
    return account, msgid


def _unescape(value: str) -> str | None:
    if "\\" in value:
        value = _TAG_ESCAPE.sub(lambda match: _TAG_ESCAPES.get(match[1], match[1]), value)
    return value or None


def user_line(event: Event) -> UserLine:
    """The same reading of a library ``pubmsg``, ``privmsg``, ``pubnotice`` or ``privnotice``
    event (lines the quick path left to the library, such as text around a CTCP part)."""
    kind: str = event.type
    msgid = next((t.get("value") for t in event.tags or () if t.get("key") == "msgid"), None)
    return UserLine(
        nick=event.source.nick if event.source else "",
        target=event.target,
        text=event.arguments[0] if event.arguments else "",
        private=kind in ("privmsg", "privnotice"),
        notice=kind.endswith("notice"),
        account=account_from_tags(event.tags),
        msgid=msgid,
    )
