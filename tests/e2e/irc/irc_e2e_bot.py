"""What the IRC end-to-end tests share: accounts, the channel, and a running bot's handle.

Kept out of conftest.py so tests import it by a name no other test folder uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from infrabot.app import App
from infrabot.transports.irc import IrcTransport

__all__ = [
    "ACCOUNTS",
    "ADA",
    "ALICE",
    "BOT_ACCOUNT",
    "CHANNEL",
    "LEAD",
    "TEST_PLUGINS",
    "BotFactory",
    "RunningBot",
]

CHANNEL = "#python-infra"
BOT_ACCOUNT = ("infrabot", "bot-secret-pw")
ALICE = ("alice", "alice-secret-pw")
ADA = ("ada", "ada-secret-pw")
LEAD = ("lead", "lead-secret-pw")
ACCOUNTS = (BOT_ACCOUNT, ALICE, ADA, LEAD)
"""The services accounts the shared servers start with."""
TEST_PLUGINS = Path(__file__).parent / "plugins"


class RunningBot:
    """An infrabot App serving one IRC transport inside the test's event loop."""

    def __init__(self, app: App, transport: IrcTransport, task: asyncio.Task[None]) -> None:
        self.app = app
        self.transport = transport
        self.task = task

    async def in_channel(self, channel: str = CHANNEL, within: float = 20.0) -> None:
        """Wait until the bot is registered and in ``channel``."""
        async with asyncio.timeout(within):
            # Polling: joins happen inside the transport, which exposes state, not events.
            while not (
                self.transport.registered.is_set() and channel.lower() in self.transport.channels
            ):
                await asyncio.sleep(0.02)


BotFactory = Callable[..., Awaitable[RunningBot]]
