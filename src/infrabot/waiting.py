"""One way to wait for something unless something else comes first.

Every loop of the bot waits like this: a sync unless the transport stops, a sleep unless a
batch is hurried, registration unless the connection closes, a job unless another job failed.
:func:`unless` does it once, and cleans up after itself: the work it gave up on is cancelled
and awaited, so nothing is left running and no exception goes unretrieved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["Interrupted", "unless"]

_T = TypeVar("_T")


class Interrupted(Exception):
    """The work was given up on: what it waited for did not come first."""


async def unless(work: Awaitable[_T], interrupt: asyncio.Event | asyncio.Future[Any]) -> _T:
    """The result of ``work``, unless ``interrupt`` comes first (an event set, a future done).

    Then ``work`` is cancelled and :class:`Interrupted` raised, or the exception the
    interrupting future holds. An interrupt that has already happened cancels ``work`` before
    it starts; ``work`` cancelled by someone else counts as interrupted too. Only ``work``
    itself is closed: a coroutine made as its argument (``unless(f(g()), ...)``) would be left
    never awaited, so make such inner requests inside the coroutine given here.
    """
    if _happened(interrupt):
        if asyncio.iscoroutine(work):
            work.close()
        _raise_from(interrupt)
    task = asyncio.ensure_future(work)
    if isinstance(interrupt, asyncio.Event):
        signal: asyncio.Future[Any] = asyncio.ensure_future(interrupt.wait())
    else:
        signal = interrupt
    try:
        await asyncio.wait({task, signal}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if signal is not interrupt:
            signal.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        _raise_from(interrupt)
    return task.result()


def _happened(interrupt: asyncio.Event | asyncio.Future[Any]) -> bool:
    return interrupt.is_set() if isinstance(interrupt, asyncio.Event) else interrupt.done()


def _raise_from(interrupt: asyncio.Event | asyncio.Future[Any]) -> None:
    if isinstance(interrupt, asyncio.Future) and interrupt.done() and not interrupt.cancelled():
        interrupt.result()  # raises the error the interrupt carries, if any
    raise Interrupted
