"""IRCv3 STS policies: upgrades from plain text, persistence in the store, expiry; and the
transport leaving a plain connection for TLS at once."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from pydantic import SecretStr
from test_irc_tls import make_cert

from infrabot.config import IrcConfig
from infrabot.messages import IncomingMessage
from infrabot.store import Store
from infrabot.transports.irc import IrcTransport
from infrabot.transports.irc_sts import StsKeeper, parse_sts

PLAIN = IrcConfig(host="irc.example.org", port=6667)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_parse_sts_reads_keys_and_values() -> None:
    assert parse_sts("port=6697,duration=300,preload") == {
        "port": "6697",
        "duration": "300",
        "preload": "",
    }


def test_a_plain_offer_means_reconnect_at_once_with_tls_on_its_port() -> None:
    keeper = StsKeeper()
    assert keeper.connect_config(PLAIN) is PLAIN
    assert keeper.on_cap(["LS", "account-tag sts=port=6697 sasl"], PLAIN)
    assert keeper.take_reconnect() and not keeper.take_reconnect()  # once
    upgraded = keeper.connect_config(PLAIN)
    assert (upgraded.tls, upgraded.port, upgraded.host) == (True, 6697, "irc.example.org")
    # an upgrade is never undone in the same run, even before TLS ever worked
    assert keeper.connect_config(PLAIN).tls


def test_an_offer_later_by_cap_new_also_upgrades() -> None:
    keeper = StsKeeper()
    assert keeper.on_cap(["NEW", "sts=port=7000"], PLAIN)
    assert keeper.connect_config(PLAIN).port == 7000


def test_offers_that_are_not_upgrades_change_nothing() -> None:
    keeper = StsKeeper()
    assert not keeper.on_cap(["LS", "account-tag sasl"], PLAIN)
    assert not keeper.on_cap(["ACK", "sts=port=6697"], PLAIN)
    assert not keeper.on_cap(["LS", "sts=port=nope"], PLAIN)
    assert not keeper.on_cap(["LS", "sts=port=70000"], PLAIN)
    assert not keeper.take_reconnect()
    assert not keeper.connect_config(PLAIN).tls


def test_a_tls_policy_is_kept_in_the_store_and_outlives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path / "bot.db")
    tls = IrcConfig(host="IRC.Example.org", port=6697, tls=True)
    assert not StsKeeper(store, clock).on_cap(["LS", "sts=duration=300,port=6697"], tls)
    store.close()
    # a new run, configured for plain text: the policy wins
    restarted = StsKeeper(Store(tmp_path / "bot.db"), clock)
    clock.now += 299
    target = restarted.connect_config(PLAIN)
    assert (target.tls, target.port) == (True, 6697)


def test_a_policy_expires_after_its_duration() -> None:
    clock = Clock()
    store = Store(":memory:")
    tls = IrcConfig(host="irc.example.org", port=6697, tls=True)
    StsKeeper(store, clock).on_cap(["LS", "sts=duration=60"], tls)
    clock.now += 61
    assert not StsKeeper(store, clock).connect_config(PLAIN).tls
    assert store.sts_policy("irc.example.org") is None


def test_duration_zero_ends_the_policy() -> None:
    clock = Clock()
    store = Store(":memory:")
    tls = IrcConfig(host="irc.example.org", port=6697, tls=True)
    keeper = StsKeeper(store, clock)
    keeper.on_cap(["LS", "sts=duration=600"], tls)
    assert store.sts_policy("irc.example.org") == (6697, clock.now + 600)
    keeper.on_cap(["NEW", "sts=duration=0"], tls)
    assert store.sts_policy("irc.example.org") is None
    assert not keeper.connect_config(PLAIN).tls


def test_a_configuration_asking_for_tls_is_left_alone() -> None:
    keeper = StsKeeper()
    keeper.on_cap(["LS", "sts=port=6697"], PLAIN)
    own = IrcConfig(host="irc.example.org", port=7070, tls=True)
    assert keeper.connect_config(own) is own


# --- the transport: an upgrade leaves the plain connection at once for TLS


class StsServers:
    """A plain listener offering ``sts=port=<tls>`` and a TLS listener that welcomes."""

    def __init__(self, cert: Path) -> None:
        self.cert = cert
        self.plain_received: list[str] = []
        self.tls_received: list[str] = []
        self.tls_connected = asyncio.Event()
        self.tls_port = 0

    async def plain(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f":fake CAP * LS :sasl account-tag sts=port={self.tls_port}\r\n".encode())
        while line := await reader.readline():
            self.plain_received.append(line.decode().rstrip())
        writer.close()

    async def tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tls_connected.set()
        writer.write(b":fake CAP * LS :sts=duration=120\r\n:fake 001 infrabot :Welcome\r\n")
        while line := await reader.readline():
            self.tls_received.append(line.decode().rstrip())
        writer.close()


async def _noop(message: IncomingMessage) -> None:
    return None


async def test_the_transport_upgrades_to_tls_at_once_and_remembers(tmp_path: Path) -> None:
    cert, _ = make_cert(tmp_path, "localhost")
    fake = StsServers(cert)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert)
    tls = await asyncio.start_server(fake.tls, "127.0.0.1", 0, ssl=context)
    fake.tls_port = tls.sockets[0].getsockname()[1]
    plain = await asyncio.start_server(fake.plain, "127.0.0.1", 0)
    store = Store(":memory:")
    config = IrcConfig(
        host="localhost",
        port=plain.sockets[0].getsockname()[1],
        channels=[],
        sasl_username="bot",
        sasl_password=SecretStr("pw"),
        tls_ca_file=cert,  # the upgraded connection verifies the fake's certificate
        reconnect_min=30,  # "at once": no backoff wait before the TLS connection
        reconnect_max=30,
        flood_rate=0,
    )
    transport = IrcTransport(config, sts_store=store)
    task = asyncio.create_task(transport.run(_noop))
    try:
        await asyncio.wait_for(transport.registered.wait(), 10)
        # nothing after the offer went out in plain text: no CAP REQ, no SASL, no CAP END
        assert not [line for line in fake.plain_received if line.startswith(("CAP R", "AUTH"))]
        assert fake.tls_received[0] == "CAP LS 302"
        policy = store.sts_policy("localhost")
        assert policy is not None and policy[0] == fake.tls_port
    finally:
        await transport.stop()
        await asyncio.wait_for(task, 5)
        plain.close()
        tls.close()
