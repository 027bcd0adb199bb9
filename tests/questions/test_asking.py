"""Plain questions through the router: answered when said to the bot (in private, or
addressed by name in a channel), never when said to the room."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from infrabot.inventory import Index, load_inventory
from infrabot.loader import builtin_plugin_dir, load_plugins
from infrabot.router import Router
from infrabot.text import clean_line
from tests.conftest import PSF_INVENTORY, Ask, message

OWNER_PYPI = (
    "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones"
)
NOT_UNDERSTOOD = (
    "sorry, I don't know how to answer that; !help lists what I can do "
    '(or ask e.g. "who owns <service>?")'
)


async def test_a_question_addressed_in_a_channel_is_answered(ask: Ask) -> None:
    assert (await ask("infrabot: who owns pypi?"))[0] == OWNER_PYPI
    assert (await ask("infrabot, who owns pypi?"))[0] == OWNER_PYPI
    assert (await ask("InfraBot: who maintains the package index"))[0] == OWNER_PYPI


async def test_a_question_in_private_is_answered(ask: Ask) -> None:
    assert (await ask("who owns pypi?", private=True))[0] == OWNER_PYPI
    assert (await ask("what's on albatross", private=True))[0].startswith("albatross: ")
    assert (await ask("where does pypi run?", private=True))[0].startswith("PyPI (pypi")


async def test_a_question_said_to_the_room_gets_nothing(ask: Ask) -> None:
    assert await ask("who owns pypi?") == []
    assert await ask("lol the wiki is down again") == []
    assert await ask("where does pypi run?") == []


async def test_what_cannot_be_mapped_gets_one_line_pointing_to_help(ask: Ask) -> None:
    assert await ask("lol the wiki is down again", private=True) == [NOT_UNDERSTOOD]
    assert await ask("infrabot: how are you today?") == [NOT_UNDERSTOOD]
    assert await ask("\U0001f642", private=True) == [NOT_UNDERSTOOD]
    assert await ask("", private=True) == [NOT_UNDERSTOOD]
    assert await ask("¿quién mantiene pypi?", private=True) == [NOT_UNDERSTOOD]


async def test_commands_said_without_the_prefix_still_work(ask: Ask) -> None:
    assert (await ask("owner pypi", private=True))[0] == OWNER_PYPI
    assert (await ask("infrabot: owner pypi"))[0] == OWNER_PYPI
    assert (await ask("ownr pypi", private=True)) == [
        "no command 'ownr'; did you mean !owner? (!help lists them)"
    ]


async def test_a_question_after_the_prefix_is_understood_too(ask: Ask) -> None:
    assert (await ask("!where does pypi run?"))[0].startswith("PyPI (pypi")
    assert (await ask("!what's on albatross"))[0].startswith("albatross: ")
    # a command's own name after the prefix stays that command
    assert await ask("!who owns pypi?") == ["no person 'owns pypi?'"]


PSF_INDEX = Index(load_inventory(PSF_INVENTORY))  # hypothesis runs without fixtures
ROUTER = Router(
    plugins=load_plugins([builtin_plugin_dir()], installed=False), index=lambda: PSF_INDEX
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
async def test_channel_chatter_not_meant_for_the_bot_is_never_answered(text: str) -> None:
    cleaned = clean_line(text, 2000).lstrip().lower()
    assume(not cleaned.startswith("!") and not cleaned.startswith("infrabot"))
    assert await ROUTER.handle(message(text)) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
async def test_any_text_in_private_gets_exactly_one_answer(text: str) -> None:
    replies = await ROUTER.handle(message(text, private=True))
    assert len(replies) == 1
    assert replies[0].lines
