"""End to end with a low ``rc_message``: the bot is throttled, and still answers everything."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from matrix_harness import Bot, Person, Synapse, Users, bot_config, start_synapse

pytestmark = pytest.mark.e2e

COMMANDS = 6


@pytest.fixture(scope="module")
def slow_synapse(
    synapse_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Synapse, Users]]:
    """A homeserver that lets each user send one message a second, after a burst of two."""
    server, users = start_synapse(
        synapse_bin,
        tmp_path_factory.mktemp("synapse-slow"),
        rc_message={"per_second": 1, "burst_count": 2},
    )
    try:
        admin = server.login_token(users.boss)
        for user in (users.boss, users.alice):
            server.exempt_from_rate_limits(admin, user)  # only the bot is throttled
        yield server, users
    finally:
        server.stop()


@pytest.fixture
async def alice(slow_synapse: tuple[Synapse, Users]) -> AsyncIterator[Person]:
    server, users = slow_synapse
    person = Person(server.url, users.alice)
    await person.login()
    try:
        yield person
    finally:
        await person.close()


async def test_every_answer_arrives_despite_rate_limits(
    slow_synapse: tuple[Synapse, Users],
    alice: Person,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, users = slow_synapse
    room_id, alias = await alice.create_room()
    bot = Bot(bot_config(server.url, users, [alias], tmp_path))
    caplog.set_level(logging.INFO, logger="infrabot.transports.matrix_retry")
    await bot.start()
    try:
        asked: list[Any] = [await alice.say(room_id, f"!echo {n}") for n in range(COMMANDS)]
        for event_id in asked:
            await alice.reply_to(event_id, users.bot, within=30)
    finally:
        await bot.stop()

    bodies = [alice.replies_to(e, users.bot)[0]["content"]["body"] for e in asked]
    assert bodies == [f"you said: {n}" for n in range(COMMANDS)]
    assert all(len(alice.replies_to(e, users.bot)) == 1 for e in asked)
    assert any("rate limited" in r.getMessage() for r in caplog.records), "never throttled"
