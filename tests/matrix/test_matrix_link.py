"""The Matrix transport says whether it is connected: up once a sync goes through, down while
syncs fail, and down once stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from fake_nio import ALIAS, BOT, FakeClient, sync
from nio import SyncError

from infrabot.config import MatrixConfig
from infrabot.messages import IncomingMessage
from infrabot.transports.matrix import MatrixTransport


async def _noop(message: IncomingMessage) -> None:
    return None


async def test_the_link_follows_the_syncs(tmp_path: Path) -> None:
    down = aiohttp.ClientConnectionError("refused")
    client = FakeClient([sync("s1"), down, SyncError("bad gateway"), sync("s2")])
    seen: list[tuple[bool, str]] = []
    config: dict[str, Any] = {"user_id": BOT, "password": "pw", "rooms": [ALIAS]}
    transport: MatrixTransport

    async def pause(seconds: float) -> None:
        seen.append((transport.link.connected, transport.link.reason))

    transport = MatrixTransport(
        MatrixConfig(**config, store_path=tmp_path / "store"),
        client_factory=lambda _: client,
        sleep=pause,
    )
    assert not transport.link.connected
    task = asyncio.create_task(transport.run(_noop))
    await asyncio.wait_for(client.drained.wait(), 5)
    assert transport.link.connected
    assert transport.link.connections == 2  # s1, then s2 after the outage
    assert seen == [
        (False, "cannot reach the homeserver"),
        (False, "the homeserver refuses to sync"),
    ]
    await transport.stop()
    await asyncio.wait_for(task, 5)
    assert (transport.link.connected, transport.link.reason) == (False, "stopped")
