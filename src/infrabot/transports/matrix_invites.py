"""Which invites the Matrix transport accepts: configured rooms, and direct chats if allowed.

An encrypted direct chat is a direct chat like any other: its invite carries the same
``is_direct`` flag, and the bot reads it once encryption is on.
"""

from __future__ import annotations

import logging
from typing import Any

from nio import JoinError  # type: ignore[import-untyped]

from infrabot.config import MatrixConfig
from infrabot.transports.matrix_events import is_direct_invite, stripped_event
from infrabot.transports.matrix_store import MatrixStateStore

__all__ = ["answer_invite"]

log = logging.getLogger(__name__)


async def answer_invite(
    client: Any,
    room_id: str,
    invite: Any,
    *,
    config: MatrixConfig,
    store: MatrixStateStore,
    allowed_rooms: set[str],
    direct_rooms: set[str],
) -> None:
    """Join ``room_id`` if it is a configured room (by ID or the invite's canonical alias)
    or, with ``direct_messages`` on, a direct chat with the bot; else decline. Joined rooms
    are added to ``allowed_rooms`` or ``direct_rooms``."""
    state = [stripped_event(e) for e in invite.invite_state]
    aliases = {
        str(e.get("content", {}).get("alias"))
        for e in state
        if e.get("type") == "m.room.canonical_alias"
    }
    if config.direct_messages and is_direct_invite(state, client.user_id):
        response = await client.join(room_id)
        if not isinstance(response, JoinError):
            direct_rooms.add(room_id)
            store.add_direct_room(room_id)
            log.info("matrix: accepted a direct chat in %s", room_id)
        return
    if room_id in allowed_rooms or aliases & set(config.rooms):
        response = await client.join(room_id)
        if not isinstance(response, JoinError):
            allowed_rooms.add(room_id)
            log.info("matrix: accepted the invite to %s", room_id)
        return
    log.info("matrix: declining the invite to %s (not a configured room)", room_id)
    await client.room_leave(room_id)
