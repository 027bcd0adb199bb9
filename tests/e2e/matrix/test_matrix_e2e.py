"""End to end through a real Synapse: answers, restarts, exactly once, age, identity."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from nio import RoomPreset

from infrabot.messages import IncomingMessage, Reply, Room, Sender
from infrabot.transports.matrix import MATRIX
from infrabot.transports.matrix_store import MatrixStateStore

pytestmark = pytest.mark.e2e


async def _room(people: dict[str, Any], users: Any) -> tuple[str, str]:
    """A fresh room made by the boss, with Alice and Mallory in it."""
    room_id, alias = await people["boss"].create_room()
    for name in ("alice", "mallory"):
        await people[name].join(room_id)
    return room_id, alias


async def test_answer_is_a_formatted_notice_replying_to_the_asker(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias])
    await bot.start()
    alice = people["alice"]

    asked = await alice.say(room_id, "!owner pypi")
    reply = await alice.reply_to(asked, users.bot)

    content = reply["content"]
    assert content["msgtype"] == "m.notice"
    assert "PyPI" in content["body"]
    assert content["format"] == "org.matrix.custom.html"
    assert "PyPI" in content["formatted_body"]
    assert content["m.relates_to"]["m.in_reply_to"]["event_id"] == asked
    assert "m.mentions" not in content  # a plain answer pings nobody

    # What a user typed comes back escaped in the HTML, plain in the body.
    asked = await alice.say(room_id, "!echo <b>bold</b> & co")
    content = (await alice.reply_to(asked, users.bot))["content"]
    assert content["body"] == "you said: <b>bold</b> & co"
    assert content["formatted_body"] == "you said: &lt;b&gt;bold&lt;/b&gt; &amp; co"

    # A mention is a real pill and is listed in m.mentions, so the client notifies.
    asked = await alice.say(room_id, "!hail")
    content = (await alice.reply_to(asked, users.bot))["content"]
    assert content["msgtype"] == "m.text"  # so the mention notifies; notices never do
    assert content["body"] == "hello Alice, you are on call"
    assert f'<a href="https://matrix.to/#/{users.alice}">Alice</a>' in content["formatted_body"]
    assert content["m.mentions"]["user_ids"] == [users.alice]
    hail = alice.replies_to(asked, users.bot)[0]["event_id"]
    notified = await alice.notified_events()
    assert hail in notified  # the mention really notifies Alice
    assert reply["event_id"] not in notified  # plain answers are quiet notices


async def test_notices_and_own_messages_are_not_answered(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, _alias = await _room(people, users)
    bot = make_bot([room_id])  # a room can be configured by ID as well as by alias
    await bot.start()
    alice = people["alice"]

    response = await alice.client.room_send(
        room_id, "m.room.message", {"msgtype": "m.notice", "body": "!iam"}
    )
    notice = response.event_id
    marker = await alice.say(room_id, "!iam")
    await alice.reply_to(marker, users.bot)
    await asyncio.sleep(0.3)
    assert alice.replies_to(notice, users.bot) == []
    # One answer per command: the bot never answered its own notices either.
    from_bot = [e for e in alice.events if e.get("sender") == users.bot and e["room_id"] == room_id]
    assert len([e for e in from_bot if e["type"] == "m.room.message"]) == 1


async def test_bot_resumes_after_synapse_restarts(
    synapse: Any, people: dict[str, Any], make_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias])
    await bot.start()
    alice = people["alice"]
    asked = await alice.say(room_id, "!iam")
    await alice.reply_to(asked, users.bot)

    caplog.set_level(logging.WARNING, logger="infrabot.transports.matrix")
    await asyncio.to_thread(server.restart)

    asked = await alice.say(room_id, "!owner pypi")
    reply = await alice.reply_to(asked, users.bot, within=30)
    assert "PyPI" in reply["content"]["body"]
    await asyncio.sleep(0.5)
    assert len(alice.replies_to(asked, users.bot)) == 1
    # The bot noticed the outage and waited it out with backoff, not a tight loop.
    retries = [r for r in caplog.records if "retry in" in r.getMessage()]
    assert 1 <= len(retries) <= 15, [r.getMessage() for r in retries]


async def test_commands_sent_while_down_are_answered_exactly_once(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias])
    await bot.start()
    await bot.stop()
    alice = people["alice"]

    asked = [await alice.say(room_id, f"!echo while down {n}") for n in range(3)]
    await bot.start()
    for event_id in asked:
        await alice.reply_to(event_id, users.bot)

    # Restart again: a fresh command is answered, the three are not answered again.
    device = MatrixStateStore(bot.config.matrix.store_path).session
    await bot.stop()
    await bot.start()
    assert MatrixStateStore(bot.config.matrix.store_path).session == device  # same device
    marker = await alice.say(room_id, "!iam")
    await alice.reply_to(marker, users.bot)
    await asyncio.sleep(0.5)
    for n, event_id in enumerate(asked):
        replies = alice.replies_to(event_id, users.bot)
        assert [r["content"]["body"] for r in replies] == [f"you said: while down {n}"]


async def test_a_command_older_than_max_age_is_ignored(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias], max_age=2.0)
    await bot.start()
    await bot.stop()
    alice = people["alice"]

    stale = await alice.say(room_id, "!echo stale")
    await asyncio.sleep(2.5)
    fresh = await alice.say(room_id, "!echo fresh")
    await bot.start()

    await alice.reply_to(fresh, users.bot)
    await asyncio.sleep(0.5)
    assert alice.replies_to(stale, users.bot) == []


async def test_a_display_name_never_makes_an_admin(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias])
    await bot.start()
    boss, mallory = people["boss"], people["mallory"]
    await mallory.rename_in(room_id, "The Boss")  # the boss's display name exactly

    asked = await mallory.say(room_id, "!iam")
    body = (await mallory.reply_to(asked, users.bot))["content"]["body"]
    assert body == f"name=The Boss account={users.mallory} admin=no"

    asked = await mallory.say(room_id, "!sesame")
    body = (await mallory.reply_to(asked, users.bot))["content"]["body"]
    assert "admins only" in body

    asked = await boss.say(room_id, "!sesame")
    body = (await boss.reply_to(asked, users.bot))["content"]["body"]
    assert body == "the vault is open"
    await mallory.set_name("Mallory")


async def test_an_answer_resent_after_a_crash_is_dropped_by_the_homeserver(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    """The window exactly once cannot close alone: sent, then died before saving."""
    _server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias])
    await bot.start()
    alice = people["alice"]
    asked = await alice.say(room_id, "!iam")
    await alice.reply_to(asked, users.bot)

    # Replay what a restarted bot would send if the crash came before the event was saved:
    # the same answer to the same event, from the same device, in a new process.
    await bot.stop()
    await bot.start()
    sender = Sender(network=MATRIX, name="Alice", account=users.alice, address=users.alice)
    room = Room(network=MATRIX, id=room_id)
    message = IncomingMessage(sender=sender, room=room, text="!iam", event_id=asked)
    await bot.transport.send(Reply(room=room, lines=("again",), in_reply_to=message))

    marker = await alice.say(room_id, "!echo marker")
    await alice.reply_to(marker, users.bot)
    assert len(alice.replies_to(asked, users.bot)) == 1


async def test_a_question_in_a_thread_is_answered_in_that_thread(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people, users)
    bot = make_bot([alias])
    await bot.start()
    alice = people["alice"]
    root = await alice.say(room_id, "deploy of pypi went sideways")
    response = await alice.client.room_send(
        room_id,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "!owner pypi",
            "m.relates_to": {"rel_type": "m.thread", "event_id": root},
        },
    )
    relation = (await alice.reply_to(response.event_id, users.bot))["content"]["m.relates_to"]
    assert relation["rel_type"] == "m.thread"
    assert relation["event_id"] == root


async def test_invites_are_accepted_only_to_configured_rooms(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    boss, alice = people["boss"], people["alice"]
    wanted, wanted_alias = await boss.create_room(private=True)
    unwanted, _ = await boss.create_room(private=True)
    bot = make_bot([wanted_alias])
    await bot.start()  # cannot join the invite-only room yet, and says so

    await boss.invite(unwanted, users.bot)
    await boss.invite(wanted, users.bot)
    await boss.wait_for(
        lambda: any(
            e["room_id"] == wanted
            and e.get("state_key") == users.bot
            and e["content"].get("membership") == "join"
            for e in boss.events
        ),
        what="the bot to accept the invite to the configured room",
    )
    await boss.invite(wanted, users.alice)
    await alice.join(wanted)
    asked = await alice.say(wanted, "!echo inside")
    assert (await alice.reply_to(asked, users.bot))["content"]["body"] == "you said: inside"

    members = await boss.members(unwanted)
    assert members.get(users.bot) == "leave"  # the other invite was declined


async def test_a_direct_chat_is_served_in_private_when_enabled(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    _room_id, alias = await _room(people, users)
    bot = make_bot([alias], direct_messages=True)
    await bot.start()
    alice = people["alice"]
    response = await alice.client.room_create(
        is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[users.bot]
    )
    dm = response.room_id
    # No prefix needed in private, and the bot may be asked before it has even joined.
    asked = await alice.say(dm, "owner pypi")
    reply = await alice.reply_to(asked, users.bot)
    assert "PyPI" in reply["content"]["body"]
