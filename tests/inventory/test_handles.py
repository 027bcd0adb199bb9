"""Each network's grammar for the handles the inventory records."""

from __future__ import annotations

import pytest

from infrabot.inventory.handles import irc_account, irc_nick, matrix_user_id


@pytest.mark.parametrize("nick", ["dstufft", "ewdurbin", "[away]", "a-b", "x_1", "^_^", "{x}|y`"])
def test_irc_nicks(nick: str) -> None:
    assert irc_nick(nick) == nick
    assert irc_account(nick) == nick


@pytest.mark.parametrize(
    "nick",
    ["#python-infra", "a,b", "x :SPOOFED", "1abc", "-x", "a b", "a\r\nQUIT", "a!b@c", "ümlaut", ""],
)
def test_not_irc_nicks(nick: str) -> None:
    with pytest.raises(ValueError, match=r"^not an IRC nick"):
        irc_nick(nick)
    with pytest.raises(ValueError, match=r"^not an IRC services account"):
        irc_account(nick)


@pytest.mark.parametrize(
    "user_id",
    [
        "@ada:example.org",
        "@ada:localhost",
        "@a.b_c=d-e/f+g:matrix.org:8448",
        "@Old!Style#ID:example.org",  # a historical localpart: any printable ASCII but ':'
        "@ada:1.2.3.4",
        "@ada:[1234:5678::abcd]:5678",
    ],
)
def test_matrix_user_ids(user_id: str) -> None:
    assert matrix_user_id(user_id) == user_id


@pytest.mark.parametrize(
    "user_id",
    [
        "ada",
        "@ada",
        "@:example.org",
        "@ada:",
        "@a da:example.org",
        "@ada:example.org extra",
        "@ada:exa_mple.org",
        "@ada:example.org:port",
        "@ümlaut:example.org",
        "#room:example.org",
        "@" + "a" * 250 + ":example.org",
    ],
)
def test_not_matrix_user_ids(user_id: str) -> None:
    with pytest.raises(ValueError, match=r"^not a Matrix user ID"):
        matrix_user_id(user_id)
