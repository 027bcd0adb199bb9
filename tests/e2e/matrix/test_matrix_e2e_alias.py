"""Through a real Synapse: a room named by its alias (as `paging.announce` may name it) is
sent to by the room ID the alias resolves to; the homeserver refuses sends to an alias."""

from __future__ import annotations

from typing import Any

import pytest

from infrabot.messages import Reply, Room
from infrabot.transports.matrix import MATRIX

pytestmark = pytest.mark.e2e


async def test_an_announcement_to_a_room_alias_reaches_the_room(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    boss = people["boss"]
    room_id, alias = await boss.create_room()
    bot = make_bot([alias])
    await bot.start()
    assert bot.transport is not None
    await bot.transport.send(
        Reply(room=Room(MATRIX, alias), lines=("ALERT [critical] pypi: down",))
    )
    await boss.wait_for(
        lambda: any(
            e["room_id"] == room_id
            and e.get("sender") == users.bot
            and e["content"].get("body") == "ALERT [critical] pypi: down"
            for e in boss.events
        ),
        what="the announcement in the room",
    )
