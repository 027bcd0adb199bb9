"""Matrix beside another network in one process: a crash of one never stops the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fake_nio import ALIAS, BOT, FakeClient, sync, text

from infrabot.app import App, build_transports
from infrabot.config import Config, MatrixConfig, load_config
from infrabot.errors import ConfigError
from infrabot.messages import Reply
from infrabot.testing import FakeTransport
from infrabot.transports.base import Deliver
from infrabot.transports.matrix import MatrixTransport


class CrashingTransport(FakeTransport):
    """An IRC stand-in whose connection fails every time it is started."""

    def __init__(self) -> None:
        super().__init__("irc")
        self.starts = 0
        self.restarted_twice = asyncio.Event()

    async def run(self, deliver: Deliver) -> None:
        self.starts += 1
        if self.starts >= 3:
            self.restarted_twice.set()
        raise ConnectionError("irc server unreachable")

    async def send(self, reply: Reply) -> None:
        raise AssertionError("nothing should be sent to a dead network")


async def test_matrix_keeps_answering_while_irc_keeps_crashing(
    tmp_path: Path,
) -> None:
    matrix_config = MatrixConfig(
        user_id=BOT, password="pw", rooms=[ALIAS], store_path=tmp_path / "m"
    )
    client = FakeClient([sync("s1"), sync("s2", [text("$q", "!owner pypi")])])
    matrix = MatrixTransport(matrix_config, client_factory=lambda _: client)
    irc = CrashingTransport()
    bot = App(Config(store=tmp_path / "bot.db", matrix=matrix_config))
    bot.restart_delays = (0.001, 0.01)  # restart the crashing transport at once

    running = asyncio.create_task(bot.run([irc, matrix]))
    await asyncio.wait_for(client.drained.wait(), 10)
    await asyncio.wait_for(irc.restarted_twice.wait(), 10)
    assert not running.done()

    [(_, content, _)] = client.sent
    assert "PyPI" in content["body"]
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}

    await matrix.stop()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


def test_a_matrix_section_builds_the_matrix_transport(tmp_path: Path) -> None:
    config = Config(matrix=MatrixConfig(store_path=tmp_path / "m"))
    [transport] = build_transports(config)
    assert isinstance(transport, MatrixTransport)
    assert transport.network == "matrix"


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRABOT_MATRIX__PASSWORD", "from-env")
    monkeypatch.setenv("INFRABOT_MATRIX__ACCESS_TOKEN", "token-from-env")
    config = Config()
    assert config.matrix is not None
    assert config.matrix.password is not None
    assert config.matrix.password.get_secret_value() == "from-env"
    assert config.matrix.access_token is not None
    assert config.matrix.access_token.get_secret_value() == "token-from-env"


def test_a_secret_left_out_of_the_file_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "infrabot.yaml"
    path.write_text(
        'matrix: {user_id: "@infrabot:localhost", rooms: ["#python-infra:localhost"],'
        " store_path: matrix-store}\n"
    )
    monkeypatch.setenv("INFRABOT_MATRIX__PASSWORD", "from-env")
    config = load_config(path)
    assert config.matrix is not None
    assert config.matrix.password is not None
    assert config.matrix.password.get_secret_value() == "from-env"
    assert config.matrix.rooms == ["#python-infra:localhost"]
    assert config.matrix.store_path == tmp_path / "matrix-store"


def test_backoff_bounds_are_checked_when_the_config_is_read(tmp_path: Path) -> None:
    path = tmp_path / "infrabot.yaml"
    path.write_text("matrix: {backoff_initial: 10, backoff_max: 1}\n")
    with pytest.raises(ConfigError, match="backoff_max"):
        load_config(path)
