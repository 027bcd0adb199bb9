"""``eager.start``: a task whose first step runs at once, and that behaves as any task."""

from __future__ import annotations

import asyncio

import pytest

from infrabot import eager


async def test_the_first_step_runs_before_start_returns() -> None:
    done: list[str] = []

    async def answer() -> None:
        done.append("written")

    task = eager.start(answer())
    assert done == ["written"]  # no turn of the event loop was needed
    await task


async def test_the_first_step_runs_as_the_task_itself() -> None:
    seen: list[asyncio.Task[object] | None] = []
    outer = asyncio.current_task()

    async def who() -> None:
        seen.append(asyncio.current_task())
        async with asyncio.timeout(5):  # noqa: ASYNC100 (it needs the current task)
            seen.append(asyncio.current_task())

    task = eager.start(who())
    assert seen == [task, task]
    assert asyncio.current_task() is outer  # the caller's task is current again
    await task


async def test_a_timeout_in_the_first_step_cancels_the_work_where_it_waits() -> None:
    async def slow() -> None:
        async with asyncio.timeout(0.01):
            await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        await eager.start(slow())


async def test_a_coroutine_that_waits_goes_on_in_the_task_with_its_results() -> None:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    got: list[str] = []

    async def work() -> None:
        got.append("started")
        got.append(await future)
        await asyncio.sleep(0)  # a bare yield too
        got.append("after")

    task = eager.start(work())
    assert got == ["started"]
    future.set_result("value")
    await asyncio.wait_for(task, 5)
    assert got == ["started", "value", "after"]


async def test_a_failed_future_raises_inside_the_coroutine() -> None:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    caught: list[str] = []

    async def work() -> None:
        try:
            await future
        except ValueError as exc:
            caught.append(str(exc))

    task = eager.start(work())
    future.set_exception(ValueError("refused"))
    await asyncio.wait_for(task, 5)
    assert caught == ["refused"]


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    cleaned: list[str] = []

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append("cleaned up")

    task = eager.start(work())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["cleaned up"]


async def test_an_error_before_the_first_wait_is_the_tasks_error() -> None:
    async def broken() -> None:
        raise RuntimeError("at once")

    with pytest.raises(RuntimeError, match="at once"):
        await eager.start(broken())


async def test_started_from_a_callback_where_no_task_runs() -> None:
    # as the IRC transport does: a line arrives in the protocol's data_received callback
    seen: list[asyncio.Task[object] | None] = []
    started: asyncio.Future[asyncio.Task[None]] = asyncio.get_running_loop().create_future()

    async def who() -> None:
        async with asyncio.timeout(5):  # noqa: ASYNC100 (it needs the current task)
            seen.append(asyncio.current_task())

    def callback() -> None:
        assert asyncio.current_task() is None
        started.set_result(eager.start(who()))
        assert asyncio.current_task() is None

    asyncio.get_running_loop().call_soon(callback)
    task = await started
    assert seen == [task]
    await task
