"""Exactly once, as a property: whatever the crash points, every command gets one answer.

A fake homeserver serves a fixed timeline in batches, resuming from whatever sync token the
bot saved, and drops a re-sent event whose transaction ID it has seen (as Synapse does).
The bot crashes at arbitrary points, before or after sending an answer, and is restarted on
the same store each time.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from fake_nio import ALIAS, BOT, FakeClient, sync, text
from hypothesis import given, settings
from hypothesis import strategies as st

from infrabot.config import MatrixConfig
from infrabot.messages import IncomingMessage, Reply
from infrabot.transports.matrix import MatrixTransport


class Crash(Exception):
    """The process dies here."""


class ServerClient(FakeClient):
    """A client of the fake homeserver: syncs come from the shared timeline."""

    def __init__(self, server: FakeServer) -> None:
        super().__init__([])
        self.server = server

    async def sync(
        self,
        timeout: int,  # noqa: ASYNC109 (nio's own signature)
        sync_filter: Any,
        since: str | None,
        full_state: bool,
    ) -> Any:
        start = int(since[1:]) if since else 0
        if since is None:
            return sync("s0")  # first start: the room is empty
        end = min(start + self.server.batch, len(self.server.events))
        if start == end:
            self.drained.set()
            await asyncio.Event().wait()
        return sync(f"s{end}", self.server.events[start:end])

    async def room_send(
        self, room_id: str, message_type: str, content: dict[str, Any], tx_id: str
    ) -> Any:
        self.server.accepted.setdefault(tx_id, content)  # a known tx_id is dropped
        return await super().room_send(room_id, message_type, content, tx_id)


class FakeServer:
    def __init__(self, commands: int, batch: int) -> None:
        self.commands = [text(f"$c{n}", f"!echo {n}") for n in range(commands)]
        self.events: list[dict[str, Any]] = []  # said once the bot has started
        self.batch = batch
        self.accepted: dict[str, dict[str, Any]] = {}


async def run_with_crashes(
    server: FakeServer, crashes: list[tuple[int, bool]], folder: Path
) -> int:
    """Run the bot until it has served everything, crashing as told; returns the restarts."""
    attempts = 0
    plan = dict(crashes)
    config = MatrixConfig(user_id=BOT, password="pw", rooms=[ALIAS], store_path=folder)
    # The bot starts once before any command, so the timeline is not "history" to it.
    first = ServerClient(server)
    transport = MatrixTransport(config, client_factory=lambda _: first)
    task = asyncio.create_task(transport.run(lambda m: asyncio.sleep(0)))
    await transport.ready.wait()
    await transport.stop()
    await task
    server.events = server.commands
    for restart in range(len(crashes) + 2):
        client = ServerClient(server)
        transport = MatrixTransport(config, client_factory=lambda _, c=client: c)

        async def deliver(message: IncomingMessage, transport: MatrixTransport = transport) -> None:
            nonlocal attempts
            attempt, attempts = attempts, attempts + 1
            after_send = plan.get(attempt)
            if after_send is False:
                raise Crash
            await transport.send(
                Reply(room=message.room, lines=(message.text,), in_reply_to=message)
            )
            if after_send:
                raise Crash

        task = asyncio.create_task(transport.run(deliver))
        drained = asyncio.create_task(client.drained.wait())
        await asyncio.wait({task, drained}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():  # answers go on beside the sync loop: wait for them (or a crash)
            answered = asyncio.create_task(transport.answered())
            await asyncio.wait({task, answered}, return_when=asyncio.FIRST_COMPLETED)
            if answered.done() and answered.exception() is not None:
                await asyncio.wait({task})  # a crashed answer takes the transport down
            answered.cancel()
        if task.done():
            drained.cancel()
            assert isinstance(task.exception(), Crash)
            continue
        await transport.stop()
        await task
        return restart
    raise AssertionError("the bot never caught up")


@settings(max_examples=60, deadline=None)
@given(
    commands=st.integers(1, 6),
    batch=st.integers(1, 4),
    crashes=st.lists(
        st.tuples(st.integers(0, 12), st.booleans()), max_size=4, unique_by=lambda c: c[0]
    ),
)
def test_every_command_is_answered_exactly_once(
    commands: int, batch: int, crashes: list[tuple[int, bool]]
) -> None:
    server = FakeServer(commands, batch)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_with_crashes(server, crashes, Path(folder)))
    answered: dict[str, int] = {}
    for content in server.accepted.values():
        asked = content["m.relates_to"]["m.in_reply_to"]["event_id"]
        answered[asked] = answered.get(asked, 0) + 1
    assert answered == {f"$c{n}": 1 for n in range(commands)}
