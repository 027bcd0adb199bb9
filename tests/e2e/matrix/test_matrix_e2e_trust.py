"""End to end through a real Synapse: ``trust: cross-signed`` keeps the bot's room keys from
devices their owner has not cross-signed, and lets a device in once it is signed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from encrypted_people import STORE_SECRET, EncryptedPerson
from matrix_harness import PASSWORD

from infrabot.config import MatrixConfig
from infrabot.transports.matrix_cross_signing import cross_sign_device

pytestmark = pytest.mark.e2e


async def test_only_cross_signed_devices_read_the_bots_answers(
    synapse: Any, make_bot: Any, tmp_path: Path
) -> None:
    server, users = synapse
    alice = EncryptedPerson(server.url, users.alice, tmp_path / "alice-crypto")
    await alice.login()
    try:
        room_id, alias = await alice.create_encrypted_room()
        bot = make_bot(
            [alias],
            encryption=True,
            store_secret=STORE_SECRET,
            trust="cross-signed",
            cross_signing=False,
        )
        await bot.start()
        await alice.wait_for_member(room_id, users.bot)

        await alice.say(room_id, "!owner pypi")
        await alice.wait_for(
            lambda: any(e.sender == users.bot for e in alice.undecryptable),
            what="the bot's answer, which Alice's unsigned device must not read",
        )
        assert not [e for e in alice.events if e["sender"] == users.bot]

        # Alice cross-signs her device; the homeserver tells the bot her devices changed
        alice_keys = MatrixConfig(
            user_id=users.alice, password=PASSWORD, store_path=tmp_path / "alice-signing"
        )
        await cross_sign_device(alice.client, alice_keys)
        asked = await alice.say(room_id, "!owner pypi")
        reply = await alice.reply_to(asked, users.bot)
        assert reply["decrypted"] and "PyPI" in reply["content"]["body"]
    finally:
        await alice.close()
