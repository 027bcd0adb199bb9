"""Pages from chat: who is reached where, merging, guards, acknowledgement and escalation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from infrabot.errors import PagingError
from infrabot.inventory import Index
from infrabot.paging import Pager
from infrabot.store import Store
from tests.paging.conftest import RecordingNetworks, make_pager, said


@pytest.fixture
def nets() -> RecordingNetworks:
    return RecordingNetworks()


@pytest.fixture
def pager(handles_index: Index, nets: RecordingNetworks) -> Pager:
    return make_pager(handles_index, nets, Store(":memory:"))


async def test_page_reaches_every_known_network_and_highlights(
    pager: Pager, nets: RecordingNetworks
) -> None:
    (reply,) = await pager.page(said("!page pypi uploads failing"), "pypi uploads failing")
    page_id = reply.lines[0].split()[1]
    assert reply.room.id == "#python-infra"
    assert reply.lines == (
        f"PAGE {page_id} for PyPI: uploads failing · the owners of PyPI: ada, bob, Dee · "
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
    text = nets.sent[0].lines[0]
    assert text == (
        f"PAGE {page_id} for PyPI: uploads failing (asked by alice in #python-infra). "
        f"Reply !ack {page_id} to acknowledge."
    )


async def test_psf_inventory_says_who_cannot_be_reached(
    psf_index: Index, nets: RecordingNetworks
) -> None:
    pager = make_pager(psf_index, nets, Store(":memory:"))
    (reply,) = await pager.page(said("x"), "pypi uploads failing")
    page_id = reply.lines[0].split()[1]
    assert reply.lines == (
        f"PAGE {page_id} for PyPI: uploads failing · the owners of PyPI: Ernest W. Durbin III, "
        f"Donald Stufft, Richard Jones · !ack {page_id} to acknowledge",
        "No chat handle recorded for Ernest W. Durbin III, Donald Stufft, Richard Jones; "
        "try infrastructure-staff@python.org, #python-infra on Freenode",
    )
    assert nets.private() == []
    (reply,) = await pager.page(said("x", account="bob"), "www.python.org down")
    assert "the whole Infrastructure Team (no owners recorded for www.python.org)" in reply.lines[0]
    (reply,) = await pager.page(said("x", account="cy"), "mail smtp refuses mail")
    assert reply.lines[1] == (
        "No chat handle recorded for Noah Kantrowitz, Ernest W. Durbin III, Benjamin W. Smith, "
        "Donald Stufft, Benjamin Peterson, Mark Mangoba, Alex Gaynor; try postmaster@python.org, "
        "infrastructure-staff@python.org, #python-infra on Freenode"
    )


async def test_target_may_be_several_words_or_a_person(
    pager: Pager, nets: RecordingNetworks
) -> None:
    (reply,) = await pager.page(said("x"), "pypi.example.org is slow")
    assert "for PyPI: is slow" in reply.lines[0]
    (reply,) = await pager.page(said("x", account="bob"), "Cy please look at the wiki")
    assert "for Cy: please look at the wiki · Cy: Cy ·" in reply.lines[0]
    assert ("matrix", "@cy:example.org") in nets.private()


async def test_guards(pager: Pager) -> None:
    with pytest.raises(PagingError, match="needs an identified sender"):
        await pager.page(said("x", account=None), "pypi down")
    with pytest.raises(PagingError, match=r"what is wrong with PyPI\? !page pypi <reason>"):
        await pager.page(said("x"), "pypi")
    with pytest.raises(PagingError, match="page whom"):
        await pager.page(said("x"), "   ")
    with pytest.raises(PagingError, match="no service, person or group 'pypu'; did you mean PyPI"):
        await pager.page(said("x"), "pypu down")


async def test_second_page_merges_into_the_open_one(pager: Pager) -> None:
    (first,) = await pager.page(said("x"), "pypi uploads failing")
    page_id = first.lines[0].split()[1]
    (second,) = await pager.page(said("x", account="bob", nick="bob"), "pypi 500s everywhere")
    assert second.lines[0].startswith(f"PyPI is already paged as {page_id} (")
    assert second.lines[0].endswith("open); added your note to it")
    history = pager.info(page_id)
    assert history[-1].endswith("merged: 500s everywhere (from bob)")


async def test_rate_limit_per_requester(handles_index: Index, nets: RecordingNetworks) -> None:
    pager = make_pager(handles_index, nets, Store(":memory:"), rate_limit=2, merge_window=0)
    await pager.page(said("x"), "pypi one")
    await pager.page(said("x"), "wiki two")
    with pytest.raises(PagingError, match="you have paged 2 times recently"):
        await pager.page(said("x"), "cy three")
    await pager.page(said("x", account="someone-else"), "cy three")  # others are not limited


async def test_many_people_need_confirmation(handles_index: Index, nets: RecordingNetworks) -> None:
    pager = make_pager(handles_index, nets, Store(":memory:"), confirm_over=3)
    (ask,) = await pager.page(said("x"), "everything is on fire")
    assert ask.lines == (
        "this would page 5 people (the owners of Everything); say !page confirm "
        "within 5 minutes to go ahead",
    )
    assert nets.sent == [] and pager.listing() == ["no open pages"]
    with pytest.raises(PagingError, match="nothing to confirm"):
        await pager.confirm(said("x", account="bob"))
    (done,) = await pager.confirm(said("x"))
    assert done.lines[0].startswith("PAGE ")
    assert len(nets.private()) == 5  # Ada on both networks, Bob and Cy on Matrix, Lead on IRC


async def test_ack_by_paged_person_or_admin_only(pager: Pager, nets: RecordingNetworks) -> None:
    (reply,) = await pager.page(said("x"), "pypi down")
    page_id = reply.lines[0].split()[1]
    with pytest.raises(PagingError, match="only the people paged"):
        await pager.ack(said("x", account="mallory", nick="ada"), page_id, is_admin=False)
    assert await pager.ack(said("x", account="ada", nick="ada"), page_id, is_admin=False) == (
        f"acknowledged {page_id} (PyPI); escalation stopped"
    )
    assert nets.public()[-1] == f"{page_id} (PyPI) acknowledged by ada"
    assert (
        await pager.ack(said("x", account="ada"), page_id, is_admin=False)
        == f"{page_id} is already acked"
    )
    result = await pager.resolve(said("x", account="root"), page_id, "restarted", is_admin=True)
    assert result == f"resolved {page_id} (PyPI)"
    assert pager.listing() == ["no open pages"]
    kinds = [line.split(" ", 2)[1] for line in pager.info(page_id)[1:]]
    assert kinds == ["created:", "unreached:", "acked:", "resolved:"]
    with pytest.raises(PagingError, match="no page 'zzzz'"):
        pager.info("zzzz")


async def test_matrix_identity_acknowledges(pager: Pager) -> None:
    (reply,) = await pager.page(said("x"), "pypi down")
    page_id = reply.lines[0].split()[1]
    ack = said(
        "x", account="@bob:example.org", nick="Bob", network="matrix", room="!room:example.org"
    )
    assert (await pager.ack(ack, page_id, is_admin=False)).startswith("acknowledged")


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for ``condition``; a slow machine only makes the test slower, never wrong."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


def announced(nets: RecordingNetworks, text: str) -> bool:
    return any(text in line for line in nets.public())


async def test_escalation_climbs_and_ack_stops_it(
    handles_index: Index, nets: RecordingNetworks
) -> None:
    pager = make_pager(handles_index, nets, Store(":memory:"), escalate_after=0.5)
    (reply,) = await pager.page(said("x"), "pypi down")
    page_id = reply.lines[0].split()[1]
    runner = asyncio.create_task(pager.run())
    await until(lambda: announced(nets, "escalating to escalation 1 (Cy)"))
    assert nets.public()[-1].startswith(
        f"{page_id} (PyPI) not acknowledged after 0.5 s: escalating to escalation 1 (Cy)"
    )
    await until(lambda: announced(nets, "escalating to the Infra lead"))
    assert "escalating to the Infra lead · the Infra lead: lead ·" in nets.public()[-1]
    await pager.ack(said("x", account="lead", nick="lead"), page_id, is_admin=False)
    count = len(nets.sent)
    await asyncio.sleep(1.2)  # two more escalation periods
    assert len(nets.sent) == count  # nothing more after the ack
    runner.cancel()
    steps = [line.split(" ", 2)[1] for line in pager.info(page_id)[1:]]
    # Bob (a nick, no account) is never messaged in private: the history says so
    assert steps == ["created:", "unreached:", "escalated:", "escalated:", "acked:"]


async def test_reminders_repeat_at_the_last_level(
    handles_index: Index, nets: RecordingNetworks
) -> None:
    pager = make_pager(handles_index, nets, Store(":memory:"), escalate_after=0.1)
    await pager.page(said("x"), "wiki down")  # no owners: the whole team at once
    runner = asyncio.create_task(pager.run())

    def reminders() -> int:
        return sum(": reminding the whole Infra" in line for line in nets.public())

    await until(lambda: reminders() >= 2)
    runner.cancel()


async def test_restart_finishes_an_interrupted_step_without_repeats(
    handles_index: Index, db: Path
) -> None:
    first = RecordingNetworks()
    pager = make_pager(handles_index, first, Store(db))
    (reply,) = await pager.page(said("x"), "pypi down")
    page_id = reply.lines[0].split()[1]
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
