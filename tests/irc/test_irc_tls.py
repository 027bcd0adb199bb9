"""TLS towards the IRC server: pinned certificates and the client certificate, on a real
TLS handshake over loopback."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from infrabot.config import IrcConfig
from infrabot.transports.irc_connection import fingerprint, tls_context


def make_cert(directory: Path, name: str, passphrase: bytes | None = None) -> tuple[Path, bytes]:
    """A self-signed certificate and key in one PEM file; returns (path, DER certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path = directory / f"{name}.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return path, cert.public_bytes(serialization.Encoding.DER)


class TlsServer:
    """A TLS listener on 127.0.0.1 that records the client certificate it was shown."""

    def __init__(self, cert: Path, client_ca: Path | None = None) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert)
        if client_ca is not None:
            self.context.verify_mode = ssl.CERT_OPTIONAL
            self.context.load_verify_locations(client_ca)
        self.client_certs: list[bytes | None] = []
        self.port = 0

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        self.client_certs.append(ssl_object.getpeercert(binary_form=True))
        writer.write(b"hello\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
def server_cert(tmp_path: Path) -> tuple[Path, bytes]:
    return make_cert(tmp_path, "irc.private.test")


@pytest.fixture
async def tls_server(server_cert: tuple[Path, bytes], tmp_path: Path) -> AsyncIterator[TlsServer]:
    client_cert, _ = make_cert(tmp_path, "bot.client.test")
    server = TlsServer(server_cert[0], client_ca=client_cert)
    listener = await asyncio.start_server(server._client, "127.0.0.1", 0, ssl=server.context)
    server.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server


async def handshake(context: ssl.SSLContext | None, port: int) -> bytes:
    """Connect (under a host name the certificate does not name) and read the greeting."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname="not-the-cert-name.test"
    )
    try:
        return await reader.readline()
    finally:
        writer.close()


async def test_a_pinned_certificate_is_trusted_without_ca_or_host_name(
    tls_server: TlsServer, server_cert: tuple[Path, bytes]
) -> None:
    digest = hashlib.sha256(server_cert[1]).hexdigest()
    pinned = tls_context(IrcConfig(tls=True, tls_fingerprint=digest.upper()))
    assert await handshake(pinned, tls_server.port) == b"hello\r\n"
    # the same server without the pin: neither its CA nor its name is trusted
    with pytest.raises(ssl.SSLCertVerificationError):
        await handshake(tls_context(IrcConfig(tls=True)), tls_server.port)


async def test_a_mismatched_fingerprint_is_refused_and_names_the_real_one(
    tls_server: TlsServer, server_cert: tuple[Path, bytes]
) -> None:
    pinned = tls_context(IrcConfig(tls=True, tls_fingerprint="00" * 32))
    with pytest.raises(ssl.SSLCertVerificationError, match=fingerprint(server_cert[1])):
        await handshake(pinned, tls_server.port)


async def test_during_a_rotation_either_listed_fingerprint_is_trusted(
    tls_server: TlsServer, server_cert: tuple[Path, bytes]
) -> None:
    with_colons = fingerprint(server_cert[1])
    pinned = tls_context(IrcConfig(tls=True, tls_fingerprint=["11" * 32, with_colons]))
    assert await handshake(pinned, tls_server.port) == b"hello\r\n"


async def test_the_client_certificate_is_shown_to_the_server(
    tls_server: TlsServer, server_cert: tuple[Path, bytes], tmp_path: Path
) -> None:
    digest = hashlib.sha256(server_cert[1]).hexdigest()
    client = tmp_path / "bot.client.test.pem"
    config = IrcConfig(tls=True, tls_fingerprint=digest, tls_client_cert=client)
    assert await handshake(tls_context(config), tls_server.port) == b"hello\r\n"
    shown = tls_server.client_certs[-1]
    assert shown is not None
    assert x509.load_der_x509_certificate(shown).subject.rfc4514_string() == ("CN=bot.client.test")


def test_a_client_key_with_a_passphrase_and_a_separate_key_file(tmp_path: Path) -> None:
    path, _ = make_cert(tmp_path, "locked.test", passphrase=b"sesame")
    text = path.read_text()
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    split = text.index("-----BEGIN ENCRYPTED PRIVATE KEY")
    cert_file.write_text(text[:split])
    key_file.write_text(text[split:])
    good = IrcConfig(
        tls=True,
        tls_client_cert=cert_file,
        tls_client_key=key_file,
        tls_client_key_password=SecretStr("sesame"),
    )
    assert tls_context(good) is not None
    wrong = good.model_copy(update={"tls_client_key_password": SecretStr("nope")})
    with pytest.raises(OSError, match=r"cannot load irc\.tls_client_cert") as caught:
        tls_context(wrong)
    assert "nope" not in str(caught.value) and "sesame" not in str(caught.value)
