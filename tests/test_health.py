"""Health that tells the truth: liveness, readiness from the transports' links and the store."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from infrabot.app import App
from infrabot.config import Config, IrcConfig, WebConfig
from infrabot.errors import StoreError
from infrabot.health import Health
from infrabot.messages import IncomingMessage, Network
from infrabot.store import Store
from infrabot.transports.base import Link
from infrabot.transports.irc import IrcTransport
from infrabot.web import AlertServer
from tests.test_web import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Linked:
    """A transport as far as health cares: a network name and a link."""

    def __init__(self, network: str, clock: Clock) -> None:
        self.network = Network(network)
        self.link = Link(clock)


class FlakyStore:
    def __init__(self) -> None:
        self.broken = False
        self.writes = 0

    def check_writable(self) -> None:
        self.writes += 1
        if self.broken:
            raise StoreError("infrabot.db: read-only (the bot must be able to write it)")


def test_a_link_is_down_until_up_and_remembers_when_it_was_lost() -> None:
    clock = Clock()
    link = Link(clock)
    assert (link.connected, link.reason, link.connections) == (False, "not connected yet", 0)
    clock.now += 5
    link.up()
    link.up()  # still the same connection
    assert (link.connected, link.since, link.connections) == (True, clock.now, 1)
    clock.now += 10
    link.down("disconnected")
    lost = clock.now
    clock.now += 3
    link.down("reconnecting")  # still down: since stays the moment it was lost
    assert (link.connected, link.since, link.reason) == (False, lost, "reconnecting")
    link.up()
    assert link.connections == 2


def test_ready_only_when_every_transport_is_connected_and_the_store_writes() -> None:
    clock = Clock()
    irc, matrix = Linked("irc", clock), Linked("matrix", clock)
    store = FlakyStore()
    health = Health(lambda: {irc.network: irc, matrix.network: matrix}, store, clock=clock)
    irc.link.up()
    clock.now += 60
    ready, body = health.ready()
    assert not ready
    assert body["status"] == "not ready"
    assert body["down"] == ["matrix"]
    assert body["checks"]["matrix"] == {
        "up": False,
        "since": "2023-11-14T22:13:20+00:00",
        "for_seconds": 60.0,
        "reason": "not connected yet",
    }
    assert body["checks"]["irc"]["up"] is True
    assert body["checks"]["store"]["up"] is True
    matrix.link.up()
    ready, body = health.ready()
    assert ready and body["status"] == "ready" and body["down"] == []


def test_a_store_that_stops_taking_writes_makes_the_bot_not_ready_and_says_since_when() -> None:
    clock = Clock()
    store = FlakyStore()
    health = Health(dict, store, clock=clock)
    assert health.ready()[0]
    clock.now += 2
    store.broken = True
    seen_broken = clock.now
    ready, body = health.ready()
    assert not ready and body["down"] == ["store"]
    assert "read-only" in body["checks"]["store"]["reason"]
    clock.now += 30
    ready, body = health.ready()
    assert not ready
    assert body["checks"]["store"]["for_seconds"] == clock.now - seen_broken
    store.broken = False
    clock.now += 2
    assert health.ready()[0]


def test_probes_in_a_burst_write_to_the_store_once_a_second() -> None:
    clock = Clock()
    store = FlakyStore()
    health = Health(dict, store, clock=clock)
    for _ in range(100):
        health.ready()
    assert store.writes == 1


def test_the_store_check_writes_and_reports_a_locked_database(tmp_path: Path) -> None:
    store = Store(tmp_path / "infrabot.db")
    try:
        store.check_writable()
        store._db.execute("PRAGMA busy_timeout=0")  # fail at once instead of after 5 s
        other = sqlite3.connect(tmp_path / "infrabot.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
        with pytest.raises(StoreError, match="locked"):
            store.check_writable()
        other.execute("ROLLBACK")
        other.close()
        store.check_writable()
    finally:
        store.close()


def test_the_store_check_fails_on_a_closed_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "infrabot.db")
    store.close()
    with pytest.raises(StoreError):
        store.check_writable()


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json()


async def test_the_endpoints_answer_200_or_503_with_what_is_down() -> None:
    clock = Clock()
    irc = Linked("irc", clock)
    port = free_port()
    server = AlertServer(
        WebConfig(port=port), None, health=Health(lambda: {irc.network: irc}, None, clock=clock)
    )
    await server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        assert await get(f"{base}/health") == (200, {"status": "ok"})
        assert await get(f"{base}/health/live") == (200, {"status": "alive"})
        status, body = await get(f"{base}/health/ready")
        assert status == 503 and body["down"] == ["irc"]
        irc.link.up()
        status, body = await get(f"{base}/health/ready")
        assert status == 200 and body["status"] == "ready"
    finally:
        await server.stop()


class WelcomingServer:
    """An IRC server that registers every client, then drops it when told to."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b":fake 001 infrabot :Welcome\r\n")
        while await reader.readline():
            pass
        writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def drop_all(self) -> None:
        for writer in self.writers:
            writer.close()


async def _ready_is(url: str, status: int) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            try:
                got, body = await get(url)
            except aiohttp.ClientConnectionError:
                got, body = 0, {}
            if got == status:
                return body
            await asyncio.sleep(0.02)


@pytest.fixture
async def irc_server() -> AsyncIterator[WelcomingServer]:
    server = WelcomingServer()
    await server.start()
    yield server
    assert server.server is not None
    server.server.close()


async def _noop(message: IncomingMessage) -> None:
    return None


async def test_the_running_bot_is_ready_only_while_its_irc_network_is_connected(
    tmp_path: Path, irc_server: WelcomingServer
) -> None:
    assert irc_server.server is not None
    irc_port = int(irc_server.server.sockets[0].getsockname()[1])
    web_port = free_port()
    irc = IrcConfig(port=irc_port, channels=[], reconnect_min=30, reconnect_max=30, flood_rate=0)
    config = Config(store=tmp_path / "infrabot.db", web=WebConfig(port=web_port), irc=irc)
    store = Store(config.store)
    app = App(config, store=store)
    transport = IrcTransport(irc)
    running = asyncio.create_task(app.run([transport]))
    url = f"http://127.0.0.1:{web_port}/health/ready"
    try:
        body = await _ready_is(url, 200)
        assert set(body["checks"]) == {"irc", "store"}
        irc_server.drop_all()
        body = await _ready_is(url, 503)
        assert body["down"] == ["irc"]
        assert body["checks"]["irc"]["reason"] == "disconnected"
    finally:
        await app.stop()
        await asyncio.wait_for(running, 5)
        store.close()
