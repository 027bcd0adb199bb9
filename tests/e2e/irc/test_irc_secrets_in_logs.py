"""A bot logging at DEBUG on real InspIRCd + Atheme writes neither its passwords nor the SASL
payload that carries one, with the libraries' protocol logs on or off."""

from __future__ import annotations

import base64
import signal
from pathlib import Path

import pytest
import yaml
from irc_e2e_client import register_account
from irc_e2e_servers import IrcServers

from tests.test_cli import BackgroundRun

pytestmark = pytest.mark.e2e

ACCOUNT = ("logbot", "log-Secret-pw-8Qz")
SERVER_PASSWORD = "srv-Secret-pw-3Jk"
PAYLOAD = base64.b64encode(f"{ACCOUNT[0]}\0{ACCOUNT[0]}\0{ACCOUNT[1]}".encode()).decode()


@pytest.fixture(scope="module")
def account(irc_servers: IrcServers) -> tuple[str, str]:
    register_account(irc_servers.port, *ACCOUNT)
    return ACCOUNT


@pytest.mark.parametrize("libraries", [False, True], ids=["own-logs", "with-libraries"])
def test_no_secret_in_debug_logs(
    irc_servers: IrcServers,
    account: tuple[str, str],
    tmp_path: Path,
    libraries: bool,
) -> None:
    cfg = tmp_path / "bot.yaml"
    settings = {
        "store": "infrabot.db",
        "log_level": "DEBUG",
        "irc": {
            "host": "127.0.0.1",
            "port": irc_servers.port,
            "nick": "logbot",
            "sasl_username": account[0],
            "sasl_password": account[1],
            "server_password": SERVER_PASSWORD,
            "channels": ["#logs"],
        },
    }
    cfg.write_text(yaml.safe_dump(settings))
    bot = BackgroundRun(cfg, *(["--log-libraries"] if libraries else []))
    try:
        bot.wait_until("in the channel", lambda: "joined #logs" in bot.stderr)
    finally:
        assert bot.stop(signal.SIGTERM) == 0
    written = bot.stderr
    assert f"logged in to services as {account[0]}" in written  # SASL did happen
    for secret in (account[1], SERVER_PASSWORD, PAYLOAD):
        assert secret not in written
    if libraries:
        # the library's raw lines are there, with the credentials taken out
        assert "DEBUG irc.client_aio: RAW: NICK logbot" in written
        assert "RAW: AUTHENTICATE PLAIN" in written
        assert "RAW: AUTHENTICATE ***" in written
        assert "RAW: PASS ***" in written
    else:
        assert "irc.client" not in written
