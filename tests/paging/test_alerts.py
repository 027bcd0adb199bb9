"""The alert intake on its own: batches, pacing, pages of alert groups, bounded history."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from infrabot.config import RoomRef
from infrabot.errors import PagingError
from infrabot.inventory import Index
from infrabot.messages import Reply
from infrabot.paging import Pager
from infrabot.paging.alerts import ANNOUNCE_LINES, HISTORY_PER_BATCH, Alert, AlertIntake
from tests.paging.conftest import RecordingNetworks, make_pager, said

ROOMS = [RoomRef(network="irc", room="#python-infra"), RoomRef(network="matrix", room="!ops:x")]


class Sleeps:
    """A stand-in for ``asyncio.sleep`` that records how long it was asked to wait."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(0)


def intake_for(
    index: Index,
    nets: RecordingNetworks,
    *,
    send: Callable[[Reply], Awaitable[None]] | None = None,
    **options: Any,
) -> tuple[AlertIntake, Pager]:
    pager = make_pager(index, nets, announce=ROOMS, alert_window=0)
    intake = AlertIntake(pager, index=lambda: index, send=send or nets.send, **options)
    return intake, pager


def warning(service: str, summary: str) -> Alert:
    return Alert(service=service, summary=summary, severity="warning", firing=True)


def critical(service: str, summary: str, group: str = "", fp: str = "") -> Alert:
    return Alert(service, summary, "critical", True, fingerprint=fp, group=group)


async def test_one_batch_is_one_message_in_every_room(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, _ = intake_for(handles_index, nets)
    results = await intake.submit([warning("wiki", "disk slow"), warning("wiki", "disk full")])
    assert results == ["announced with 1 other firing alerts for wiki"] * 2
    assert [(r.room.network, r.room.id, r.lines) for r in nets.sent] == [
        (room.network, room.room, ("ALERT wiki: 2 firing (2 warning): disk slow; disk full",))
        for room in ROOMS
    ]


async def test_many_groups_end_in_a_summary_line_serious_ones_first(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, _ = intake_for(handles_index, nets)
    alerts = [warning(f"svc{i}", "probe failing") for i in range(8)]
    alerts.append(Alert("svc9", "gone", "warning", firing=False))
    alerts.append(critical("svc10", "down"))  # not in the inventory: announced, not paged
    results = await intake.submit(alerts)
    lines = nets.sent[0].lines
    assert len(lines) == ANNOUNCE_LINES
    assert lines == (
        "ALERT [critical] svc10: down",
        "ALERT [warning] svc0: probe failing",
        "ALERT [warning] svc1: probe failing",
        "ALERT [warning] svc2: probe failing",
        "… and 6 more alerts for 6 services: svc3, svc4, svc5, svc6, svc7, svc9",
    )
    assert results[-1] == "announced; not paged: no service, person or group 'svc10'"
    assert results[3] == "announced in the summary line: … and 6 more alerts for 6 services"


async def test_a_batch_of_many_lines_holds_the_next_back(handles_index: Index) -> None:
    nets = RecordingNetworks()
    sleeps = Sleeps()
    intake, _ = intake_for(handles_index, nets, window=2.0, clock=lambda: 100.0, sleep=sleeps)
    results = await intake.submit(
        [critical("pypi", "down")] + [warning(f"svc{i}", "x") for i in range(8)]
    )
    assert results[0].startswith("paged as ")
    assert sleeps.asked == [2.0]
    assert len(nets.public()) > ANNOUNCE_LINES * len(ROOMS)  # with the page's highlight
    await intake.submit([warning("wiki", "y")])
    # the next batch waits its window, then one window a line, five at most
    assert sleeps.asked == [2.0, 2.0, 10.0]
    await intake.submit([warning("wiki", "z")])
    assert sleeps.asked == [2.0, 2.0, 10.0, 2.0, 2.0]


async def test_close_announces_what_waits(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, _ = intake_for(handles_index, nets, window=3600)
    waiting = asyncio.create_task(intake.submit([warning("wiki", "disk slow")]))
    async with asyncio.timeout(5):
        while intake.waiting < 1:
            await asyncio.sleep(0)
    assert nets.sent == []
    await intake.close()
    assert await waiting == ["announced"]
    assert len(nets.sent) == len(ROOMS)
    # once closed, an alert is announced at once
    assert await intake.submit([warning("wiki", "later")]) == ["announced"]


async def test_a_group_pages_once_and_later_alerts_join_its_history(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, pager = intake_for(handles_index, nets)
    first = await intake.submit([critical("pypi", f"err {i}", "g1") for i in range(3)])
    page_id = first[0].removeprefix("paged as ")
    assert first[1:] == [f"merged into page {page_id}"] * 2
    (page,) = pager.store.unclosed_pages()
    assert page.reason == "[critical] err 0 (and 2 more alerts)"
    later = await intake.submit([warning("pypi", "slow"), critical("pypi", "err 0", "g1")])
    # the warning has no group key, so it is the service's own group: announced only
    assert later == ["announced with 1 other firing alerts for pypi", f"already in page {page_id}"]
    alerts = [e.detail for e in pager.store.page_events(page_id) if e.kind == "alert"]
    assert alerts == [
        "[critical] err 0",
        "[critical] err 1",
        "[critical] err 2",
    ]


async def test_an_acknowledged_page_still_takes_its_groups_alerts(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, pager = intake_for(handles_index, nets)
    (opened,) = await intake.submit([critical("pypi", "err")])
    page_id = opened.removeprefix("paged as ")
    await pager.ack(said("x"), page_id, is_admin=True)
    private = len(nets.private())
    assert await intake.submit([critical("pypi", "worse")]) == [f"merged into page {page_id}"]
    assert len(nets.private()) == private


async def test_history_takes_a_bounded_number_of_alerts_a_batch(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, pager = intake_for(handles_index, nets)
    results = await intake.submit([critical("pypi", f"err {i}") for i in range(30)])
    assert len({r.split()[-1] for r in results}) == 1
    events = pager.store.page_events(results[0].split()[-1])
    assert sum(e.kind == "alert" for e in events) == HISTORY_PER_BATCH
    assert events[-1].detail == "and 10 more alerts of the group, not listed"


async def test_a_failing_room_is_said_and_the_page_still_goes_out(handles_index: Index) -> None:
    nets = RecordingNetworks()

    async def broken(reply: Reply) -> None:
        if not reply.room.private and reply.in_reply_to is None:
            raise ConnectionError("network down")
        await nets.send(reply)

    intake, _ = intake_for(handles_index, nets, send=broken)
    results = await intake.submit([warning("wiki", "slow"), critical("pypi", "down")])
    assert results[0] == "not announced: no room took the message"
    assert results[1].startswith("paged as ")
    assert len(nets.private()) == 3


async def test_without_an_announce_room_nothing_is_taken(handles_index: Index) -> None:
    nets = RecordingNetworks()
    pager = make_pager(handles_index, nets)
    intake = AlertIntake(pager, index=lambda: handles_index, send=nets.send)
    with pytest.raises(PagingError, match=r"\(paging\.announce\)"):
        await intake.submit([warning("wiki", "slow")])


async def test_a_warning_of_the_group_joins_the_page_its_batch_opens(handles_index: Index) -> None:
    nets = RecordingNetworks()
    intake, _ = intake_for(handles_index, nets)
    results = await intake.submit([critical("pypi", "down"), warning("pypi", "slow")])
    page_id = results[0].removeprefix("paged as ")
    assert results[1] == f"merged into page {page_id}"
