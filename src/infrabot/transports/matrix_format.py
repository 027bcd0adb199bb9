"""Turning a :class:`Reply` into Matrix message event contents.

A reply goes out as an ``m.notice`` (so other bots never answer it) with a plain ``body``
and an HTML ``formatted_body`` in which everything from the inventory or a user is escaped.
People a reply mentions become real pills and are listed in ``m.mentions``; since clients
never notify for notices, such a reply goes out as ``m.text`` instead (unless configured
otherwise), and nothing else in the text can trigger a notification.
"""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from infrabot.messages import Mention, Reply

__all__ = [
    "MAX_CHUNK_BYTES",
    "notice_contents",
    "pill",
    "transaction_id",
]

MAX_CHUNK_BYTES = 24_000
"""Body plus formatted body of one event stay under this (the event limit is 64 KiB)."""

_Line = tuple[str, str, frozenset[str]]
"""A rendered line: plain text, HTML, and the user IDs pilled in it."""


def pill(user_id: str, name: str) -> str:
    """The HTML of a mention pill for ``user_id``, showing ``name``."""
    href = "https://matrix.to/#/" + quote(user_id, safe="@:")
    return f'<a href="{html.escape(href)}">{html.escape(name)}</a>'


def _render_line(line: str, mentions: Sequence[Mention]) -> _Line:
    """Plain and HTML text of one line, and the user IDs whose pills it now holds."""
    names = sorted({m.name for m in mentions if m.name}, key=len, reverse=True)
    if not names:
        return line, html.escape(line, quote=False), frozenset()
    by_name = {m.name: m for m in reversed(mentions)}
    pattern = re.compile("|".join(re.escape(n) for n in names))
    parts: list[str] = []
    found: set[str] = set()
    last = 0
    for match in pattern.finditer(line):
        mention = by_name[match.group(0)]
        parts.append(html.escape(line[last : match.start()], quote=False))
        parts.append(pill(mention.address, mention.name))
        found.add(mention.address)
        last = match.end()
    parts.append(html.escape(line[last:], quote=False))
    return line, "".join(parts), frozenset(found)


def _rendered(reply: Reply) -> list[_Line]:
    lines = [_render_line(line, reply.mentions) for line in reply.lines]
    pilled = {user_id for _, _, found in lines for user_id in found}
    missing = [m for m in reply.mentions if m.address not in pilled]
    if missing:
        # A mention the text never names still gets a pill, or it would not notify.
        plain = "cc " + ", ".join(m.name or m.address for m in missing)
        rich = "cc " + ", ".join(pill(m.address, m.name or m.address) for m in missing)
        lines.append((plain, rich, frozenset(m.address for m in missing)))
    return lines


def _chunks(lines: list[_Line], limit: int) -> list[list[_Line]]:
    chunks: list[list[_Line]] = [[]]
    size = 0
    for line in lines:
        cost = len(line[0].encode()) + len(line[1].encode()) + 6  # "\n" and "<br/>"
        if chunks[-1] and size + cost > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += cost
    return [c for c in chunks if c]


def notice_contents(
    reply: Reply,
    *,
    in_reply_to_event: str | None,
    thread_root: str | None = None,
    asker: str | None,
    limit: int = MAX_CHUNK_BYTES,
    notify_mentions: bool = True,
) -> list[dict[str, Any]]:
    """The contents of the events that carry ``reply``: one, or several for long output.

    Each event is a reply to ``in_reply_to_event`` when given, inside the thread
    ``thread_root`` when the question was asked in a thread. A reply that mentions people
    pills them and lists them in ``m.mentions`` (with ``asker`` when the reply addresses the
    asker), and goes out as ``m.text`` when ``notify_mentions`` is set: clients never notify
    for ``m.notice`` (the default push rule ``.m.rule.suppress_notices`` comes before the
    mention rules), and a mention that does not notify is no mention at all.

    Any other reply is an ``m.notice`` without ``m.mentions``: a notice notifies nobody
    anyway, and the key alone costs the homeserver push-rule work on every answer (about
    2 ms a send with Synapse, measured).
    """
    msgtype = "m.text" if notify_mentions and reply.mentions else "m.notice"
    contents: list[dict[str, Any]] = []
    for chunk in _chunks(_rendered(reply), limit):
        content: dict[str, Any] = {
            "msgtype": msgtype,
            "body": "\n".join(plain for plain, _, _ in chunk),
            "format": "org.matrix.custom.html",
            "formatted_body": "<br/>".join(rich for _, rich, _ in chunk),
        }
        if reply.mentions:
            user_ids = {user_id for _, _, found in chunk for user_id in found}
            if asker and reply.address_asker:
                user_ids.add(asker)
            # Present even when empty: it tells clients not to guess mentions from the text.
            content["m.mentions"] = {"user_ids": sorted(user_ids)} if user_ids else {}
        if thread_root:
            # Asked in a thread: answer in that thread, still as a reply to the question.
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_root,
                "is_falling_back": in_reply_to_event is None,
                "m.in_reply_to": {"event_id": in_reply_to_event or thread_root},
            }
        elif in_reply_to_event:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to_event}}
        contents.append(content)
    return contents


def transaction_id(key: str | None, position: int) -> str:
    """A transaction ID the homeserver deduplicates on: the same for a re-sent answer or a
    retried delivery (``key`` is the asker's event ID, or the reply's delivery key)."""
    if key is None:
        return f"infrabot.{uuid.uuid4().hex}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"infrabot.{digest}.{position}"
