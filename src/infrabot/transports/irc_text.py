"""Making text fit IRC: lines split by bytes, never mid-character (controls are removed before,
by :func:`infrabot.text.clean_line`).

A server relays ``PRIVMSG #chan :text`` to others as ``:nick!user@host PRIVMSG #chan :text``,
and the whole relayed line (with CR LF) must fit in the line length (512 bytes unless the
server advertises ``LINELEN``). So the room for text depends on our own prefix as the server
sees it; :func:`payload_bytes` works it out, conservatively when the host is not yet known.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LINELEN", "payload_bytes", "split_bytes"]

DEFAULT_LINELEN = 512
"""RFC 1459 line length, CR LF included."""

# Hostnames are at most 63 bytes on InspIRCd and most networks; idents at most 10 with "~".
_MAX_USER = 10
_MAX_HOST = 63


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
