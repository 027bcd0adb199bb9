"""Cross-signing the bot's device, with the private keys kept in secret storage.

On the first start the bot creates its master, self-signing and user-signing keys, keeps the
private parts in secret storage under a new storage key (whose recovery key is written once
to a 0600 file, unless it was given as ``recovery_secret``), uploads the public keys
(answering interactive auth with the bot's password when the homeserver asks) and signs its
device with the self-signing key. A later start, or a new device, reads the self-signing key
back from secret storage with the recovery key, checks it against the published one and
signs the device if it is not signed yet.

The order makes a crash harmless: the recovery key is written before anything is stored
under it, and the secrets are stored before the public keys are published, so a start after
a crash either finds published keys it can restore or publishes fresh ones.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote

from infrabot.config import MatrixConfig
from infrabot.errors import TransportError
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
    decode_base64,
    encode_base64,
    verify_signed,
)

__all__ = [
    "CROSS_SIGNING_SECRETS",
    "HomeserverApi",
    "cross_sign_device",
    "cross_sign_or_explain",
    "recovery_key_path",
]

log = logging.getLogger(__name__)

CROSS_SIGNING_SECRETS = ("master", "self_signing", "user_signing")
"""The three keys, kept as the secrets ``m.cross_signing.<name>``."""

_API = "/_matrix/client/v3"
_DEFAULT_KEY = "m.secret_storage.default_key"


def recovery_key_path(config: MatrixConfig) -> Path:
    """Where the recovery key is written: ``recovery_key_file`` or ``<store_path>/recovery-key``."""
    return config.recovery_key_file or config.store_path / "recovery-key"


class HomeserverApi:
    """The few client-server calls cross-signing needs, on the nio client's connection."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self._client.access_token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        data = json.dumps(body) if body is not None else None
        response = await self._client.send(method, _API + path, data, headers)
        try:
            parsed = await response.json(content_type=None)
        finally:
            response.release()
        return response.status, parsed if isinstance(parsed, dict) else {}

    async def ok(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        status, parsed = await self.call(method, path, body)
        if status != 200:
            raise TransportError(f"matrix: {method} {path.split('?')[0]} refused: {parsed}")
        return parsed

    def _account_data(self, kind: str) -> str:
        return f"/user/{quote(self._client.user_id)}/account_data/{quote(kind)}"

    async def get_account_data(self, kind: str) -> dict[str, Any] | None:
        status, parsed = await self.call("GET", self._account_data(kind))
        if status == 404:
            return None
        if status != 200:
            raise TransportError(f"matrix: cannot read the account data {kind}: {parsed}")
        return parsed

    async def put_account_data(self, kind: str, content: Mapping[str, Any]) -> None:
        await self.ok("PUT", self._account_data(kind), content)


async def cross_sign_device(client: Any, config: MatrixConfig) -> None:
    """Make sure the bot's device is signed by its own self-signing key (see the module
    docstring); raises :class:`TransportError` when that cannot be done."""
    api, user = HomeserverApi(client), client.user_id
    own = await api.ok("POST", "/keys/query", {"device_keys": {user: []}})
    master = own.get("master_keys", {}).get(user)
    published = own.get("self_signing_keys", {}).get(user)
    device = own.get("device_keys", {}).get(user, {}).get(client.device_id)
    if device is None:
        raise TransportError("matrix: the device's keys are not on the homeserver yet")
    if master is None or published is None:
        self_signing = await _create(api, client, config)
    else:
        self_signing = await _restore(api, config, _public_key(published))
    if verify_signed(device, user, self_signing.public, self_signing.public):
        log.info("matrix: device %s is cross-signed", client.device_id)
        return
    signed = self_signing.add_signature(
        {k: v for k, v in device.items() if k not in ("signatures", "unsigned")}, user
    )
    answer = await api.ok("POST", "/keys/signatures/upload", {user: {client.device_id: signed}})
    if answer.get("failures"):  # the homeserver answers 200 even when it refuses
        raise TransportError(f"matrix: the device signature was refused: {answer['failures']}")
    log.info("matrix: signed device %s with the self-signing key", client.device_id)


async def cross_sign_or_explain(client: Any, config: MatrixConfig) -> bool:
    """:func:`cross_sign_device`, logging why when it cannot be done: the bot still serves
    (people's clients then show its device as not verified by its owner)."""
    try:
        await cross_sign_device(client, config)
    except (TransportError, ValueError) as exc:
        log.error("matrix: the device is not cross-signed: %s", exc)
        return False
    return True


def _public_key(key: Mapping[str, Any]) -> str:
    values = [v for k, v in key.get("keys", {}).items() if k.startswith("ed25519:")]
    if len(values) != 1 or not isinstance(values[0], str):
        raise TransportError("matrix: the published cross-signing key is malformed")
    return values[0]


async def _create(api: HomeserverApi, client: Any, config: MatrixConfig) -> SigningKey:
    """New cross-signing keys: stored in secret storage, then published."""
    keys = {name: SigningKey.generate() for name in CROSS_SIGNING_SECRETS}
    storage_key = _storage_key(config, create=True)
    key_id = _key_id(storage_key)
    await api.put_account_data(f"m.secret_storage.key.{key_id}", key_description(storage_key))
    await api.put_account_data(_DEFAULT_KEY, {"key": key_id})
    for name, key in keys.items():
        secret = encrypt_secret(storage_key, f"m.cross_signing.{name}", encode_base64(key.seed))
        await api.put_account_data(
            f"m.cross_signing.{name}", {"encrypted": {key_id: secret.as_json()}}
        )
    await _publish(api, client.user_id, keys, config)
    log.info("matrix: created cross-signing keys (master %s)", keys["master"].public)
    return keys["self_signing"]


def _key_id(storage_key: bytes) -> str:
    """A storage key's ID: any string will do; a digest of the key keeps it stable."""
    return sha256(storage_key).hexdigest()[:16]


async def _publish(
    api: HomeserverApi, user: str, keys: dict[str, SigningKey], config: MatrixConfig
) -> None:
    master = keys["master"]

    def public(name: str, usage: str) -> dict[str, Any]:
        key = keys[name]
        body: dict[str, Any] = {
            "user_id": user,
            "usage": [usage],
            "keys": {f"ed25519:{key.public}": key.public},
        }
        return body if name == "master" else master.add_signature(body, user)

    body: dict[str, Any] = {
        "master_key": public("master", "master"),
        "self_signing_key": public("self_signing", "self_signing"),
        "user_signing_key": public("user_signing", "user_signing"),
    }
    status, answer = await api.call("POST", "/keys/device_signing/upload", body)
    if status == 401 and "session" in answer:
        if config.password is None:
            raise TransportError("matrix: publishing cross-signing keys needs the bot's password")
        body["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": config.password.get_secret_value(),
            "session": answer["session"],
        }
        status, answer = await api.call("POST", "/keys/device_signing/upload", body)
    if status != 200:
        raise TransportError(f"matrix: cross-signing keys refused: {answer.get('errcode')}")


async def _restore(api: HomeserverApi, config: MatrixConfig, published: str) -> SigningKey:
    """The self-signing key from secret storage, checked against the published one."""
    storage_key = _storage_key(config, create=False)
    default = await api.get_account_data(_DEFAULT_KEY)
    key_id = default.get("key") if default else None
    description = await api.get_account_data(f"m.secret_storage.key.{key_id}") if key_id else None
    if not isinstance(key_id, str) or description is None:
        raise TransportError("matrix: cross-signing keys exist but secret storage has no key")
    if not key_matches(storage_key, description):
        raise TransportError("matrix: the recovery key is not this account's secret storage key")
    stored = await api.get_account_data("m.cross_signing.self_signing")
    encrypted = (stored or {}).get("encrypted", {}).get(key_id)
    if not isinstance(encrypted, dict):
        raise TransportError("matrix: the self-signing key is not in secret storage")
    seed = decrypt_secret(
        storage_key, "m.cross_signing.self_signing", EncryptedSecret.from_json(encrypted)
    )
    key = SigningKey(decode_base64(seed))
    if key.public != published:
        raise TransportError("matrix: the stored self-signing key is not the published one")
    log.info("matrix: restored the self-signing key from secret storage")
    return key


def _storage_key(config: MatrixConfig, *, create: bool) -> bytes:
    """The secret storage key: given as ``recovery_secret``, read from the recovery key
    file, or (with ``create``) made and written to that file once, mode 0600."""
    if config.recovery_secret is not None:
        return decode_recovery_key(config.recovery_secret.get_secret_value())
    path = recovery_key_path(config)
    if path.exists():
        return decode_recovery_key(path.read_text())
    if not create:
        raise TransportError(
            f"matrix: cross-signing keys exist; give their recovery key as recovery_secret "
            f"or in {path}"
        )
    key = os.urandom(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: written once, never over an existing key
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(encode_recovery_key(key) + "\n")
    log.warning("matrix: wrote the new recovery key to %s: back it up, keep it secret", path)
    return key
