"""Round trip of ``!owner pypi`` in an encrypted room beside a plain room, and start-up with
an existing crypto store beside a plain start, through one real Synapse.

One bot (encryption on, ``trust: all``) serves both rooms; one asker on an encrypting
matrix-nio client alternates between them, one request at a time, so both see the same
homeserver load. A round trip runs from just before the send to the moment the asker's sync
hands over the (decrypted) reply. Bars: encrypted p50 <= plain p50 + 10 ms; start-up with
an existing crypto store <= plain start-up + 2 s.

    python bench/matrix_encrypted_roundtrip.py [--requests 100] [--write FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "matrix"))

from encrypted_people import STORE_SECRET, EncryptedPerson  # noqa: E402
from matrix_harness import Bot, bot_config, start_synapse, synapse_python  # noqa: E402
from nio import RoomMessageNotice  # noqa: E402


async def _round_trip(asker: EncryptedPerson, room_id: str, bot: str) -> float:
    arrived = asyncio.get_running_loop().create_future()

    async def on_notice(room: object, event: RoomMessageNotice) -> None:
        if event.sender == bot and not arrived.done():
            arrived.set_result(time.perf_counter())

    asker.client.add_event_callback(on_notice, RoomMessageNotice)
    try:
        start = time.perf_counter()
        await asker.say(room_id, "!owner pypi")
        done: float = await asyncio.wait_for(arrived, 20)
    finally:
        asker.client.event_callbacks.pop()
    return (done - start) * 1000


async def _start_time(config: object) -> float:
    bot = Bot(config)  # type: ignore[arg-type]
    start = time.perf_counter()
    await bot.start()
    elapsed = time.perf_counter() - start
    await bot.stop()
    return elapsed


async def _run(requests: int, folder: Path) -> str:
    python = synapse_python()
    if python is None:
        raise SystemExit("Synapse is not installed: run scripts/install-synapse")
    server, users = start_synapse(python, folder / "synapse")
    try:
        asker = EncryptedPerson(server.url, users.alice, folder / "alice")
        await asker.login()
        plain_room = await asker.client.room_create(alias=f"plain-{time.time_ns()}")
        plain = plain_room.room_id
        secret, secret_alias = await asker.create_encrypted_room()
        rooms = [secret_alias, plain]
        encrypted = bot_config(
            server.url,
            users,
            rooms,
            folder / "bot",
            encryption=True,
            store_secret=STORE_SECRET,
            trust="all",
            cross_signing=False,
        )
        await asker.client.room_invite(plain, users.bot)
        bot = Bot(encrypted)
        await bot.start()
        await asker.wait_for_member(secret, users.bot)
        await asker.wait_for_member(plain, users.bot)
        times: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for _ in range(5):  # warm up: sessions, caches
            await _round_trip(asker, secret, users.bot)
            await _round_trip(asker, plain, users.bot)
        for _ in range(requests):
            times["encrypted"].append(await _round_trip(asker, secret, users.bot))
            times["plain"].append(await _round_trip(asker, plain, users.bot))
        await bot.stop()
        plain_config = bot_config(server.url, users, rooms, folder / "plainbot")
        # The default setting: cross-signed, its keys restored from secret storage at start.
        signed = bot_config(
            server.url,
            users,
            rooms,
            folder / "signedbot",
            encryption=True,
            store_secret=STORE_SECRET,
        )
        await _start_time(plain_config)  # first start: creates its store
        await _start_time(signed)  # first start: creates its keys and secret storage
        starts = {
            "plain": statistics.median([await _start_time(plain_config) for _ in range(3)]),
            "encrypted": statistics.median([await _start_time(encrypted) for _ in range(3)]),
            "cross-signed": statistics.median([await _start_time(signed) for _ in range(3)]),
        }
        await asker.close()
    finally:
        server.stop()
    return _report(times, starts, requests)


def _report(times: dict[str, list[float]], starts: dict[str, float], requests: int) -> str:
    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    lines = [f"{requests} round trips each, alternating; start-up: median of 3", ""]
    lines.append("| room | p50 ms | p99 ms |")
    lines.append("|---|---|---|")
    for name, values in times.items():
        lines.append(f"| {name} | {statistics.median(values):.1f} | {p(values, 99):.1f} |")
    gap = statistics.median(times["encrypted"]) - statistics.median(times["plain"])
    lines.append("")
    lines.append(f"encrypted p50 - plain p50: {gap:+.1f} ms (bar: <= +10 ms)")
    extra = starts["encrypted"] - starts["plain"]
    lines.append(
        f"start-up: plain {starts['plain']:.2f} s, encrypted with its store "
        f"{starts['encrypted']:.2f} s: {extra:+.2f} s (bar: <= +2 s)"
    )
    signed = starts["cross-signed"] - starts["plain"]
    lines.append(
        f"start-up: encrypted and cross-signed with its store {starts['cross-signed']:.2f} s: "
        f"{signed:+.2f} s (bar: <= +2 s)"
    )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and print (or write) its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(_run(args.requests, Path(folder)))
    print(report)
    if args.write:
        args.write.write_text(f"# Matrix: encrypted vs plain round trip\n\n{report}\n")


if __name__ == "__main__":
    main()
