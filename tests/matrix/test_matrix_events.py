"""Which timeline events the bot answers."""

from __future__ import annotations

from typing import Any

import pytest

from infrabot.transports.matrix_events import Verdict, commands_in_timeline, event_age_ms, judge

BOT = "@infrabot:example.org"
NOW_MS = 1_700_000_000_000


def message(
    body: str = "!owner pypi",
    *,
    sender: str = "@alice:example.org",
    msgtype: str = "m.text",
    event_id: str = "$e1",
    ts: int = NOW_MS - 1000,
    **content: Any,
) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "sender": sender,
        "event_id": event_id,
        "origin_server_ts": ts,
        "content": {"msgtype": msgtype, "body": body, **content},
    }


def verdict(event: dict[str, Any], handled: frozenset[str] = frozenset()) -> Verdict:
    return judge(
        event, own_user_id=BOT, now_ms=NOW_MS, max_age_s=600, is_handled=handled.__contains__
    )


def test_a_fresh_text_message_is_answered() -> None:
    assert verdict(message()) is Verdict.ANSWER


def test_own_messages_are_never_answered() -> None:
    assert verdict(message(sender=BOT)) is Verdict.OWN


def test_notices_are_never_answered() -> None:
    assert verdict(message(msgtype="m.notice")) is Verdict.NOTICE


@pytest.mark.parametrize("msgtype", ["m.emote", "m.image", "m.file"])
def test_other_message_kinds_are_not_commands(msgtype: str) -> None:
    assert verdict(message(msgtype=msgtype)) is Verdict.NOT_A_MESSAGE


def test_state_and_redacted_events_are_not_commands() -> None:
    assert verdict({"type": "m.room.member", "content": {}}) is Verdict.NOT_A_MESSAGE
    assert verdict({**message(), "content": {}}) is Verdict.NOT_A_MESSAGE


def test_an_edit_is_not_answered_again() -> None:
    edit = message("* !owner pypi", **{"m.relates_to": {"rel_type": "m.replace"}})
    assert verdict(edit) is Verdict.EDIT


def test_a_reply_to_someone_is_still_a_command() -> None:
    reply = message(**{"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}})
    assert verdict(reply) is Verdict.ANSWER


def test_events_older_than_max_age_are_ignored() -> None:
    assert verdict(message(ts=NOW_MS - 601_000)) is Verdict.TOO_OLD
    assert verdict(message(ts=NOW_MS - 599_000)) is Verdict.ANSWER


def test_the_servers_age_wins_over_a_skewed_clock() -> None:
    # Local clock far ahead of the server's timestamps; the server says it is 2 s old.
    event = {**message(ts=NOW_MS - 3_600_000), "unsigned": {"age": 2000}}
    assert event_age_ms(event, NOW_MS) == 2000
    assert verdict(event) is Verdict.ANSWER


def test_handled_events_are_duplicates() -> None:
    assert verdict(message(event_id="$done"), frozenset({"$done"})) is Verdict.DUPLICATE


def join(user: str, prev: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "m.room.member",
        "state_key": user,
        "sender": user,
        "content": {"membership": "join"},
    }
    if prev:
        event["unsigned"] = {"prev_content": {"membership": prev}}
    return event


def test_history_before_the_bots_join_is_skipped() -> None:
    before, after = message(event_id="$before"), message(event_id="$after")
    events = list(commands_in_timeline([before, join(BOT), after], BOT))
    assert [e.get("event_id") for e in events] == ["$after"]


def test_a_display_name_change_is_not_a_join() -> None:
    first = message(event_id="$first")
    events = list(commands_in_timeline([first, join(BOT, prev="join")], BOT))
    assert first in events


def test_someone_elses_join_changes_nothing() -> None:
    first = message(event_id="$first")
    assert first in list(commands_in_timeline([first, join("@bob:example.org")], BOT))
