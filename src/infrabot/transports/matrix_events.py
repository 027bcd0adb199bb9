"""Which Matrix timeline events the bot answers, decided on the raw event JSON.

Kept apart from the client so the rules (own messages, notices, edits, old events,
duplicates, history from before the bot joined) can be tested on plain dicts.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "Verdict",
    "commands_in_timeline",
    "event_age_ms",
    "is_direct_invite",
    "judge",
    "stripped_event",
    "thread_root",
]


class Verdict(enum.Enum):
    """What to do with one timeline event."""

    ANSWER = "answer"
    NOT_A_MESSAGE = "not a text message"
    OWN = "sent by the bot itself"
    NOTICE = "a notice (bots use them so they never answer each other)"
    EDIT = "an edit of an earlier message"
    TOO_OLD = "older than the maximum age"
    DUPLICATE = "already handled"


def event_age_ms(event: Mapping[str, Any], now_ms: int) -> int:
    """How old ``event`` is, by the homeserver's ``unsigned.age`` when given.

    The server's own figure is immune to clock skew between the bot and the homeserver;
    ``origin_server_ts`` is the fallback.
    """
    unsigned = event.get("unsigned")
    if isinstance(unsigned, Mapping):
        age = unsigned.get("age")
        if isinstance(age, int) and not isinstance(age, bool):
            return age
    ts = event.get("origin_server_ts")
    return now_ms - ts if isinstance(ts, int) else 0


def judge(
    event: Mapping[str, Any],
    *,
    own_user_id: str,
    now_ms: int,
    max_age_s: float,
    is_handled: Callable[[str], bool],
) -> Verdict:
    """Whether the bot should answer ``event``, and if not, why not."""
    if event.get("type") != "m.room.message":
        return Verdict.NOT_A_MESSAGE
    content = event.get("content")
    if not isinstance(content, Mapping) or not isinstance(content.get("body"), str):
        return Verdict.NOT_A_MESSAGE
    if event.get("sender") == own_user_id:
        return Verdict.OWN
    msgtype = content.get("msgtype")
    if msgtype == "m.notice":
        return Verdict.NOTICE
    if msgtype != "m.text":
        return Verdict.NOT_A_MESSAGE
    relates = content.get("m.relates_to")
    if isinstance(relates, Mapping) and relates.get("rel_type") == "m.replace":
        # An edit is a new event ID for an old command: answering it would answer twice.
        return Verdict.EDIT
    if event_age_ms(event, now_ms) > max_age_s * 1000:
        return Verdict.TOO_OLD
    event_id = event.get("event_id")
    if not isinstance(event_id, str):
        return Verdict.NOT_A_MESSAGE
    if is_handled(event_id):
        return Verdict.DUPLICATE
    return Verdict.ANSWER


def _is_own_join(event: Mapping[str, Any], own_user_id: str) -> bool:
    if event.get("type") != "m.room.member" or event.get("state_key") != own_user_id:
        return False
    content = event.get("content")
    if not isinstance(content, Mapping) or content.get("membership") != "join":
        return False
    unsigned = event.get("unsigned")
    prev = unsigned.get("prev_content") if isinstance(unsigned, Mapping) else None
    # A display name change is also a "join" membership event; only a real join counts.
    return not (isinstance(prev, Mapping) and prev.get("membership") == "join")


def commands_in_timeline(
    events: Iterable[Mapping[str, Any]], own_user_id: str
) -> Iterator[Mapping[str, Any]]:
    """The timeline events that may be commands to the bot, in order.

    When the timeline holds the bot's own join, what came before it is the room's history
    from before the bot was there, and was never said to the bot.
    """
    listed = list(events)
    start = 0
    for position, event in enumerate(listed):
        if _is_own_join(event, own_user_id):
            start = position + 1
    yield from listed[start:]


def thread_root(event: Mapping[str, Any]) -> str | None:
    """The root event of the thread ``event`` was said in, if any."""
    relates = event.get("content", {}).get("m.relates_to")
    if isinstance(relates, Mapping) and relates.get("rel_type") == "m.thread":
        root = relates.get("event_id")
        return root if isinstance(root, str) else None
    return None


def stripped_event(event: Any) -> dict[str, Any]:
    """An invite-state event as JSON again: nio moves its ``content`` out of ``source``."""
    source = dict(getattr(event, "source", {}) or {})
    content = source.get("content") or getattr(event, "content", None) or {}
    alias = getattr(event, "canonical_alias", None)
    if alias is not None:
        content = {**content, "alias": alias}
    source["content"] = content
    return source


def is_direct_invite(state: Sequence[Mapping[str, Any]], own_user_id: str) -> bool:
    """Whether an invite's stripped state marks it as a direct (1:1) chat with the bot."""
    return any(
        e.get("type") == "m.room.member"
        and e.get("state_key") == own_user_id
        and e.get("content", {}).get("is_direct") is True
        for e in state
    )
