"""People with end-to-end encryption, on matrix-nio's own Olm machine: they create encrypted
rooms, send encrypted commands and decrypt the bot's answers, as a user's client would."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matrix_harness import PASSWORD, SERVER_NAME
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    MegolmEvent,
    RoomCreateError,
    RoomKeyRequest,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    SyncResponse,
    ToDeviceMessage,
)

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
STORE_SECRET = "a test store secret"


@dataclass
class EncryptedPerson:
    """A user whose client encrypts and decrypts; records the events it could read."""

    homeserver: str
    user_id: str
    store: Path
    device_id: str | None = None
    client: AsyncClient = field(init=False)
    events: list[dict[str, Any]] = field(default_factory=list)
    undecryptable: list[MegolmEvent] = field(default_factory=list)
    key_requests: list[RoomKeyRequest] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        """Log in on a device of its own with a crypto store, and start syncing."""
        self.store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            request_timeout=10, encryption_enabled=True, store_sync_tokens=True
        )
        self.client = AsyncClient(
            self.homeserver, self.user_id, store_path=str(self.store), config=config
        )
        if self.device_id is not None:
            self.client.device_id = self.device_id
        response = await self.client.login(PASSWORD, device_name="test client")
        assert not isinstance(response, ErrorResponse), response
        self.device_id = response.device_id
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        first = await self.client.sync(timeout=0, full_state=True)
        assert not isinstance(first, ErrorResponse), first
        self.client.add_event_callback(self._record, (RoomMessageText, RoomMessageNotice))
        self.client.add_event_callback(self._record_undecryptable, (MegolmEvent,))
        # nio keeps key requests from its to-device callbacks: read them off each sync
        self.client.add_response_callback(self._record_key_requests, SyncResponse)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000))

    async def _record(self, room: Any, event: Any) -> None:
        self.events.append({**event.source, "room_id": room.room_id, "decrypted": event.decrypted})

    async def _record_undecryptable(self, room: Any, event: MegolmEvent) -> None:
        self.undecryptable.append(event)

    async def _record_key_requests(self, response: SyncResponse) -> None:
        self.key_requests.extend(
            e for e in response.to_device_events if isinstance(e, RoomKeyRequest)
        )

    async def close(self) -> None:
        """Stop syncing and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def create_encrypted_room(
        self, invite: tuple[str, ...] = (), *, direct: bool = False
    ) -> tuple[str, str]:
        """A new encrypted room with a fresh alias: (room ID, alias)."""
        localpart = f"secret-{uuid.uuid4().hex[:10]}"
        response = await self.client.room_create(
            alias=None if direct else localpart,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.public_chat,
            invite=list(invite),
            is_direct=direct,
            initial_state=[ENCRYPTION],
        )
        assert not isinstance(response, RoomCreateError), response
        await self.wait_for(
            lambda: (
                response.room_id in self.client.rooms
                and self.client.rooms[response.room_id].encrypted
            ),
            what="the new room to be known as encrypted",
        )
        return response.room_id, f"#{localpart}:{SERVER_NAME}"

    async def wait_for_member(self, room_id: str, user_id: str) -> None:
        """Wait until ``user_id`` has joined ``room_id`` (as this client sees it)."""
        await self.wait_for(
            lambda: (
                room_id in self.client.rooms
                and user_id in self.client.rooms[room_id].users
                and user_id not in self.client.rooms[room_id].invited_users
            ),
            what=f"{user_id} to join",
        )

    async def accept_direct_from(self, sender: str, starting: str) -> str:
        """Join the direct room ``sender`` invited this person to, and wait there for a
        decrypted message from it starting with ``starting``; returns the room's ID."""
        await self.wait_for(lambda: bool(self.client.invited_rooms), what="an invite")
        direct = next(iter(self.client.invited_rooms))
        response = await self.client.join(direct)
        assert not isinstance(response, ErrorResponse), response
        await self.wait_for(
            lambda: any(
                e["room_id"] == direct
                and e.get("sender") == sender
                and e["content"].get("body", "").startswith(starting)
                for e in self.events
            ),
            what=f"a message starting {starting!r} in the direct room",
        )
        return direct

    async def say(self, room_id: str, text: str) -> str:
        """Send ``text`` encrypted (to every device in the room); returns its event ID."""
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        assert not isinstance(response, ErrorResponse), response
        event_id: str = response.event_id
        return event_id

    def replies_to(self, event_id: str, sender: str) -> list[dict[str, Any]]:
        """The decrypted messages ``sender`` sent in reply to ``event_id`` so far."""
        return [
            e
            for e in self.events
            if e.get("sender") == sender
            and e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            == event_id
        ]

    async def reply_to(self, event_id: str, sender: str, within: float = 20.0) -> dict[str, Any]:
        """Wait for the first decrypted reply of ``sender`` to ``event_id``."""
        await self.wait_for(
            lambda: bool(self.replies_to(event_id, sender)), within, f"a reply to {event_id}"
        )
        return self.replies_to(event_id, sender)[0]

    async def wait_for(
        self, condition: Callable[[], bool], within: float = 20.0, what: str = "condition"
    ) -> None:
        """Wait until ``condition()`` holds, or fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within} s waiting for {what}")
            await asyncio.sleep(0.05)

    async def query_keys(self, user_id: str) -> dict[str, Any]:
        """The homeserver's ``/keys/query`` answer for ``user_id``, as any client sees it."""
        response = await self.client.send(
            "POST",
            "/_matrix/client/v3/keys/query",
            data=f'{{"device_keys": {{"{user_id}": []}}}}',
            headers={"Authorization": f"Bearer {self.client.access_token}"},
        )
        body: dict[str, Any] = await response.json()
        return body

    async def say_withholding_key(
        self, room_id: str, text: str, from_user: str
    ) -> tuple[str, dict[str, Any]]:
        """Send ``text`` encrypted with a fresh room key that ``from_user``'s devices are
        not given (as a client that does not trust them would); returns the event ID and
        the key, which :meth:`send_room_key` can deliver later."""
        olm = self.client.olm
        if self.client.should_query_keys:
            await self.client.keys_query()
        for device in olm.device_store.active_user_devices(from_user):
            self.client.blacklist_device(device)
        self.client.invalidate_outbound_session(room_id)
        await self.client.share_group_session(room_id, ignore_unverified_devices=True)
        session = olm.outbound_group_sessions[room_id]
        key = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "room_id": room_id,
            "session_id": session.id,
            "session_key": session.session_key,  # before the first message: index 0
        }
        return await self.say(room_id, text), key

    async def send_room_key(self, user_id: str, key: dict[str, Any]) -> None:
        """Deliver a room key late, over Olm, to every device of ``user_id``."""
        olm = self.client.olm
        devices = list(olm.device_store.active_user_devices(user_id))
        await self.client.keys_claim({user_id: [d.id for d in devices]})
        for device in devices:
            session = olm.session_store.get(device.curve25519)
            assert session is not None, f"no Olm session with {device.id}"
            sealed = olm._olm_encrypt(session, device, "m.room_key", key)
            message = ToDeviceMessage("m.room.encrypted", user_id, device.id, sealed)
            response = await self.client.to_device(message)
            assert not isinstance(response, ErrorResponse), response
