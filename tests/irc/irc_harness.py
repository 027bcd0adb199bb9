"""A transport wired to a fake connection, shared by the IRC unit tests."""

from __future__ import annotations

import asyncio
from typing import Any

from irc.client_aio import AioReactor  # type: ignore[import-untyped]

from infrabot.config import IrcConfig
from infrabot.messages import IncomingMessage
from infrabot.transports.irc import IrcTransport
from infrabot.transports.irc_connection import IrcConnection

__all__ = ["Clock", "Harness", "Wire", "settle"]


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Wire:
    """Stands in for the asyncio transport: records every line the bot writes."""

    def __init__(self) -> None:
        self.data = b""
        self.closed = False
        self.buffered = 0
        """Bytes asyncio would still hold: a test holds the write back with this."""

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        self.closed = True


class Harness:
    """A transport wired to a fake connection; feed it server lines, read what it sent."""

    def __init__(self, transport: dict[str, Any] | None = None, **config: Any) -> None:
        transport = transport or {}
        settings: dict[str, Any] = {"channels": ["#python-infra"], "flood_rate": 0}
        settings.update(config)
        self.clock = Clock()
        self.transport = IrcTransport(IrcConfig(**settings), clock=self.clock, **transport)
        self.delivered: list[IncomingMessage] = []
        self.wire = Wire()
        reactor = AioReactor(loop=asyncio.get_running_loop())
        conn = IrcConnection(reactor, lambda event: self.transport._on_event(conn, event))
        conn.buffer = conn.buffer_class()
        conn.real_server_name = "irc.test"
        conn.real_nickname = self.transport.config.nick
        conn.transport = self.wire
        conn.connected = True
        self.conn = conn
        self.transport._conn = conn

        async def deliver(message: IncomingMessage) -> None:
            self.delivered.append(message)

        self.transport._deliver = deliver

    def feed(self, *lines: str) -> None:
        self.conn.process_data("".join(line + "\r\n" for line in lines).encode())

    def sent(self) -> list[str]:
        out = self.wire.data.decode().split("\r\n")
        self.wire.data = b""
        return [line for line in out if line]

    def register(self, caps: str = "message-tags account-tag extended-join account-notify") -> None:
        self.feed(f":irc.test CAP * LS :{caps} multi-prefix")
        self.feed(f":irc.test CAP * ACK :{caps} multi-prefix")
        self.feed(
            ":irc.test 001 infrabot :Welcome",
            ":irc.test 005 infrabot WHOX LINELEN=512 :are supported",
            ":infrabot!~infrabot@bot.host JOIN #python-infra * :infrabot",
        )
        self.sent()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)
