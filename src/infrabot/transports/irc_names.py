"""What may stand where IRC expects one nick or one channel name.

A target goes into a raw line (``PRIVMSG <target> :text``); anything outside these grammars
could split into several targets (``a,b``), end the parameter list (``#chan :SPOOFED``) or
start another line, so it is refused before a byte is written. Nicks follow RFC 2812
(a letter or one of ``[]\\`_^{|}``, then those, digits and ``-``); channels start with one of
the server's channel types and hold no space, comma, colon or control character. Lengths are
the server's (``NICKLEN``, ``CHANNELLEN``) once it has said them.
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_CHANNELLEN",
    "DEFAULT_CHANTYPES",
    "DEFAULT_NICKLEN",
    "is_channel",
    "is_nick",
]

DEFAULT_CHANTYPES = "#&"
"""RFC 2812's channel types, until the server advertises ``CHANTYPES``."""

DEFAULT_NICKLEN = 32
"""Longer than most networks allow (InspIRCd: 30), until the server says ``NICKLEN``."""

DEFAULT_CHANNELLEN = 64
"""InspIRCd's default, until the server says ``CHANNELLEN``."""

_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*")
_NOT_IN_CHANNEL = re.compile(r"[\s,:]")


def is_nick(name: str, max_len: int = DEFAULT_NICKLEN) -> bool:
    """Whether ``name`` is one nick by RFC 2812's grammar, at most ``max_len`` characters."""
    return 0 < len(name) <= max_len and _NICK.fullmatch(name) is not None


def is_channel(
    name: str, chantypes: str = DEFAULT_CHANTYPES, max_len: int = DEFAULT_CHANNELLEN
) -> bool:
    """Whether ``name`` is one channel name: a channel type, then no space, comma, colon or
    control character, at most ``max_len`` bytes in all."""
    return (
        len(name) > 1
        and name[0] in chantypes
        and len(name.encode()) <= max_len
        and name.isprintable()
        and _NOT_IN_CHANNEL.search(name) is None
    )
