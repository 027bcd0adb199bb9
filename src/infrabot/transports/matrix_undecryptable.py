"""Encrypted events the bot cannot decrypt yet: held, asked for, answered once, explained.

An event whose room key has not reached the bot is not dropped:

* it is logged with its session ID and kept in the state store (so a restart keeps
  waiting for it), and its key is requested from the sender's devices (``m.room_key_request``;
  nio alone asks only the bot's own devices, which never have it);
* after every sync, held events whose key has arrived are decrypted and answered like any
  other; the answer's transaction ID is the event's, so exactly once holds as for the rest;
* when a sender's event is still unreadable after ``notice_after`` seconds, they are told once,
  in the room, that the bot cannot read their messages and why; they are told again only
  after a held message of theirs could be read in between.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nio import (  # type: ignore[import-untyped]
    BadEvent,
    EncryptionError,
    MegolmEvent,
    UnknownBadEvent,
)

from infrabot.transports.matrix_events import event_age_ms
from infrabot.transports.matrix_store import MatrixStateStore

__all__ = ["HeldEvents", "UnreadableNotice"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UnreadableNotice:
    """Telling ``sender`` in ``room_id`` that their event ``event_id`` cannot be read."""

    room_id: str
    sender: str
    event_id: str
    text: str


class HeldEvents:
    """The undecryptable events of one transport (see the module docstring)."""

    def __init__(
        self,
        client: Any,
        store: MatrixStateStore,
        *,
        notice_after: float,
        max_age: float,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._store = store
        self._notice_after = notice_after
        self._max_age = max_age
        self._clock = clock
        # after a restart, the held events' keys are asked for again
        self._requests = [self._parse(held.room_id, held.event) for held in store.held_events]
        self._requested: set[str] = set()
        self._returned: set[str] = set()
        self._telling: set[str] = set()

    @staticmethod
    def _parse(room_id: str, source: Mapping[str, Any]) -> Any:
        event = MegolmEvent.from_dict(dict(source))
        event.room_id = room_id
        return event

    def hold(self, room_id: str, source: Mapping[str, Any]) -> None:
        """Keep an ``m.room.encrypted`` event nio could not decrypt, and ask for its key."""
        event = self._parse(room_id, source)
        if not isinstance(event, MegolmEvent) or event.sender == self._client.user_id:
            return
        if event_age_ms(source, int(self._clock() * 1000)) > self._max_age * 1000:
            return  # too old to answer even once its key comes
        log.warning(
            "matrix: cannot decrypt %s from %s in %s (session %s); asking their devices for "
            "the room key",
            event.event_id,
            event.sender,
            room_id,
            event.session_id,
        )
        self._store.hold_event(room_id, dict(source), now=self._clock())
        self._requests.append(event)

    async def request_keys(self) -> None:
        """Send the key requests queued by :meth:`hold` (once per session)."""
        requests, self._requests = self._requests, []
        for event in requests:
            if not isinstance(event, MegolmEvent) or event.session_id in self._requested:
                continue
            self._requested.add(event.session_id)
            message = event.as_key_request(event.sender, self._client.device_id)
            response = await self._client.to_device(message, tx_id=uuid.uuid4().hex)
            if getattr(response, "status_code", None) is not None:
                log.warning("matrix: cannot request the key of %s: %s", event.session_id, response)

    def recovered(self) -> list[tuple[str, dict[str, Any]]]:
        """Held events that decrypt now, as (room ID, decrypted event JSON), oldest first.

        They stay held until :meth:`release` (called once answered, so a crash before the
        answer tries again). Events too old to answer are let go here.
        """
        now_ms = int(self._clock() * 1000)
        readable: list[tuple[str, dict[str, Any]]] = []
        for held in self._store.held_events:
            if held.event.get("event_id") in self._returned:
                continue  # being answered already
            if event_age_ms(held.event, now_ms) > self._max_age * 1000:
                log.info("matrix: no key came for %s in time", held.event.get("event_id"))
                self._store.release_event(str(held.event["event_id"]))
                continue
            decrypted = self._decrypt(held.room_id, held.event)
            if decrypted is not None:
                self._returned.add(str(held.event["event_id"]))
                self._store.set_told_undecryptable(str(held.event.get("sender")), told=False)
                readable.append((held.room_id, decrypted))
        return readable

    def _decrypt(self, room_id: str, source: Mapping[str, Any]) -> dict[str, Any] | None:
        event = self._parse(room_id, source)
        olm = self._client.olm
        if not isinstance(event, MegolmEvent) or olm is None:
            return None
        if olm.inbound_group_store.get(room_id, event.sender_key, event.session_id) is None:
            return None  # the key has not come yet
        try:
            decrypted = self._client.decrypt_event(event)
        except EncryptionError as exc:
            log.warning("matrix: %s does not decrypt with its key: %s", event.event_id, exc)
            return None
        if isinstance(decrypted, (BadEvent, UnknownBadEvent)):
            self.release(event.event_id)
            return None
        log.info("matrix: the key of %s came; answering %s", event.session_id, event.event_id)
        return dict(decrypted.source)

    def release(self, event_id: str) -> None:
        """Stop holding ``event_id`` (answered, or deliberately passed over)."""
        self._store.release_event(event_id)

    def due_notices(self) -> list[UnreadableNotice]:
        """Senders to tell now that the bot cannot read them: one notice each, once."""
        now = self._clock()
        notices: list[UnreadableNotice] = []
        for held in self._store.held_events:
            sender = str(held.event.get("sender"))
            if now - held.seen_at < self._notice_after or sender in self._telling:
                continue
            if self._store.was_told_undecryptable(sender):
                continue
            self._telling.add(sender)
            event_id = str(held.event["event_id"])
            notices.append(UnreadableNotice(held.room_id, sender, event_id, self._why(sender)))
        return notices

    def told(self, sender: str) -> None:
        """``sender`` has been told (called once the notice is sent)."""
        self._store.set_told_undecryptable(sender, told=True)
        self._telling.discard(sender)

    def _why(self, sender: str) -> str:
        return (
            f"{sender}: I cannot read your encrypted messages: your client has not sent its "
            f"room key to my device {self._client.device_id}, and did not answer when I asked "
            "for it. I will answer once the key arrives. If your client sends keys only to "
            "verified devices, allow unverified ones in this room."
        )
