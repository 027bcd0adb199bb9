"""End to end through a real Synapse: the bot reads and answers encrypted rooms.

Alice's client is matrix-nio with its own Olm machine, a separate device and store: it
encrypts her commands and decrypts the bot's answers exactly as a user's client would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from encrypted_people import STORE_SECRET, EncryptedPerson

pytestmark = pytest.mark.e2e


@pytest.fixture
async def encrypted_alice(synapse: Any, tmp_path: Path) -> AsyncIterator[EncryptedPerson]:
    """Alice on an encrypting client."""
    server, users = synapse
    person = EncryptedPerson(server.url, users.alice, tmp_path / "alice-crypto")
    await person.login()
    try:
        yield person
    finally:
        await person.close()


def encrypted_bot(make_bot: Callable[..., Any], rooms: list[str], **matrix: Any) -> Any:
    """A bot with encryption on, trusting every device (cross-signing is another test's)."""
    return make_bot(
        rooms,
        encryption=True,
        store_secret=STORE_SECRET,
        trust="all",
        cross_signing=False,
        **matrix,
    )


async def test_answers_in_an_encrypted_room_exactly_once_across_a_restart(
    synapse: Any, encrypted_alice: EncryptedPerson, make_bot: Any
) -> None:
    _server, users = synapse
    alice = encrypted_alice
    room_id, alias = await alice.create_encrypted_room()
    bot = encrypted_bot(make_bot, [alias])
    await bot.start()
    await alice.wait_for_member(room_id, users.bot)

    asked = await alice.say(room_id, "!owner pypi")
    reply = await alice.reply_to(asked, users.bot)
    assert reply["decrypted"], "the answer went out in clear"
    assert reply["type"] == "m.room.message"
    assert "PyPI" in reply["content"]["body"]
    device = bot.transport.config.store_path
    keys_before = (await alice.query_keys(users.bot))["device_keys"][users.bot]

    await bot.stop()
    while_away = await alice.say(room_id, "!owner pypi")  # sent while the bot is down
    await bot.start()
    await alice.reply_to(while_away, users.bot)
    after = await alice.say(room_id, "!owner pypi")
    await alice.reply_to(after, users.bot)
    await bot.transport.answered()

    assert len(alice.replies_to(asked, users.bot)) == 1  # nothing answered twice
    assert len(alice.replies_to(while_away, users.bot)) == 1
    keys_after = (await alice.query_keys(users.bot))["device_keys"][users.bot]
    assert keys_after.keys() == keys_before.keys()  # one device for life, not one per start
    device_id = bot.transport._client.device_id
    assert keys_after[device_id]["keys"] == keys_before[device_id]["keys"]  # same identity
    assert (device / "crypto.sqlite3").stat().st_mode & 0o077 == 0


async def test_a_plain_room_is_still_answered_in_clear(
    synapse: Any, people: dict[str, Any], make_bot: Any
) -> None:
    _server, users = synapse
    room_id, alias = await people["boss"].create_room()
    await people["alice"].join(room_id)
    bot = encrypted_bot(make_bot, [alias])
    await bot.start()

    asked = await people["alice"].say(room_id, "!owner pypi")
    reply = await people["alice"].reply_to(asked, users.bot)
    assert reply["type"] == "m.room.message"
    assert "PyPI" in reply["content"]["body"]


async def test_a_late_room_key_is_asked_for_and_its_event_answered_once_across_a_restart(
    synapse: Any, encrypted_alice: EncryptedPerson, make_bot: Any
) -> None:
    _server, users = synapse
    alice = encrypted_alice
    room_id, alias = await alice.create_encrypted_room()
    bot = encrypted_bot(make_bot, [alias], undecryptable_notice_after=60.0)
    await bot.start()
    await alice.wait_for_member(room_id, users.bot)

    asked, key = await alice.say_withholding_key(room_id, "!owner pypi", users.bot)
    # the bot asks Alice's own devices, which hold the key, not only its own
    await alice.wait_for(
        lambda: any(r.session_id == key["session_id"] for r in alice.key_requests),
        what="the bot's request for the missing key",
    )
    await bot.stop()
    await bot.start()  # the event is still held after a restart
    await alice.send_room_key(users.bot, key)

    reply = await alice.reply_to(asked, users.bot)
    assert "PyPI" in reply["content"]["body"]
    await bot.stop()
    await bot.start()
    marker = await alice.say(room_id, "!owner pypi")  # a fresh key: readable at once
    await alice.reply_to(marker, users.bot)
    assert len(alice.replies_to(asked, users.bot)) == 1


async def test_a_sender_whose_messages_stay_unreadable_is_told_once(
    synapse: Any, encrypted_alice: EncryptedPerson, make_bot: Any, caplog: Any
) -> None:
    _server, users = synapse
    alice = encrypted_alice
    room_id, alias = await alice.create_encrypted_room()
    bot = encrypted_bot(make_bot, [alias], undecryptable_notice_after=0.5)
    await bot.start()
    await alice.wait_for_member(room_id, users.bot)

    first, key = await alice.say_withholding_key(room_id, "!owner pypi", users.bot)

    def notices() -> list[dict[str, Any]]:
        return [
            e
            for e in alice.events
            if e["sender"] == users.bot and "cannot read your encrypted" in e["content"]["body"]
        ]

    await alice.wait_for(lambda: bool(notices()), what="the bot to say it cannot read Alice")
    assert notices()[0]["decrypted"]
    assert users.alice in notices()[0]["content"]["body"]
    assert key["session_id"] in caplog.text  # the unreadable event is logged with its session
    await bot.transport.answered()
    assert len(notices()) == 1
    assert not alice.replies_to(first, users.bot)  # nothing made up for an unread command
