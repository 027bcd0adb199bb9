"""Plain questions on a real InspIRCd: addressed in a channel and in private they are answered;
said to the room they are not."""

from __future__ import annotations

import asyncio

import pytest
from irc_e2e_bot import CHANNEL, BotFactory
from irc_e2e_client import from_bot
from irc_e2e_servers import IrcServers

pytestmark = pytest.mark.e2e

OWNS = "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III"
RUNS = "PyPI (pypi.python.org): The Python Package Index"


async def test_questions_to_the_bot_are_answered_and_talk_to_the_room_is_not(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    _bot, user = await asyncio.gather(start_bot(irc_servers.port), clients("bob", irc_servers.port))
    await user.join(CHANNEL)
    user.say(CHANNEL, "where does pypi run?")  # to the room: the bot keeps quiet
    user.say(CHANNEL, "infrabot: who owns pypi?")
    answer = await user.wait_for(from_bot(CHANNEL, "bob: "))
    # the bot answers in order: had it answered the first, that answer would come first
    assert answer.text.startswith(f"bob: {OWNS}")
    assert not any(RUNS in line.text for line in user.messages_from("infrabot"))

    user.say("infrabot", "what's on albatross")
    private = await user.wait_for(from_bot("bob", "albatross: "))
    assert "The mail server." in private.text
    user.say("infrabot", "lol the wiki is down again")
    assert "help" in (await user.wait_for(from_bot("bob", "sorry, I don't know"))).text
