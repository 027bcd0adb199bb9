"""Held undecryptable events: kept across restarts, asked for, released, explained once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from infrabot.transports.matrix_store import MatrixStateStore
from infrabot.transports.matrix_undecryptable import HeldEvents

ROOM = "!secret:x.org"


def encrypted(event_id: str, session: str = "S1", sender: str = "@alice:x.org") -> dict[str, Any]:
    return {
        "type": "m.room.encrypted",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": 1_000_000,
        "content": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgA",
            "device_id": "PHONE",
            "sender_key": "curve",
            "session_id": session,
        },
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class KeyClient:
    """Only what held events use: who the bot is, to-device sends, the room keys it has."""

    def __init__(self) -> None:
        self.user_id, self.device_id = "@bot:x.org", "BOTDEVICE"
        self.keys: set[str] = set()
        self.to_device_sent: list[Any] = []
        self.olm = SimpleNamespace(
            inbound_group_store=SimpleNamespace(
                get=lambda room, sender_key, session: session if session in self.keys else None
            )
        )

    async def to_device(self, message: Any, tx_id: str) -> Any:
        self.to_device_sent.append(message)
        return SimpleNamespace()

    def decrypt_event(self, event: Any) -> Any:
        source = {
            "type": "m.room.message",
            "event_id": event.event_id,
            "sender": event.sender,
            "origin_server_ts": event.server_timestamp,
            "content": {"msgtype": "m.text", "body": "!owner pypi"},
        }
        return SimpleNamespace(source=source)


def held_events(client: KeyClient, store: MatrixStateStore, clock: Clock) -> HeldEvents:
    return HeldEvents(client, store, notice_after=60.0, max_age=600.0, clock=clock)


async def test_a_held_event_is_asked_for_from_its_sender_and_kept_across_a_restart(
    tmp_path: Path,
) -> None:
    client, clock = KeyClient(), Clock()
    clock.now = 1000.5
    store = MatrixStateStore(tmp_path)
    held = held_events(client, store, clock)
    held.hold(ROOM, encrypted("$a"))
    held.hold(ROOM, encrypted("$b"))  # the same session: asked for once
    await held.request_keys()
    assert [(m.recipient, m.recipient_device) for m in client.to_device_sent] == [
        ("@alice:x.org", "*")
    ]
    assert held.recovered() == []  # no key yet
    store.close()

    store = MatrixStateStore(tmp_path)  # a restart
    held = held_events(client, store, clock)
    client.keys.add("S1")
    recovered = held.recovered()
    assert [(room, event["event_id"]) for room, event in recovered] == [(ROOM, "$a"), (ROOM, "$b")]
    assert recovered[0][1]["type"] == "m.room.message"
    assert held.recovered() == []  # being answered: not handed out twice
    held.release("$a")
    held.release("$b")
    assert store.held_events == []


async def test_own_and_too_old_events_are_not_held(tmp_path: Path) -> None:
    client, clock = KeyClient(), Clock()
    store = MatrixStateStore(tmp_path)
    held = held_events(client, store, clock)
    held.hold(ROOM, encrypted("$own", sender="@bot:x.org"))
    clock.now = 1000 + 601
    held.hold(ROOM, encrypted("$old"))
    assert store.held_events == []


async def test_the_sender_is_told_once_and_again_only_after_being_read(tmp_path: Path) -> None:
    client, clock = KeyClient(), Clock()
    store = MatrixStateStore(tmp_path)
    held = held_events(client, store, clock)
    held.hold(ROOM, encrypted("$a"))
    assert held.due_notices() == []  # not yet: the key may still come
    clock.now += 61
    held.hold(ROOM, encrypted("$b", session="S2"))
    (notice,) = held.due_notices()
    assert (notice.room_id, notice.sender, notice.event_id) == (ROOM, "@alice:x.org", "$a")
    assert "BOTDEVICE" in notice.text and notice.text.startswith("@alice:x.org: I cannot read")
    assert held.due_notices() == []  # being told
    held.told(notice.sender)
    clock.now += 61
    assert held.due_notices() == []  # told once, even for the later event

    client.keys.add("S2")
    held.recovered()  # a message of theirs is read again
    held.release("$b")
    held.hold(ROOM, encrypted("$c", session="S3"))
    clock.now += 61
    assert [n.event_id for n in held.due_notices()] == ["$a"]
