"""Signing in and trusting the server on real InspIRCd + Atheme: SASL EXTERNAL with a client
certificate, ECDSA-NIST256P-CHALLENGE with a registered key, a wrong password (with and
without ``sasl_required``), a pinned and a mismatched server fingerprint, and an STS upgrade
from a plain port to TLS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from irc_e2e_bot import BOT_ACCOUNT, BotFactory
from irc_e2e_client import IrcClient, register_account
from irc_e2e_servers import IrcServers, make_self_signed

pytestmark = pytest.mark.e2e

NO_PASSWORD = {"sasl_username": None, "sasl_password": None}


def cert_fingerprint(pem: Path) -> str:
    """SHA-256 of a PEM certificate, as lower-case hex (what InspIRCd tells services)."""
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


async def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, count: int = 1) -> None:
    """Until ``count`` records hold ``text`` (the bot's only outward sign of a refusal)."""
    async with asyncio.timeout(20):
        while sum(text in r.getMessage() for r in caplog.records) < count:
            await asyncio.sleep(0.05)


async def is_secure(connect: Callable[..., Awaitable[IrcClient]], port: int, nick: str) -> bool:
    """Whether the server says ``nick`` is on a TLS connection (WHOIS 671)."""
    watcher = await connect(f"w{nick}"[:15], port)
    start = len(watcher.lines)
    watcher.send(f"WHOIS {nick}")
    await watcher.wait_for(lambda ln: ln.command == "318", start=start)
    return any(ln.command == "671" for ln in watcher.lines[start:])


async def test_external_logs_in_with_a_client_certificate_registered_in_atheme(
    irc_servers: IrcServers, start_bot: BotFactory, tmp_path: Path
) -> None:
    (tmp_path / "client").mkdir()
    cert, key = make_self_signed(tmp_path / "client")
    answers = await asyncio.to_thread(
        register_account,
        irc_servers.port,
        "certbot",
        "certbot-pw-7Hq",
        f"CERT ADD {cert_fingerprint(cert)}",
    )
    assert "Added" in answers[0], answers
    bot = await start_bot(
        irc_servers.cert_port,
        nick="certbot",
        tls=True,
        tls_fingerprint=cert_fingerprint(irc_servers.cert),
        tls_client_cert=cert,
        tls_client_key=key,
        **NO_PASSWORD,
    )
    assert bot.transport.account == "certbot"
    assert bot.transport.negotiation.mechanism is not None
    assert bot.transport.negotiation.mechanism.name == "EXTERNAL"


async def test_ecdsa_logs_in_with_a_key_registered_in_atheme(
    irc_servers: IrcServers, start_bot: BotFactory, tmp_path: Path
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "ecdsa.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-Secret-9Lp"),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    answers = await asyncio.to_thread(
        register_account,
        irc_servers.port,
        "ecdsabot",
        "ecdsabot-pw-2Rt",
        f"SET PUBKEY {base64.b64encode(public).decode()}",
    )
    assert "public key is now set" in answers[0], answers
    bot = await start_bot(
        irc_servers.port,
        nick="ecdsabot",
        sasl_username="ecdsabot",
        sasl_password=None,
        sasl_ecdsa_key=key_file,
        sasl_ecdsa_key_password="key-Secret-9Lp",
    )
    assert bot.transport.account == "ecdsabot"
    assert bot.transport.negotiation.mechanism is not None
    assert bot.transport.negotiation.mechanism.name == "ECDSA-NIST256P-CHALLENGE"


async def test_a_wrong_password_is_logged_once_and_the_bot_still_connects(
    irc_servers: IrcServers, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="infrabot")
    bot = await start_bot(
        irc_servers.port, nick="wrongpw", sasl_username=BOT_ACCOUNT[0], sasl_password="nope"
    )
    assert bot.transport.account is None  # in the channel, unidentified
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("SASL login (PLAIN) failed: "), errors
    assert "fail" in errors[0].removeprefix("SASL login (PLAIN) failed: ")  # the server's why


async def test_a_required_login_that_fails_never_registers_and_retries(
    irc_servers: IrcServers, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="infrabot")
    bot = await start_bot(
        irc_servers.port,
        wait=False,
        nick="mustlogin",
        sasl_username=BOT_ACCOUNT[0],
        sasl_password="nope",
        sasl_required=True,
        reconnect_min=0.1,
        reconnect_max=0.2,
    )
    await wait_for_log(caplog, "SASL login is required", count=2)  # two connections tried
    assert bot.transport.connections == 0 and not bot.transport.registered.is_set()


async def test_a_pinned_server_certificate_is_trusted(
    irc_servers: IrcServers,
    start_bot: BotFactory,
    clients: Callable[..., Awaitable[IrcClient]],
) -> None:
    pin = ":".join(f"{b:02X}" for b in bytes.fromhex(cert_fingerprint(irc_servers.cert)))
    await start_bot(
        irc_servers.tls_port, nick="pinned", tls=True, tls_fingerprint=[pin], **NO_PASSWORD
    )
    assert await is_secure(clients, irc_servers.port, "pinned")


async def test_a_mismatched_fingerprint_is_refused(
    irc_servers: IrcServers, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(
        irc_servers.tls_port,
        wait=False,
        nick="mismatch",
        tls=True,
        tls_fingerprint="00" * 32,
        **NO_PASSWORD,
    )
    await wait_for_log(caplog, "is not the pinned one")
    real = ":".join(f"{b:02x}" for b in bytes.fromhex(cert_fingerprint(irc_servers.cert)))
    assert any(real in r.getMessage() for r in caplog.records)
    assert bot.transport.connections == 0


@pytest.fixture
def sts_servers(tmp_path: Path) -> Iterator[IrcServers]:
    """Servers whose plain ports offer an STS upgrade to their TLS port."""
    servers = IrcServers(tmp_path / "sts-ircd", sts=True)
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


async def test_sts_upgrades_a_plain_connection_to_tls_and_keeps_the_policy(
    sts_servers: IrcServers,
    start_bot: BotFactory,
    clients: Callable[..., Awaitable[IrcClient]],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.INFO, logger="infrabot")
    store = tmp_path / "sts.db"
    plain = {
        "host": "localhost",  # STS persistence is offered to a name (TLS SNI), never an address
        "tls_ca_file": sts_servers.cert,
        "config": {"store": store},
        **NO_PASSWORD,
    }
    bot = await start_bot(sts_servers.port, nick="stsbot", **plain)
    assert await is_secure(clients, sts_servers.port, "stsbot")
    policy = bot.app.store.sts_policy("localhost") if bot.app.store else None
    assert policy is not None and policy[0] == sts_servers.tls_port
    await bot.transport.stop()
    await bot.task
    # restarted, still configured for plain text: straight to TLS, by the kept policy
    caplog.clear()
    again = await start_bot(sts_servers.port, nick="stsbot2", **plain)
    assert await is_secure(clients, sts_servers.port, "stsbot2")
    assert f"with TLS on port {sts_servers.tls_port} (the server's policy)" in caplog.text
    assert "asks for TLS" not in caplog.text  # no plain connection this time
    assert again.transport.connections == 1
