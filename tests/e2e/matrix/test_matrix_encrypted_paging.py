"""End to end through a real Synapse: a page from an encrypted room reaches the maintainer
in an encrypted direct chat, and they acknowledge it there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from encrypted_people import STORE_SECRET, EncryptedPerson

from infrabot.config import PagingConfig

pytestmark = pytest.mark.e2e


async def test_a_page_goes_to_an_encrypted_direct_chat_where_the_ack_works(
    synapse: Any, make_bot: Any, tmp_path: Path
) -> None:
    server, users = synapse
    boss = EncryptedPerson(server.url, users.boss, tmp_path / "boss-crypto")
    alice = EncryptedPerson(server.url, users.alice, tmp_path / "alice-crypto")
    await boss.login()
    await alice.login()
    try:
        room_id, alias = await boss.create_encrypted_room()
        inventory = tmp_path / "on-call.yaml"
        inventory.write_text(
            "people:\n"
            f"  - name: Alice\n    contact: {{matrix_id: '{users.alice}'}}\n"
            "services:\n  - name: PyPI\n    owners: [Alice]\n"
        )
        bot = make_bot(
            [alias], encryption=True, store_secret=STORE_SECRET, trust="all", cross_signing=False
        )
        bot.config = bot.config.model_copy(
            update={"inventory": inventory, "paging": PagingConfig(escalate_after=600)}
        )
        await bot.start()
        await boss.wait_for_member(room_id, users.bot)

        asked = await boss.say(room_id, "!page pypi uploads failing")
        reply = await boss.reply_to(asked, users.bot)
        assert reply["decrypted"]
        page_id = reply["content"]["body"].split()[1]

        direct = await alice.accept_direct_from(users.bot, f"PAGE {page_id} for PyPI")
        assert alice.client.rooms[direct].encrypted  # the bot opened it encrypted
        page = next(e for e in alice.events if e["room_id"] == direct)
        assert page["decrypted"]

        ack = await alice.say(direct, f"!ack {page_id}")
        answer = await alice.reply_to(ack, users.bot)
        assert answer["decrypted"]
        assert answer["content"]["body"] == f"acknowledged {page_id} (PyPI); escalation stopped"
    finally:
        await boss.close()
        await alice.close()


async def test_an_invite_to_an_encrypted_direct_chat_is_accepted_and_answered(
    synapse: Any, make_bot: Any, tmp_path: Path
) -> None:
    server, users = synapse
    alice = EncryptedPerson(server.url, users.alice, tmp_path / "alice-crypto")
    await alice.login()
    try:
        bot = make_bot(
            [],
            encryption=True,
            store_secret=STORE_SECRET,
            trust="all",
            cross_signing=False,
            direct_messages=True,
        )
        await bot.start()
        direct, _alias = await alice.create_encrypted_room(invite=(users.bot,), direct=True)
        await alice.wait_for_member(direct, users.bot)

        asked = await alice.say(direct, "owner pypi")  # no prefix needed in private
        answer = await alice.reply_to(asked, users.bot)
        assert answer["decrypted"]
        assert "PyPI" in answer["content"]["body"]
    finally:
        await alice.close()
