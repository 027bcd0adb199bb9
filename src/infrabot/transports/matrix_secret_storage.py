"""Secret storage (``m.secret_storage.v1.aes-hmac-sha2``) and its recovery key.

A secret is kept in the account data of the bot's user, encrypted under a 32-byte storage
key: HKDF-SHA-256 (salt of 32 zero bytes, the secret's name as info) turns the key into an
AES-256 key and an HMAC-SHA-256 key; the secret is AES-CTR encrypted with a random IV whose
bit 63 is cleared, and the ciphertext is MACed. The key's own description proves a key is
the right one: the encryption of 32 zero bytes under the name "".

The recovery key is what a person writes down: ``0x8B 0x01``, the 32 key bytes and a parity
byte (XOR of all before it), in base58 (Bitcoin's alphabet), in groups of four characters.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infrabot.transports.matrix_signing import decode_base64

__all__ = [
    "AES_HMAC_SHA2",
    "EncryptedSecret",
    "decode_recovery_key",
    "decrypt_secret",
    "encode_recovery_key",
    "encrypt_secret",
    "key_description",
    "key_matches",
]

AES_HMAC_SHA2 = "m.secret_storage.v1.aes-hmac-sha2"
_PREFIX = bytes([0x8B, 0x01])
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class EncryptedSecret:
    """One secret under one key: the ``iv``, ``ciphertext`` and ``mac``, base64."""

    iv: str
    ciphertext: str
    mac: str

    def as_json(self) -> dict[str, str]:
        """The object kept under ``encrypted.<key ID>`` in the secret's account data."""
        return {"iv": self.iv, "ciphertext": self.ciphertext, "mac": self.mac}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> EncryptedSecret:
        """Parse it back; raises ValueError when a part is missing."""
        parts = [value.get(name) for name in ("iv", "ciphertext", "mac")]
        if not all(isinstance(part, str) for part in parts):
            raise ValueError("an encrypted secret needs iv, ciphertext and mac")
        return cls(*(str(part) for part in parts))


def _keys(key: bytes, name: str) -> tuple[bytes, bytes]:
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=bytes(32), info=name.encode())
    material = derived.derive(key)
    return material[:32], material[32:]


def _ctr(aes_key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def encrypt_secret(key: bytes, name: str, secret: str, iv: bytes | None = None) -> EncryptedSecret:
    """Encrypt ``secret`` (text) as the secret called ``name`` under ``key``."""
    aes_key, mac_key = _keys(key, name)
    nonce = bytearray(iv if iv is not None else os.urandom(16))
    nonce[8] &= 0x7F  # bit 63 cleared, so the counter cannot wrap (as the spec asks)
    ciphertext = _ctr(aes_key, bytes(nonce), secret.encode("utf-8"))
    mac = hmac.new(mac_key, ciphertext, sha256).digest()
    return EncryptedSecret(*(base64.b64encode(part).decode() for part in (nonce, ciphertext, mac)))


def decrypt_secret(key: bytes, name: str, encrypted: EncryptedSecret) -> str:
    """The secret ``name``; raises ValueError when the MAC shows a wrong key or tampering."""
    aes_key, mac_key = _keys(key, name)
    ciphertext = decode_base64(encrypted.ciphertext)
    mac = hmac.new(mac_key, ciphertext, sha256).digest()
    if not hmac.compare_digest(mac, decode_base64(encrypted.mac)):
        raise ValueError(f"the secret {name} does not open with this key")
    return _ctr(aes_key, decode_base64(encrypted.iv), ciphertext).decode("utf-8")


def key_description(key: bytes, name: str = "") -> dict[str, Any]:
    """The ``m.secret_storage.key.<ID>`` account data of ``key``: its algorithm, and the
    IV and MAC of 32 zero bytes encrypted under it, by which a key is checked."""
    check = encrypt_secret(key, "", "\0" * 32)
    description: dict[str, Any] = {"algorithm": AES_HMAC_SHA2, "iv": check.iv, "mac": check.mac}
    if name:
        description["name"] = name
    return description


def key_matches(key: bytes, description: Mapping[str, Any]) -> bool:
    """Whether ``key`` is the key ``description`` describes."""
    iv, mac = description.get("iv"), description.get("mac")
    if description.get("algorithm") != AES_HMAC_SHA2 or not isinstance(iv, str):
        return False
    if not isinstance(mac, str):
        return False
    expected = encrypt_secret(key, "", "\0" * 32, iv=decode_base64(iv))
    return hmac.compare_digest(decode_base64(expected.mac), decode_base64(mac))


def encode_recovery_key(key: bytes) -> str:
    """The recovery key of a 32-byte storage key, in groups of four characters."""
    if len(key) != 32:
        raise ValueError("a secret storage key is 32 bytes")
    data = _PREFIX + key
    parity = 0
    for byte in data:
        parity ^= byte
    text = _base58_encode(data + bytes([parity]))
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def decode_recovery_key(text: str) -> bytes:
    """The storage key of a recovery key; raises ValueError on a typo (prefix, parity)."""
    data = _base58_decode("".join(text.split()))
    if len(data) != 35 or data[:2] != _PREFIX:
        raise ValueError("not a recovery key")
    parity = 0
    for byte in data:
        parity ^= byte
    if parity != 0:
        raise ValueError("the recovery key has a typo (its parity does not match)")
    return data[2:34]


def _base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _BASE58[digit] + text
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + text


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58.find(char)
        if digit < 0:
            raise ValueError(f"{char!r} is not a recovery key character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
