"""The connection: its view of its own socket (what is still ours, what the peer acknowledged),
and its reading of lines (users' messages on the quick path, as the library reads them)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from irc.client_aio import AioReactor  # type: ignore[import-untyped]
from jaraco.stream.buffer import LenientDecodingLineBuffer  # type: ignore[import-untyped]

from infrabot.testing import until_blocking
from infrabot.transports.irc_connection import IrcConnection, ReceivedLines
from infrabot.transports.irc_privmsg import UserLine, user_line


class SocketTransport:
    """The bits of an asyncio transport the connection asks about, over a real TCP socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_write_buffer_size(self) -> int:
        return 0  # we write straight to the kernel below

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.sock if name == "socket" else default

    def is_closing(self) -> bool:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="SIOCOUTQ is Linux's")
async def test_acknowledged_only_once_the_peer_has_everything() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        peer, _ = listener.accept()
        with client, peer:
            conn = IrcConnection(AioReactor(loop=asyncio.get_running_loop()), lambda e: None)
            conn.transport = SocketTransport(client)
            assert conn.flushed() and conn.acknowledged() is True
            # The peer reads nothing: once its window is full, our bytes stay unacknowledged.
            client.setblocking(False)
            with pytest.raises(BlockingIOError):
                while True:
                    client.send(b"x" * 65536)
            assert conn.flushed()  # nothing in asyncio's buffer: the kernel has it all
            assert conn.acknowledged() is False
            peer.setblocking(False)

            def drained() -> bool:
                try:
                    while peer.recv(1 << 20):
                        pass
                except BlockingIOError:
                    pass
                return conn.acknowledged() is True

            until_blocking(drained, 5, "acknowledged after the peer read everything")


LINES = [
    "@account=alice;msgid=x1 :alice!a@h PRIVMSG #python-infra :!owner pypi",
    ":alice!a@h PRIVMSG infrabot :owner pypi",
    r"@account=al\sice;+draft/x=a\:b :alice!a@h PRIVMSG #c :escaped tags",
    r"@account=a\\b\;msgid=m\x\ :alice!a@h PRIVMSG #c :odd escapes",
    "@account=*;msgid= :alice!a@h PRIVMSG #c :logged out, empty msgid",
    "@account=alice;account=mallory;msgid=1;msgid=2 :alice!a@h PRIVMSG #c :first tag wins",
    "@ :alice!a@h PRIVMSG #c :empty tags",
    "@account=alice  :alice!a@h PRIVMSG #c :two spaces after the tags",
    "@msgid=x :bob!b@h PRIVMSG &local :hi: there :colons",
    ":bob!b@h PRIVMSG #c :",
    ":bob!b@h PRIVMSG #c",
    ":bob!b@h PRIVMSG #c :\x01ACTION waves\x01",
    ":bob!b@h PRIVMSG #c :before \x01ACTION waves\x01 after",
    ":bob!b@h PRIVMSG infrabot :\x01VERSION\x01",
    ":bob!b@h PRIVMSG infrabot :\x01PING 123\x01",
    ":bob!b@h NOTICE infrabot :\x01VERSION mIRC\x01",
    ":bob!b@h PRIVMSG #c :low \x10n level",
    ":bob!b@h PRIVMSG #c oneword",
    ":bob!b@h PRIVMSG #c two words",
    ":bob!b@h  PRIVMSG #c :two spaces after the prefix",
    ":bob!b@h PRIVMSG  #c :two spaces before the target",
    ":bob!b@h PRIVMSG #c  :two spaces before the text",
    ":bob!b@h PRIVMSG :#c :a colon before the target",
    ":bob!b@h PRIVMSG #c\xa0x :a no-break space in the target",
    ":bob!b@h PRIVMSG #c\tx :a tab in the target",
    ":bob!b@h privmsg #c :lower case command",
    ":bob!b@h PRIVMSG #c :text with \r a lone CR and \x00 a NUL",
    ":irc.test PRIVMSG infrabot :from a server",
    ":!b@h PRIVMSG #c :no nick",
    "PRIVMSG #c :no prefix",
    ":bob!b@h NOTICE #c :a notice",
    ":bob!b@h NOTICE infrabot :a private notice",
    ":NickServ!NickServ@services. NOTICE infrabot :You are now identified",
    ":bob!b@h PRIVMSG +c :odd channel type",
    ":bob!b@h PRIVMSG !c :odd channel type",
    ":bob!b@h PRIVMSG #c :caf\u00e9 \u2603 non-ascii",
    ":bob!b@h JOIN #c",
    ":irc.test 001 infrabot :Welcome",
    "",
]


