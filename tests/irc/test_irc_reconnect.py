"""Staying connected: the PING watchdog and reconnection, against a tiny fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from infrabot.config import IrcConfig, load_config
from infrabot.messages import IncomingMessage
from infrabot.transports.irc import IrcTransport


class SilentServer:
    """Welcomes each client, then never answers anything again (a dead link)."""

    def __init__(self) -> None:
        self.connections = 0
        self.second = asyncio.Event()
        self.received: list[str] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.connections >= 2:
            self.second.set()
        writer.write(b":fake 001 infrabot :Welcome\r\n")
        while line := await reader.readline():
            self.received.append(line.decode().rstrip())
        writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])


async def _noop(message: IncomingMessage) -> None:
    return None


async def test_ping_timeout_means_reconnect() -> None:
    fake = SilentServer()
    port = await fake.start()
    transport = IrcTransport(
        IrcConfig(
            port=port,
            channels=[],
            ping_interval=0.2,
            ping_timeout=0.2,
            reconnect_min=0.05,
            reconnect_max=0.1,
            flood_rate=0,
        )
    )
    task = asyncio.create_task(transport.run(_noop))
    try:
        await asyncio.wait_for(fake.second.wait(), 5)
        assert any(line.startswith("PING :infrabot-") for line in fake.received)
        assert fake.received[0] == "CAP LS 302"  # CAP first, so registration can wait for SASL
        assert transport.connections >= 1
    finally:
        await transport.stop()
        await asyncio.wait_for(task, 5)
        assert fake.server is not None
        fake.server.close()


async def test_refused_connection_backs_off_and_keeps_trying() -> None:
    fake = SilentServer()
    port = await fake.start()
    assert fake.server is not None
    fake.server.close()
    await fake.server.wait_closed()
    transport = IrcTransport(IrcConfig(port=port, reconnect_min=0.01, reconnect_max=0.04))
    task = asyncio.create_task(transport.run(_noop))
    await asyncio.sleep(0.3)
    assert not task.done()  # still trying, never gave up
    await transport.stop()
    await asyncio.wait_for(task, 5)


def test_config_from_yaml_and_secrets_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRABOT_IRC__SASL_PASSWORD", "from-env")
    path = tmp_path / "bot.yaml"
    path.write_text(
        "irc: {host: 127.0.0.1, port: 6667, tls: false, nick: infrabot,"
        " sasl_username: infrabot, channels: ['#python-infra']}\n"
        "admins: {irc: [alice]}\n"
    )
    config = load_config(path)
    assert config.irc is not None
    assert config.irc.sasl_password is not None
    assert config.irc.sasl_password.get_secret_value() == "from-env"
    assert config.admins.irc == ["alice"]
    assert config.irc.flood_rate == 1.0 and config.irc.flood_burst == 5


async def test_server_password_is_sent_before_registration() -> None:
    fake = SilentServer()
    port = await fake.start()
    transport = IrcTransport(
        IrcConfig(port=port, channels=[], server_password="hunter2", flood_rate=0)
    )
    task = asyncio.create_task(transport.run(_noop))
    try:
        await asyncio.wait_for(transport.registered.wait(), 5)
        async with asyncio.timeout(5):
            while len(fake.received) < 4:
                await asyncio.sleep(0.01)
        assert fake.received[:4] == [
            "CAP LS 302",
            "PASS :hunter2",
            "NICK infrabot",
            "USER infrabot 0 * :infrabot",
        ]
    finally:
        await transport.stop()
        await asyncio.wait_for(task, 5)
        assert fake.server is not None
        fake.server.close()


def test_tls_context_verifies_by_default(tmp_path: Path) -> None:
    import ssl

    from infrabot.transports.irc_connection import tls_context

    assert tls_context(IrcConfig(tls=False)) is None
    strict = tls_context(IrcConfig(tls=True))
    assert strict is not None
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname
    loose = tls_context(IrcConfig(tls=True, tls_verify=False))
    assert loose is not None
    assert loose.verify_mode == ssl.CERT_NONE and not loose.check_hostname
