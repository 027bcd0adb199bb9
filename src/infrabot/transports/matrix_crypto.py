"""End-to-end encryption for the Matrix transport, on matrix-nio's Olm machine (vodozemac).

nio does Olm and Megolm; this module keeps its account in good order around every sync and
every send:

* after each sync: the device's keys uploaded and its one-time keys topped up (nio counts
  them from the sync), the device lists of people in encrypted rooms queried when they
  change, Olm sessions claimed where missing, queued to-device messages sent;
* before each send to an encrypted room: every member is tracked, the trust rule is applied
  to their devices, and the room key is shared with any device that lacks it (nio alone
  shares a room key once, so a device added later would not read the bot's answers);
* each room's ``m.room.encryption`` settings (``rotation_period_ms``,
  ``rotation_period_msgs``) bound the life of the bot's room key there; nio's own defaults
  (a week, 100 messages) apply only where the room says nothing. Membership changes rotate
  the key (nio does that).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from nio import ErrorResponse, RoomEncryptionEvent  # type: ignore[import-untyped]

from infrabot.errors import TransportError
from infrabot.messages import Reply
from infrabot.transports.matrix_undecryptable import HeldEvents

__all__ = [
    "CRYPTO_STORE_NAME",
    "DIRECT_ROOM_ENCRYPTION",
    "AllDevices",
    "DeviceTrust",
    "MatrixCrypto",
    "Rotation",
    "rotation_from",
]

log = logging.getLogger(__name__)

CRYPTO_STORE_NAME = "crypto.sqlite3"
"""nio's crypto store (the Olm account, sessions and room keys) in ``store_path``."""

MEGOLM = "m.megolm.v1.aes-sha2"

DIRECT_ROOM_ENCRYPTION: dict[str, Any] = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": MEGOLM},
}
"""Initial state that makes a room the bot creates encrypted from its first event."""

_WEEK_MS = 7 * 24 * 3600 * 1000
_ROOM_KNOWN_WAIT = 30.0
"""Seconds a send waits for a room the bot just created to arrive in a sync."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """How long one room key may live in a room: whichever limit comes first."""

    period_ms: int = _WEEK_MS
    messages: int = 100


def rotation_from(content: Mapping[str, Any]) -> Rotation:
    """The rotation a room's ``m.room.encryption`` content asks for, within sane bounds.

    Values that are missing, not integers or not positive fall back to the defaults; a
    room cannot make the bot keep one key longer than a week or for more than 10 000
    messages, nor for less than a minute.
    """
    period = content.get("rotation_period_ms")
    messages = content.get("rotation_period_msgs")
    default = Rotation()
    return Rotation(
        period_ms=_bounded(period, 60_000, _WEEK_MS, default.period_ms),
        messages=_bounded(messages, 1, 10_000, default.messages),
    )


def _bounded(value: object, low: int, high: int, default: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return default
    return min(max(value, low), high)


class DeviceTrust(Protocol):
    """Decides which devices of a room's members get the bot's room keys."""

    async def apply(self, client: Any, user_ids: Iterable[str]) -> None:
        """Mark the devices of ``user_ids`` in nio's store as allowed or blacklisted."""

    def skipped(self, user_id: str) -> tuple[str, ...]:
        """The devices of ``user_id`` that the last :meth:`apply` kept keys from."""

    def forget(self, user_ids: Iterable[str]) -> None:
        """The devices of ``user_ids`` changed: decide about them afresh."""


class AllDevices:
    """``trust: all``: every device of every member gets the room keys."""

    async def apply(self, client: Any, user_ids: Iterable[str]) -> None:
        """Let back in any device an earlier ``cross-signed`` setting kept out."""
        olm = client.olm
        for user_id in user_ids:
            for device in olm.device_store.active_user_devices(user_id):
                if olm.is_device_blacklisted(device):
                    client.unblacklist_device(device)

    def forget(self, user_ids: Iterable[str]) -> None:
        """Nothing is remembered."""

    def skipped(self, user_id: str) -> tuple[str, ...]:
        """No device is ever skipped."""
        return ()