def _connection(seen: list[Any]) -> IrcConnection:
    conn = IrcConnection(AioReactor(loop=_LOOP), seen.append)
    conn.real_server_name = "irc.test"
    conn.real_nickname = "infrabot"
    conn.buffer = conn.buffer_class()
    conn.transport = None
    return conn


_LOOP = asyncio.new_event_loop()  # the reactor wants one; nothing here runs on it


def _read(event: Any) -> Any:
    """What the bot sees of one event, the same for both readings of a line."""
    if isinstance(event, UserLine):
        return event
    if event.type in ("pubmsg", "privmsg", "pubnotice", "privnotice"):
        return user_line(event)
    return (event.type, event.source, event.target, event.arguments, event.tags)


def quick_reading(data: bytes) -> list[Any]:
    """What the connection hands over for ``data`` (users' messages on the quick path)."""
    seen: list[Any] = []
    _connection(seen).process_data(data)
    return [_read(e) for e in seen if isinstance(e, UserLine) or e.type != "all_raw_messages"]


def library_reading(data: bytes) -> list[Any]:
    """What the library alone makes of ``data``: its line buffer, its parser, its events."""
    seen: list[Any] = []
    conn = _connection(seen)
    buffer = LenientDecodingLineBuffer()
    buffer.feed(data)
    for line in buffer:
        if line:
            with contextlib.suppress(Exception):  # the connection logs and goes on
                conn._process_line(line)
    return [_read(e) for e in seen if e.type != "all_raw_messages"]


@pytest.mark.parametrize("line", LINES, ids=repr)
def test_the_quick_path_gives_what_the_library_gives(line: str) -> None:
    """PRIVMSGs skip the library's general parser; what the bot sees must not change."""
    data = (line + "\r\n").encode()
    assert quick_reading(data) == library_reading(data)


def test_the_quick_path_reads_a_users_message_itself() -> None:
    """The common lines really take the quick path (else the comparison proves nothing)."""
    seen: list[Any] = []
    _connection(seen).process_data(
        b"@account=alice;msgid=x1 :alice!a@h PRIVMSG #python-infra :!owner pypi\r\n"
        b":bob!b@h PRIVMSG infrabot :hi\r\n"
        b":bob!b@h NOTICE #c :psst\r\n"
        b":bob!b@h PRIVMSG #c :\x01ACTION waves\x01\r\n"
    )
    assert seen[:3] == [
        UserLine("alice", "#python-infra", "!owner pypi", False, False, "alice", "x1"),
        UserLine("bob", "infrabot", "hi", True, False, None, None),
        UserLine("bob", "#c", "psst", False, True, None, None),
    ]
    assert [getattr(e, "type", None) for e in seen[3:]] == ["all_raw_messages", "ctcp", "action"]


