"""Fixtures for IRC end-to-end tests: real InspIRCd + Atheme, and a running infrabot.

The servers are installed by ``scripts/install-irc-servers``. Without them these tests skip on
a developer machine, and fail under CI (``CI`` set), where a missing server is a broken setup.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from irc_e2e_bot import ACCOUNTS, BOT_ACCOUNT, CHANNEL, TEST_PLUGINS, BotFactory, RunningBot
from irc_e2e_client import IrcClient, register_account
from irc_e2e_servers import IrcServers, servers_installed

from infrabot.app import App
from infrabot.config import Config, IrcConfig, RateLimitConfig
from infrabot.loader import builtin_plugin_dir
from infrabot.store import Store
from infrabot.transports.irc import IrcTransport

INSTALL_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "install-irc-servers"


def _require_servers() -> None:
    """Servers present, or installed now under CI; else skip (developer) or fail (CI)."""
    if servers_installed():
        return
    message = "InspIRCd/Atheme not installed: run scripts/install-irc-servers"
    if os.environ.get("CI"):
        # CI machines start fresh: the test command installs what the suite needs.
        result = subprocess.run(
            [str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
        )
        if servers_installed():
            return
        pytest.fail(f"{message}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def irc_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrcServers]:
    """Servers shared by the tests that do not kill them, with the bot's and alice's accounts."""
    _require_servers()
    servers = IrcServers(tmp_path_factory.mktemp("ircd"))
    servers.start()
    try:
        with ThreadPoolExecutor(len(ACCOUNTS)) as pool:
            # InspIRCd registers clients on a one-second timer: register them all at once.
            list(pool.map(lambda acc: register_account(servers.port, *acc), ACCOUNTS))
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def own_servers(tmp_path: Path) -> Iterator[IrcServers]:
    """Servers for one test that kills and restarts them."""
    _require_servers()
    servers = IrcServers(tmp_path / "ircd")
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
async def start_bot(tmp_path: Path) -> AsyncIterator[BotFactory]:
    """Start infrabot with an ``irc:`` config built from keyword overrides."""
    bots: list[RunningBot] = []

    async def start(
        port: int, *, wait: bool = True, config: dict[str, Any] | None = None, **irc: Any
    ) -> RunningBot:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": port,
            "nick": "infrabot",
            "sasl_username": BOT_ACCOUNT[0],
            "sasl_password": BOT_ACCOUNT[1],
            "channels": [CHANNEL],
        }
        settings.update(irc)
        options: dict[str, Any] = {
            "plugins": [builtin_plugin_dir(), TEST_PLUGINS],
            "store": tmp_path / f"infrabot-{len(bots)}.db",
            "rate_limit": RateLimitConfig(rate=0),  # tests about the limit turn it back on
            **(config or {}),
        }
        config_ = Config(irc=IrcConfig(**settings), **options)
        app = App(config_, store=Store(config_.store))
        transport = IrcTransport(config_.irc or IrcConfig(), sts_store=app.store)
        task = asyncio.create_task(app.run([transport]))
        bot = RunningBot(app, transport, task)
        bots.append(bot)
        if wait:
            await bot.in_channel()
        return bot

    yield start
    for bot in bots:
        await bot.transport.stop()
        try:
            async with asyncio.timeout(5):
                await bot.task
        except (TimeoutError, asyncio.CancelledError):
            bot.task.cancel()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., Awaitable[IrcClient]]]:
    """Connect test users (closed at the end)."""
    made: list[IrcClient] = []

    async def connect(nick: str, port: int, **kwargs: Any) -> IrcClient:
        client = IrcClient(nick)
        made.append(client)
        await client.connect(port, **kwargs)
        return client

    yield connect
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)