class MatrixCrypto:
    """The encryption side of one logged-in nio client (see the module docstring)."""

    def __init__(
        self, client: Any, store_path: Path, trust: DeviceTrust, held: HeldEvents | None = None
    ) -> None:
        self._client = client
        self._held = held
        self._store_path = store_path
        self.trust = trust
        self._rotations: dict[str, Rotation] = {}
        self._synced = asyncio.Condition()
        self._claimed: set[tuple[str, str]] = set()
        self._invited: dict[str, str] = {}

    @property
    def olm(self) -> Any:
        """nio's Olm machine; present once the crypto store is loaded at login."""
        olm = self._client.olm
        if olm is None:
            raise TransportError("matrix: encryption is on but the crypto store did not load")
        return olm

    async def start(self) -> None:
        """Check the store loaded, keep it private, and upload the device's keys."""
        olm = self.olm
        store_file = self._store_path / CRYPTO_STORE_NAME
        if store_file.exists():
            os.chmod(store_file, 0o600)  # it holds the device's private keys
        log.info(
            "matrix: encryption on; device %s, ed25519 %s",
            self._client.device_id,
            olm.account.identity_keys["ed25519"],
        )
        await self.maintain()

    async def maintain(self) -> None:
        """Upload and top up keys, track device lists, claim sessions, flush to-device."""
        client = self._client
        if client.should_upload_keys:
            await _checked(client.keys_upload(), "upload the device keys")
        if client.should_query_keys:
            await _checked(client.keys_query(), "query device keys")
        if client.should_claim_keys:
            users = client.get_users_for_key_claiming()
            await _checked(client.keys_claim(users), "claim one-time keys")
        await client.send_to_device_messages()

    async def after_sync(self, response: Any) -> None:
        """Take note of rotation settings, keep the keys in order, wake waiting sends."""
        for room_id, info in response.rooms.join.items():
            for event in [*getattr(info, "state", ()), *info.timeline.events]:
                if isinstance(event, RoomEncryptionEvent):
                    self._rotations[room_id] = rotation_from(event.source.get("content", {}))
        self.trust.forget(getattr(getattr(response, "device_list", None), "changed", ()))
        await self.maintain()
        if self._held is not None:
            await self._held.request_keys()
        async with self._synced:
            self._synced.notify_all()

    async def before_send(self, room_id: str) -> bool:
        """Ready ``room_id`` for an encrypted send; False when the room is not encrypted.

        Waits (bounded) for a room the bot has just created to arrive in a sync: nio can
        only encrypt for a room it knows.
        """
        room = await self._known_room(room_id)
        if not room.encrypted:
            return False
        client = self._client
        if not room.members_synced:
            await _checked(client.joined_members(room_id), f"list the members of {room_id}")
        olm = self.olm
        untracked = [user for user in room.users if user not in olm.tracked_users]
        olm.users_for_key_query.update(untracked)
        if client.should_query_keys:
            await _checked(client.keys_query(), "query device keys")
        await self.trust.apply(client, list(room.users))
        pending = client.sharing_session.get(room_id)
        if pending is not None:
            await pending.wait()
        if room_id in self.olm.outbound_group_sessions:
            await self._claim_new_sessions(room_id)
        if self._unshared_devices(room):
            # nio shares only a fresh key: this rotates it, to every allowed device at once
            await client.share_group_session(room_id, ignore_unverified_devices=True)
        self._apply_rotation(room_id)
        return True

    def note_skipped(self, reply: Reply) -> Reply:
        """A private message to someone (a page) says which of their devices cannot read it,
        so they know to cross-sign the device they expected it on."""
        room = reply.room
        skipped = self.trust.skipped(room.id) if room.private and room.id.startswith("@") else ()
        if not skipped:
            return reply
        plural = "s" if len(skipped) > 1 else ""
        note = f"(not readable on your device{plural} {', '.join(skipped)}, "
        note += "which you have not cross-signed)"
        return dataclasses.replace(reply, lines=(*reply.lines, note))

    def invited(self, room_id: str, user_id: str) -> None:
        """The bot just created ``room_id`` inviting ``user_id``: its first send waits until a
        sync shows the invite, or the room key would be shared without them."""
        self._invited[room_id] = user_id

    async def _known_room(self, room_id: str) -> Any:
        def ready() -> bool:
            room = self._client.rooms.get(room_id)
            invitee = self._invited.get(room_id)
            return room is not None and (invitee is None or invitee in room.users)

        async def known() -> Any:
            async with self._synced:
                await self._synced.wait_for(ready)
            self._invited.pop(room_id, None)
            return self._client.rooms[room_id]

        if ready():
            self._invited.pop(room_id, None)
            return self._client.rooms[room_id]
        try:
            return await asyncio.wait_for(known(), _ROOM_KNOWN_WAIT)
        except TimeoutError:
            raise TransportError(f"matrix: {room_id} has not arrived in a sync yet") from None

    async def _claim_new_sessions(self, room_id: str) -> None:
        """Olm sessions with devices new in the room, each claimed once (a device out of
        one-time keys would otherwise cost a request on every send)."""
        missing = {
            user_id: fresh
            for user_id, devices in self._client.get_missing_sessions(room_id).items()
            if (fresh := [d for d in devices if (user_id, d) not in self._claimed])
        }
        if missing:
            self._claimed.update((u, d) for u, devices in missing.items() for d in devices)
            await _checked(self._client.keys_claim(missing), "claim one-time keys")

    def _unshared_devices(self, room: Any) -> list[tuple[str, str]]:
        """Devices of the room's members that may read the room key but do not have it."""
        olm = self.olm
        session = olm.outbound_group_sessions.get(room.room_id)
        if session is None:
            return []  # nio shares a fresh key with everyone on the first send
        done = session.users_shared_with | session.users_ignored
        own = (self._client.user_id, self._client.device_id)
        return [
            (user_id, device.id)
            for user_id in room.users
            for device in olm.device_store.active_user_devices(user_id)
            if (user_id, device.id) not in done
            and (user_id, device.id) != own
            and not olm.is_device_blacklisted(device)
            # without an Olm session (no one-time key left) a device cannot be sent a key
            and olm.session_store.get(device.curve25519) is not None
        ]

    def _apply_rotation(self, room_id: str) -> None:
        rotation = self._rotations.get(room_id)
        session = self.olm.outbound_group_sessions.get(room_id)
        if rotation is None or session is None:
            return
        session.max_age = timedelta(milliseconds=rotation.period_ms)
        session.max_messages = rotation.messages


async def _checked(request: Any, what: str) -> Any:
    """Await a nio request; a refusal is logged (the next sync tries again), not raised."""
    response = await request
    if isinstance(response, ErrorResponse):
        log.warning("matrix: cannot %s: %s", what, response)
    return response
