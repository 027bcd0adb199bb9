"""End to end through a real Synapse with a client no one here wrote: matrix-js-sdk on its
Rust crypto (the crypto Element uses), in Element's strictest mode, which reads only messages
from devices their owner has cross-signed and gives room keys only to such devices.

The bot runs as shipped: cross-signing on, ``trust: cross-signed``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from encrypted_people import STORE_SECRET
from js_client import JsDevice, JsDriver, js_missing
from matrix_harness import SERVER_NAME

from infrabot.config import PagingConfig

pytestmark = pytest.mark.e2e

ANSWER = "PyPI"


@pytest.fixture
async def js(tmp_path: Path) -> AsyncIterator[JsDriver]:
    """The js client's Node process; missing packages fail under CI and skip elsewhere."""
    missing = js_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    driver = JsDriver(tmp_path / "js-client.log")
    await driver.start()
    try:
        yield driver
    finally:
        await driver.close()


async def signed_in(js: JsDriver, server: Any, user_id: str, name: str) -> tuple[JsDevice, str]:
    """A device of ``user_id`` on the js client, and the recovery key: the user's
    cross-signing and secret storage set up from it, as Element's first login does."""
    device = await JsDevice.login(js, name, server.url, user_id)
    assert (await device.call("bootstrap_cross_signing"))["ready"]
    recovery_key: str = (await device.call("bootstrap_secret_storage"))["recovery_key"]
    return device, recovery_key


async def invite_to_new_room(owner: JsDevice, bot_user: str) -> tuple[str, str]:
    """An encrypted invite-only room ``owner`` creates, inviting the bot: (room ID, alias)."""
    localpart = f"js-{os.urandom(5).hex()}"
    created = await owner.call("create_room", invite=[bot_user], alias=localpart)
    return created["room_id"], f"#{localpart}:{SERVER_NAME}"


def encrypted_bot(make_bot: Any, rooms: list[str]) -> Any:
    """The bot with encryption on and the shipped defaults for cross-signing and trust."""
    return make_bot(rooms, encryption=True, store_secret=STORE_SECRET)


async def test_an_encrypted_room_of_a_js_client_across_a_restart_and_a_new_device(
    synapse: Any, make_bot: Any, js: JsDriver
) -> None:
    server, users = synapse
    alice, recovery_key = await signed_in(js, server, users.alice, "alice-laptop")
    room_id, alias = await invite_to_new_room(alice, users.bot)
    bot = encrypted_bot(make_bot, [alias])
    await bot.start()  # accepts the invite: the room is one of its own
    await alice.call("wait_for_member", room_id=room_id, user_id=users.bot)

    asked = await alice.say(room_id, "!owner pypi")
    reply = await alice.reply_to(asked, users.bot)
    assert reply["encrypted"], "the answer went out in clear"
    assert ANSWER in reply["content"]["body"]
    # decrypted at all means js-sdk found the bot's device cross-signed (strict mode); and
    # Element would mark it so: no "device not verified by its owner" on the message
    assert reply["shield"]["reason"] not in (2, 3), reply["shield"]  # UNSIGNED/UNKNOWN_DEVICE
    bot_device = bot.transport._client.device_id
    status = await alice.call("device_status", user_id=users.bot, device_id=bot_device)
    assert status["signed_by_owner"], status

    await bot.stop()
    while_away = await alice.say(room_id, "!owner pypi")
    await bot.start()
    await alice.reply_to(while_away, users.bot)
    after = await alice.say(room_id, "!owner pypi")
    assert ANSWER in (await alice.reply_to(after, users.bot))["content"]["body"]

    # a second login of Alice's signs itself with her keys from secret storage, as Element's
    # "verify with your recovery key" does
    phone = await JsDevice.login(
        js, "alice-phone", server.url, users.alice, recovery_key=recovery_key
    )
    assert (await phone.call("bootstrap_cross_signing"))["ready"]
    status = await alice.call(
        "device_status", user_id=users.alice, device_id=phone.device_id, wait_signed=10
    )
    assert status["signed_by_owner"], status
    from_phone = await phone.say(room_id, "!owner pypi")
    answer = await phone.reply_to(from_phone, users.bot)  # its keys reached the new device
    assert answer["encrypted"] and ANSWER in answer["content"]["body"]
    await alice.reply_to(from_phone, users.bot)  # and the first one

    await bot.transport.answered()
    for event_id in (asked, while_away, after, from_phone):
        assert len(await alice.replies_to(event_id, users.bot)) == 1  # nothing answered twice


async def test_a_page_reaches_the_js_maintainers_encrypted_direct_chat_where_ack_works(
    synapse: Any, make_bot: Any, js: JsDriver, tmp_path: Path
) -> None:
    server, users = synapse
    alice, _recovery_key = await signed_in(js, server, users.alice, "alice-laptop")
    room_id, alias = await invite_to_new_room(alice, users.bot)
    inventory = tmp_path / "on-call.yaml"
    inventory.write_text(
        "people:\n"
        f"  - name: Alice\n    contact: {{matrix_id: '{users.alice}'}}\n"
        "services:\n  - name: PyPI\n    owners: [Alice]\n"
    )
    bot = encrypted_bot(make_bot, [alias])
    bot.config = bot.config.model_copy(
        update={"inventory": inventory, "paging": PagingConfig(escalate_after=600)}
    )
    await bot.start()
    await alice.call("wait_for_member", room_id=room_id, user_id=users.bot)

    asked = await alice.say(room_id, "!page pypi uploads failing")
    reply = await alice.reply_to(asked, users.bot)
    page_id = reply["content"]["body"].split()[1]

    direct = (await alice.call("accept_invite", sender=users.bot))["room_id"]
    page = await alice.call(
        "wait_for_event",
        match={"room_id": direct, "sender": users.bot, "starts_with": f"PAGE {page_id} for PyPI"},
    )
    assert page["encrypted"], "the page went out in clear"

    ack = await alice.say(direct, f"!ack {page_id}")
    answer = await alice.reply_to(ack, users.bot)
    assert answer["encrypted"]
    assert answer["content"]["body"] == f"acknowledged {page_id} (PyPI); escalation stopped"
