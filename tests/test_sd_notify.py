"""Type=notify: READY=1 to systemd's datagram socket once every network is connected."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrabot.app import App
from infrabot.config import Config
from infrabot.messages import Network
from infrabot.sd_notify import notify, notify_when_ready
from infrabot.testing import FakeTransport
from infrabot.transports.base import Link


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A datagram socket where systemd would listen, and the environment naming it."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield sock, {"NOTIFY_SOCKET": str(path)}


class LinkedFake(FakeTransport):
    """A fake network that says whether it is connected."""

    def __init__(self, network: str) -> None:
        super().__init__(network)
        self.link = Link()


def test_notify_sends_one_datagram(systemd: tuple[socket.socket, dict[str, str]]) -> None:
    sock, environ = systemd
    assert notify("READY=1\nSTATUS=up", environ)
    assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_notify_reaches_an_abstract_socket_name() -> None:
    name = f"infrabot-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert notify("STOPPING=1", {"NOTIFY_SOCKET": f"@{name}"})
        assert sock.recv(4096) == b"STOPPING=1"


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})


async def test_ready_only_once_every_network_is_connected(
    systemd: tuple[socket.socket, dict[str, str]],
) -> None:
    sock, environ = systemd
    sock.setblocking(False)
    irc, matrix = LinkedFake("irc"), LinkedFake("matrix")
    nets = {Network("irc"): irc, Network("matrix"): matrix}
    waiting = asyncio.create_task(notify_when_ready(lambda: nets, environ=environ, poll=0.01))
    irc.link.up()
    await asyncio.sleep(0.1)
    with pytest.raises(BlockingIOError):  # Matrix is not connected yet: not ready
        sock.recv(4096)
    matrix.link.up()
    await asyncio.wait_for(waiting, 5)
    assert sock.recv(4096) == b"READY=1\nSTATUS=serving: irc, matrix connected"


async def test_a_network_still_down_does_not_hold_the_start_for_ever(
    systemd: tuple[socket.socket, dict[str, str]],
) -> None:
    sock, environ = systemd
    nets = {Network("irc"): LinkedFake("irc")}
    await asyncio.wait_for(
        notify_when_ready(lambda: nets, environ=environ, at_the_latest=0.05, poll=0.01), 5
    )
    assert sock.recv(4096) == b"READY=1\nSTATUS=serving; not connected yet: irc"


async def test_the_running_bot_says_ready_then_stopping(
    systemd: tuple[socket.socket, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sock, environ = systemd
    monkeypatch.setenv("NOTIFY_SOCKET", environ["NOTIFY_SOCKET"])
    app = App(Config(store=tmp_path / "bot.db", watch_inventory=False))
    irc = LinkedFake("irc")
    running = asyncio.create_task(app.run([irc]))
    await asyncio.wait_for(irc.running.wait(), 5)
    irc.link.up()
    assert await asyncio.to_thread(sock.recv, 4096) == b"READY=1\nSTATUS=serving: irc connected"
    await app.stop()
    await asyncio.wait_for(running, 5)
    assert sock.recv(4096) == b"STOPPING=1"
