"""Page text goes only where the network vouches for the person; a delivery counts once the
network has it."""

from __future__ import annotations

import asyncio

import pytest

from infrabot.errors import PagingError, TransportError
from infrabot.inventory import Index
from infrabot.messages import Reply
from infrabot.paging.facts import Created
from infrabot.store import Store
from tests.paging.conftest import RecordingNetworks, make_pager, said


async def test_a_recorded_nick_alone_gets_the_highlight_but_no_private_text(
    handles_index: Index,
) -> None:
    nets = RecordingNetworks(("irc",))
    pager = make_pager(handles_index, nets)
    created = await pager.page(said("x"), ["pypi", "down"])
    assert isinstance(created, Created)
    assert [m.address for m in created.highlight.mentions] == ["ada", "bob"]  # both highlighted
    assert nets.private() == [("irc", "ada")]  # only the account holder gets the text


async def test_nobody_logged_in_as_the_account_means_no_private_text(
    handles_index: Index,
) -> None:
    nets = RecordingNetworks(("irc",))
    nets.logged_out.add("ada")
    pager = make_pager(handles_index, nets)
    created = await pager.page(said("x"), ["pypi", "down"])
    assert isinstance(created, Created)
    assert nets.private() == []
    _, events = pager.history(created.page.id)
    assert ("unreached", "Ada on irc: nobody logged in as them") in [
        (e.kind, e.detail) for e in events
    ]


async def test_an_account_named_like_a_maintainers_nick_cannot_acknowledge(
    handles_index: Index,
) -> None:
    pager = make_pager(handles_index, RecordingNetworks())
    created = await pager.page(said("x"), ["pypi", "down"])
    assert isinstance(created, Created)
    page_id = created.page.id
    # Bob's recorded nick is "bob"; an account called "bob" is somebody else's
    with pytest.raises(PagingError, match="only the people paged"):
        await pager.ack(said("x", account="bob", nick="bob"), page_id, is_admin=False)
    with pytest.raises(PagingError, match="only the people paged"):
        await pager.resolve(said("x", account="bob", nick="bob"), page_id, "", is_admin=False)
    closed = await pager.ack(said("x", account="ADA", nick="someone"), page_id, is_admin=False)
    assert closed.page.state == "acked" and not closed.already


class FailingNetworks(RecordingNetworks):
    """The IRC network refuses every private message until ``healed``."""

    healed = False
    refused = 0

    async def send(self, reply: Reply) -> None:
        if reply.room.private and reply.room.network == "irc" and not self.healed:
            self.refused += 1
            raise TransportError("irc: connection lost before the line was written")
        await super().send(reply)


async def test_a_failed_send_is_not_confirmed_and_is_made_after_a_restart(
    handles_index: Index,
) -> None:
    store = Store(":memory:")
    nets = FailingNetworks()
    pager = make_pager(handles_index, nets, store)
    created = await pager.page(said("x"), ["pypi", "down"])
    assert isinstance(created, Created)
    page_id = created.page.id
    assert ("irc", "ada") not in nets.private()
    _, events = pager.history(page_id)
    assert any(e.detail.startswith("irc to Ada: irc: connection lost") for e in events)
    made = {(recipient, channel) for step, recipient, channel in store.deliveries(page_id)}
    assert ("Ada", "irc") in made  # claimed, but not confirmed
    nets.healed = True
    restarted = make_pager(handles_index, nets, store)
    runner = asyncio.create_task(restarted.run())  # finishes the interrupted step first
    async with asyncio.timeout(5):
        while ("irc", "ada") not in nets.private():
            await asyncio.sleep(0.01)
    runner.cancel()
    assert nets.private().count(("irc", "ada")) == 1
    assert nets.private().count(("matrix", "@ada:example.org")) == 1  # not sent again


