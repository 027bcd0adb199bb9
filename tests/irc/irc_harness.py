"""A transport on a fake wire, shared by the IRC unit tests.

The transport runs for real (its session loop, registration, reconnects); only the socket is
replaced, through the transport's connection factory: feed it server lines, read what it wrote.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from irc.client_aio import AioReactor  # type: ignore[import-untyped]

from infrabot.config import IrcConfig
from infrabot.messages import IncomingMessage
from infrabot.transports.irc import IrcTransport
from infrabot.transports.irc_connection import IrcConnection, Received

__all__ = ["Clock", "Harness", "Wire", "running", "settle"]

running: list[Harness] = []
"""Every harness started by the current test (the conftest stops them)."""


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
        self.data = self.data + data if self.data else data

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        self.closed = True


class WiredConnection(IrcConnection):
    """The real connection class, opened onto a :class:`Wire` instead of a socket."""

    def __init__(self, reactor: AioReactor, on_event: Callable[[Received], None], wire: Wire):
        super().__init__(reactor, on_event)
        self.wire = wire

    async def open(self, **kwargs: Any) -> None:
        tls: ssl.SSLContext | None = kwargs.get("tls")
        assert tls is None
        self.buffer = self.buffer_class()
        self.handlers = {}
        self.real_server_name = "irc.test"
        self.server = kwargs["host"]
        self.real_nickname = kwargs["nick"]
        self.transport = self.wire
        self.connected = True
        self.send_raw("CAP LS 302")
        self.nick(kwargs["nick"])
        self.user(kwargs["username"], kwargs["realname"])


class Harness:
    """A running transport on a fake wire; feed it server lines, read what it sent."""

    def __init__(self, transport: dict[str, Any] | None = None, **config: Any) -> None:
        settings: dict[str, Any] = {
            "channels": ["#python-infra"],
            "flood_rate": 0,
            "reconnect_min": 0.01,
            "reconnect_max": 0.01,
        }
        settings.update(config)
        self.clock = Clock()
        self.wire = Wire()
        self.delivered: list[IncomingMessage] = []
        self.connections: list[WiredConnection] = []
        self._connected = asyncio.Event()
        self.transport = IrcTransport(
            IrcConfig(**settings), connect=self._connect, clock=self.clock, **(transport or {})
        )
        self._run: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, transport: dict[str, Any] | None = None, **config: Any) -> Harness:
        """A harness whose transport runs and has opened its first connection."""
        h = cls(transport, **config)
        h._run = asyncio.create_task(h.transport.run(h._deliver))
        running.append(h)
        await h.connected()
        return h

    def _connect(self, on_event: Callable[[Received], None]) -> IrcConnection:
        reactor = AioReactor(loop=asyncio.get_running_loop())
        self.wire = Wire()
        conn = WiredConnection(reactor, on_event, self.wire)
        self.connections.append(conn)
        self._connected.set()
        return conn

    async def connected(self) -> None:
        """Wait for the transport to open a connection (the first, or the next one)."""
        async with asyncio.timeout(5):
            await self._connected.wait()
        self._connected.clear()
        await settle()
        self.sent()  # CAP LS, NICK and USER: what every connection starts with

    @property
    def conn(self) -> WiredConnection:
        """The latest connection."""
        return self.connections[-1]

    def _deliver(self, message: IncomingMessage) -> Awaitable[None] | None:
        # as the router does for a message meant for the bot: ask who the sender is (a wait),
        # else take it at once
        meant = message.room.private or message.text.startswith(("!", "infrabot"))
        if message.vouch is not None and meant:
            return self._vouched(message)
        self.delivered.append(message)
        return None

    async def _vouched(self, message: IncomingMessage) -> None:
        assert message.vouch is not None
        account = await message.vouch()
        message = replace(message, sender=replace(message.sender, account=account), vouch=None)
        self.delivered.append(message)

    async def stop(self) -> None:
        await self.transport.stop()
        if self._run is not None:
            async with asyncio.timeout(5):
                await self._run

    def feed(self, *lines: str) -> None:
        self.conn.process_data("".join(line + "\r\n" for line in lines).encode())

    def drop(self) -> None:
        """The server closes the connection."""
        self.conn.disconnect("Connection reset")

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
