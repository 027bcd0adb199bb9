"""SASL mechanisms on their own: the RFC 7677 SCRAM exchange, ECDSA signatures, config."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pydantic import SecretStr, ValidationError

from infrabot.config import IrcConfig
from infrabot.errors import ConfigError
from infrabot.transports.irc_sasl import (
    EcdsaChallenge,
    External,
    Mechanism,
    Plain,
    SaslError,
    ScramSha256,
    load_ecdsa_key,
    sasl_login,
    saslprep,
)

# RFC 7677, section 3: user "user", password "pencil"
CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_sha256_follows_the_rfc_7677_test_vector() -> None:
    scram = ScramSha256("user", "pencil", nonce=CLIENT_NONCE)
    assert scram.respond(b"") == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    assert scram.respond(SERVER_FIRST) == CLIENT_FINAL
    assert not scram.finished  # the server has not proved itself yet
    assert scram.respond(SERVER_FINAL) == b""
    assert scram.finished


def test_scram_refuses_a_wrong_server_signature() -> None:
    scram = ScramSha256("user", "pencil", nonce=CLIENT_NONCE)
    scram.respond(b"")
    scram.respond(SERVER_FIRST)
    wrong = b"v=" + base64.b64encode(b"\0" * 32)
    with pytest.raises(SaslError, match="server signature is wrong"):
        scram.respond(wrong)
    assert not scram.finished


@pytest.mark.parametrize(
    ("server_first", "problem"),
    [
        (b"r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce"),
        (b"r=" + CLIENT_NONCE.encode() + b",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce"),
        (b"r=" + CLIENT_NONCE.encode() + b"x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=lots", "iteration"),
        (b"r=" + CLIENT_NONCE.encode() + b"x,s=***,i=4096", "salt"),
        (b"m=ext,r=" + CLIENT_NONCE.encode() + b"x,s=AAAA,i=1", "extension"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_scram_refuses_a_server_first_message_that_makes_no_sense(
    server_first: bytes, problem: str
) -> None:
    scram = ScramSha256("user", "pencil", nonce=CLIENT_NONCE)
    scram.respond(b"")
    with pytest.raises(SaslError, match=problem):
        scram.respond(server_first)


def test_scram_reports_the_servers_error() -> None:
    scram = ScramSha256("user", "wrong", nonce=CLIENT_NONCE)
    scram.respond(b"")
    scram.respond(SERVER_FIRST)
    with pytest.raises(SaslError, match="invalid-proof"):
        scram.respond(b"e=invalid-proof")


def test_scram_escapes_the_user_name_and_prepares_the_password() -> None:
    scram = ScramSha256("a=b,c", "x", nonce="n")
    assert scram.respond(b"") == b"n,,n=a=3Db=2Cc,r=n"
    assert saslprep("I\u00adX") == "IX"  # soft hyphen maps to nothing (RFC 4013 example)
    assert saslprep("a\u00a0b") == "a b"  # non-ASCII space becomes a space
    assert saslprep("\u2168") == "IX"  # NFKC


def test_plain_and_external_answer_once() -> None:
    plain = Plain("bot", "pw")
    assert plain.respond(b"") == b"bot\0bot\0pw" and plain.finished
    with pytest.raises(SaslError):
        plain.respond(b"")
    external = External()
    assert external.respond(b"") == b"" and external.finished
    with pytest.raises(SaslError):
        External().respond(b"something")


def test_ecdsa_sends_the_account_then_a_signature_services_can_verify() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ecdsa = EcdsaChallenge("infrabot", key)
    assert ecdsa.respond(b"") == b"infrabot"
    challenge = bytes(range(32))
    signature = ecdsa.respond(challenge)
    # services verify the raw 32-byte challenge as the digest (ECDSA_verify)
    key.public_key().verify(signature, challenge, ec.ECDSA(Prehashed(hashes.SHA256())))
    assert ecdsa.finished


def test_ecdsa_refuses_a_challenge_of_the_wrong_size() -> None:
    ecdsa = EcdsaChallenge("infrabot", ec.generate_private_key(ec.SECP256R1()))
    ecdsa.respond(b"")
    with pytest.raises(SaslError):
        ecdsa.respond(b"short")


def _write_key(path: Path, curve: ec.EllipticCurve, passphrase: bytes | None = None) -> Path:
    key = ec.generate_private_key(curve)
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def test_the_default_mechanisms_follow_what_is_configured(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    key = _write_key(tmp_path / "ecdsa.pem", ec.SECP256R1())
    assert sasl_login(IrcConfig()) is None
    assert sasl_login(IrcConfig(sasl_password=SecretStr("pw"))) is None  # whose password?
    login = sasl_login(IrcConfig(sasl_username="bot", sasl_password=SecretStr("pw")))
    assert login is not None and login.names == ("PLAIN",)
    both = {"sasl_username": "bot", "sasl_password": SecretStr("pw")}
    login = sasl_login(IrcConfig(tls=True, tls_client_cert=cert, **both))
    assert login is not None and login.names == ("EXTERNAL", "PLAIN")
    login = sasl_login(IrcConfig(sasl_ecdsa_key=key))
    assert login is not None and login.names == ("ECDSA-NIST256P-CHALLENGE",)
    chosen = IrcConfig(sasl_mechanism="scram-sha-256", **both)
    login = sasl_login(chosen)
    assert login is not None and login.names == ("SCRAM-SHA-256",)
    assert isinstance(login.start("SCRAM-SHA-256"), ScramSha256)


def test_a_mechanism_without_its_credential_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="EXTERNAL needs tls_client_cert"):
        IrcConfig(sasl_mechanism="EXTERNAL")
    with pytest.raises(ValidationError, match="needs sasl_username and _password"):
        IrcConfig(sasl_mechanism="SCRAM-SHA-256", sasl_password=SecretStr("pw"))
    with pytest.raises(ValidationError, match="sasl_required needs"):
        IrcConfig(sasl_required=True)
    with pytest.raises(ValidationError):
        IrcConfig(sasl_mechanism="DIGEST-MD5", sasl_password=SecretStr("pw"))
    with pytest.raises(ValidationError, match="tls_fingerprint needs tls: true"):
        IrcConfig(tls_fingerprint="ab" * 32)
    with pytest.raises(ValidationError, match="tls_client_cert needs tls: true"):
        IrcConfig(tls_client_cert=Path("bot.pem"))


def _ecdsa_try(key: Path, passphrase: str | None = None) -> Mechanism:
    secret = SecretStr(passphrase) if passphrase else None
    login = sasl_login(IrcConfig(sasl_ecdsa_key=key, sasl_ecdsa_key_password=secret))
    assert login is not None
    return login.start("ECDSA-NIST256P-CHALLENGE")


def test_an_ecdsa_key_that_cannot_be_used_fails_the_login_not_the_bot(tmp_path: Path) -> None:
    key = _write_key(tmp_path / "ecdsa.pem", ec.SECP256R1(), b"sesame")
    assert isinstance(_ecdsa_try(key, "sesame"), EcdsaChallenge)
    with pytest.raises(SaslError, match="cannot read"):
        _ecdsa_try(key)  # no passphrase
    with pytest.raises(SaslError, match="P-256"):
        _ecdsa_try(_write_key(tmp_path / "p384.pem", ec.SECP384R1()))
    with pytest.raises(SaslError, match="cannot read"):
        _ecdsa_try(tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="cannot read"):
        load_ecdsa_key(tmp_path / "missing.pem")


def test_fingerprints_are_normalized_from_hex_with_or_without_colons() -> None:
    digest = "AB" * 32
    with_colons = ":".join(["ab"] * 32)
    config = IrcConfig(tls=True, tls_fingerprint=with_colons)
    assert config.tls_fingerprint == ["ab" * 32]
    both = IrcConfig(tls=True, tls_fingerprint=[digest, "cd" * 32])
    assert both.tls_fingerprint == ["ab" * 32, "cd" * 32]
    with pytest.raises(ValidationError, match="64 hex digits"):
        IrcConfig(tls=True, tls_fingerprint="abcd")
