"""Making text safe to send: no control characters, bounded lengths.

Everything the bot says passes through :func:`clean_line`, so no reply can carry a raw
protocol line (CR/LF), a NUL, or terminal escapes, whatever the inventory or a user typed.
Lines cleaned once are :class:`CleanLines`, which nobody needs to clean again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "LIST_CHARS",
    "MAX_LINE_CHARS",
    "CleanLines",
    "clean_line",
    "clean_lines",
    "fit_list",
    "shorten",
    "split_lines",
]

MAX_LINE_CHARS = 1000
"""No single line of a reply is longer than this; transports split further by bytes."""

LIST_CHARS = 800
"""How much of one line a list may take, leaving room for the words around it."""

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators some clients break on.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]+")
_SPACES = re.compile(r" {2,}")


def clean_line(text: str, limit: int | None = MAX_LINE_CHARS) -> str:
    """``text`` with every control character turned into one space, trimmed (and cut to
    ``limit`` characters unless it is None).

    The same rule is the transports' last guard before the wire: text that held CR or LF can
    never inject a second raw protocol line.
    """
    # most text is already clean: str.isprintable is false for every control character,
    # line break and separator the regular expression would replace, and costs far less
    fits = limit is None or len(text) <= limit
    if fits and text.isprintable() and "  " not in text and text == text.strip():
        return text
    cleaned = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return cleaned if limit is None else shorten(cleaned, limit)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def fit_list(items: Sequence[str], limit: int = LIST_CHARS, sep: str = ", ") -> int:
    """How many leading ``items`` to show when joined by ``sep`` in ``limit`` characters.

    All of them when they fit; else as many as leave room for the `` … and N more`` that then
    ends the list (at least one), so a long list is never cut mid-name by :func:`clean_line`.
    """
    if sum(map(len, items)) + len(sep) * (len(items) - 1) <= limit:
        return len(items)
    budget = limit - len(f" … and {len(items)} more")
    used = count = 0
    for item in items:
        used += len(item) + (len(sep) if count else 0)
        if used > budget:
            break
        count += 1
    return max(count, 1)


def split_lines(text: str) -> list[str]:
    """Split on any line break (CR, LF, CRLF, Unicode separators) and clean each line."""
    if text.isprintable():  # no line break at all
        line = clean_line(text)
        return [line] if line else []
    parts = re.split(r"\r\n|[\r\n\u2028\u2029\u0085]", text)
    return [line for line in (clean_line(p) for p in parts) if line]


class CleanLines(tuple[str, ...]):
    """Lines that came out of :func:`clean_lines`: each one clean, none empty.

    A reply's lines of this type need no second pass before the wire (the router cleans
    every answer; a transport cleans only lines that are not known clean, or that it changed).
    Make them with :func:`clean_lines` only, so the type keeps its promise.
    """

    __slots__ = ()


def clean_lines(items: Iterable[str]) -> CleanLines:
    """Every item split on line breaks and each line cleaned (:func:`split_lines`)."""
    return CleanLines(line for item in items for line in split_lines(item))
