"""Answering Matrix rooms side by side, each room in order, without losing the sync position.

One slow command (a large reload, a handler near its time limit) must not hold back the
answers in every other room, so each room gets a lane: its events are answered one after
another, and lanes run concurrently. A sync position may be saved only once every event of
its sync and of all syncs before it has been answered, or a crash would skip the unanswered
ones; :meth:`RoomLanes.add_sync` chains one "save" step per sync after the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from infrabot.waiting import Interrupted, unless

__all__ = ["RoomLanes"]

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
"""Answering one event."""

Save = Callable[[str], None]

_T = TypeVar("_T")


class RoomLanes:
    """Runs each room's jobs in order, rooms concurrently; saves sync positions in order.

    ``max_pending_syncs`` bounds how far the sync loop may run ahead of unanswered events:
    :meth:`add_sync` waits when that many syncs are still being answered.

    A job that raises is a crash of the transport, as when events were answered inline: no
    position is saved from then on, and :meth:`guard` raises the job's error in the sync loop,
    so a restart answers that event again.
    """

    def __init__(self, save: Save, *, max_pending_syncs: int = 8) -> None:
        self._save = save
        self._max_pending = max(max_pending_syncs, 1)
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._savers: list[asyncio.Task[None]] = []
        self._last_saver: asyncio.Task[None] | None = None
        self._failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def guard(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable``, unless a job fails first: then raise that job's error."""
        try:
            return await unless(awaitable, self._failed)
        except Interrupted:
            raise asyncio.CancelledError from None

    async def add_sync(self, token: str, jobs: Iterable[tuple[str, Job]]) -> None:
        """Queue one sync's jobs (room ID, job) and save ``token`` once all are done, after
        every earlier sync's token."""
        if self._failed.done():
            self._failed.result()
        tasks = [self._queue(room_id, job) for room_id, job in jobs]
        if not tasks and (self._last_saver is None or self._last_saver.done()):
            self._save(token)  # nothing to answer and nothing before it: save at once
            return
        saver = asyncio.create_task(self._save_after(token, tasks, self._last_saver))
        self._last_saver = saver
        self._savers.append(saver)
        saver.add_done_callback(self._forget_saver)
        while len(self._savers) > self._max_pending:
            await asyncio.wait([self._savers[0]])

    def _queue(self, room_id: str, job: Job) -> asyncio.Task[None]:
        before = self._lanes.get(room_id)
        task = asyncio.create_task(self._answer(room_id, job, before))
        self._lanes[room_id] = task
        task.add_done_callback(lambda done: self._forget_lane(room_id, done))
        return task

    async def _answer(self, room_id: str, job: Job, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])  # the room's earlier events first, however they ended
        try:
            await job()
        except Exception as exc:
            log.exception("matrix: failed to answer an event in %s", room_id)
            if not self._failed.done():
                self._failed.set_exception(exc)

    async def _save_after(
        self,
        token: str,
        tasks: list[asyncio.Task[None]],
        before: asyncio.Task[None] | None,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
            if before.cancelled():
                # an earlier sync was not all answered: neither its position nor a later one
                raise asyncio.CancelledError
        if tasks:
            await asyncio.wait(tasks)
            if any(task.cancelled() for task in tasks):
                raise asyncio.CancelledError
        if self._failed.done():
            raise asyncio.CancelledError  # after a failed job nothing later may be saved
        self._save(token)

    def _forget_lane(self, room_id: str, task: asyncio.Task[None]) -> None:
        if self._lanes.get(room_id) is task:
            del self._lanes[room_id]

    def _forget_saver(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):
            self._savers.remove(task)

    async def drain(self) -> None:
        """Wait until every queued event is answered and its sync position saved; raise the
        error of a job that failed."""
        while self._savers:
            await asyncio.wait(list(self._savers))
        if self._failed.done():
            self._failed.result()

    def cancel(self) -> None:
        """Stop answering; positions of syncs not fully answered are not saved."""
        for task in [*self._lanes.values(), *self._savers]:
            task.cancel()
        self._lanes.clear()
        self._savers.clear()
        self._last_saver = None
        if self._failed.done():
            self._failed.exception()  # raised by guard() already, or moot now
        else:
            self._failed.cancel()
