"""Start a coroutine at once, as a task, without waiting for a turn of the event loop.

Most answers need no waiting at all: a remembered answer to ``!owner pypi`` is found, split
and written to the socket without the coroutine ever suspending. A task scheduled the usual
way costs a turn of the event loop (a poll of every socket) before its first step. This is
Python 3.12's eager task start, for 3.11: the task is made first and is the current task
while the coroutine's first step runs right here, so everything that asks for the current
task (``asyncio.timeout``, cancellation) works as in any task. A coroutine that does suspend
goes on inside that same task: each future it waits for is awaited for it, and cancelling the
task cancels the coroutine where it waits.
"""

from __future__ import annotations

import asyncio
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["start"]


def start(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """The task running ``coro``, whose first step has already run (see the module)."""
    loop = asyncio.get_running_loop()
    first = _FirstStep()
    task = loop.create_task(_go_on(coro, first))
    outer = asyncio.current_task(loop)
    if outer is not None:
        _leave_task(loop, outer)
    _enter_task(loop, task)
    try:
        first.waiting = coro.send(None)
    except StopIteration:
        first.done = True
    except BaseException as exc:  # raised before it first waited: the task raises it
        first.done, first.error = True, exc
    finally:
        _leave_task(loop, task)
        if outer is not None:
            _enter_task(loop, outer)
    return task


class _FirstStep:
    """How the first step ended: finished (with or without an error), or waiting on what."""

    __slots__ = ("done", "error", "waiting")

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.waiting: Any = None


async def _go_on(coro: Coroutine[Any, Any, None], first: _FirstStep) -> None:
    """The rest of ``coro`` after its first step (nothing when that step finished it)."""
    if first.done:
        if first.error is not None:
            raise first.error
        return
    waiting = first.waiting
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)  # a bare yield: let the loop turn once
            else:
                await _Wait(waiting)
        except BaseException as exc:  # the future failed, or this task was cancelled
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


class _Wait:
    """Awaits a future the coroutine already yielded, without taking its result: resumed, the
    coroutine reads it itself, and a failure is thrown into it, as a task would do."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future

    def __await__(self) -> Generator[Any, None, None]:
        future = self.future
        if not future.done():
            future._asyncio_future_blocking = True  # what a task expects of what it awaits
            yield future
