"""Email to a local SMTP server, the webhook to a local receiver, and alert intake over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from infrabot.config import RoomRef, SmtpConfig, WebConfig, WebhookConfig
from infrabot.inventory import Index
from infrabot.paging import Pager
from infrabot.paging.channels import EmailSender, WebhookSender
from infrabot.web import AlertServer
from tests.paging.conftest import RecordingNetworks, make_pager, said


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode())
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer hook-secret"
        got.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/hook", got
    await runner.cleanup()


async def test_email_and_webhook_delivery(
    handles_index: Index, smtp: Any, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    controller, inbox = smtp
    url, hooks = receiver
    nets = RecordingNetworks()
    pager = make_pager(
        handles_index,
        nets,
        email=EmailSender(
            SmtpConfig(host="127.0.0.1", port=controller.port, sender="bot@example.org")
        ),
        webhook=WebhookSender(WebhookConfig(url=url, token=SecretStr("hook-secret"))),
    )
    (reply,) = await pager.page(said("x"), "pypi uploads failing")
    page_id = reply.lines[0].split()[1]
    assert len(inbox.messages) == 1
    sender, rcpt, content = inbox.messages[0]
    assert (sender, rcpt) == ("bot@example.org", ["ada@example.org"])
    assert f"Subject: [page {page_id}] PyPI" in content
    assert f"PAGE {page_id} for PyPI: uploads failing" in content
    assert hooks == [
        {
            "page": page_id,
            "target": "PyPI",
            "kind": "service",
            "reason": "uploads failing",
            "step": 0,
            "level": "the owners of PyPI",
            "recipients": ["Ada", "Bob", "Dee"],
            "requester": "alice",
        }
    ]


async def test_failed_email_is_recorded_not_fatal(handles_index: Index) -> None:
    nets = RecordingNetworks()
    pager = make_pager(
        handles_index,
        nets,
        email=EmailSender(SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2)),
    )
    (reply,) = await pager.page(said("x"), "pypi down")
    page_id = reply.lines[0].split()[1]
    assert len(nets.private()) == 3  # chat deliveries still made
    failures = [line for line in pager.info(page_id) if "delivery failed" in line]
    assert len(failures) == 1
    assert "delivery failed: email to Ada: email to ada@example.org failed" in failures[0]


ALERTMANAGER = {
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


@pytest.fixture
async def intake(handles_index: Index) -> AsyncIterator[tuple[str, Pager, RecordingNetworks]]:
    nets = RecordingNetworks()
    pager = make_pager(handles_index, nets, announce=[RoomRef(network="irc", room="#python-infra")])
    port = free_port()
    server = AlertServer(WebConfig(port=port, token=SecretStr("t0ken")), pager)
    await server.start()
    yield f"http://127.0.0.1:{port}", pager, nets
    await server.stop()


async def post(url: str, body: Any, token: str = "t0ken") -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url,
            data=body if isinstance(body, str) else json.dumps(body),
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return resp.status, await resp.json()


async def test_alertmanager_pages_and_resolves(
    intake: tuple[str, Pager, RecordingNetworks],
) -> None:
    base, pager, nets = intake
    status, body = await post(f"{base}/alerts", ALERTMANAGER)
    assert status == 200
    first, second = body["results"]
    assert first["service"] == "pypi" and first["result"].startswith("paged as ")
    assert second == {"service": "wiki", "result": "announced"}
    page_id = first["result"].split()[-1]
    assert nets.public()[:2] == [
        "ALERT [critical] pypi: upload error rate above 5%",
        f"PAGE {page_id} for PyPI: [critical] upload error rate above 5% · the owners of PyPI: "
        f"ada, bob, Dee · !ack {page_id} to acknowledge",
    ]
    status, body = await post(f"{base}/alerts", ALERTMANAGER)  # repeated notification
    assert body["results"][0]["result"] == f"already paging as {page_id}"
    resolved = {
        **ALERTMANAGER,
        "status": "resolved",
        "alerts": [{**ALERTMANAGER["alerts"][0], "status": "resolved"}],
    }  # type: ignore[index]
    status, body = await post(f"{base}/alerts", resolved)
    assert body["results"] == [{"service": "pypi", "result": f"resolved {page_id}"}]
    assert pager.listing() == ["no open pages"]
    assert (
        nets.public()[-1]
        == f"{page_id} (PyPI) resolved by the alert source: alert cleared: upload error rate above 5%"
    )


async def test_generic_alert(intake: tuple[str, Pager, RecordingNetworks]) -> None:
    base, _, _ = intake
    status, body = await post(
        f"{base}/alerts", {"service": "wiki", "summary": "down", "severity": "page"}
    )
    assert status == 200 and body["results"][0]["result"].startswith("paged as ")
    status, body = await post(
        f"{base}/alerts", {"service": "nonesuch", "summary": "x", "severity": "page"}
    )
    assert body["results"][0]["result"].startswith("error: no service, person or group 'nonesuch'")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "bad payload: Expecting value"),
        ([1, 2], "bad payload: the body must be a JSON object"),
        ({"summary": "x"}, "bad payload: service must be a non-empty string"),
        ({"service": "pypi"}, "bad payload: summary must be a non-empty string"),
        ({"service": "pypi", "summary": "x", "status": "weird"}, "bad payload: status must be"),
        ({"alerts": []}, "bad payload: 'alerts' must be a non-empty list"),
        (
            {"alerts": [{"labels": {"service": "pypi"}}]},
            "bad payload: alerts[0].labels.alertname must be",
        ),
    ],
)
async def test_bad_payloads_get_400(
    intake: tuple[str, Pager, RecordingNetworks], body: Any, reason: str
) -> None:
    base, _, nets = intake
    status, answer = await post(f"{base}/alerts", body)
    assert status == 400 and answer["error"].startswith(reason)
    assert nets.sent == []


async def test_bad_token_gets_401(intake: tuple[str, Pager, RecordingNetworks]) -> None:
    base, _, nets = intake
    status, answer = await post(f"{base}/alerts", ALERTMANAGER, token="wrong")
    assert (status, answer) == (401, {"error": "missing or wrong bearer token"})
    async with aiohttp.ClientSession() as session, session.get(f"{base}/health") as resp:
        assert await resp.json() == {"status": "ok"}
    assert nets.sent == []
    await asyncio.sleep(0)
