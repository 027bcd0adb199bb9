"""Every harness a test started is stopped when the test ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from irc_harness import running


@pytest.fixture(autouse=True)
async def _stop_harnesses() -> AsyncIterator[None]:
    yield
    while running:
        await running.pop().stop()
