"""Account tracking from tags, extended-join, account-notify and lookups."""

from __future__ import annotations

import asyncio

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
