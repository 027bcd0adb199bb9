"""Byte-safe splitting and control-character stripping for IRC output."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrabot.text import clean_line
from infrabot.transports.irc_text import payload_bytes, split_bytes


def for_the_wire(text: str) -> str:
    """The last guard before the wire: the shared cleaning rule, without a length limit."""
    return clean_line(text, None)


def test_sanitize_strips_cr_lf_nul_and_controls() -> None:
    text = "a\r\nPRIVMSG #x :evil\x00b\x01VERSION\x01\x03" + "04red\x7f\x85c\u2028d"
    cleaned = for_the_wire(text)
    assert cleaned == "a PRIVMSG #x :evil b VERSION 04red c d"
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in cleaned)


def test_sanitize_keeps_ordinary_unicode() -> None:
    assert for_the_wire("  café — 日本語 🚀  ") == "café — 日本語 🚀"


def test_split_short_text_is_one_piece() -> None:
    assert split_bytes("hello world", 100) == ["hello world"]
    assert split_bytes("", 100) == []


def test_split_prefers_spaces() -> None:
    pieces = split_bytes("aaaa bbbb cccc dddd", 10)
    assert pieces == ["aaaa bbbb", "cccc dddd"]


def test_split_never_cuts_a_utf8_character() -> None:
    text = "é" * 10 + "🚀" * 10  # 2-byte and 4-byte characters, no spaces
    for limit in range(4, 30):
        pieces = split_bytes(text, limit)
        assert "".join(pieces) == text
        assert all(len(p.encode()) <= limit for p in pieces)


def test_split_rejects_a_limit_below_one_character() -> None:
    with pytest.raises(ValueError):
        split_bytes("abc", 3)


@given(st.text(min_size=0, max_size=600), st.integers(min_value=4, max_value=512))
def test_split_properties(text: str, limit: int) -> None:
    pieces = split_bytes(text, limit)
    for piece in pieces:
        assert len(piece.encode("utf-8")) <= limit
        assert piece  # no empty pieces
    # Only spaces at the cuts may be lost: every other character survives, in order.
    assert "".join(p.replace(" ", "") for p in pieces) == text.replace(" ", "")


def test_payload_counts_the_prefix_the_server_adds() -> None:
    room = payload_bytes(
        command="PRIVMSG", target="#python-infra", nick="infrabot", user="~bot", host="example.org"
    )
    relayed = f":infrabot!~bot@example.org PRIVMSG #python-infra :{'x' * room}\r\n"
    assert len(relayed.encode()) == 512


def test_payload_assumes_the_longest_host_when_unknown() -> None:
    known = payload_bytes(command="PRIVMSG", target="#c", nick="bot", user="u", host="h")
    unknown = payload_bytes(command="PRIVMSG", target="#c", nick="bot")
    assert unknown < known
    relayed = f":bot!{'u' * 10}@{'h' * 63} PRIVMSG #c :{'x' * unknown}\r\n"
    assert len(relayed.encode()) == 512


def test_payload_uses_the_advertised_line_length() -> None:
    short = payload_bytes(command="PRIVMSG", target="#c", nick="bot")
    long = payload_bytes(command="PRIVMSG", target="#c", nick="bot", linelen=1024)
    assert long - short == 512


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@given(st.text(max_size=200))
def test_sanitize_fast_path_matches_the_full_rules(text: str) -> None:
    expected = " ".join(_CONTROL.sub(" ", text).split(" "))
    while "  " in expected:
        expected = expected.replace("  ", " ")
    cleaned = for_the_wire(text)
    assert cleaned == expected.strip()
    assert not _CONTROL.search(cleaned)
