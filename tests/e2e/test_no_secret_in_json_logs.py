"""``infrabot run`` at DEBUG, libraries on, JSON lines, on real InspIRCd + Atheme and Synapse,
with an alert posted with the web token and a page sent by authenticated SMTP: every line is
one JSON object, and none holds the SASL password, the Matrix password or its token, the web
token or the SMTP password, in any encoding they travel in."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

sys.path[:0] = [str(Path(__file__).parent / "irc"), str(Path(__file__).parent / "matrix")]

from irc_e2e_client import register_account  # noqa: E402
from irc_e2e_servers import IrcServers, servers_installed  # noqa: E402
from matrix_harness import PASSWORD, Person, start_synapse, synapse_python  # noqa: E402

from infrabot.transports.matrix_store import MatrixStateStore  # noqa: E402
from tests.test_cli import BackgroundRun  # noqa: E402

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

SASL = ("jsonbot", "sasl-Secret-pw-4Rt")
WEB_TOKEN = "web-Secret-token-8Vb"
SMTP = ("mailbot", "smtp-Secret-pw-2Hn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An SMTP server's handler that takes mail only from the bot's login."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content.decode())
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth: Any
    ) -> AuthResult:
        ok = (auth.login.decode(), auth.password.decode()) == SMTP
        self.logins.append(mechanism)
        return AuthResult(success=ok)


def _encodings(secret: str) -> set[str]:
    forms = {secret, json.dumps(secret)[1:-1], base64.b64encode(secret.encode()).decode()}
    return forms


def _servers_or_skip() -> Path:
    python = synapse_python()
    if servers_installed() and python is not None:
        return python
    message = "needs InspIRCd, Atheme and Synapse: run scripts/install-irc-servers, install-synapse"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _config(tmp_path: Path, irc_port: int, matrix: tuple[str, str, str], smtp_port: int) -> Path:
    homeserver, bot, alias = matrix
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "people:\n  - name: Ada\n    contact: {irc_nick: ada, email: ada@example.org}\n"
        "services:\n  - name: PyPI\n    owners: [Ada]\n"
    )
    web_port = _free_port()
    settings = {
        "inventory": str(inventory),
        "store": "infrabot.db",
        "log_level": "DEBUG",
        "log_format": "json",
        "irc": {
            "port": irc_port,
            "nick": SASL[0],
            "sasl_username": SASL[0],
            "sasl_password": SASL[1],
            "channels": ["#logs"],
        },
        "matrix": {
            "homeserver": homeserver,
            "user_id": bot,
            "password": PASSWORD,
            "rooms": [alias],
            "store_path": "matrix",
            "sync_timeout": 2.0,
        },
        "web": {"port": web_port, "token": WEB_TOKEN},
        "paging": {
            "require_identified": False,
            "alert_window": 0,
            "announce": [{"network": "irc", "room": "#logs"}],
            "smtp": {"port": smtp_port, "username": SMTP[0], "password": SMTP[1]},
        },
    }
    cfg = tmp_path / "bot.yaml"
    cfg.write_text(yaml.safe_dump(settings))
    return cfg


async def _post_alert(port: int) -> int:
    alert = {"service": "pypi", "summary": "uploads failing", "severity": "critical"}
    headers = {"Authorization": f"Bearer {WEB_TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/alerts", json=alert, headers=headers) as resp,
    ):
        return resp.status


async def _until(what: str, done: Any, bot: BackgroundRun, within: float = 30) -> None:
    await asyncio.to_thread(bot.wait_until, what, done, within)


async def test_no_secret_in_json_debug_logs(tmp_path: Path) -> None:
    python = _servers_or_skip()
    irc = IrcServers(tmp_path / "ircd")
    irc.start()
    synapse, users = start_synapse(python, tmp_path / "synapse")
    inbox = Inbox()
    smtp = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=inbox.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    smtp.start()
    boss = Person(synapse.url, users.boss)
    bot: BackgroundRun | None = None
    try:
        await asyncio.to_thread(register_account, irc.port, *SASL)
        await boss.login()
        _, alias = await boss.create_room()
        cfg = _config(tmp_path, irc.port, (synapse.url, users.bot, alias), smtp.port)
        web_port = yaml.safe_load(cfg.read_text())["web"]["port"]
        bot = BackgroundRun(cfg, "--log-libraries")
        await _until("in the channel", lambda: "joined #logs" in bot.stderr, bot)
        await _until("in the Matrix room", lambda: "matrix: in #" in bot.stderr, bot)
        assert await _post_alert(web_port) == 200
        await _until("emailed", lambda: bool(inbox.messages), bot)
        assert bot.stop(signal.SIGTERM) == 0
    finally:
        if bot is not None:
            bot.stop(signal.SIGKILL)
        await boss.close()
        smtp.stop()
        synapse.stop()
        irc.stop()
    written = bot.stderr
    lines = [json.loads(line) for line in written.splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    # the secrets were used: SASL, a Matrix password login, the web token, an SMTP login
    assert f"logged in to services as {SASL[0]}" in written
    assert inbox.logins and "[page " in inbox.messages[0]
    assert any(line["logger"].startswith("nio") for line in lines)  # libraries did log
    state = MatrixStateStore(tmp_path / "matrix")
    session: Any = state.session
    state.close()
    assert session is not None and session.access_token
    secrets = [SASL[1], PASSWORD, session.access_token, WEB_TOKEN, SMTP[1]]
    payloads = [f"{SASL[0]}\0{SASL[0]}\0{SASL[1]}", f"\0{SMTP[0]}\0{SMTP[1]}"]
    for secret in secrets + payloads:
        for form in _encodings(secret):
            assert form not in written, f"a secret ({secret[:4]}...) reached the log"