async def test_every_attempt_at_one_delivery_carries_the_same_key(handles_index: Index) -> None:
    nets = RecordingNetworks(("matrix",))
    store = Store(":memory:")
    pager = make_pager(handles_index, nets, store)
    created = await pager.page(said("x", network="matrix", room="!room:example.org"), ["pypi", "x"])
    assert isinstance(created, Created)
    page_id = created.page.id
    keys = [r.delivery_key for r in nets.sent if r.room.private]
    assert keys == [f"page.{page_id}.0.Ada.matrix", f"page.{page_id}.0.Bob.matrix"]


async def test_a_failed_delivery_is_retried_while_its_step_lasts(handles_index: Index) -> None:
    store = Store(":memory:")
    nets = FailingNetworks()
    pager = make_pager(handles_index, nets, store)
    pager.escalation.first_retry = pager.escalation.retry = 0.05
    created = await pager.page(said("x"), ["pypi", "down"])
    assert isinstance(created, Created)
    runner = asyncio.create_task(pager.run())
    try:
        assert store.unconfirmed(created.page.id, 0) == 1  # Ada's IRC message
        async with asyncio.timeout(5):
            while nets.refused < 3:  # refused when paged, on the loop's start, and again
                await asyncio.sleep(0.01)
        nets.healed = True
        async with asyncio.timeout(5):
            while store.unconfirmed(created.page.id, 0):
                await asyncio.sleep(0.01)
    finally:
        runner.cancel()
    assert nets.private().count(("irc", "ada")) == 1
    _, events = pager.history(created.page.id)
    assert [e.kind for e in events].count("delivery failed") == 1  # said once, not per try


async def test_a_failed_delivery_is_made_even_once_the_page_has_climbed(
    handles_index: Index,
) -> None:
    # the bot restarted and is not connected yet when the page is due to escalate: the
    # owners' messages must still go once the network is back, not be left behind
    store = Store(":memory:")
    nets = FailingNetworks()
    pager = make_pager(handles_index, nets, store, escalate_after=0.2)
    pager.escalation.first_retry = 0.05
    created = await pager.page(said("x"), ["pypi", "down"])
    assert isinstance(created, Created)
    page_id = created.page.id
    runner = asyncio.create_task(pager.run())
    try:
        async with asyncio.timeout(5):
            while (page := store.page(page_id)) is None or page.level < 1:
                await asyncio.sleep(0.01)
        assert store.unconfirmed(page_id, 0) == 1  # Ada's IRC message, still waiting
        nets.healed = True
        async with asyncio.timeout(5):
            while store.unconfirmed_steps(page_id):
                await asyncio.sleep(0.01)
    finally:
        runner.cancel()
    assert nets.private().count(("irc", "ada")) == 1


class SlowNetworks(RecordingNetworks):
    """Every private message takes a while to go, as paced lines do on IRC."""

    async def send(self, reply: Reply) -> None:
        if reply.room.private:
            await asyncio.sleep(0.3)
        await super().send(reply)


async def test_a_delivery_in_flight_is_not_sent_again_by_the_escalation_loop(
    handles_index: Index,
) -> None:
    # the page is due to climb while its first step is still being sent: the loop tries
    # again what is unconfirmed, and must leave alone what this process is sending
    store = Store(":memory:")
    nets = SlowNetworks()
    pager = make_pager(handles_index, nets, store, escalate_after=0.2)
    pager.escalation.first_retry = 0.01
    runner = asyncio.create_task(pager.run())
    try:
        created = await pager.page(said("x"), ["pypi", "down"])
        assert isinstance(created, Created)
        async with asyncio.timeout(10):
            while store.unconfirmed_steps(created.page.id) or not nets.private().count(
                ("matrix", "@cy:example.org")
            ):
                await asyncio.sleep(0.01)
    finally:
        runner.cancel()
    private = nets.private()
    assert private.count(("irc", "ada")) == 1
    assert private.count(("matrix", "@ada:example.org")) == 1
    assert private.count(("matrix", "@bob:example.org")) == 1
