"""Fixtures for the Matrix end-to-end tests: a real Synapse, people, and bots.

See ``matrix_harness`` for how Synapse is configured, started and stopped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from matrix_harness import Bot, Person, Synapse, Users, bot_config, start_synapse, synapse_python


@pytest.fixture(scope="session")
def synapse_bin() -> Path:
    """Synapse's interpreter; missing Synapse fails the run under CI and skips it elsewhere."""
    python = synapse_python()
    if python is None:
        message = "Synapse is not installed: run scripts/install-synapse"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="session")
def synapse(
    synapse_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Synapse, Users]]:
    """One homeserver for the whole session, with generous rate limits."""
    server, users = start_synapse(synapse_bin, tmp_path_factory.mktemp("synapse"))
    try:
        yield server, users
    finally:
        server.stop()


@pytest.fixture
async def people(synapse: tuple[Synapse, Users]) -> AsyncIterator[dict[str, Person]]:
    """Boss, Alice and Mallory, logged in and recording."""
    server, users = synapse
    persons = {
        name: Person(server.url, getattr(users, name)) for name in ("boss", "alice", "mallory")
    }
    for person in persons.values():
        await person.login()
    try:
        yield persons
    finally:
        for person in persons.values():
            await person.close()


@pytest.fixture
async def make_bot(
    synapse: tuple[Synapse, Users], tmp_path: Path
) -> AsyncIterator[Callable[..., Bot]]:
    """Build bots on the session's Synapse; each keeps its state in this test's folder."""
    server, users = synapse
    made: list[Bot] = []

    def make(rooms: list[str], **matrix: Any) -> Bot:
        bot = Bot(bot_config(server.url, users, rooms, tmp_path, **matrix))
        made.append(bot)
        return bot

    try:
        yield make
    finally:
        for bot in made:
            await bot.stop()
