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
    return make_bot(rooms, encryption=True, store_secret=STORE_SECRET, trust="all", **matrix)


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
    (device_id,) = keys_after
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
