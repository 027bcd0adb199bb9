"""``trust: cross-signed``: room keys go only to devices their owner has cross-signed.

A device counts as cross-signed when the homeserver's ``/keys/query`` shows it signed by
its owner's self-signing key, and that key signed by the owner's master key (the owner's
identity as first seen: nothing else is available to a bot). Devices that fail are
blacklisted in nio's store, so nio never sends them a room key; a device that is signed
later is let back in (which rotates the room key, nio's rule for any change of trust).
What was learnt is kept until the homeserver says the user's devices changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from infrabot.transports.matrix_cross_signing import HomeserverApi
from infrabot.transports.matrix_signing import verify_signed

__all__ = ["CrossSignedDevices", "cross_signed_devices"]

log = logging.getLogger(__name__)


def _only_key(key: Any) -> str | None:
    keys = key.get("keys", {}) if isinstance(key, Mapping) else {}
    values = [v for k, v in keys.items() if k.startswith("ed25519:") and isinstance(v, str)]
    return values[0] if len(values) == 1 else None


def cross_signed_devices(answer: Mapping[str, Any], user_id: str) -> frozenset[str]:
    """The devices of ``user_id`` that a ``/keys/query`` answer shows cross-signed."""
    master = _only_key(answer.get("master_keys", {}).get(user_id))
    self_signing = answer.get("self_signing_keys", {}).get(user_id)
    ssk = _only_key(self_signing)
    if master is None or ssk is None or not verify_signed(self_signing, user_id, master, master):
        return frozenset()
    devices = answer.get("device_keys", {}).get(user_id, {})
    return frozenset(
        device_id
        for device_id, device in devices.items()
        if isinstance(device, Mapping) and verify_signed(device, user_id, ssk, ssk)
    )


class CrossSignedDevices:
    """The ``cross-signed`` :class:`~infrabot.transports.matrix_crypto.DeviceTrust`."""

    def __init__(self) -> None:
        self._signed: dict[str, frozenset[str]] = {}
        self._skipped: dict[str, tuple[str, ...]] = {}

    def forget(self, user_ids: Iterable[str]) -> None:
        """The homeserver says these users' devices changed: ask again before trusting."""
        for user_id in user_ids:
            self._signed.pop(user_id, None)

    async def apply(self, client: Any, user_ids: Iterable[str]) -> None:
        """Blacklist the devices of ``user_ids`` that are not cross-signed; let in those that
        are. The bot's own device is never touched."""
        users = list(user_ids)
        unknown = [user for user in users if user not in self._signed]
        if unknown:
            answer = await HomeserverApi(client).ok(
                "POST", "/keys/query", {"device_keys": {user: [] for user in unknown}}
            )
            for user in unknown:
                self._signed[user] = cross_signed_devices(answer, user)
        olm = client.olm
        for user in users:
            skipped = []
            for device in olm.device_store.active_user_devices(user):
                if (user, device.id) == (client.user_id, client.device_id):
                    continue
                if device.id in self._signed[user]:
                    if olm.is_device_blacklisted(device):
                        client.unblacklist_device(device)
                    continue
                skipped.append(device.id)
                if not olm.is_device_blacklisted(device):
                    log.info("matrix: not sending room keys to %s's device %s", user, device.id)
                    client.blacklist_device(device)
            self._skipped[user] = tuple(sorted(skipped))

    def skipped(self, user_id: str) -> tuple[str, ...]:
        """The devices of ``user_id`` kept from room keys at the last :meth:`apply`."""
        return self._skipped.get(user_id, ())
