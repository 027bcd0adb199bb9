"""infrabot against a real InspIRCd with Atheme services (see conftest.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import ALICE, CHANNEL, BotFactory
from irc_e2e_client import IrcClient
from irc_e2e_servers import IrcServers

pytestmark = pytest.mark.e2e

OWNER_PYPI = "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III"


def _bot_says(client: IrcClient, prefix: str, target: str = CHANNEL):  # type: ignore[no-untyped-def]
    return lambda ln: (
        ln.command == "PRIVMSG"
        and ln.nick == "infrabot"
        and ln.params[0].lower() == target.lower()
        and ln.text.startswith(prefix)
    )


async def test_owner_pypi_answered_in_channel(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    bot, user = await asyncio.gather(
        start_bot(irc_servers.port), clients("bob", irc_servers.port)
    )
    await user.join(CHANNEL)
    user.say(CHANNEL, "!owner pypi")
    line = await user.wait_for(_bot_says(user, "bob: "))
    assert line.text.startswith(f"bob: {OWNER_PYPI}")
    second = await user.wait_for(_bot_says(user, "bob: Reach:"))
    assert "infrastructure-staff@python.org" in second.text
    assert bot.transport.connections == 1

