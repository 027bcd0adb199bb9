"""Where private text may go, on a real InspIRCd with Atheme: the account decides, never a nick."""

from __future__ import annotations

import asyncio

import pytest
from irc_e2e_bot import ALICE, CHANNEL, BotFactory
from irc_e2e_servers import IrcServers

from infrabot.messages import Handles

pytestmark = pytest.mark.e2e

# The maintainer's recorded nick is "dstufft"; their services account is alice's.
MAINTAINER = Handles(irc_nick="dstufft", irc_account=ALICE[0])


async def test_unidentified_nick_holder_gets_nothing_and_the_account_holder_is_found(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    port = irc_servers.port
    bot, impostor, holder = await asyncio.gather(
        start_bot(port), clients("dstufft", port), clients("alice", port, sasl=ALICE)
    )
    await impostor.join(CHANNEL)  # shares a channel with the bot, holds the recorded nick
    # The account holder shares no channel: only the server can say who they are.
    assert await bot.transport.private_address(MAINTAINER) == "alice"
    assert bot.transport.mention_address(MAINTAINER) == "dstufft"  # a highlight proves nothing

    await holder.close()
    await _until_gone(impostor, "alice")
    assert await bot.transport.private_address(MAINTAINER) is None

    # Logged in under a third nick, in the channel: found from what the channel showed.
    elsewhere = await clients("ally", port, sasl=ALICE)
    await elsewhere.join(CHANNEL)
    async with asyncio.timeout(5):  # until the bot has read the JOIN the client saw confirmed
        while await bot.transport.private_address(MAINTAINER) != "ally":
            await asyncio.sleep(0.02)


async def test_nicks_alone_are_never_enough(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    port = irc_servers.port
    bot, *_ = await asyncio.gather(
        start_bot(port),
        clients("dstufft", port),  # the recorded nick, not logged in
        clients("alice", port),  # the account's name as a nick, not logged in
        clients("ally2", port, sasl=ALICE),  # the account, under a nick nobody recorded
    )
    assert await bot.transport.private_address(MAINTAINER) is None


async def _until_gone(client, nick: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the server no longer knows ``nick`` (its QUIT has been processed)."""
    async with asyncio.timeout(10):
        while True:
            mark = len(client.lines)
            client.send(f"WHOIS {nick}")
            line = await client.wait_for(lambda ln: ln.command in ("311", "401"), start=mark)
            if line.command == "401":
                return
            await asyncio.sleep(0.05)
