"""The connection's view of its own socket: what is still ours, what the peer acknowledged."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import pytest
from irc.client_aio import AioReactor  # type: ignore[import-untyped]

from infrabot.testing import until_blocking
from infrabot.transports.irc_connection import IrcConnection


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
    "@msgid=x :bob!b@h PRIVMSG &local :hi: there :colons",
    ":bob!b@h PRIVMSG #c :",
    ":bob!b@h PRIVMSG #c :\x01ACTION waves\x01",
    ":bob!b@h PRIVMSG infrabot :\x01VERSION\x01",
    ":bob!b@h PRIVMSG #c :low \x10n level",
    ":bob!b@h PRIVMSG #c oneword",
    ":irc.test PRIVMSG infrabot :from a server",
    "PRIVMSG #c :no prefix",
    ":bob!b@h NOTICE #c :a notice",
    ":bob!b@h PRIVMSG +c :odd channel type",
    ":bob!b@h PRIVMSG #c :caf\u00e9 \u2603 non-ascii",
]


@pytest.mark.parametrize("line", LINES, ids=repr)
async def test_the_quick_path_gives_the_events_the_library_gives(line: str) -> None:
    """PRIVMSGs skip the library's general parser; what the bot sees must not change."""

    def events(quick: bool) -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        reactor = AioReactor(loop=asyncio.get_running_loop())
        conn = IrcConnection(
            reactor, lambda e: seen.append((e.type, e.source, e.target, e.arguments, e.tags))
        )
        conn.real_server_name = "irc.test"
        conn.real_nickname = "infrabot"
        if not quick:
            conn._fast_message = lambda line: False  # type: ignore[method-assign]
        conn.buffer = conn.buffer_class()
        conn.transport = None
        conn.process_data((line + "\r\n").encode())
        return seen

    assert events(quick=True) == events(quick=False)
