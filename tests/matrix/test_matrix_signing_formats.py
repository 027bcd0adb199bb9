"""The spec's formats: canonical JSON, signed JSON, the recovery key, AES-HMAC secrets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrabot.transports.matrix_secret_storage import (
    EncryptedSecret,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    key_description,
    key_matches,
)
from infrabot.transports.matrix_signing import (
    SigningKey,
    canonical_json,
    decode_base64,
    verify_signed,
)

# The signing key of the spec's "Signing JSON" examples (appendices), and its signatures.
SPEC_SEED = decode_base64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")


def test_canonical_json_is_the_specs() -> None:
    assert canonical_json({"b": "2", "a": "1"}) == b'{"a":"1","b":"2"}'
    assert canonical_json({"a": "日本語"}) == '{"a":"日本語"}'.encode()
    assert canonical_json({"one": 1, "two": [True, None]}) == b'{"one":1,"two":[true,null]}'
    with pytest.raises(ValueError):
        canonical_json({"a": float("nan")})


def test_signatures_match_the_spec_examples() -> None:
    key = SigningKey(SPEC_SEED)
    assert key.sign({}) == (
        "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
    )
    assert key.sign({"one": 1, "two": "Two"}) == (
        "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
    )


def test_a_signature_covers_all_but_signatures_and_unsigned() -> None:
    key = SigningKey.generate()
    signed = key.add_signature({"a": 1, "unsigned": {"x": 1}}, "@bot:x.org")
    assert verify_signed(signed, "@bot:x.org", key.public, key.public)
    assert verify_signed({**signed, "unsigned": {"y": 2}}, "@bot:x.org", key.public, key.public)
    assert not verify_signed({**signed, "a": 2}, "@bot:x.org", key.public, key.public)
    assert not verify_signed(signed, "@other:x.org", key.public, key.public)
    other = SigningKey.generate()
    assert not verify_signed(signed, "@bot:x.org", key.public, other.public)


@given(st.binary(min_size=32, max_size=32))
def test_a_recovery_key_round_trips(key: bytes) -> None:
    text = encode_recovery_key(key)
    assert all(len(group) <= 4 for group in text.split(" "))
    assert decode_recovery_key(text) == key
    assert decode_recovery_key(text.replace(" ", "")) == key


def test_a_recovery_key_starts_with_its_prefix_and_catches_typos() -> None:
    text = encode_recovery_key(bytes(range(32)))
    assert text.startswith("Es")  # 0x8B 0x01 in base58, as every recovery key begins
    typo = text[:-1] + ("a" if text[-1] != "a" else "b")
    with pytest.raises(ValueError):
        decode_recovery_key(typo)
    with pytest.raises(ValueError):
        decode_recovery_key("0OIl")  # not base58


def test_a_secret_opens_only_with_its_key_and_name() -> None:
    key, other = bytes(32), bytes([1] * 32)
    sealed = encrypt_secret(key, "m.cross_signing.master", "the seed")
    assert decrypt_secret(key, "m.cross_signing.master", sealed) == "the seed"
    assert decode_base64(sealed.iv)[8] & 0x80 == 0  # bit 63 of the IV is clear
    with pytest.raises(ValueError):
        decrypt_secret(other, "m.cross_signing.master", sealed)
    with pytest.raises(ValueError):
        decrypt_secret(key, "m.cross_signing.self_signing", sealed)
    tampered = EncryptedSecret(sealed.iv, sealed.ciphertext[:-2] + "AA", sealed.mac)
    with pytest.raises(ValueError):
        decrypt_secret(key, "m.cross_signing.master", tampered)


def test_a_key_description_recognizes_its_key() -> None:
    key = bytes(range(32))
    description = key_description(key)
    assert description["algorithm"] == "m.secret_storage.v1.aes-hmac-sha2"
    assert key_matches(key, description)
    assert not key_matches(bytes(32), description)
    assert not key_matches(key, {**description, "algorithm": "m.other"})
