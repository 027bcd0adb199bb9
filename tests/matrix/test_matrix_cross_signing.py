"""Cross-signing against a small fake homeserver: interactive auth, restore, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from infrabot.config import MatrixConfig
from infrabot.errors import TransportError
from infrabot.transports.matrix_cross_signing import cross_sign_device
from infrabot.transports.matrix_secret_storage import encode_recovery_key
from infrabot.transports.matrix_signing import verify_signed

BOT = "@bot:x.org"


class Answer:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self._body = status, body

    async def json(self, content_type: Any = None) -> dict[str, Any]:
        return self._body

    def release(self) -> None:
        pass


class FakeHomeserver:
    """Keeps account data, cross-signing keys and device signatures; asks for a password
    before it lets cross-signing keys be replaced (as Synapse does)."""

    def __init__(self) -> None:
        self.account_data: dict[str, Any] = {}
        self.cross_signing: dict[str, Any] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.passwords: list[str] = []

    def client(self, device_id: str) -> Any:
        self.devices[device_id] = {"user_id": BOT, "device_id": device_id, "keys": {}}
        server = self

        class Client:
            user_id, access_token = BOT, "token"

            async def send(self, method: str, path: str, data: Any, headers: Any) -> Answer:
                return server.handle(method, unquote(path), json.loads(data) if data else None)

        client = Client()
        client.device_id = device_id  # type: ignore[attr-defined]
        return client

    def handle(self, method: str, path: str, body: Any) -> Answer:
        if "/account_data/" in path:
            kind = path.rsplit("/", 1)[1]
            if method == "PUT":
                self.account_data[kind] = body
                return Answer(200, {})
            found = self.account_data.get(kind)
            return Answer(200, found) if found is not None else Answer(404, {})
        if path.endswith("/keys/query"):
            keys = {f"{k}s": {BOT: v} for k, v in self.cross_signing.items()}
            return Answer(200, {"device_keys": {BOT: self.devices}, **keys})
        if path.endswith("/keys/device_signing/upload"):
            if self.cross_signing and "auth" not in body:
                return Answer(401, {"session": "uia", "flows": [{"stages": ["m.login.password"]}]})
            if "auth" in body:
                self.passwords.append(body["auth"]["password"])
            self.cross_signing = {k: v for k, v in body.items() if k != "auth"}
            return Answer(200, {})
        if path.endswith("/keys/signatures/upload"):
            for device_id, signed in body[BOT].items():
                self.devices[device_id]["signatures"] = signed["signatures"]
            return Answer(200, {"failures": {}})
        raise AssertionError(f"unexpected {method} {path}")


def config(tmp_path: Path, **extra: Any) -> MatrixConfig:
    return MatrixConfig(user_id=BOT, password="hunter2", store_path=tmp_path / "store", **extra)


def ssk_public(server: FakeHomeserver) -> str:
    (public,) = server.cross_signing["self_signing_key"]["keys"].values()
    return str(public)


async def test_first_start_creates_keys_and_a_new_device_restores_them(tmp_path: Path) -> None:
    server = FakeHomeserver()
    await cross_sign_device(server.client("ONE"), config(tmp_path))
    ssk = ssk_public(server)
    assert verify_signed(server.devices["ONE"], BOT, ssk, ssk)
    recovery = (tmp_path / "store" / "recovery-key").read_text()
    assert (tmp_path / "store" / "recovery-key").stat().st_mode & 0o777 == 0o600
    assert set(server.account_data) >= {
        "m.secret_storage.default_key",
        "m.cross_signing.master",
        "m.cross_signing.self_signing",
        "m.cross_signing.user_signing",
    }
    # the private keys are stored encrypted, never in clear
    for name in ("master", "self_signing", "user_signing"):
        assert set(server.account_data[f"m.cross_signing.{name}"]) == {"encrypted"}

    elsewhere = config(tmp_path / "other", recovery_secret=recovery)
    await cross_sign_device(server.client("TWO"), elsewhere)
    assert ssk_public(server) == ssk  # nothing replaced
    assert verify_signed(server.devices["TWO"], BOT, ssk, ssk)
    assert server.passwords == []


async def test_keys_that_cannot_be_restored_are_replaced_only_with_the_password(
    tmp_path: Path,
) -> None:
    server = FakeHomeserver()
    await cross_sign_device(server.client("ONE"), config(tmp_path))
    with pytest.raises(TransportError, match="recovery_secret"):
        await cross_sign_device(server.client("TWO"), config(tmp_path / "lost"))
    # an operator who lost the recovery key clears the published keys' storage to start over
    server.account_data.clear()
    with pytest.raises(TransportError, match="secret storage has no key"):
        lost = config(tmp_path / "lost", recovery_secret=encode_recovery_key(bytes(32)))
        await cross_sign_device(server.client("TWO"), lost)


async def test_replacing_keys_answers_interactive_auth_with_the_password(tmp_path: Path) -> None:
    server = FakeHomeserver()
    server.cross_signing = {"master_key": {"keys": {}}}  # half-published: nothing to restore
    await cross_sign_device(server.client("ONE"), config(tmp_path))
    assert server.passwords == ["hunter2"]
    ssk = ssk_public(server)
    assert verify_signed(server.devices["ONE"], BOT, ssk, ssk)
