"""Account tracking from tags, extended-join, account-notify and lookups."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from infrabot.transports.irc_identity import (
    AccountLookups,
    AccountTracker,
    account_from_tags,
    irc_lower,
)


def test_account_from_tags() -> None:
    assert (
        account_from_tags([{"key": "time", "value": "x"}, {"key": "account", "value": "alice"}])
        == "alice"
    )
    assert account_from_tags([{"key": "msgid", "value": "1"}]) is None
    assert account_from_tags(None) is None
    assert account_from_tags([{"key": "account", "value": "*"}]) is None
    assert account_from_tags([{"key": "account", "value": None}]) is None


def test_rfc1459_casefolding() -> None:
    assert irc_lower("Nick[a]\\~") == "nick{a}|^"


def test_extended_join_records_account_or_none() -> None:
    tracker = AccountTracker()
    tracker.joined("Alice", "#c", "alice", extended=True)
    tracker.joined("mallory", "#c", "*", extended=True)
    assert tracker.account("alice") == "alice"
    assert tracker.known("MALLORY") and tracker.account("mallory") is None


def test_plain_join_knows_nothing() -> None:
    tracker = AccountTracker()
    tracker.joined("bob", "#c", extended=False)
    assert not tracker.known("bob")
    assert tracker.account("bob") is None


def test_account_notify_login_and_logout() -> None:
    tracker = AccountTracker()
    tracker.joined("bob", "#c", "*", extended=True)
    tracker.set_account("bob", "bobacct")
    assert tracker.account("bob") == "bobacct"
    tracker.set_account("bob", "*")
    assert tracker.account("bob") is None


def test_nick_change_keeps_account_and_frees_old_nick() -> None:
    tracker = AccountTracker()
    tracker.joined("alice", "#c", "alice", extended=True)
    tracker.renamed("alice", "alice_away")
    assert tracker.account("alice_away") == "alice"
    assert tracker.account("alice") is None
    # An impostor taking the freed nick is not alice.
    tracker.joined("alice", "#c", "*", extended=True)
    assert tracker.account("alice") is None


def test_quit_and_last_part_forget() -> None:
    tracker = AccountTracker()
    tracker.joined("alice", "#a", "alice", extended=True)
    tracker.joined("alice", "#b", "alice", extended=True)
    tracker.parted("alice", "#a")
    assert tracker.account("alice") == "alice"
    tracker.parted("alice", "#b")
    assert not tracker.known("alice")
    tracker.joined("bob", "#a", "bob", extended=True)
    tracker.quit("bob")
    assert not tracker.known("bob")


def test_we_left_forgets_everyone_only_there() -> None:
    tracker = AccountTracker()
    tracker.joined("a", "#x", "a", extended=True)
    tracker.joined("b", "#x", "b", extended=True)
    tracker.joined("b", "#y", "b", extended=True)
    tracker.we_left("#x")
    assert not tracker.known("a")
    assert tracker.account("b") == "b"


def test_nothing_is_kept_for_users_outside_our_channels() -> None:
    tracker = AccountTracker()
    tracker.set_account("stranger", "alice")  # e.g. a WHOX answer about a private asker
    assert not tracker.known("stranger")
    assert tracker.account("stranger") is None


async def test_one_question_serves_every_asker_and_silence_means_not_logged_in() -> None:
    asked: list[str] = []
    lookups = AccountLookups(timeout=0.05)
    first = asyncio.ensure_future(lookups.ask("Ada", lambda: asked.append("ada")))
    second = asyncio.ensure_future(lookups.ask("ADA", lambda: asked.append("again")))
    await asyncio.sleep(0)
    lookups.answer("ada", "ada-account")
    assert await first == await second == "ada-account"
    assert asked == ["ada"]  # one WHO for both askers
    assert await lookups.ask("bob", lambda: None) is None  # unanswered: not logged in
    waiting = asyncio.ensure_future(lookups.ask("cy", lambda: None))
    await asyncio.sleep(0)
    lookups.abandon()  # the connection is gone
    assert await waiting is None


_NICKS = st.sampled_from(["alice", "Alice", "bob", "[x]", "{x}"])
_CHANNELS = st.sampled_from([None, "#a", "#A", "#b"])
_ACCOUNTS = st.none() | st.sampled_from(["alice", "bob", "*", "0", ""])


@settings(max_examples=1000, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["spoke", "joined", "parted"]), _NICKS, _CHANNELS, _ACCOUNTS),
        max_size=12,
    )
)
def test_fuzz_spoke_is_seen_in_then_set_account(
    steps: list[tuple[str, str, str | None, str | None]],
) -> None:
    """The one call made for every message does what its two parts did, in any state."""
    once, twice = AccountTracker(), AccountTracker()
    for step, nick, channel, account in steps:
        if step == "spoke":
            once.spoke(nick, channel, account)
            if channel is not None:
                twice.seen_in(nick, channel)
            twice.set_account(nick, account)
        else:
            for tracker in (once, twice):
                if step == "joined" and channel is not None:
                    tracker.joined(nick, channel, account, extended=True)
                elif step == "parted" and channel is not None:
                    tracker.parted(nick, channel)
    for nick in ("alice", "bob", "[x]"):
        assert (once.known(nick), once.account(nick)) == (twice.known(nick), twice.account(nick))
        assert once.shares_channel(nick) == twice.shares_channel(nick)
    for account in ("alice", "bob"):
        assert once.nick_of(account) == twice.nick_of(account)
