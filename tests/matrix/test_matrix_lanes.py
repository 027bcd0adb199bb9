"""Rooms are answered side by side, each room in order; a sync position is saved only once
everything before it is answered."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from fake_nio import BOT, ROOM, FakeClient, sync, text

from infrabot.config import MatrixConfig
from infrabot.messages import IncomingMessage, Reply
from infrabot.testing import until
from infrabot.transports.matrix import MatrixTransport
from infrabot.transports.matrix_lanes import RoomLanes

OTHER = "!other:x.org"


async def test_a_slow_room_does_not_hold_back_another() -> None:
    saved: list[str] = []
    done: list[str] = []
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    async def quick(name: str) -> None:
        done.append(name)

    lanes = RoomLanes(saved.append)
    await lanes.add_sync(
        "s1", [("!a", slow), ("!a", lambda: quick("a2")), ("!b", lambda: quick("b"))]
    )
    await lanes.add_sync("s2", [("!b", lambda: quick("b2"))])
    async with asyncio.timeout(5):
        while "b2" not in done:
            await asyncio.sleep(0)
    assert done == ["b", "b2"]  # room b answered while room a waits
    assert saved == []  # s1 is not answered whole: neither s1 nor s2 may be saved
    release.set()
    await lanes.drain()
    assert done == ["b", "b2", "slow", "a2"]  # room a in its own order
    assert saved == ["s1", "s2"]


async def test_a_failed_answer_saves_nothing_after_it_and_is_raised() -> None:
    saved: list[str] = []

    async def broken() -> None:
        raise RuntimeError("send failed")

    lanes = RoomLanes(saved.append)
    await lanes.add_sync("s1", [("!a", broken)])
    try:
        await lanes.guard(asyncio.Event().wait())
    except RuntimeError as exc:
        assert str(exc) == "send failed"
    else:
        raise AssertionError("guard should raise the job's error")
    assert saved == []
    lanes.cancel()


class TwoRooms(FakeClient):
    """One sync with a command in each of two configured rooms."""

    def __init__(self) -> None:
        first = sync("s2", [text("$slow", "!slow")])
        first.rooms.join[OTHER] = SimpleNamespace(
            timeline=SimpleNamespace(
                events=[SimpleNamespace(source=text("$q", "!quick"))], limited=False
            )
        )
        super().__init__([sync("s1"), first])

    async def join(self, room: str) -> Any:
        self.joined.append(room)
        from nio import JoinResponse

        return JoinResponse(room)


async def test_the_transport_answers_a_quick_room_while_a_slow_one_works(tmp_path: Any) -> None:
    client = TwoRooms()
    config = MatrixConfig(
        user_id=BOT, password="pw", rooms=[ROOM, OTHER], store_path=tmp_path / "store"
    )
    transport = MatrixTransport(config, client_factory=lambda _: client)
    release = asyncio.Event()

    async def deliver(message: IncomingMessage) -> None:
        if message.text == "!slow":
            await release.wait()
        await transport.send(Reply(room=message.room, lines=(message.text,), in_reply_to=message))

    task = asyncio.create_task(transport.run(deliver))
    await until(lambda: client.sent, 5, "the quick room's answer")
    assert [room for room, _, _ in client.sent] == [OTHER]  # the slow room has not answered
    release.set()
    await transport.answered()
    assert [room for room, _, _ in client.sent] == [OTHER, ROOM]
    await transport.stop()
    await task
