"""Plain questions through a real Synapse: a mention pill of the bot is answered, the same
question said to the room is not."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


async def test_a_question_with_a_mention_pill_is_answered_and_room_talk_is_not(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await people["boss"].create_room()
    alice = people["alice"]
    await alice.join(room_id)
    bot = make_bot([alias])
    await bot.start()

    unaddressed = await alice.say(room_id, "where does pypi run?")
    name = "infrabot"  # the bot's display name: what Element writes in a pill's plain body
    pill = f'<a href="https://matrix.to/#/{users.bot}">{name}</a>'
    response = await alice.client.room_send(
        room_id,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": f"{name}: who owns pypi?",
            "format": "org.matrix.custom.html",
            "formatted_body": f"{pill}: who owns pypi?",
            "m.mentions": {"user_ids": [users.bot]},
        },
    )
    reply = await alice.reply_to(response.event_id, users.bot)
    assert reply["content"]["body"].startswith("PyPI (pypi.python.org) is maintained by")
    # answered in order within a room: an answer to the first would have come before
    assert alice.replies_to(unaddressed, users.bot) == []
