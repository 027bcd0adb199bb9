"""The Matrix transport: a matrix-nio client that answers every command exactly once.

How exactly once holds:

* Rooms are answered side by side, each in order (:mod:`.matrix_lanes`); a sync token is
  saved only after every event of that sync and the ones before it was dealt with, so a
  crash re-reads the batch rather than losing it.
* Each answered event's ID is saved once its reply is sent, so a re-read batch (after a
  crash, a reconnect or a restart) answers nothing twice.
* A reply's transaction IDs derive from the event it answers, so when the process dies
  between sending and saving, the homeserver itself drops the re-sent duplicate.
* On restart, commands sent while the bot was away arrive in the first sync and are answered
  if younger than ``max_age``; older ones are passed over.

Identity is the event's ``sender``, which the homeserver authenticated; the display name is
only ever shown, never trusted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

from nio import (  # type: ignore[import-untyped]
    ErrorResponse,
    JoinError,
    RoomPreset,
    SyncError,
)

from infrabot.backoff import Backoff
from infrabot.config import MatrixConfig
from infrabot.errors import TransportError
from infrabot.messages import Handles, IncomingMessage, Reply, Room, Sender
from infrabot.transports.base import Deliver, Link, hand_over
from infrabot.transports.matrix_cross_signing import cross_sign_or_explain
from infrabot.transports.matrix_crypto import DIRECT_ROOM_ENCRYPTION, AllDevices, MatrixCrypto
from infrabot.transports.matrix_events import (
    Verdict,
    commands_in_timeline,
    judge,
)
from infrabot.transports.matrix_filter import upload_sync_filter
from infrabot.transports.matrix_format import notice_contents, transaction_id
from infrabot.transports.matrix_incoming import MATRIX, IncomingEvents
from infrabot.transports.matrix_invites import answer_invite
from infrabot.transports.matrix_lanes import Job, RoomLanes
from infrabot.transports.matrix_login import AUTH_ERRORS, ClientFactory, log_in, nio_client
from infrabot.transports.matrix_retry import (
    CONNECTION_ERRORS,
    is_rate_limited,
    rate_limit_delay,
    send_until_accepted,
)
from infrabot.transports.matrix_store import MatrixStateStore
from infrabot.transports.matrix_trust import CrossSignedDevices
from infrabot.transports.matrix_undecryptable import HeldEvents, UnreadableNotice
from infrabot.waiting import Interrupted, unless

__all__ = ["MATRIX", "MatrixTransport"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class _Stopped(TransportError):
    """Raised inside :meth:`MatrixTransport.run` once :meth:`~MatrixTransport.stop` is called.

    A :class:`TransportError`, so a caller of :meth:`~MatrixTransport.send` from outside
    (the pager) sees the transport's own error kind when a send is cut short by a stop.
    """


class MatrixTransport:
    """One Matrix account in the configured rooms; see the module docstring for guarantees."""

    network = MATRIX

    def __init__(
        self,
        config: MatrixConfig,
        *,
        client_factory: ClientFactory = nio_client,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._client_factory = client_factory
        self._clock = clock
        self._sleep = sleep
        self._client: Any = None
        self._store: MatrixStateStore | None = None
        self._stopped = asyncio.Event()
        self._allowed_rooms: set[str] = set(config.rooms)
        self._direct_rooms: set[str] = set()
        self._lanes: RoomLanes | None = None
        self._crypto: MatrixCrypto | None = None
        self._held: HeldEvents | None = None
        # Room alias -> room ID: a room given by alias (paging.announce) is sent to by its ID.
        self._aliases: dict[str, str] = {}
        # Question event ID -> its thread's root, so the answer lands in the same thread.
        self._incoming = IncomingEvents()
        self.ready = asyncio.Event()
        """Set once logged in, in the rooms, and past the first sync: for tests and health."""
        self.link = Link()
        """Connected means the last sync went through; read by health checks and metrics."""

    # -- the Transport protocol -------------------------------------------------------------

    async def run(self, deliver: Deliver) -> None:
        """Log in, join the rooms and answer commands until :meth:`stop`."""
        self._store = MatrixStateStore(self.config.store_path)
        if self.config.direct_messages:
            self._direct_rooms = set(self._store.direct_rooms)
        # rooms the bot opened itself (to page someone) are always private conversations
        self._direct_rooms |= self._store.opened_direct_rooms
        self._client = self._client_factory(self.config)
        try:
            await self._connect()
            await self._sync_forever(deliver)
        except _Stopped:
            pass
        finally:
            self.ready.clear()
            self.link.down("stopped")
            client, self._client = self._client, None
            await client.close()
            self._store.close()

    async def send(self, reply: Reply) -> None:
        """Send ``reply`` threaded to the asker's event; waits out rate limits and outages.

        Raises :class:`TransportError` when the transport is not running, is stopped while
        sending, or has lost its login.
        """
        client = self._client
        if client is None:
            raise TransportError("matrix: not connected")
        asked = reply.in_reply_to
        event_id = asked.event_id if asked is not None else None
        asker = (
            asked.sender.address if asked is not None and asked.sender.network == MATRIX else None
        )
        room_id = await self._room_for(client, reply.room)
        crypto = self._crypto
        if crypto is not None and await self._until_stopped(crypto.before_send(room_id)):
            reply = crypto.note_skipped(reply)
        # nio encrypts for an encrypted room; which devices get its key was settled just now
        send_options = {"ignore_unverified_devices": True} if crypto is not None else {}
        contents = notice_contents(
            reply,
            in_reply_to_event=event_id,
            thread_root=self._incoming.thread_of(event_id),
            asker=asker,
            notify_mentions=self.config.notify_mentions,
        )
        backoff = self._backoff()
        for position, content in enumerate(contents):
            await self._until_stopped(
                send_until_accepted(
                    functools.partial(
                        client.room_send,
                        room_id,
                        "m.room.message",
                        content,
                        tx_id=transaction_id(reply.delivery_key or event_id, position),
                        **send_options,
                    ),
                    is_error=lambda response: isinstance(response, ErrorResponse),
                    backoff=backoff,
                    sleep=self._sleep,
                    what=f"send to {reply.room.id}",
                )
            )

    async def _room_for(self, client: Any, room: Room) -> str:
        """The room to send to: a private reply to a user ID goes to a direct room with them.

        The bot opens that room (inviting the user) the first time and remembers it, so a
        page reaches someone who never talked to the bot, and every later message to them
        lands in the same conversation.
        """
        if room.id.startswith("#"):
            return await self._resolve_alias(client, room.id)
        if not (room.private and room.id.startswith("@")):
            return room.id
        store = self._require_store()
        known = store.direct_room_with(room.id)
        if known is not None:
            return known
        encrypted = self._crypto is not None and self.config.encrypt_direct
        response = await self._until_stopped(
            client.room_create(
                is_direct=True,
                invite=[room.id],
                preset=RoomPreset.trusted_private_chat,
                initial_state=[DIRECT_ROOM_ENCRYPTION] if encrypted else (),
            )
        )
        if isinstance(response, ErrorResponse):
            raise TransportError(f"matrix: cannot open a direct room with {room.id}: {response}")
        room_id = str(response.room_id)
        store.save_direct_room_with(room.id, room_id)
        if self._crypto is not None:
            self._crypto.invited(room_id, room.id)
        self._direct_rooms.add(room_id)
        log.info("matrix: opened a direct room with %s", room.id)
        return room_id

    async def _resolve_alias(self, client: Any, alias: str) -> str:
        """The room ID behind ``alias``: events can only be sent to a room ID."""
        known = self._aliases.get(alias)
        if known is not None:
            return known
        response = await self._until_stopped(client.room_resolve_alias(alias))
        if isinstance(response, ErrorResponse):
            raise TransportError(f"matrix: cannot resolve the room alias {alias}: {response}")
        self._aliases[alias] = str(response.room_id)
        return self._aliases[alias]

    async def stop(self) -> None:
        """Stop syncing; :meth:`run` returns promptly, closing the connection."""
        self._stopped.set()

    def mention_address(self, person: Handles) -> str | None:
        """A Matrix mention pill points at the user ID."""
        return person.matrix_id

    async def private_address(self, person: Handles) -> str | None:
        """The user ID: only its owner reads the direct room the bot opens with it."""
        return person.matrix_id

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """A Matrix user ID is what the homeserver vouches for; display names prove nothing."""
        return (
            sender.network == MATRIX
            and bool(person.matrix_id)
            and (sender.account == person.matrix_id)
        )

    def is_operator(self, sender: Sender) -> bool:
        """Nobody on Matrix runs the bot's process."""
        return False

    # -- connecting -------------------------------------------------------------------------

    def _backoff(self) -> Backoff:
        return Backoff(self.config.backoff_initial, self.config.backoff_max)

    async def _until_stopped(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable`` unless :meth:`stop` comes first (then raise :class:`_Stopped`)."""
        try:
            return await unless(awaitable, self._stopped)
        except Interrupted:
            raise _Stopped from None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once on :meth:`stop`."""
        await self._until_stopped(self._sleep(seconds))

    async def _connect(self) -> None:
        """Log in and join the rooms, waiting out any outage of the homeserver."""
        backoff = self._backoff()
        while True:
            try:
                await self._until_stopped(
                    log_in(self._client, self.config, self._require_store(), self._pause)
                )
                if self.config.encryption:
                    await self._until_stopped(self._start_crypto())
                await self._until_stopped(self._join_rooms())
                return
            except CONNECTION_ERRORS as exc:
                delay = backoff.next_delay()
                self.link.down("cannot reach the homeserver")
                log.warning("matrix: cannot reach the homeserver (%s); retry in %.1f s", exc, delay)
                await self._pause(delay)

    async def _start_crypto(self) -> None:
        store = self._require_store()
        self._held = HeldEvents(
            self._client,
            store,
            notice_after=self.config.undecryptable_notice_after,
            max_age=self.config.max_age,
            clock=self._clock,
        )
        trust = CrossSignedDevices() if self.config.trust == "cross-signed" else AllDevices()
        self._crypto = MatrixCrypto(self._client, self.config.store_path, trust, self._held)
        await self._crypto.start()
        if self.config.cross_signing:
            await cross_sign_or_explain(self._client, self.config)

    async def _join_rooms(self) -> None:
        """Join every configured room; remember their IDs so only they are served."""
        for room in self.config.rooms:
            response = await self._client.join(room)
            if isinstance(response, JoinError):
                log.warning(
                    "matrix: cannot join %s yet (%s); an invite will be accepted", room, response
                )
                resolved = (
                    await self._client.room_resolve_alias(room) if room.startswith("#") else None
                )
                if resolved is not None and not isinstance(resolved, ErrorResponse):
                    self._allowed_rooms.add(resolved.room_id)
                    self._aliases[room] = resolved.room_id
                continue
            self._allowed_rooms.add(response.room_id)
            if room.startswith("#"):
                self._aliases[room] = response.room_id
            log.info("matrix: in %s (%s)", room, response.room_id)

    def _require_store(self) -> MatrixStateStore:
        if self._store is None:
            raise TransportError("matrix: the transport is not running")
        return self._store

    # -- syncing ----------------------------------------------------------------------------

    async def _sync_forever(self, deliver: Deliver) -> None:
        store = self._require_store()
        store.prune_handled(max(2 * self.config.max_age, 86_400.0), now=self._clock())
        sync_filter = await self._until_stopped(
            upload_sync_filter(self._client, encrypted=self._crypto is not None)
        )
        since = store.sync_token
        # With no saved token this is the bot's first start: what is already in the rooms
        # was not said to it. With one, the first sync brings full state so display names
        # are known again, and the commands sent while the bot was away.
        answer = since is not None
        full_state = since is not None
        # rooms are answered side by side, each in order; a position is saved once answered
        lanes = self._lanes = RoomLanes(store.save_sync_token)
        try:
            await self._sync_loop(deliver, lanes, sync_filter, since, answer, full_state)
        finally:
            lanes.cancel()
            self._lanes = None

    async def answered(self) -> None:
        """Wait until every command received so far is answered (for tests)."""
        if self._lanes is not None:
            await self._lanes.drain()

    async def _sync_loop(
        self,
        deliver: Deliver,
        lanes: RoomLanes,
        sync_filter: str | dict[str, Any],
        since: str | None,
        answer: bool,
        full_state: bool,
    ) -> None:
        backoff = self._backoff()
        while True:
            try:
                response = await self._until_stopped(
                    self._next_sync(lanes, sync_filter, since, full_state)
                )
            except CONNECTION_ERRORS as exc:
                delay = backoff.next_delay()
                self.link.down("cannot reach the homeserver")
                log.warning("matrix: sync failed (%s); retry in %.1f s", exc, delay)
                await self._pause(delay)
                continue
            if isinstance(response, SyncError):
                await self._sync_failed(response, backoff)
                continue
            backoff.reset()
            log.debug("matrix: sync %s -> %s", since, response.next_batch)
            jobs = await self._handle_sync(response, deliver, answer=answer)
            since = response.next_batch
            await lanes.add_sync(since, jobs)
            if self._crypto is not None:
                await self._until_stopped(self._crypto.after_sync(response))
            answer, full_state = True, False
            self.ready.set()
            self.link.up()

    async def _next_sync(
        self,
        lanes: RoomLanes,
        sync_filter: str | dict[str, Any],
        since: str | None,
        full_state: bool,
    ) -> Any:
        """One sync request, given up if a room's job fails first."""
        # The request is made here, not by the caller: a stop that has already come closes
        # this coroutine unstarted, and a request made outside it would be left unawaited.
        return await lanes.guard(
            self._client.sync(
                timeout=int(self.config.sync_timeout * 1000),
                sync_filter=sync_filter,
                since=since,
                full_state=full_state,
            )
        )

    async def _sync_failed(self, response: Any, backoff: Backoff) -> None:
        self.link.down("the homeserver refuses to sync")
        if response.status_code in AUTH_ERRORS:
            raise TransportError(f"matrix: logged out by the homeserver: {response}")
        delay = (
            rate_limit_delay(response, backoff.next_delay())
            if is_rate_limited(response)
            else backoff.next_delay()
        )
        log.warning("matrix: sync refused (%s); retry in %.1f s", response, delay)
        await self._pause(delay)

    async def _handle_sync(
        self, response: Any, deliver: Deliver, *, answer: bool
    ) -> list[tuple[str, Job]]:
        """Accept invites now; return the answering of this sync's commands, room by room."""
        jobs: list[tuple[str, Job]] = []
        for room_id, invite in response.rooms.invite.items():
            await self._on_invite(room_id, invite)
        own = self._client.user_id
        for room_id, info in response.rooms.join.items():
            direct = room_id in self._direct_rooms
            if room_id not in self._allowed_rooms and not direct:
                continue
            if info.timeline.limited:
                # More happened than one sync holds: the oldest of it is not seen.
                log.warning("matrix: %s had a gap; older messages may go unanswered", room_id)
            events = [e.source for e in info.timeline.events]
            # In a direct chat, what was said before the bot joined was said to the bot.
            for event in events if direct else commands_in_timeline(events, own):
                job = self._job_for(room_id, event, deliver, answer=answer)
                if job is not None:
                    jobs.append((room_id, job))
        if self._held is not None and answer:
            jobs.extend(self._held_jobs(self._held, deliver))
        return jobs

    def _job_for(
        self, room_id: str, event: Mapping[str, Any], deliver: Deliver, *, answer: bool
    ) -> Job | None:
        """The answering of ``event``, or None when it is not to be answered (now)."""
        if self._held is not None and event.get("type") == "m.room.encrypted":
            if answer:
                self._held.hold(room_id, event)  # nio could not decrypt it
            return None
        verdict = judge(
            event,
            own_user_id=self._client.user_id,
            now_ms=int(self._clock() * 1000),
            max_age_s=self.config.max_age,
            is_handled=self._require_store().is_handled,
        )
        if verdict is Verdict.TOO_OLD:
            log.info("matrix: not answering %s: %s", event.get("event_id"), verdict.value)
        if verdict is not Verdict.ANSWER or not answer:
            return None
        private = room_id in self._direct_rooms
        message = self._incoming.parse(self._client, room_id, event, private=private)
        return functools.partial(self._answer, deliver, message)

    def _held_jobs(self, held: HeldEvents, deliver: Deliver) -> Iterator[tuple[str, Job]]:
        """Answer held events whose key came; tell senders whose events stay unreadable."""
        for room_id, event in held.recovered():
            job = self._job_for(room_id, event, deliver, answer=True)
            if job is None:
                held.release(str(event["event_id"]))
            else:
                yield room_id, job
        for notice in held.due_notices():
            yield notice.room_id, functools.partial(self._tell_unreadable, held, notice)

    async def _tell_unreadable(self, held: HeldEvents, notice: UnreadableNotice) -> None:
        room = Room(MATRIX, notice.room_id, private=notice.room_id in self._direct_rooms)
        # keyed by the event, so a re-sent notice after a crash is dropped by the homeserver
        await self.send(Reply(room, (notice.text,), delivery_key=f"unreadable:{notice.event_id}"))
        held.told(notice.sender)

    async def _answer(self, deliver: Deliver, message: IncomingMessage) -> None:
        await hand_over(deliver, message)
        # Only now: a crash before this line re-answers, and the homeserver drops the
        # duplicate by its transaction ID.
        if message.event_id is not None:
            self._require_store().mark_handled(message.event_id, now=self._clock())
            if self._held is not None:
                self._held.release(message.event_id)

    async def _on_invite(self, room_id: str, invite: Any) -> None:
        await answer_invite(
            self._client,
            room_id,
            invite,
            config=self.config,
            store=self._require_store(),
            allowed_rooms=self._allowed_rooms,
            direct_rooms=self._direct_rooms,
        )
