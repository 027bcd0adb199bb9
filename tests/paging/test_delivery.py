"""Email to a local SMTP server, and the webhook to a local receiver."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from infrabot.config import SmtpConfig, WebhookConfig
from infrabot.inventory import Index
from infrabot.paging.channels import EmailSender, WebhookSender
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
    page_id = (await pager.page(said("x"), ["pypi", "uploads", "failing"])).page.id
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
    page_id = (await pager.page(said("x"), ["pypi", "down"])).page.id
    assert len(nets.private()) == 3  # chat deliveries still made
    _, events = pager.history(page_id)
    failures = [e.detail for e in events if e.kind == "delivery failed"]
    assert len(failures) == 1
    assert failures[0].startswith("email to Ada: email to ada@example.org failed")
