"""Through a real Synapse: a Matrix user who floods the bot with commands is told once, in
private, and then ignored for a while; the others in the room are answered as before."""

from __future__ import annotations

from typing import Any

import pytest

from infrabot.config import RateLimitConfig

pytestmark = pytest.mark.e2e


async def test_a_flooding_user_is_told_once_and_ignored(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    boss, alice = people["boss"], people["alice"]
    room_id, alias = await boss.create_room()
    await alice.join(room_id)
    bot = make_bot([alias], rate_limit=RateLimitConfig(rate=0.05, burst=3, quiet=60))
    await bot.start()

    asked = [await alice.say(room_id, f"!echo {n}") for n in range(6)]
    # the room is answered in order: once the boss has an answer, alice's six were dealt with
    after = await boss.say(room_id, "!echo from the boss")
    await boss.reply_to(after, users.bot)
    for event_id in asked[:3]:
        assert len(alice.replies_to(event_id, users.bot)) == 1
    assert [alice.replies_to(e, users.bot) for e in asked[3:]] == [[], [], []]
    direct = await alice.accept_direct_from(users.bot, "you are sending commands too fast")
    notices = [
        e
        for e in alice.events
        if e["room_id"] == direct and "too fast" in e["content"].get("body", "")
    ]
    assert len(notices) == 1  # told once, not once per ignored command
