"""Round trip of ``!owner pypi`` through a real Synapse, beside a minimal nio bot (the floor).

One Synapse, two rooms: infrabot (the real App with the Matrix transport) in one, and a
minimal matrix-nio bot that answers every message with a fixed notice in the other. One
asker alternates between them, one request at a time, so both see the same homeserver load
and drift. Each round trip runs from just before the asker sends to the moment its sync
delivers the reply. Prints p50/p99 of each and the bar: ours p50 <= floor p50 + 5 ms.

    python bench/matrix_roundtrip.py [--requests 200] [--warmup 10] [--write FILE]

Needs Synapse (``scripts/install-synapse``). Bounded: every wait has a time limit, the
request count is fixed, and Synapse binds 127.0.0.1 and is stopped by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
# The e2e harness knows how to configure, start and stop Synapse; the benchmark reuses it.
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "matrix"))

from matrix_harness import (  # noqa: E402
    PASSWORD,
    Bot,
    Person,
    bot_config,
    start_synapse,
    synapse_python,
)
from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    MatrixRoom,
    RoomMessageText,
)

COMMAND = "!owner pypi"


class FloorBot:
    """The least a nio bot can do: answer every text message with a fixed notice."""

    def __init__(self, homeserver: str, user_id: str) -> None:
        self.client = AsyncClient(homeserver, user_id, config=AsyncClientConfig())
        self._task: asyncio.Task[None] | None = None

    async def start(self, room: str) -> None:
        assert not isinstance(await self.client.login(PASSWORD), ErrorResponse)
        assert not isinstance(await self.client.join(room), ErrorResponse)
        await self.client.sync(timeout=0)  # past the history, or it answers old messages
        self.client.add_event_callback(self._answer, RoomMessageText)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=30000))

    async def _answer(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id:
            return
        content = {
            "msgtype": "m.notice",
            "body": "pong",
            "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
        }
        await self.client.room_send(room.room_id, "m.room.message", content)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


class Asker:
    """Sends a command and times until the reply to it arrives through its own sync."""

    def __init__(self, person: Person) -> None:
        self.client = person.client
        self.arrived: dict[str, float] = {}
        self._news = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            response = await self.client.sync(timeout=30000)
            now = time.perf_counter()
            if isinstance(response, ErrorResponse):
                await asyncio.sleep(0.1)
                continue
            for info in response.rooms.join.values():
                for event in info.timeline.events:
                    relates = event.source.get("content", {}).get("m.relates_to", {})
                    asked = relates.get("m.in_reply_to", {}).get("event_id")
                    if asked:
                        self.arrived.setdefault(asked, now)
            self._news.set()

    async def round_trip(self, room_id: str) -> float:
        start = time.perf_counter()
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": COMMAND}
        )
        assert not isinstance(response, ErrorResponse), response
        async with asyncio.timeout(30):
            while response.event_id not in self.arrived:
                self._news.clear()
                await self._news.wait()
        return (self.arrived.pop(response.event_id) - start) * 1000

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def measure(requests: int, warmup: int) -> dict[str, list[float]]:
    python = synapse_python()
    if python is None:
        raise SystemExit("Synapse is not installed: run scripts/install-synapse")
    folder = Path(tempfile.mkdtemp(prefix="infrabot-bench-"))
    server, users = start_synapse(python, folder / "synapse")
    alice = Person(server.url, users.alice)
    floor = FloorBot(server.url, f"@floorbot:{users.alice.split(':', 1)[1]}")
    bot: Bot | None = None
    asker: Asker | None = None
    try:
        server.register("floorbot", displayname="floorbot")
        await alice.login()
        await alice.stop_recording()
        ours_room, ours_alias = await alice.create_room()
        floor_room, floor_alias = await alice.create_room()
        bot = Bot(bot_config(server.url, users, [ours_alias], folder / "bot"))
        await bot.start()
        await floor.start(floor_alias)
        asker = Asker(alice)
        asker.start()
        times: dict[str, list[float]] = {"infrabot": [], "floor": []}
        for n in range(warmup + requests):
            # Alternate which goes first so neither always follows the other.
            order = [("infrabot", ours_room), ("floor", floor_room)]
            for name, room in order if n % 2 == 0 else order[::-1]:
                elapsed = await asker.round_trip(room)
                if n >= warmup:
                    times[name].append(elapsed)
        return times
    finally:
        try:
            if asker is not None:
                await asker.stop()
            if bot is not None:
                await bot.stop()
            await floor.stop()
            await alice.client.close()
        finally:
            server.stop()  # whatever failed above, never leave the homeserver running


def report(times: dict[str, list[float]]) -> str:
    ours, floor = times["infrabot"], times["floor"]
    ours_p50, floor_p50 = percentile(ours, 50), percentile(floor, 50)
    verdict = "meets" if ours_p50 <= floor_p50 + 5 else "MISSES"
    lines = [
        f"Round trip of `{COMMAND}` through Synapse, {len(ours)} requests each, alternating.",
        f"({datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{platform.machine()}, loopback)",
        "",
        "| bot | p50 ms | p99 ms | mean ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, values in (("infrabot", ours), ("floor (minimal nio bot)", floor)):
        lines.append(
            f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 99):.1f} "
            f"| {statistics.fmean(values):.1f} | {max(values):.1f} |"
        )
    lines += [
        "",
        f"Bar: infrabot p50 <= floor p50 + 5 ms: {ours_p50:.1f} <= {floor_p50 + 5:.1f}, "
        f"{verdict} it (difference {ours_p50 - floor_p50:+.1f} ms).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--write", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    text = report(asyncio.run(measure(args.requests, args.warmup)))
    print(text)
    if args.write:
        args.write.write_text(f"# Matrix round trip\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
