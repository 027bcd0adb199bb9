"""SASL mechanisms as pure code: a challenge from the server in, the client's response out.

Each mechanism is one object per login try. The capability state machine
(:mod:`.irc_caps`) does the IRC framing (``AUTHENTICATE``, base64, 400-byte chunks) and asks
the mechanism only for bytes, so every exchange can be tested on recorded messages.

- PLAIN: account and password (RFC 4616).
- EXTERNAL: the TLS client certificate logs in; services know its fingerprint (RFC 4422).
- SCRAM-SHA-256: the password never travels and the server proves it knows it too
  (RFC 5802, RFC 7677); a server that cannot prove it is refused.
- ECDSA-NIST256P-CHALLENGE: services hold the public key and the bot signs their challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stringprep
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pydantic import SecretStr

from infrabot.config import IrcConfig
from infrabot.errors import ConfigError

__all__ = [
    "EcdsaChallenge",
    "External",
    "Mechanism",
    "Plain",
    "SaslError",
    "SaslLogin",
    "ScramSha256",
    "load_ecdsa_key",
    "sasl_login",
]


class SaslError(Exception):
    """The server's message makes no sense for the mechanism, or the server failed to prove
    itself: the login is aborted (``AUTHENTICATE *``)."""


class Mechanism:
    """One login try; :meth:`respond` is called once for each challenge the server sends."""

    name: ClassVar[str] = ""
    mutual: ClassVar[bool] = False
    """Whether the server must prove itself too (then success before the proof is refused)."""

    def __init__(self) -> None:
        self.finished = False
        """Whether the client has nothing more to say (and, if mutual, the server proved itself)."""

    def respond(self, challenge: bytes) -> bytes:
        """The response to ``challenge`` (``b""`` for the first, empty one)."""
        raise NotImplementedError


class Plain(Mechanism):
    """SASL PLAIN: ``account NUL account NUL password`` (RFC 4616)."""

    name = "PLAIN"

    def __init__(self, account: str, password: str) -> None:
        super().__init__()
        self._account = account
        self._password = password

    def respond(self, challenge: bytes) -> bytes:
        """The credentials, once, in answer to the empty challenge."""
        if challenge or self.finished:
            raise SaslError("unexpected challenge for PLAIN")
        self.finished = True
        return f"{self._account}\0{self._account}\0{self._password}".encode()


class External(Mechanism):
    """SASL EXTERNAL: the TLS client certificate is the credential; the response is empty."""

    name = "EXTERNAL"

    def respond(self, challenge: bytes) -> bytes:
        """An empty response: services take the account from the certificate's fingerprint."""
        if challenge or self.finished:
            raise SaslError("unexpected challenge for EXTERNAL")
        self.finished = True
        return b""


