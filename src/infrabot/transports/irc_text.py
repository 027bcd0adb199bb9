"""Making text fit IRC: no control characters, and lines split by bytes, never mid-character.

A server relays ``PRIVMSG #chan :text`` to others as ``:nick!user@host PRIVMSG #chan :text``,
and the whole relayed line (with CR LF) must fit in the line length (512 bytes unless the
server advertises ``LINELEN``). So the room for text depends on our own prefix as the server
sees it; :func:`payload_bytes` works it out, conservatively when the host is not yet known.
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_LINELEN",
    "ctcp_quote_free",
    "payload_bytes",
    "sanitize",
    "split_bytes",
]

DEFAULT_LINELEN = 512
"""RFC 1459 line length, CR LF included."""

# Hostnames are at most 63 bytes on InspIRCd and most networks; idents at most 10 with "~".
_MAX_USER = 10
_MAX_HOST = 63

# Every C0 control (CR, LF, NUL, CTCP's \x01, IRC colour codes...), DEL, C1 controls, and the
# Unicode line and paragraph separators: none may reach the wire from our text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r" {2,}")


def sanitize(text: str) -> str:
    """``text`` with every control character turned into one space, trimmed.

    This is the last guard before the socket: a reply built from data that contains CR or LF
    can never inject a second raw line.
    """
    # Fast path for the usual clean line: every control is non-printable, so a printable line
    # with single spaces and no edge spaces is already what the slow path would return.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def ctcp_quote_free(text: str) -> str:
    """``text`` safe inside a CTCP reply (no \\x01 or other controls)."""
    return sanitize(text)


def payload_bytes(
    *,
    command: str,
    target: str,
    nick: str,
    user: str | None = None,
    host: str | None = None,
    linelen: int = DEFAULT_LINELEN,
) -> int:
    """How many bytes of text fit in one ``command target :text`` line as others receive it.

    ``user`` and ``host`` are ours as the server shows them; when unknown, the longest the
    server allows is assumed so the line still fits.
    """
    user_len = len(user.encode()) if user else _MAX_USER
    host_len = len(host.encode()) if host else _MAX_HOST
    prefix = 1 + len(nick.encode()) + 1 + user_len + 1 + host_len + 1  # ":nick!user@host "
    fixed = prefix + len(command) + 1 + len(target.encode()) + 2 + 2  # " :" and CR LF
    return max(linelen - fixed, 16)


def split_bytes(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-8 bytes each.

    Prefers to cut at a space in the last quarter of a piece; never cuts a character in two.
    Empty text gives no pieces.
    """
    if limit < 4:
        raise ValueError("limit must leave room for one UTF-8 character")
    if len(text) * 4 <= limit:  # no character takes more than 4 bytes
        return [text] if text else []
    pieces: list[str] = []
    data = text.encode("utf-8")
    while data:
        if len(data) <= limit:
            pieces.append(data.decode("utf-8"))
            break
        cut = limit
        # Step back off continuation bytes (0b10xxxxxx) so the cut falls between characters.
        while cut > 0 and data[cut] & 0xC0 == 0x80:
            cut -= 1
        space = data.rfind(b" ", limit * 3 // 4, cut + 1)
        if space > 0:
            piece, data = data[:space], data[space + 1 :]
        else:
            piece, data = data[:cut], data[cut:]
        pieces.append(piece.decode("utf-8").rstrip(" "))
    return [p for p in pieces if p]
