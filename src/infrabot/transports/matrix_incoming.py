"""Matrix message events in the core's terms: who said what where, and in which thread.

Identity is the event's ``sender``, which the homeserver authenticated; the display name is
only ever shown, never trusted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from infrabot.messages import IncomingMessage, Network, Room, Sender
from infrabot.transports.matrix_events import thread_root

__all__ = ["MATRIX", "IncomingEvents"]

MATRIX = Network("matrix")

_THREADS_KEPT = 1000
"""Questions whose thread is remembered: answers are sent within seconds of the question."""


class IncomingEvents:
    """Parses message events at the edge, remembering each question's thread for its answer."""

    def __init__(self) -> None:
        self._threads: OrderedDict[str, str] = OrderedDict()

    def thread_of(self, event_id: str | None) -> str | None:
        """The root of the thread the question ``event_id`` was asked in, if any."""
        return self._threads.get(event_id) if event_id else None

    def _remember_thread(self, event: Mapping[str, Any]) -> None:
        root = thread_root(event)
        if root is None:
            return
        self._threads[str(event["event_id"])] = root
        while len(self._threads) > _THREADS_KEPT:
            self._threads.popitem(last=False)

    def parse(
        self, client: Any, room_id: str, event: Mapping[str, Any], *, private: bool
    ) -> IncomingMessage:
        """Parse one message event (names as the client knows them now)."""
        self._remember_thread(event)
        user_id = str(event["sender"])
        room = client.rooms.get(room_id)
        member = room.users.get(user_id) if room is not None else None
        name = member.display_name if member is not None and member.display_name else user_id
        own = client.user_id
        own_member = room.users.get(own) if room is not None else None
        bot_name = (
            own_member.display_name
            if own_member is not None and own_member.display_name
            else own.split(":", 1)[0].lstrip("@")
        )
        return IncomingMessage(
            # account is the authenticated sender; the display name is for show only.
            sender=Sender(network=MATRIX, name=name, account=user_id, address=user_id),
            room=Room(network=MATRIX, id=room_id, private=private),
            text=str(event["content"]["body"]),
            bot_name=bot_name,
            event_id=str(event["event_id"]),
        )
