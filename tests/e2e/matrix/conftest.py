"""Fixtures for the Matrix end-to-end tests: a real Synapse, people, and bots.

See ``matrix_harness`` for how Synapse is configured, started and stopped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from matrix_harness import (
    Bot,
    Person,
    Synapse,
    Users,
    bot_config,
    register_users,
    start_synapse,
    synapse_python,
)


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
def homeserver(synapse_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """One homeserver for the whole session, with generous rate limits."""
    server, _ = start_synapse(synapse_bin, tmp_path_factory.mktemp("synapse"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def synapse(homeserver: Synapse) -> tuple[Synapse, Users]:
    """The session's homeserver and users of this test's own (see ``register_users``)."""
    return homeserver, register_users(homeserver, f"-{uuid.uuid4().hex[:8]}")


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
