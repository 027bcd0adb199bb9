"""A bot on a real Synapse, logging at DEBUG with nio and aiohttp on, writes neither its
password nor the access token it got by logging in, to any handler."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from matrix_harness import PASSWORD, Bot

from infrabot.logs import setup_logging
from infrabot.transports.matrix_store import MatrixStateStore

pytestmark = pytest.mark.e2e


async def test_no_password_or_token_in_debug_logs(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot([])
    config = bot.config.model_copy(update={"log_level": "DEBUG", "log_libraries": True})
    assert config.matrix is not None
    stream = io.StringIO()
    logs = setup_logging(config, stream=stream)
    try:
        await bot.start()  # a password login: the homeserver hands out a new token
        await bot.stop()
        await bot.start()  # a restart resumes with the saved token
        await bot.stop()
    finally:
        logs.close()
    state = MatrixStateStore(config.matrix.store_path)
    session: Any = state.session
    state.close()
    assert session is not None and session.access_token
    for written in (stream.getvalue(), caplog.text):
        assert "Validating response schema" in written  # nio's debug output is there
        assert PASSWORD not in written
        assert session.access_token not in written
    assert "'access_token': '***'" in stream.getvalue()
