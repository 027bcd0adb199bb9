"""A small raw-socket IRC client for tests and the benchmark: it sees every byte the server sends.

It parses lines minimally (tags, source, command, params) and keeps them all, so a test can
wait for a line matching a predicate, or check that no unexpected line ever arrived.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["IrcClient", "Line", "parse_line", "register_account"]


@dataclass(frozen=True)
class Line:
    """One parsed line from the server."""

    raw: str
    tags: dict[str, str]
    source: str
    command: str
    params: list[str]

    @property
    def nick(self) -> str:
        """The sender's nick (the part of the source before ``!``)."""
        return self.source.split("!", 1)[0]

    @property
    def text(self) -> str:
        """The last parameter (the message text of a PRIVMSG)."""
        return self.params[-1] if self.params else ""


def parse_line(raw: str) -> Line:
    """Split one IRC line into tags, source, command and params."""
    rest = raw
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        head, _, rest = rest.partition(" ")
        for item in head[1:].split(";"):
            key, _, value = item.partition("=")
            tags[key] = value
    source = ""
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
    trailing = None
    if " :" in rest:
        rest, _, trailing = rest.partition(" :")
    elif rest.startswith(":"):
        rest, trailing = "", rest[1:]
    parts = rest.split()
    command = parts[0].upper() if parts else ""
    params = parts[1:] + ([trailing] if trailing is not None else [])
    return Line(raw, tags, source, command, params)


@dataclass
class IrcClient:
    """A test user: connect, optionally log in with SASL, join, talk, and watch."""

    nick: str
    lines: list[Line] = field(default_factory=list)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _task: asyncio.Task[None] | None = None

    async def connect(
        self,
        port: int,
        *,
        host: str = "127.0.0.1",
        sasl: tuple[str, str] | None = None,
        caps: tuple[str, ...] = ("message-tags", "account-tag", "extended-join"),
        within: float = 15.0,
    ) -> None:
        """Connect and register; with ``sasl`` (account, password) log in first."""
        self.reader, self.writer = await asyncio.open_connection(host, port)
        self._task = asyncio.create_task(self._read())
        self.send("CAP LS 302")
        self.send(f"NICK {self.nick}")
        self.send(f"USER {self.nick} 0 * :test user {self.nick}")
        ls = await self.wait_for(lambda ln: ln.command == "CAP" and "LS" in ln.params, within)
        offered = ls.text.split()
        wanted = [c for c in caps if c in offered]
        if wanted:
            self.send("CAP REQ :" + " ".join(wanted))
            await self.wait_for(lambda ln: ln.command == "CAP" and "ACK" in ln.params, within)
        if sasl:
            self.send("CAP REQ :sasl")
            await self.wait_for(lambda ln: ln.command == "CAP" and "sasl" in ln.text, within)
            self.send("AUTHENTICATE PLAIN")
            await self.wait_for(lambda ln: ln.command == "AUTHENTICATE", within)
            user, password = sasl
            blob = base64.b64encode(f"{user}\0{user}\0{password}".encode()).decode()
            self.send(f"AUTHENTICATE {blob}")
            done = await self.wait_for(lambda ln: ln.command in ("903", "904"), within)
            if done.command != "903":
                raise RuntimeError(f"SASL failed for {user}: {done.raw}")
        self.send("CAP END")
        await self.wait_for(lambda ln: ln.command == "001", within)

    async def _read(self) -> None:
        assert self.reader is not None
        while True:
            data = await self.reader.readline()
            if not data:
                break
            raw = data.decode("utf-8", "replace").rstrip("\r\n")
            line = parse_line(raw)
            if line.command == "PING":
                self.send(f"PONG :{line.text}")
            async with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        async with self._changed:
            self.lines.append(parse_line("CLOSED"))
            self._changed.notify_all()

    def send(self, line: str) -> None:
        """Send one raw line."""
        assert self.writer is not None
        self.writer.write(line.encode() + b"\r\n")

    def say(self, target: str, text: str) -> None:
        """PRIVMSG ``target``."""
        self.send(f"PRIVMSG {target} :{text}")

    async def join(self, channel: str, within: float = 10.0) -> None:
        """Join and wait until the server confirms it (end of NAMES)."""
        self.send(f"JOIN {channel}")
        await self.wait_for(lambda ln: ln.command == "366" and channel in ln.params, within)

    async def wait_for(
        self, predicate: Callable[[Line], bool], within: float = 10.0, *, start: int = 0
    ) -> Line:
        """The first line (from index ``start``) matching ``predicate``, waiting if needed."""
        async with asyncio.timeout(within), self._changed:
            index = start
            while True:
                while index < len(self.lines):
                    line = self.lines[index]
                    index += 1
                    if predicate(line):
                        return line
                await self._changed.wait()

    def messages_from(self, nick: str, target: str | None = None) -> list[Line]:
        """Every PRIVMSG/NOTICE ``nick`` sent us (to ``target``, when given)."""
        return [
            ln
            for ln in self.lines
            if ln.command in ("PRIVMSG", "NOTICE")
            and ln.nick.lower() == nick.lower()
            and (target is None or (ln.params and ln.params[0].lower() == target.lower()))
        ]

    async def close(self) -> None:
        """QUIT and close."""
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.send("QUIT :bye")
                await self.writer.drain()
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        if self._task is not None:
            self._task.cancel()


def register_account(
    port: int, nick: str, password: str, *nickserv: str, timeout: float = 15.0
) -> list[str]:
    """Register ``nick`` with NickServ (blocking; for session setup), then send each of the
    ``nickserv`` commands (``CERT ADD <fp>``, ``SET PUBKEY <key>``); returns NickServ's
    answer to each."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
        buf = b""

        def wait(token: bytes) -> None:
            nonlocal buf
            while token not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise RuntimeError(f"closed while registering {nick}: {buf[-500:]!r}")
                buf += chunk
                for line in buf.split(b"\r\n"):
                    if line.startswith(b"PING "):
                        sock.sendall(b"PONG " + line[5:] + b"\r\n")

        wait(b" 001 ")
        sock.sendall(f"PRIVMSG NickServ :REGISTER {password} {nick}@example.org\r\n".encode())
        wait(b"registered")
        answers = []
        for command in nickserv:
            mark = len(buf)
            sock.sendall(f"PRIVMSG NickServ :{command}\r\n".encode())
            while (found := _nickserv_notice(buf[mark:])) is None:
                chunk = sock.recv(4096)
                if not chunk:
                    raise RuntimeError(f"closed after {command!r}: {buf[-500:]!r}")
                buf += chunk
            answers.append(found)
        sock.sendall(b"QUIT\r\n")
        return answers


def _nickserv_notice(data: bytes) -> str | None:
    """The text of the first complete NOTICE from NickServ in ``data``, if any."""
    for raw in data.split(b"\r\n")[:-1]:
        line = parse_line(raw.decode("utf-8", "replace"))
        if line.command == "NOTICE" and line.nick == "NickServ":
            return line.text
    return None


def from_bot(target: str, prefix: str, bot: str = "infrabot") -> Callable[[Line], bool]:
    """A predicate for ``wait_for``: a PRIVMSG from the bot to ``target`` starting ``prefix``."""
    return lambda ln: (
        ln.command == "PRIVMSG"
        and ln.nick == bot
        and ln.params[0].lower() == target.lower()
        and ln.text.startswith(prefix)
    )
