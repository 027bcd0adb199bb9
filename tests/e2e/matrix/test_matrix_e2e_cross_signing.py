"""End to end through a real Synapse: the bot's device is cross-signed by its owner, as
another user's client checks it (``/keys/query`` and vodozemac's Ed25519, not our code)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import vodozemac
from encrypted_people import STORE_SECRET, EncryptedPerson
from matrix_harness import Bot, bot_config
from nio import Api

pytestmark = pytest.mark.e2e


def _signed_by(value: dict[str, Any], user: str, public: str) -> bool:
    signature = value.get("signatures", {}).get(user, {}).get(f"ed25519:{public}")
    if signature is None:
        return False
    unsigned = {k: v for k, v in value.items() if k not in ("signatures", "unsigned")}
    try:
        vodozemac.Ed25519PublicKey.from_base64(public).verify_signature(
            Api.to_canonical_json(unsigned).encode(),
            vodozemac.Ed25519Signature.from_base64(signature),
        )
    except vodozemac.SignatureException:
        return False
    return True


def _cross_signed_devices(keys: dict[str, Any], user: str) -> tuple[str, set[str]]:
    """The master key, and the devices signed by a self-signing key the master signed."""
    (master,) = keys["master_keys"][user]["keys"].values()
    self_signing = keys["self_signing_keys"][user]
    assert _signed_by(self_signing, user, master), "the self-signing key is not the master's"
    (ssk,) = self_signing["keys"].values()
    devices = keys["device_keys"][user]
    return master, {d for d, device in devices.items() if _signed_by(device, user, ssk)}


async def test_the_device_is_cross_signed_and_a_new_device_restores_the_keys(
    synapse: Any, tmp_path: Path
) -> None:
    server, users = synapse
    alice = EncryptedPerson(server.url, users.alice, tmp_path / "alice-crypto")
    await alice.login()
    first = Bot(
        bot_config(
            server.url, users, [], tmp_path / "first", encryption=True, store_secret=STORE_SECRET
        )
    )
    second: Bot | None = None
    try:
        await first.start()
        recovery_file = tmp_path / "first" / "matrix" / "recovery-key"
        assert recovery_file.stat().st_mode & 0o777 == 0o600
        recovery_key = recovery_file.read_text().strip()
        assert len(recovery_key.replace(" ", "")) > 40 and recovery_key.count(" ") >= 10
        first_device = first.transport._client.device_id  # type: ignore[union-attr]
        master, signed = _cross_signed_devices(await alice.query_keys(users.bot), users.bot)
        assert first_device in signed

        await first.stop()
        await first.start()  # a restart keeps the keys: nothing new is published
        assert recovery_file.read_text().strip() == recovery_key
        assert _cross_signed_devices(await alice.query_keys(users.bot), users.bot)[0] == master

        # a new device (a fresh store) restores the keys from secret storage and signs itself
        second = Bot(
            bot_config(
                server.url,
                users,
                [],
                tmp_path / "second",
                encryption=True,
                store_secret=STORE_SECRET,
                recovery_secret=recovery_key,
            )
        )
        await second.start()
        second_device = second.transport._client.device_id  # type: ignore[union-attr]
        assert second_device != first_device
        master_after, signed = _cross_signed_devices(await alice.query_keys(users.bot), users.bot)
        assert master_after == master
        assert {first_device, second_device} <= signed
        assert not (tmp_path / "second" / "matrix" / "recovery-key").exists()
    finally:
        await asyncio.gather(first.stop(), *(b.stop() for b in (second,) if b is not None))
        await alice.close()