class ScramSha256(Mechanism):
    """SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677).

    Three steps: client-first (user and nonce), client-final (the proof), then the server's
    signature is checked. A wrong signature raises :class:`SaslError`: the server does not
    know the password, so it is not the server the account belongs to.
    """

    name = "SCRAM-SHA-256"
    mutual = True
    _GS2 = "n,,"  # no channel binding, no authorization identity

    def __init__(self, account: str, password: str, nonce: str | None = None) -> None:
        super().__init__()
        self._account = account
        self._password = password
        self._nonce = nonce or secrets.token_urlsafe(24)
        self._step = 0
        self._first_bare = ""
        self._server_signature = b""

    def respond(self, challenge: bytes) -> bytes:
        """Client-first, client-final, then an empty message after a good server signature."""
        self._step += 1
        if self._step == 1 and not challenge:
            self._first_bare = f"n={_saslname(self._account)},r={self._nonce}"
            return (self._GS2 + self._first_bare).encode()
        if self._step == 2:
            return self._client_final(_text(challenge))
        if self._step == 3:
            self._check_server_final(_text(challenge))
            self.finished = True
            return b""
        raise SaslError("unexpected challenge for SCRAM-SHA-256")

    def _client_final(self, server_first: str) -> bytes:
        fields = _scram_fields(server_first)
        if "m" in fields:
            raise SaslError("server asks for a SCRAM extension we do not know")
        nonce, salt, rounds = fields.get("r", ""), fields.get("s", ""), fields.get("i", "")
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise SaslError("server nonce does not extend ours")
        if not rounds.isdigit() or not 1 <= int(rounds) <= 1_000_000:
            raise SaslError("bad SCRAM iteration count")
        try:
            salt_bytes = base64.b64decode(salt, validate=True)
        except ValueError:
            raise SaslError("bad SCRAM salt") from None
        salted = hashlib.pbkdf2_hmac(
            "sha256", saslprep(self._password).encode(), salt_bytes, int(rounds)
        )
        channel = base64.b64encode(self._GS2.encode()).decode()
        without_proof = f"c={channel},r={nonce}"
        auth_message = f"{self._first_bare},{server_first},{without_proof}".encode()
        client_key = _hmac(salted, b"Client Key")
        signature = _hmac(hashlib.sha256(client_key).digest(), auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def _check_server_final(self, server_final: str) -> None:
        fields = _scram_fields(server_final)
        if "e" in fields:
            raise SaslError(f"server refused the proof: {fields['e'][:100]}")
        try:
            claimed = base64.b64decode(fields.get("v", ""), validate=True)
        except ValueError:
            claimed = b""
        if not claimed or not hmac.compare_digest(claimed, self._server_signature):
            raise SaslError("server signature is wrong: the server does not know the password")


class EcdsaChallenge(Mechanism):
    """ECDSA-NIST256P-CHALLENGE: send the account, then sign the server's challenge.

    The challenge is signed as it is, as a SHA-256-sized digest (what services verify).
    """

    name = "ECDSA-NIST256P-CHALLENGE"

    def __init__(self, account: str, key: ec.EllipticCurvePrivateKey) -> None:
        super().__init__()
        self._account = account
        self._key = key
        self._step = 0

    def respond(self, challenge: bytes) -> bytes:
        """The account name, then the signature of the challenge."""
        self._step += 1
        if self._step == 1 and not challenge:
            return self._account.encode()
        if self._step == 2 and len(challenge) == 32:
            self.finished = True
            return self._key.sign(challenge, ec.ECDSA(Prehashed(hashes.SHA256())))
        raise SaslError("unexpected challenge for ECDSA-NIST256P-CHALLENGE")


@dataclass(frozen=True)
class SaslLogin:
    """The mechanisms the bot may log in with, in order of preference; each try gets a
    fresh :class:`Mechanism` from its factory (SCRAM needs a new nonce every time)."""

    candidates: tuple[tuple[str, Callable[[], Mechanism]], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The candidate mechanism names, in order."""
        return tuple(name for name, _ in self.candidates)

    def start(self, name: str) -> Mechanism:
        """A new try of the mechanism called ``name``; :class:`SaslError` when it cannot
        start (an ECDSA key that cannot be read)."""
        return dict(self.candidates)[name]()


def sasl_login(config: IrcConfig) -> SaslLogin | None:
    """The login ``config`` asks for; None when the bot does not log in with SASL.

    ``sasl_mechanism`` picks one; unset, the bot offers what it has: EXTERNAL with a client
    certificate, ECDSA with a key, PLAIN with an account and password (the first the server
    lists wins). ECDSA logs in to ``sasl_username``, or the nick.
    """
    account = config.sasl_username or config.nick
    # a password login names its account (the log redactor knows the payload by it)
    password = config.sasl_password.get_secret_value() if config.sasl_password else ""
    password = password if config.sasl_username else ""
    wanted = (
        [config.sasl_mechanism]
        if config.sasl_mechanism
        else [
            name
            for name, present in (
                (External.name, config.tls_client_cert is not None),
                (EcdsaChallenge.name, config.sasl_ecdsa_key is not None),
                (Plain.name, bool(password)),
            )
            if present
        ]
    )
    candidates: list[tuple[str, Callable[[], Mechanism]]] = []
    for name in wanted:
        if name == External.name:
            candidates.append((name, External))
        elif name == EcdsaChallenge.name and config.sasl_ecdsa_key is not None:
            key, passphrase = config.sasl_ecdsa_key, config.sasl_ecdsa_key_password
            candidates.append((name, partial(_ecdsa, account, key, passphrase)))
        elif name == ScramSha256.name and password:
            candidates.append((name, partial(ScramSha256, account, password)))
        elif name == Plain.name and password:
            candidates.append((name, partial(Plain, account, password)))
    return SaslLogin(tuple(candidates)) if candidates else None


def load_ecdsa_key(path: Path, passphrase: SecretStr | None = None) -> ec.EllipticCurvePrivateKey:
    """The NIST P-256 private key in the PEM file ``path``."""
    secret = passphrase.get_secret_value() if passphrase else None
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password=secret.encode() if secret else None
        )
    except (OSError, ValueError, TypeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"irc.sasl_ecdsa_key: cannot read {path}: {reason}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(f"irc.sasl_ecdsa_key: {path} is not a NIST P-256 (prime256v1) key")
    return key


def _ecdsa(account: str, path: Path, passphrase: SecretStr | None) -> EcdsaChallenge:
    """An ECDSA try with the key read now: a key file that cannot be read fails that login
    (logged, with the reason), never the connection."""
    try:
        return EcdsaChallenge(account, load_ecdsa_key(path, passphrase))
    except ConfigError as exc:
        raise SaslError(str(exc)) from None


def saslprep(text: str) -> str:
    """RFC 4013 SASLprep, the mapping and normalization part: non-ASCII spaces become
    spaces, characters mapped to nothing go, then NFKC."""
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    return unicodedata.normalize("NFKC", mapped)


def _saslname(name: str) -> str:
    return saslprep(name).replace("=", "=3D").replace(",", "=2C")


def _scram_fields(message: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in message.split(","):
        key, sep, value = item.partition("=")
        if len(key) == 1 and sep:
            fields.setdefault(key, value)
    return fields


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslError("server message is not UTF-8") from None


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()
