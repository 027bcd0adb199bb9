"""Admins and paging through a real Synapse: user IDs decide, display names never do."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from infrabot.config import PagingConfig

pytestmark = pytest.mark.e2e

PSF = Path(__file__).resolve().parents[3] / "inventory.yaml"


async def _room(people: dict[str, Any]) -> tuple[str, str]:
    room_id, alias = await people["boss"].create_room()
    for name in ("alice", "mallory"):
        await people[name].join(room_id)
    return room_id, alias


async def _answer(person: Any, room_id: str, text: str, bot: str) -> str:
    asked = await person.say(room_id, text)
    body: str = (await person.reply_to(asked, bot))["content"]["body"]
    return body


async def test_admin_user_id_reloads_and_display_name_impostor_is_refused(
    synapse: Any, people: dict[str, Any], make_bot: Any, tmp_path: Path
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people)
    inventory = tmp_path / "inventory.yaml"
    shutil.copy(PSF, inventory)
    bot = make_bot([alias])
    bot.config = bot.config.model_copy(update={"inventory": inventory})
    await bot.start()
    boss, mallory = people["boss"], people["mallory"]
    await mallory.rename_in(room_id, "The Boss")
    assert (
        await _answer(mallory, room_id, "!reload", users.bot) == "sorry, !reload is for admins only"
    )
    assert await _answer(mallory, room_id, "!whoami", users.bot) == (
        f"The Boss on matrix: account {users.mallory}, not an admin"
    )
    text = inventory.read_text()
    start, end = text.index("  - name: ximinez"), text.index("\nservices:")
    inventory.write_text(text[:start] + text[end + 1 :])
    assert await _answer(boss, room_id, "!reload", users.bot) == "reloaded: −1 host (ximinez)"
    inventory.write_text("services: [")
    answer = await _answer(boss, room_id, "!reload", users.bot)
    assert answer.startswith("reload failed, still serving the previous inventory: 1 error: ")
    assert (await _answer(boss, room_id, "!owner pypi", users.bot)).startswith(
        "PyPI (pypi.python.org)"
    )
    await mallory.set_name("Mallory")


async def test_page_mentions_the_maintainer_and_messages_them_directly(
    synapse: Any, people: dict[str, Any], make_bot: Any, tmp_path: Path
) -> None:
    _server, users = synapse
    room_id, alias = await _room(people)
    inventory = tmp_path / "on-call.yaml"
    inventory.write_text(
        "people:\n"
        f"  - name: Alice\n    contact: {{matrix_id: '{users.alice}'}}\n"
        "services:\n  - name: PyPI\n    owners: [Alice]\n"
    )
    bot = make_bot([alias])
    bot.config = bot.config.model_copy(
        update={"inventory": inventory, "paging": PagingConfig(escalate_after=600)}
    )
    await bot.start()
    boss, alice = people["boss"], people["alice"]
    asked = await boss.say(room_id, "!page pypi uploads failing")
    reply = await boss.reply_to(asked, users.bot)
    body = reply["content"]["body"]
    page_id = body.split()[1]
    assert body.startswith(f"PAGE {page_id} for PyPI: uploads failing · the owners of PyPI: Alice")
    assert reply["content"]["m.mentions"]["user_ids"] == [users.alice]
    # Alice never talked to the bot: it opens a direct room with her and messages her there
    direct = await alice.accept_direct_from(users.bot, f"PAGE {page_id} for PyPI: uploads failing")
    # she acknowledges right there
    acked = await _answer(alice, direct, f"!ack {page_id}", users.bot)
    assert acked == f"acknowledged {page_id} (PyPI); escalation stopped"
