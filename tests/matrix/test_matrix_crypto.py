"""The encryption side of the Matrix transport, on a fake nio client and Olm machine."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nio import RoomEncryptionEvent

from infrabot.config import MatrixConfig
from infrabot.errors import TransportError
from infrabot.transports.matrix_crypto import AllDevices, MatrixCrypto, Rotation, rotation_from
from infrabot.transports.matrix_filter import sync_filter

ROOM = "!secret:x.org"


def test_rotation_follows_the_room_settings_within_bounds() -> None:
    assert rotation_from({}) == Rotation()
    assert rotation_from({"rotation_period_ms": 3_600_000, "rotation_period_msgs": 10}) == (
        Rotation(period_ms=3_600_000, messages=10)
    )
    # a room cannot make one key live longer than a week, or be replaced every instant
    assert rotation_from({"rotation_period_ms": 10**12}).period_ms == Rotation().period_ms
    assert rotation_from({"rotation_period_ms": 5}).period_ms == 60_000
    assert rotation_from({"rotation_period_msgs": "9"}).messages == 100
    assert rotation_from({"rotation_period_msgs": True}).messages == 100
    assert rotation_from({"rotation_period_msgs": -1}).messages == 100


def test_the_sync_filter_lets_encrypted_events_through_only_with_encryption() -> None:
    plain = sync_filter(encrypted=False)["room"]["timeline"]["types"]
    encrypted = sync_filter(encrypted=True)["room"]["timeline"]["types"]
    assert "m.room.encrypted" not in plain
    assert {"m.room.encrypted", "m.room.encryption", "m.room.message"} <= set(encrypted)
    assert "to_device" not in sync_filter(encrypted=True)  # room keys arrive there


def test_encryption_needs_a_store_secret() -> None:
    with pytest.raises(ValueError, match="store_secret"):
        MatrixConfig(encryption=True)
    assert MatrixConfig(encryption=True, store_secret="s").encryption


class FakeOlm:
    def __init__(self) -> None:
        self.tracked_users: set[str] = set()
        self.users_for_key_query: set[str] = set()
        self.outbound_group_sessions: dict[str, Any] = {}
        self.devices: dict[str, list[Any]] = {}
        self.device_store = SimpleNamespace(active_user_devices=lambda u: self.devices.get(u, []))
        self.session_store = SimpleNamespace(get=lambda key: None if key == "no-otk" else "session")
        self.blacklisted: set[str] = set()
        self.account = SimpleNamespace(identity_keys={"ed25519": "ED"})

    def is_device_blacklisted(self, device: Any) -> bool:
        return device.id in self.blacklisted


class FakeCryptoClient:
    def __init__(self) -> None:
        self.user_id, self.device_id = "@bot:x.org", "BOTDEVICE"
        self.olm = FakeOlm()
        self.rooms: dict[str, Any] = {}
        self.sharing_session: dict[str, asyncio.Event] = {}
        self.shared: list[str] = []
        self.queried = 0
        self.claims: list[dict[str, list[str]]] = []
        self.should_upload_keys = self.should_claim_keys = False

    @property
    def should_query_keys(self) -> bool:
        return bool(self.olm.users_for_key_query)

    async def keys_query(self) -> None:
        self.queried += 1
        self.olm.tracked_users |= self.olm.users_for_key_query
        self.olm.users_for_key_query.clear()

    async def joined_members(self, room_id: str) -> None:
        self.rooms[room_id].members_synced = True

    def get_missing_sessions(self, room_id: str) -> dict[str, list[str]]:
        return {
            user: [d.id for d in self.olm.devices.get(user, []) if d.curve25519 == "no-otk"]
            for user in self.rooms[room_id].users
        }

    async def keys_claim(self, users: dict[str, list[str]]) -> None:
        self.claims.append(users)

    async def share_group_session(self, room_id: str, ignore_unverified_devices: bool) -> None:
        assert ignore_unverified_devices
        self.shared.append(room_id)
        session = SimpleNamespace(
            users_shared_with={
                (u, d.id)
                for u in self.rooms[room_id].users
                for d in self.olm.devices.get(u, [])
                if d.curve25519 != "no-otk"
            },
            users_ignored=set(),
            max_age=timedelta(days=7),
            max_messages=100,
        )
        self.olm.outbound_group_sessions[room_id] = session

    async def send_to_device_messages(self) -> list[Any]:
        return []


def _device(device_id: str, curve: str = "curve") -> Any:
    return SimpleNamespace(id=device_id, curve25519=curve)


def _room(client: FakeCryptoClient, users: list[str], *, encrypted: bool = True) -> Any:
    room = SimpleNamespace(
        room_id=ROOM, encrypted=encrypted, members_synced=False, users=dict.fromkeys(users)
    )
    client.rooms[ROOM] = room
    return room


async def test_a_device_added_later_gets_the_room_key_once(tmp_path: Path) -> None:
    client = FakeCryptoClient()
    room = _room(client, ["@alice:x.org"])
    client.olm.devices["@alice:x.org"] = [_device("PHONE")]
    crypto = MatrixCrypto(client, tmp_path, AllDevices())

    assert await crypto.before_send(ROOM)
    assert client.queried == 1  # the member was not tracked yet
    await client.share_group_session(ROOM, ignore_unverified_devices=True)  # nio's first send
    client.shared.clear()
    assert await crypto.before_send(ROOM)
    assert client.shared == []  # every device has the key: nothing to do

    client.olm.devices["@alice:x.org"].append(_device("LAPTOP"))
    await crypto.before_send(ROOM)
    assert client.shared == [ROOM]  # the new device is sent the (rotated) key
    await crypto.before_send(ROOM)
    assert client.shared == [ROOM]  # and only once
    assert room.members_synced


async def test_a_device_without_one_time_keys_is_claimed_once_not_on_every_send(
    tmp_path: Path,
) -> None:
    client = FakeCryptoClient()
    _room(client, ["@alice:x.org"])
    client.olm.devices["@alice:x.org"] = [_device("PHONE")]
    crypto = MatrixCrypto(client, tmp_path, AllDevices())
    await crypto.before_send(ROOM)
    await client.share_group_session(ROOM, ignore_unverified_devices=True)
    client.shared.clear()

    client.olm.devices["@alice:x.org"].append(_device("OLD", curve="no-otk"))
    for _ in range(3):
        await crypto.before_send(ROOM)
    assert client.claims == [{"@alice:x.org": ["OLD"]}]
    assert client.shared == []  # a device that cannot be sent a key does not rotate it


async def test_the_room_settings_bound_the_key_and_plain_rooms_are_left_alone(
    tmp_path: Path,
) -> None:
    client = FakeCryptoClient()
    _room(client, ["@alice:x.org"])
    crypto = MatrixCrypto(client, tmp_path, AllDevices())
    settings = RoomEncryptionEvent.from_dict(
        {
            "type": "m.room.encryption",
            "event_id": "$e",
            "sender": "@alice:x.org",
            "origin_server_ts": 0,
            "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_msgs": 5},
        }
    )
    info = SimpleNamespace(state=[settings], timeline=SimpleNamespace(events=[]))
    await crypto.after_sync(SimpleNamespace(rooms=SimpleNamespace(join={ROOM: info})))
    await client.share_group_session(ROOM, ignore_unverified_devices=True)
    await crypto.before_send(ROOM)
    assert client.olm.outbound_group_sessions[ROOM].max_messages == 5

    client.rooms[ROOM].encrypted = False
    assert not await crypto.before_send(ROOM)


async def test_a_send_waits_for_a_new_room_to_arrive_in_a_sync(tmp_path: Path) -> None:
    client = FakeCryptoClient()
    crypto = MatrixCrypto(client, tmp_path, AllDevices())
    sending = asyncio.create_task(crypto.before_send(ROOM))
    await asyncio.sleep(0)
    assert not sending.done()
    _room(client, ["@alice:x.org"], encrypted=False)
    empty = SimpleNamespace(rooms=SimpleNamespace(join={}))
    await crypto.after_sync(empty)
    assert await sending is False


async def test_without_a_loaded_crypto_store_the_transport_stops(tmp_path: Path) -> None:
    client = FakeCryptoClient()
    client.olm = None  # type: ignore[assignment]
    with pytest.raises(TransportError, match="crypto store"):
        await MatrixCrypto(client, tmp_path, AllDevices()).start()


async def test_a_room_opened_for_someone_waits_until_a_sync_shows_their_invite(
    tmp_path: Path,
) -> None:
    client = FakeCryptoClient()
    room = _room(client, ["@bot:x.org"])  # the sync brought the room before the invite
    crypto = MatrixCrypto(client, tmp_path, AllDevices())
    crypto.invited(ROOM, "@alice:x.org")
    sending = asyncio.create_task(crypto.before_send(ROOM))
    await asyncio.sleep(0)
    empty = SimpleNamespace(rooms=SimpleNamespace(join={}))
    await crypto.after_sync(empty)
    assert not sending.done()  # without Alice, the room key would skip her devices
    room.users["@alice:x.org"] = None
    await crypto.after_sync(empty)
    assert await sending
    assert "@alice:x.org" in client.olm.tracked_users
