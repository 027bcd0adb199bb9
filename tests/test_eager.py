"""Tasks whose first step runs at once: the same task semantics, only started sooner."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from infrabot.eager import start_now

T = TypeVar("T")

_var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="caller")


async def from_a_callback(call: Callable[[], T]) -> T:
    """``call()`` run as the loop runs a read callback: no task is current there."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    loop.call_soon(lambda: done.set_result(call()))
    return await done


async def test_the_first_step_runs_before_start_now_returns_as_the_tasks_own() -> None:
    seen: list[Any] = []

    async def answer() -> str:
        seen.append(asyncio.current_task())
        _var.set("task")
        return "done"

    def start() -> asyncio.Task[str]:
        task = start_now(answer())
        seen.append(("returned", _var.get()))
        return task

    task = await from_a_callback(start)
    assert seen == [task, ("returned", "caller")]  # ran first, in the task's own context
    assert await task == "done"


async def test_after_the_first_wait_the_task_goes_on_with_results_errors_and_context() -> None:
    steps: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def answer() -> str:
        _var.set("task")
        steps.append("first")
        got = await gate
        steps.append(f"then {got} {_var.get()} {asyncio.current_task() is task}")
        await asyncio.sleep(0)
        raise ValueError("late")

    task = await from_a_callback(lambda: start_now(answer()))
    assert steps == ["first"] and not task.done()
    gate.set_result("woken")
    with pytest.raises(ValueError, match="late"):
        await task
    assert steps == ["first", "then woken task True"]


async def test_a_timeout_and_a_cancellation_reach_the_coroutine() -> None:
    ended: list[str] = []

    async def slow() -> None:
        try:
            async with asyncio.timeout(0.01):  # needs the current task, in the first step too
                await asyncio.sleep(10)
        except TimeoutError:
            ended.append("timed out")
        try:
            await asyncio.sleep(10)
        finally:
            ended.append("cleaned up")

    task = await from_a_callback(lambda: start_now(slow()))
    while not ended:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ended == ["timed out", "cleaned up"]


async def test_from_inside_a_task_it_starts_as_any_task() -> None:
    steps: list[str] = []

    async def answer() -> None:
        steps.append("ran")

    task = start_now(answer())
    assert steps == []
    await task
    assert steps == ["ran"]
