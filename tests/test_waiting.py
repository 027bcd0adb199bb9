"""``waiting.unless``: the one way the bot waits for something unless something else comes."""

from __future__ import annotations

import asyncio

import pytest

from infrabot.waiting import Interrupted, unless


async def test_the_work_wins() -> None:
    stop = asyncio.Event()
    assert await unless(asyncio.sleep(0, "done"), stop) == "done"


async def test_an_event_interrupts_and_the_work_is_cancelled_and_awaited() -> None:
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    asyncio.get_running_loop().call_soon(stop.set)
    with pytest.raises(Interrupted):
        await unless(work(), stop)
    assert cancelled.is_set()  # nothing left running


async def test_an_interrupt_that_already_happened_never_starts_the_work() -> None:
    stop = asyncio.Event()
    stop.set()
    started: list[int] = []

    async def work() -> None:
        started.append(1)

    with pytest.raises(Interrupted):
        await unless(work(), stop)
    await asyncio.sleep(0)
    assert started == []


async def test_a_failed_future_interrupts_with_its_own_error() -> None:
    failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(failed.set_exception, RuntimeError("a job failed"))
    with pytest.raises(RuntimeError, match="a job failed"):
        await unless(asyncio.Event().wait(), failed)


async def test_the_works_own_error_is_raised() -> None:
    async def work() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await unless(work(), asyncio.Event())
