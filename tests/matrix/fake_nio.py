"""A scripted stand-in for nio's AsyncClient, for unit tests of the Matrix transport."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from nio import (
    JoinResponse,
    LoginResponse,
    RoomSendResponse,
    UploadFilterResponse,
    WhoamiError,
    WhoamiResponse,
)

BOT = "@infrabot:x.org"
ROOM = "!room:x.org"
ALIAS = "#python-infra:x.org"


def text(event_id: str, body: str, sender: str = "@alice:x.org", age: int = 1000) -> dict[str, Any]:
    """A text message event as it arrives in a sync."""
    return {
        "type": "m.room.message",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": 0,
        "unsigned": {"age": age},
        "content": {"msgtype": "m.text", "body": body},
    }


def sync(
    batch: str,
    events: list[dict[str, Any]] | None = None,
    room: str = ROOM,
    invites: dict[str, list[dict[str, Any]]] | None = None,
) -> SimpleNamespace:
    """A sync response holding ``events`` in ``room``'s timeline."""
    timeline = SimpleNamespace(
        events=[SimpleNamespace(source=e) for e in events or []], limited=False
    )
    invite = {
        room_id: SimpleNamespace(invite_state=[_as_nio_invite_event(e) for e in state])
        for room_id, state in (invites or {}).items()
    }
    return SimpleNamespace(
        next_batch=batch,
        rooms=SimpleNamespace(join={room: SimpleNamespace(timeline=timeline)}, invite=invite),
    )


def _as_nio_invite_event(event: dict[str, Any]) -> SimpleNamespace:
    """Shaped as nio parses invite state: ``content`` moved out of ``source``."""
    source = {k: v for k, v in event.items() if k != "content"}
    content = event.get("content", {})
    if event.get("type") == "m.room.canonical_alias":
        return SimpleNamespace(source=source, canonical_alias=content.get("alias"))
    return SimpleNamespace(source=source, content=content)


class FakeClient:
    """Records what the transport asks; sync answers come from a script, then block."""

    def __init__(self, syncs: list[Any], *, token_valid: bool = True) -> None:
        self.user_id = ""
        self.user = ""
        self.device_id: str | None = None
        self.access_token = ""
        self.syncs = syncs
        self.since_seen: list[tuple[str | None, bool]] = []
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.joined: list[str] = []
        self.left: list[str] = []
        self.logins: list[str | None] = []
        self.token_valid = token_valid
        self.rooms: dict[str, Any] = {
            ROOM: SimpleNamespace(
                users={
                    "@alice:x.org": SimpleNamespace(display_name="Alice"),
                    BOT: SimpleNamespace(display_name="infrabot"),
                }
            )
        }
        self.closed = False
        self.drained = asyncio.Event()

    async def whoami(self) -> Any:
        if not self.token_valid:
            return WhoamiError("unknown token", "M_UNKNOWN_TOKEN")
        return WhoamiResponse(self.user_id, self.device_id, False)

    def restore_login(self, user_id: str, device_id: str, token: str) -> None:
        self.user_id, self.device_id, self.access_token = user_id, device_id, token

    async def login(self, password: str, device_name: str = "") -> Any:
        self.logins.append(self.device_id)
        device = self.device_id or "NEWDEVICE"
        self.user_id, self.device_id, self.access_token = self.user, device, "token-" + device
        return LoginResponse(self.user, device, self.access_token)

    async def join(self, room: str) -> Any:
        self.joined.append(room)
        return JoinResponse(ROOM if room in (ALIAS, ROOM) else room)

    async def room_resolve_alias(self, alias: str) -> Any:
        raise AssertionError("not expected")

    async def upload_filter(self, **parts: Any) -> Any:
        self.filters = parts
        return UploadFilterResponse("filter1")

    async def room_leave(self, room_id: str) -> Any:
        self.left.append(room_id)

    async def sync(
        self,
        timeout: int,  # noqa: ASYNC109 (nio's own signature)
        sync_filter: Any,
        since: str | None,
        full_state: bool,
    ) -> Any:
        self.since_seen.append((since, full_state))
        if not self.syncs:
            self.drained.set()
            await asyncio.Event().wait()  # a long-poll that never returns
        outcome = self.syncs.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def room_send(
        self, room_id: str, message_type: str, content: dict[str, Any], tx_id: str
    ) -> Any:
        self.sent.append((room_id, content, tx_id))
        return RoomSendResponse(f"$reply{len(self.sent)}", room_id)

    async def close(self) -> None:
        self.closed = True