# Pieces hostile lines are made of: every place where a reader could go wrong, with the
# well-formed choice the most likely, so that most lines reach the quick path's last checks.
def _mostly(usual: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """One of ``usual`` six times in seven, else one of ``odd``."""
    return st.sampled_from(usual * max(1, 6 * len(odd) // len(usual)) + odd)


_TAG_TEXT = st.text(alphabet="ab=;\\:srn x*\u00e9", max_size=12)
_TAGS = st.lists(
    st.tuples(_mostly(["account", "msgid"], ["time", "+draft/reply", "", "Account"]), _TAG_TEXT),
    max_size=4,
).map(lambda tags: "@" + ";".join(f"{k}={v}" if v else k for k, v in tags))
_PREFIX = _mostly(
    [":alice!a@h", ":bob!~b@host.example", ":al!ce!x@h"], [":irc.test", ":!a@h", ":", ""]
)
_COMMAND = _mostly(["PRIVMSG", "NOTICE"], ["privmsg", "JOIN", "001", "PRIVMSG:"])
_TARGET = _mostly(
    ["#c", "&c", "+c", "!c", "infrabot", "alice"], [":#c", "#c\xa0x", "#c\u3000x", "", "#"]
)
_TEXT = st.text(
    alphabet=_mostly(list(" :!ab\u00e9\u2603\U0001f600"), list("\x01\x10\x00\r\t\x03\u2028")),
    max_size=16,
)
_SPACE = _mostly([" ", " "], ["  ", ""])
_COLON = _mostly([":"], ["", "::"])


@st.composite
def _hostile_lines(draw: st.DrawFn) -> bytes:
    parts = [draw(st.none() | _TAGS), draw(_PREFIX), draw(_COMMAND), draw(_TARGET)]
    line = ""
    for part in parts:
        if part is not None:
            line += part + draw(_SPACE)
    line += draw(_COLON) + draw(_TEXT)
    data = line.encode()
    if draw(st.booleans()):  # a client that does not speak UTF-8
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xe9", b"\xff\xfe", b"\xc3"])) + data[at:]
    return data


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(_hostile_lines(), min_size=1, max_size=3))
def test_fuzz_the_quick_path_and_the_library_agree_on_hostile_lines(lines: list[bytes]) -> None:
    data = b"".join(line + b"\r\n" for line in lines)
    assert quick_reading(data) == library_reading(data)


@settings(max_examples=500, deadline=None)
@given(
    data=st.binary(max_size=60).map(lambda b: b.replace(b"x", b"\r").replace(b"y", b"\n")),
    cuts=st.lists(st.integers(0, 60), max_size=5),
)
def test_fuzz_lines_are_cut_as_the_library_cuts_them(data: bytes, cuts: list[int]) -> None:
    """However the bytes arrive (a line split across reads, lone CRs, bad UTF-8)."""
    ours, theirs = ReceivedLines(), LenientDecodingLineBuffer()
    got, expected = [], []
    previous = 0
    for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
        got += ours.lines(data[previous:cut])
        theirs.feed(data[previous:cut])
        expected += list(theirs)
        previous = cut
    assert got == expected


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
async def test_received_bytes_are_acknowledged_once_per_read_after_the_lines_went_on() -> None:
    """The ACK must not wait (a server's Nagle would hold its next line for our delayed ACK),
    but the answers ready at once go first: it follows in the same read, after the lines."""
    order: list[str] = []

    class Sock:
        def setsockopt(self, level: int, option: int, value: int) -> None:
            assert (level, option, value) == (socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            order.append("ack")

    class Transport:
        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return Sock() if name == "socket" else default

    conn = IrcConnection(
        AioReactor(loop=asyncio.get_running_loop()), lambda e: order.append(type(e).__name__)
    )
    conn.real_server_name = "irc.test"
    conn.buffer = conn.buffer_class()
    conn.transport = Transport()
    conn.process_data(b":a!a@h PRIVMSG #c :one\r\n:b!b@h PRIVMSG #c :two\r\n")
    assert order == ["UserLine", "UserLine", "ack"]  # one read: one ACK, after its lines
    conn.process_data(b":a!a@h PRIVMSG #c :thr")
    assert order[-1] == "ack"  # a read without a whole line is acknowledged too
    conn.process_data(b"ee\r\n")
    assert order[-2:] == ["UserLine", "ack"]
