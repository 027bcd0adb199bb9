"""Signed JSON as the Matrix spec defines it: canonical JSON, Ed25519, unpadded base64.

A signature covers the object's canonical JSON without its ``signatures`` and ``unsigned``
members, and is kept under ``signatures.<user or server>.ed25519:<key ID>``. Ed25519 is the
``cryptography`` library's.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "SigningKey",
    "canonical_json",
    "decode_base64",
    "encode_base64",
    "signed_part",
    "verify_signed",
]


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace (the spec's canonical form)."""
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode("utf-8")


def encode_base64(data: bytes) -> str:
    """Unpadded standard base64, as Matrix writes keys and signatures."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode_base64(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not; raises ValueError when it is neither."""
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def signed_part(value: Mapping[str, Any]) -> dict[str, Any]:
    """What a signature covers: the object without ``signatures`` and ``unsigned``."""
    return {k: v for k, v in value.items() if k not in ("signatures", "unsigned")}


class SigningKey:
    """An Ed25519 key pair known by its 32-byte seed (what secret storage keeps)."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.seed = seed
        raw = self._key.public_key().public_bytes_raw()
        self.public = encode_base64(raw)
        """The public key, unpadded base64: also its key ID in cross-signing."""

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate().private_bytes_raw())

    def sign(self, value: Mapping[str, Any]) -> str:
        """The signature of ``value`` (its signed part), unpadded base64."""
        return encode_base64(self._key.sign(canonical_json(signed_part(value))))

    def add_signature(self, value: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        """``value`` with this key's signature added under ``user_id``."""
        signatures = {k: dict(v) for k, v in value.get("signatures", {}).items()}
        signatures.setdefault(user_id, {})[f"ed25519:{self.public}"] = self.sign(value)
        return {**value, "signatures": signatures}


def verify_signed(value: Mapping[str, Any], user_id: str, key_id: str, public: str) -> bool:
    """Whether ``value`` carries a valid signature by ``public`` under
    ``signatures.<user_id>.ed25519:<key_id>``."""
    signature = value.get("signatures", {}).get(user_id, {}).get(f"ed25519:{key_id}")
    if not isinstance(signature, str):
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(decode_base64(public))
        key.verify(decode_base64(signature), canonical_json(signed_part(value)))
    except (ValueError, InvalidSignature):
        return False
    return True
