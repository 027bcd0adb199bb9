"""Making text safe to send: no control characters, bounded lengths.

Everything the bot says passes through :func:`clean_line`, so no reply can carry a raw
protocol line (CR/LF), a NUL, or terminal escapes, whatever the inventory or a user typed.
"""

from __future__ import annotations

import re

__all__ = ["MAX_LINE_CHARS", "clean_line", "shorten", "split_lines"]

MAX_LINE_CHARS = 1000
"""No single line of a reply is longer than this; transports split further by bytes."""

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators some clients break on.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]+")
_SPACES = re.compile(r" {2,}")


def clean_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """``text`` with every control character turned into a space, trimmed to ``limit``."""
    # most text is already clean: str.isprintable is false for every control character,
    # line break and separator the regular expression would replace, and costs far less
    if len(text) <= limit and text.isprintable() and "  " not in text and text == text.strip():
        return text
    cleaned = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return shorten(cleaned, limit)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def split_lines(text: str) -> list[str]:
    """Split on any line break (CR, LF, CRLF, Unicode separators) and clean each line."""
    if text.isprintable():  # no line break at all
        line = clean_line(text)
        return [line] if line else []
    parts = re.split(r"\r\n|[\r\n\u2028\u2029\u0085]", text)
    return [line for line in (clean_line(p) for p in parts) if line]
