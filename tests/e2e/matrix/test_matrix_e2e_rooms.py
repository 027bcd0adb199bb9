"""Through a real Synapse: a slow command in one room does not delay answers in another."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SLOW_SECONDS = 10


async def _round_trip(person: Any, room_id: str, bot: str, text: str) -> float:
    start = time.perf_counter()
    asked = await person.say(room_id, text)
    await person.reply_to(asked, bot)
    return time.perf_counter() - start


async def test_a_slow_command_in_one_room_does_not_delay_another_room(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    boss, alice = people["boss"], people["alice"]
    slow_room, slow_alias = await boss.create_room()
    quick_room, quick_alias = await boss.create_room()
    for room_id in (slow_room, quick_room):
        await alice.join(room_id)
    bot = make_bot([slow_alias, quick_alias])
    await bot.start()
    alone = [await _round_trip(alice, quick_room, users.bot, f"!echo {n}") for n in range(3)]

    napping = await boss.say(slow_room, f"!nap {SLOW_SECONDS}")
    await asyncio.sleep(0.3)  # the nap is under way in its room
    during = [await _round_trip(alice, quick_room, users.bot, f"!echo x{n}") for n in range(3)]
    assert boss.replies_to(napping, users.bot) == []  # all three answered while it naps
    delay = statistics.median(during) - statistics.median(alone)
    assert delay < 0.1, f"answers in another room were {delay * 1000:.0f} ms slower"
    reply = await boss.reply_to(napping, users.bot, within=SLOW_SECONDS + 10)
    assert reply["content"]["body"].endswith(f"slept {SLOW_SECONDS} s")
