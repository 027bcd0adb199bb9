"""Alert intake over HTTP: payloads, the answers, and what reaches the rooms."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from infrabot.config import RoomRef, WebConfig
from infrabot.inventory import Index, parse_inventory
from infrabot.paging import Pager
from infrabot.paging.alerts import AlertIntake
from infrabot.transports.matrix_format import notice_contents
from infrabot.web import AlertServer
from tests.paging.conftest import HANDLES, RecordingNetworks, make_pager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Intake:
    base: str
    pager: Pager
    nets: RecordingNetworks
    intake: AlertIntake

    def announcements(self) -> list[str]:
        """The lines of the alert announcements (not the page highlights) in the rooms."""
        return [
            line
            for reply in self.nets.sent
            if not reply.room.private and reply.in_reply_to is None
            for line in reply.lines
        ]


async def serve(index: Index, room: RoomRef, **options: Any) -> tuple[AlertServer, Intake]:
    nets = RecordingNetworks()
    pager = make_pager(index, nets, announce=[room], **options)
    intake = AlertIntake(pager, index=lambda: index, send=nets.send)
    port = free_port()
    server = AlertServer(WebConfig(port=port, token=SecretStr("t0ken")), intake)
    await server.start()
    return server, Intake(f"http://127.0.0.1:{port}", pager, nets, intake)


@pytest.fixture
def handles_index() -> Index:
    return Index(parse_inventory(HANDLES))


@pytest.fixture
async def intake(handles_index: Index) -> AsyncIterator[Intake]:
    # one notification a batch: each answer comes as soon as it is handled
    server, running = await serve(
        handles_index, RoomRef(network="irc", room="#python-infra"), alert_window=0
    )
    yield running
    await server.stop()


async def post(
    url: str, body: Any, token: str = "t0ken", content_type: str = "application/json"
) -> tuple[int, Any]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=data, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


ALERTMANAGER: dict[str, Any] = {
    "version": "4",
    "status": "firing",
    "receiver": "infrabot",
    "groupLabels": {"alertname": "UploadErrors"},
    "commonLabels": {},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "UploadErrors", "service": "pypi", "severity": "critical"},
            "annotations": {"summary": "upload error rate above 5%"},
            "startsAt": "2026-11-24T03:00:00Z",
            "fingerprint": "c0ffee",
        },
        {
            "status": "firing",
            "labels": {"alertname": "DiskSlow", "service": "wiki", "severity": "warning"},
            "annotations": {"summary": "disk latency high"},
            "fingerprint": "beef",
        },
    ],
}


def alert(
    service: str, summary: str, *, severity: str = "warning", status: str = "firing", fp: str = ""
) -> dict[str, Any]:
    """One alert of an Alertmanager payload."""
    return {
        "status": status,
        "labels": {"alertname": summary.split()[0], "service": service, "severity": severity},
        "annotations": {"summary": summary},
        "fingerprint": fp or f"{service}-{summary}",
    }


def notification(alerts: list[dict[str, Any]], group: str | None = None) -> dict[str, Any]:
    """An Alertmanager notification: resolved when every alert in it is."""
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    body: dict[str, Any] = {"version": "4", "status": status, "alerts": alerts}
    if group is not None:
        body["groupKey"] = group
    return body


async def test_alertmanager_pages_and_resolves(intake: Intake) -> None:
    status, body = await post(f"{intake.base}/alerts", ALERTMANAGER)
    assert status == 200
    first, second = body["results"]
    assert first["service"] == "pypi" and first["result"].startswith("paged as ")
    assert second == {"service": "wiki", "result": "announced"}
    page_id = first["result"].split()[-1]
    assert intake.nets.public()[:3] == [
        "ALERT [critical] pypi: upload error rate above 5%",
        "ALERT [warning] wiki: disk latency high",
        f"PAGE {page_id} for PyPI: [critical] upload error rate above 5% · the owners of PyPI: "
        f"Ada, Bob, Dee · !ack {page_id} to acknowledge",
    ]
    private = len(intake.nets.private())
    status, body = await post(f"{intake.base}/alerts", ALERTMANAGER)  # repeated notification
    assert [r["result"] for r in body["results"]] == [f"already in page {page_id}", "announced"]
    assert len(intake.nets.private()) == private
    resolved = notification([{**ALERTMANAGER["alerts"][0], "status": "resolved"}])
    status, body = await post(f"{intake.base}/alerts", resolved)
    assert body["results"] == [{"service": "pypi", "result": f"resolved {page_id}"}]
    assert intake.pager.unclosed() == []
    assert (
        intake.nets.public()[-1]
        == f"{page_id} (PyPI) resolved by the alert source: alert cleared: upload error rate above 5%"
    )


async def test_generic_alert(intake: Intake) -> None:
    status, body = await post(
        f"{intake.base}/alerts", {"service": "wiki", "summary": "down", "severity": "page"}
    )
    assert status == 200 and body["results"][0]["result"].startswith("paged as ")
    status, body = await post(
        f"{intake.base}/alerts", {"service": "nonesuch", "summary": "x", "severity": "page"}
    )
    assert body["results"] == [
        {
            "service": "nonesuch",
            "result": "announced; not paged: no service, person or group 'nonesuch'",
        }
    ]
    assert intake.announcements()[-1] == "ALERT [page] nonesuch: x"


async def test_a_storm_is_announced_in_a_few_lines_that_count_every_alert(
    intake: Intake,
) -> None:
    storm = [alert(f"svc{i % 40}", f"probe {i} failing", fp=f"f{i}") for i in range(1000)]
    status, body = await post(f"{intake.base}/alerts", notification(storm))
    assert status == 200
    lines = intake.announcements()
    assert len(lines) == 5
    counted = 0
    for line in lines[:4]:
        found = re.match(r"ALERT svc\d+: (\d+) firing \(\d+ warning\): probe", line)
        assert found, line
        counted += int(found[1])
    assert lines[4].startswith("… and 900 more alerts for 36 services: svc4, svc5, svc6, ")
    counted += 900
    assert counted == 1000
    results = [r["result"] for r in body["results"]]
    assert results[0] == "announced with 24 other firing alerts for svc0"
    assert results[-1] == "announced in the summary line: … and 900 more alerts for 36 services"
    assert intake.pager.unclosed() == []


async def test_twenty_critical_alerts_of_one_service_make_one_page(intake: Intake) -> None:
    answers = []
    for i in range(20):
        critical = alert("pypi", f"upload errors on web{i}", severity="critical", fp=f"w{i}")
        _, body = await post(f"{intake.base}/alerts", notification([critical]))
        answers.append(body["results"][0]["result"])
    page_id = answers[0].removeprefix("paged as ")
    assert answers[1:] == [f"merged into page {page_id}"] * 19
    assert len(intake.pager.store.unclosed_pages()) == 1
    # one private message per owner and network: Ada on IRC and Matrix, Bob (who has no
    # IRC account) on Matrix; Dee has no handle
    assert sorted(intake.nets.private()) == [
        ("irc", "ada"),
        ("matrix", "@ada:example.org"),
        ("matrix", "@bob:example.org"),
    ]
    _, events = intake.pager.history(page_id)
    alerts = [e for e in events if e.kind == "alert"]
    assert sum(e.detail.startswith("[critical] upload errors on web") for e in alerts) == 20


async def test_the_groups_resolved_notification_resolves_its_page(intake: Intake) -> None:
    one = alert("pypi", "upload errors", severity="critical", fp="a1")
    two = alert("pypi", "slow uploads", severity="critical", fp="a2")
    group = '{}:{alertname="Uploads"}'
    _, body = await post(f"{intake.base}/alerts", notification([one, two], group))
    page_id = body["results"][0]["result"].removeprefix("paged as ")
    assert body["results"][1]["result"] == f"merged into page {page_id}"
    partly = notification([{**one, "status": "resolved"}, two], group)
    _, body = await post(f"{intake.base}/alerts", partly)
    assert [r["result"] for r in body["results"]] == [
        f"noted in page {page_id}",
        f"already in page {page_id}",
    ]
    assert [p.id for p in intake.pager.store.unclosed_pages()] == [page_id]
    cleared = notification([{**one, "status": "resolved"}, {**two, "status": "resolved"}], group)
    _, body = await post(f"{intake.base}/alerts", cleared)
    assert [r["result"] for r in body["results"]] == [f"resolved {page_id}"] * 2
    assert intake.pager.unclosed() == []
    assert intake.nets.public()[-1] == (
        f"{page_id} (PyPI) resolved by the alert source: alert cleared: upload errors (and 1 more)"
    )


async def test_another_group_of_the_same_service_has_its_own_page(intake: Intake) -> None:
    critical = alert("pypi", "upload errors", severity="critical")
    _, first = await post(f"{intake.base}/alerts", notification([critical], "group-a"))
    _, second = await post(f"{intake.base}/alerts", notification([critical], "group-b"))
    assert first["results"][0]["result"].startswith("paged as ")
    assert second["results"][0]["result"].startswith("paged as ")
    assert len(intake.pager.store.unclosed_pages()) == 2


async def test_notifications_within_the_window_share_one_announcement(
    handles_index: Index,
) -> None:
    # a window far longer than the test: the batch goes out when the test says so
    server, running = await serve(
        handles_index, RoomRef(network="irc", room="#python-infra"), alert_window=3600
    )
    try:
        bodies = [notification([alert("wiki", f"disk {i} slow")]) for i in range(30)]
        sending = [asyncio.create_task(post(f"{running.base}/alerts", b)) for b in bodies]
        async with asyncio.timeout(10):
            while running.intake.waiting < 30:
                await asyncio.sleep(0.01)
        assert running.nets.sent == []
        await running.intake.flush()
        answers = await asyncio.gather(*sending)
    finally:
        await server.stop()
    (line,) = running.announcements()
    assert line.startswith("ALERT wiki: 30 firing (30 warning): disk 0 slow; disk 1 slow; ")
    assert {a[1]["results"][0]["result"] for a in answers} == {
        "announced with 29 other firing alerts for wiki"
    }


async def test_a_line_break_in_a_summary_stays_one_line_on_matrix(handles_index: Index) -> None:
    room = RoomRef(network="matrix", room="!ops:example.org")
    server, running = await serve(handles_index, room, alert_window=0)
    try:
        body = {"service": "wiki", "summary": "disk full\non db1\r\n\x1b[31mnow", "severity": "x"}
        status, _ = await post(f"{running.base}/alerts", body)
    finally:
        await server.stop()
    assert status == 200
    (reply,) = running.nets.sent
    (content,) = notice_contents(reply, in_reply_to_event=None, asker=None)
    assert content["body"] == "ALERT [x] wiki: disk full on db1 [31mnow"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "bad payload: Expecting value"),
        (b"\xff\xfe{", "bad payload: 'utf-16-le' codec can't decode"),
        ("[" * 200_000 + "]" * 200_000, "bad payload: the JSON is nested too deeply"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "bad payload: the JSON is nested too deeply"),
        ([1, 2], "bad payload: the body must be a JSON object"),
        ({"summary": "x"}, "bad payload: service must be a non-empty string"),
        ({"service": "pypi"}, "bad payload: summary must be a non-empty string"),
        ({"service": "pypi", "summary": "\n\x00 "}, "bad payload: summary must be a non-empty"),
        ({"service": "pypi", "summary": "x", "status": "weird"}, "bad payload: status must be"),
        ({"service": "pypi", "summary": "x", "status": ["firing"]}, "bad payload: status must"),
        ({"alerts": []}, "bad payload: 'alerts' must be a non-empty list"),
        (
            {"alerts": [{"labels": {"service": "pypi"}}]},
            "bad payload: alerts[0].labels.alertname must be",
        ),
        ({**ALERTMANAGER, "groupKey": 7}, "bad payload: groupKey must be a non-empty string"),
    ],
)
async def test_bad_payloads_get_400(
    intake: Intake, body: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        status, answer = await post(f"{intake.base}/alerts", body)
    assert status == 400 and answer["error"].startswith(reason)
    assert len(answer["error"]) < 200
    assert intake.nets.sent == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_the_claimed_charset_does_not_matter(intake: Intake) -> None:
    body = json.dumps({"service": "wiki", "summary": "down"})
    status, answer = await post(
        f"{intake.base}/alerts", body, content_type="application/json; charset=nonesuch"
    )
    assert (status, answer["results"][0]["result"]) == (200, "announced")


async def test_without_a_room_to_announce_in_alerts_are_refused(handles_index: Index) -> None:
    nets = RecordingNetworks()
    pager = make_pager(handles_index, nets)
    server = AlertServer(
        WebConfig(port=(port := free_port()), token=SecretStr("t0ken")),
        AlertIntake(pager, index=lambda: handles_index, send=nets.send),
    )
    await server.start()
    try:
        status, answer = await post(f"http://127.0.0.1:{port}/alerts", ALERTMANAGER)
    finally:
        await server.stop()
    assert (status, answer) == (
        503,
        {"error": "no room is configured to announce alerts in (paging.announce)"},
    )
    assert nets.sent == []


async def test_bad_token_gets_401(intake: Intake) -> None:
    status, answer = await post(f"{intake.base}/alerts", ALERTMANAGER, token="wrong")
    assert (status, answer) == (401, {"error": "missing or wrong bearer token"})
    async with aiohttp.ClientSession() as session, session.get(f"{intake.base}/health") as resp:
        assert await resp.json() == {"status": "ok"}
    assert intake.nets.sent == []
