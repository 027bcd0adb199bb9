"""Tasks whose first step runs at once, in the caller's turn of the event loop.

A task normally starts on the loop's next pass: after a system call to poll for events and
whatever else is ready. An answer that needs no waiting (a remembered one) can instead be
written before the read callback that brought its question returns. :func:`start_now` runs a
coroutine's first step at once, as the task's own (``asyncio.current_task()`` is the task,
in the task's context, so timeouts and context variables work), and the task takes over at
the first wait. Python 3.12 has this as eager task factories; this is the same for 3.11.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio import tasks as _tasks
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["start_now"]

T = TypeVar("T")


def start_now(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task for ``coro`` whose first step has already run (when no task is running now;
    from inside a task the first step waits for the loop's next pass, as usual)."""
    loop = asyncio.get_running_loop()
    if _tasks.current_task(loop) is not None:
        return loop.create_task(coro)
    steps = _Steps(coro)
    context = contextvars.copy_context()
    task = loop.create_task(_rest(steps), context=context)
    _tasks._enter_task(loop, task)
    try:
        context.run(steps.step, None, None)
    finally:
        _tasks._leave_task(loop, task)
    return task


async def _rest(steps: _Steps[T]) -> T:
    return await steps


class _Steps(Generic[T]):
    """Drives a coroutine one step at a time: the first by hand, the rest for its task."""

    __slots__ = ("coro", "done", "error", "result", "waiting")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.waiting: Any = None
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None

    def step(self, value: Any, error: BaseException | None) -> None:
        """Resume the coroutine with ``value`` (or ``error`` thrown in) up to its next wait."""
        try:
            self.waiting = self.coro.send(value) if error is None else self.coro.throw(error)
        except StopIteration as stop:
            self.done, self.result = True, stop.value
        except BaseException as exc:  # the task raises it where it would have
            self.done, self.error = True, exc

    def __await__(self) -> Generator[Any, Any, T]:
        # The task sees what the coroutine waits on (a future, or None to yield a pass) as if
        # the coroutine itself had yielded it, and hands back what wakes it.
        while not self.done:
            try:
                value = yield self.waiting
            except BaseException as exc:  # a cancellation: it goes to the coroutine
                self.step(None, exc)
            else:
                self.step(value, None)
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]
