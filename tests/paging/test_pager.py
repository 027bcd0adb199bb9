"""Pages from chat: who is reached where, merging, guards, acknowledgement and escalation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from infrabot.inventory import Index
from infrabot.store import Store
from infrabot.testing import until
from tests.paging.conftest import Chat, RecordingNetworks, make_chat, make_pager


@pytest.fixture
def nets() -> RecordingNetworks:
    return RecordingNetworks()


@pytest.fixture
def chat(handles_index: Index, nets: RecordingNetworks) -> Chat:
    return make_chat(handles_index, nets, Store(":memory:"))


async def test_page_reaches_every_known_network_and_highlights(
    chat: Chat, nets: RecordingNetworks
) -> None:
    reply, page_id = await chat.page("pypi uploads failing")
    assert reply.room.id == "#python-infra"
    assert nets.sent[0] is reply  # the room hears first, then the private messages go out
    assert (
        reply.in_reply_to is not None and reply.delivery_key == f"page.{page_id}.0.#room.announce"
    )
    assert reply.lines == (
        f"PAGE {page_id} for PyPI: uploads failing · the owners of PyPI: Ada, Bob, Dee · "
        f"!ack {page_id} to acknowledge",
        "No chat handle recorded for Dee; try infra@example.org, #infra",
    )
    assert [(m.address, m.name) for m in reply.mentions] == [("ada", "Ada"), ("bob", "Bob")]
    # Bob has a recorded nick but no account: highlighted in the channel, no private text
    assert sorted(nets.private()) == [
        ("irc", "ada"),
        ("matrix", "@ada:example.org"),
        ("matrix", "@bob:example.org"),
    ]
    text = next(r for r in nets.sent if r.room.private).lines[0]
    assert text == (
        f"PAGE {page_id} for PyPI: uploads failing (asked by alice in #python-infra). "
        f"Reply !ack {page_id} to acknowledge."
    )


async def test_psf_inventory_says_who_cannot_be_reached(
    psf_index: Index, nets: RecordingNetworks
) -> None:
    chat = make_chat(psf_index, nets, Store(":memory:"))
    reply, page_id = await chat.page("pypi uploads failing")
    assert reply.lines == (
        f"PAGE {page_id} for PyPI: uploads failing · the owners of PyPI: Ernest W. Durbin III, "
        f"Donald Stufft, Richard Jones · !ack {page_id} to acknowledge",
        "No chat handle recorded for Ernest W. Durbin III, Donald Stufft, Richard Jones; "
        "try infrastructure-staff@python.org, #python-infra on Freenode",
    )
    assert nets.private() == []
    reply, _ = await chat.page("www.python.org down", account="bob")
    assert "the whole Infrastructure Team (no owners recorded for www.python.org)" in reply.lines[0]
    reply, _ = await chat.page("mail smtp refuses mail", account="cy")
    assert reply.lines[1] == (
        "No chat handle recorded for Noah Kantrowitz, Ernest W. Durbin III, Benjamin W. Smith, "
        "Donald Stufft, Benjamin Peterson, Mark Mangoba, Alex Gaynor; try postmaster@python.org, "
        "infrastructure-staff@python.org, #python-infra on Freenode"
    )


async def test_target_may_be_several_words_or_a_person(chat: Chat, nets: RecordingNetworks) -> None:
    reply, _ = await chat.page("pypi.example.org is slow")
    assert "for PyPI: is slow" in reply.lines[0]
    reply, _ = await chat.page("Cy please look at the wiki", account="bob")
    assert "for Cy: please look at the wiki · Cy: Cy ·" in reply.lines[0]
    assert ("matrix", "@cy:example.org") in nets.private()


async def test_guards(chat: Chat) -> None:
    assert (await chat.lines("!page pypi down", account=None))[0].startswith(
        "paging needs an identified sender"
    )
    assert await chat.lines("!page pypi") == ["what is wrong with PyPI? !page pypi <reason>"]
    assert (await chat.lines("!page   "))[0].startswith("page whom? !page <service|person|group>")
    assert await chat.lines("!page pypu down") == [
        "no service, person or group 'pypu'; did you mean PyPI?"
    ]


async def test_second_page_merges_into_the_open_one(chat: Chat) -> None:
    _, page_id = await chat.page("pypi uploads failing")
    (second,) = await chat.lines("!page pypi 500s everywhere", account="bob", nick="bob")
    assert second.startswith(f"PyPI is already paged as {page_id} (")
    assert second.endswith("open); added your note to it")
    history = await chat.lines(f"!page-info {page_id}", private=True)
    assert history[-1].endswith("merged: 500s everywhere (from bob)")


async def test_rate_limit_per_requester(handles_index: Index, nets: RecordingNetworks) -> None:
    chat = make_chat(handles_index, nets, Store(":memory:"), rate_limit=2, merge_window=0)
    await chat.page("pypi one")
    await chat.page("wiki two")
    (refused,) = await chat.lines("!page cy three")
    assert refused.startswith("you have paged 2 times recently")
    await chat.page("cy three", account="someone-else")  # others are not limited


async def test_many_people_need_confirmation(handles_index: Index, nets: RecordingNetworks) -> None:
    chat = make_chat(handles_index, nets, Store(":memory:"), confirm_over=3)
    assert await chat.lines("!page everything is on fire") == [
        "this would page 5 people (the owners of Everything); say !page confirm "
        "within 5 minutes to go ahead",
    ]
    assert nets.sent == [] and await chat.lines("!pages") == ["no open pages"]
    (refused,) = await chat.lines("!page confirm", account="bob")
    assert refused.startswith("nothing to confirm")
    assert await chat.lines("!page confirm") == []  # the pager sent the highlight
    assert nets.public()[0].startswith("PAGE ")
    assert len(nets.private()) == 5  # Ada on both networks, Bob and Cy on Matrix, Lead on IRC


async def test_ack_by_paged_person_or_admin_only(chat: Chat, nets: RecordingNetworks) -> None:
    _, page_id = await chat.page("pypi down")
    (refused,) = await chat.lines(f"!ack {page_id}", account="mallory", nick="ada")
    assert refused.startswith("only the people paged")
    assert await chat.lines(f"!ack {page_id}", account="ada", nick="ada") == [
        f"acknowledged {page_id} (PyPI); escalation stopped"
    ]
    assert nets.public()[-1] == f"{page_id} (PyPI) acknowledged by ada"
    assert await chat.lines(f"!ack {page_id}", account="ada") == [f"{page_id} is already acked"]
    assert await chat.lines(f"!resolve {page_id} restarted", account="root") == [
        f"resolved {page_id} (PyPI)"
    ]
    assert await chat.lines("!pages") == ["no open pages"]
    kinds = [
        line.split(" ", 2)[1]
        for line in (await chat.lines(f"!page-info {page_id}", private=True))[1:]
    ]
    assert kinds == ["created:", "unreached:", "acked:", "resolved:"]
    assert await chat.lines("!page-info zzzz") == ["no page 'zzzz'; !pages lists the open ones"]


async def test_matrix_identity_acknowledges(chat: Chat) -> None:
    _, page_id = await chat.page("pypi down")
    (answer,) = await chat.lines(
        f"!ack {page_id}",
        account="@bob:example.org",
        nick="Bob",
        network="matrix",
        room="!room:example.org",
    )
    assert answer.startswith("acknowledged")


def announced(nets: RecordingNetworks, text: str) -> bool:
    return any(text in line for line in nets.public())


async def test_escalation_climbs_and_ack_stops_it(
    handles_index: Index, nets: RecordingNetworks
) -> None:
    chat = make_chat(handles_index, nets, Store(":memory:"), escalate_after=0.5)
    _, page_id = await chat.page("pypi down")
    runner = asyncio.create_task(chat.pager.run())
    await until(lambda: announced(nets, "escalating to escalation 1 (Cy)"))
    assert nets.public()[-1].startswith(
        f"{page_id} (PyPI) not acknowledged after 0.5 s: escalating to escalation 1 (Cy)"
    )
    await until(lambda: announced(nets, "escalating to the Infra lead"))
    assert "escalating to the Infra lead · the Infra lead: Lead ·" in nets.public()[-1]
    await chat.lines(f"!ack {page_id}", account="lead", nick="lead")
    count = len(nets.sent)
    await asyncio.sleep(1.2)  # two more escalation periods
    assert len(nets.sent) == count  # nothing more after the ack
    runner.cancel()
    steps = [
        line.split(" ", 2)[1]
        for line in (await chat.lines(f"!page-info {page_id}", private=True))[1:]
    ]
    # Bob (a nick, no account) is never messaged in private: the history says so
    assert steps == ["created:", "unreached:", "escalated:", "escalated:", "acked:"]


async def test_reminders_repeat_at_the_last_level(
    handles_index: Index, nets: RecordingNetworks
) -> None:
    chat = make_chat(handles_index, nets, Store(":memory:"), escalate_after=0.1)
    await chat.page("wiki down")  # no owners: the whole team at once
    runner = asyncio.create_task(chat.pager.run())

    def reminders() -> int:
        return sum(": reminding the whole Infra" in line for line in nets.public())

    await until(lambda: reminders() >= 2)
    runner.cancel()


async def test_restart_finishes_an_interrupted_step_without_repeats(
    handles_index: Index, db: Path
) -> None:
    first = RecordingNetworks()
    _, page_id = await make_chat(handles_index, first, Store(db)).page("pypi down")
    # a crash in step 1, after Cy's message went out and while the announcement was being sent
    store = Store(db)
    store.update_page(
        page_id, ("escalated", "escalating to escalation 1 (Cy)"), level=1, next_at=9e18
    )
    assert store.claim_delivery(page_id, 1, "Cy", "matrix")
    store.delivered(page_id, 1, "Cy", "matrix")
    assert store.claim_delivery(page_id, 1, "#room", "announce")  # claimed, then the crash
    second = RecordingNetworks()
    restarted = make_pager(handles_index, second, Store(db))
    runner = asyncio.create_task(restarted.run())
    await until(lambda: bool(second.public()))
    await asyncio.sleep(0.2)  # time for anything else it would (wrongly) send
    runner.cancel()
    # the unconfirmed announcement is sent again; Cy's confirmed message is not
    assert second.private() == []
    assert len(second.public()) == 1 and "escalation 1 (Cy)" in second.public()[0]
    # restarting again sends nothing at all
    third = RecordingNetworks()
    again = asyncio.create_task(make_pager(handles_index, third, Store(db)).run())
    await asyncio.sleep(0.3)
    again.cancel()
    assert third.sent == []


async def test_every_suggested_command_uses_the_configured_prefix(
    handles_index: Index, nets: RecordingNetworks
) -> None:
    chat = make_chat(handles_index, nets, Store(":memory:"), prefix=".", escalate_after=0.2)
    reply, page_id = await chat.page("pypi down")
    said_by_bot = [
        *reply.lines,
        *(line for r in nets.sent for line in r.lines),
        *await chat.lines(".page pypi"),
        *await chat.lines(".page"),
        *await chat.lines(".ack"),
        *await chat.lines(".resolve"),
        *await chat.lines(".page-info"),
        *await chat.lines(".page-info zzzz"),
    ]
    runner = asyncio.create_task(chat.pager.run())
    await until(lambda: announced(nets, "escalating to"))
    runner.cancel()
    said_by_bot += [line for r in nets.sent for line in r.lines]
    assert f".ack {page_id} to acknowledge" in reply.lines[0]
    assert any(f"Reply .ack {page_id}" in line for line in said_by_bot)  # the private text
    assert any(".pages lists" in line for line in said_by_bot)
    assert [line for line in said_by_bot if "!" in line] == []
