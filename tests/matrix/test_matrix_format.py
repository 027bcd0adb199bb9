"""Replies as Matrix notices: plain and HTML bodies, reply relation, mentions, splitting."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from infrabot.messages import IncomingMessage, Mention, Network, Reply, Room, Sender
from infrabot.transports.matrix_format import notice_contents, pill

MATRIX = Network("matrix")
ROOM = Room(network=MATRIX, id="!room:example.org")
ALICE = Sender(network=MATRIX, name="Alice", account="@alice:x.org", address="@alice:x.org")
ASKED = IncomingMessage(sender=ALICE, room=ROOM, text="!owner pypi", event_id="$ask")


def reply(*lines: str, mentions: tuple[Mention, ...] = (), address: bool = True) -> Reply:
    return Reply(
        room=ROOM, lines=lines, in_reply_to=ASKED, mentions=mentions, address_asker=address
    )


def test_a_reply_is_a_notice_threaded_to_the_asker() -> None:
    [content] = notice_contents(
        reply("PyPI is run by", "the PSF"), in_reply_to_event="$ask", asker=ALICE.address
    )
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "PyPI is run by\nthe PSF"
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"] == "PyPI is run by<br/>the PSF"
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$ask"}}
    # A notice notifies nobody: no m.mentions, which spares the homeserver push-rule work.
    assert "m.mentions" not in content


def test_without_an_event_there_is_no_relation_and_no_asker() -> None:
    [content] = notice_contents(reply("hi", address=False), in_reply_to_event=None, asker=None)
    assert "m.relates_to" not in content
    assert "m.mentions" not in content


def test_a_reply_with_mentions_lists_the_asker_too() -> None:
    bob = Mention(address="@bob:x.org", name="Bob")
    [content] = notice_contents(
        reply("Bob is on call", mentions=(bob,)), in_reply_to_event="$ask", asker=ALICE.address
    )
    assert content["m.mentions"] == {"user_ids": [ALICE.address, "@bob:x.org"]}


def test_markup_in_text_is_escaped() -> None:
    [content] = notice_contents(
        reply("<script>alert(1)</script> & <b>"), in_reply_to_event="$ask", asker=None
    )
    assert content["body"] == "<script>alert(1)</script> & <b>"
    assert content["formatted_body"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;"


def test_mentions_become_pills_and_are_listed() -> None:
    bob = Mention(address="@bob:x.org", name="Bob <3")
    [content] = notice_contents(
        reply("paging Bob <3 for pypi", mentions=(bob,)), in_reply_to_event="$ask", asker=None
    )
    assert content["body"] == "paging Bob <3 for pypi"
    assert content["formatted_body"] == (
        'paging <a href="https://matrix.to/#/@bob:x.org">Bob &lt;3</a> for pypi'
    )
    assert content["m.mentions"] == {"user_ids": ["@bob:x.org"]}
    # Clients never notify for notices: a reply that mentions someone is a text.
    assert content["msgtype"] == "m.text"


def test_mentions_can_stay_notices_when_configured() -> None:
    bob = Mention(address="@bob:x.org", name="Bob")
    [content] = notice_contents(
        reply("Bob", mentions=(bob,)), in_reply_to_event=None, asker=None, notify_mentions=False
    )
    assert content["msgtype"] == "m.notice"
    assert content["m.mentions"] == {"user_ids": ["@bob:x.org"]}


def test_a_mention_missing_from_the_text_is_still_pilled() -> None:
    carol = Mention(address="@carol:x.org", name="Carol")
    [content] = notice_contents(
        reply("a page is open", mentions=(carol,)), in_reply_to_event=None, asker=None
    )
    assert content["body"] == "a page is open\ncc Carol"
    assert pill("@carol:x.org", "Carol") in content["formatted_body"]
    assert content["m.mentions"] == {"user_ids": ["@carol:x.org"]}


def test_overlapping_names_pill_the_longest() -> None:
    ann = Mention(address="@ann:x.org", name="Ann")
    anne = Mention(address="@anne:x.org", name="Anne")
    [content] = notice_contents(
        reply("Anne and Ann", mentions=(ann, anne)), in_reply_to_event=None, asker=None
    )
    assert content["formatted_body"].count("<a ") == 2
    assert '#/@anne:x.org">Anne</a> and' in content["formatted_body"]
    assert content["m.mentions"] == {"user_ids": ["@ann:x.org", "@anne:x.org"]}


def test_long_output_is_split_into_several_notices_all_threaded() -> None:
    lines = tuple(f"line {n} " + "x" * 80 for n in range(100))
    contents = notice_contents(reply(*lines), in_reply_to_event="$ask", asker=None, limit=2000)
    assert len(contents) > 1
    assert all(
        len(c["body"].encode()) + len(c["formatted_body"].encode()) <= 2000 for c in contents
    )
    assert "\n".join(c["body"] for c in contents) == "\n".join(lines)
    assert all(c["m.relates_to"]["m.in_reply_to"]["event_id"] == "$ask" for c in contents)


@given(st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=5))
def test_html_never_carries_raw_markup_from_text(lines: list[str]) -> None:
    contents = notice_contents(reply(*lines), in_reply_to_event=None, asker=None)
    formatted = "<br/>".join(c["formatted_body"] for c in contents)
    without_breaks = formatted.replace("<br/>", "\n")
    assert "<" not in without_breaks and ">" not in without_breaks
    assert html.unescape(without_breaks) == "\n".join(c["body"] for c in contents)
    assert not re.search(r"&(?!amp;|lt;|gt;)", without_breaks)


def test_a_question_in_a_thread_is_answered_in_that_thread() -> None:
    [content] = notice_contents(
        reply("ok"), in_reply_to_event="$ask", asker=None, thread_root="$root"
    )
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$ask"},
    }
