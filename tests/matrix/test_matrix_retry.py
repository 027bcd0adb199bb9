"""Backoff bounds, and sends that honour retry_after_ms and survive outages."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nio import RoomSendError, RoomSendResponse

from infrabot.backoff import Backoff
from infrabot.errors import TransportError
from infrabot.transports.matrix_retry import send_until_accepted


class Sleeps:
    """A fake sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def scripted(*outcomes: Any) -> Any:
    """An attempt that yields each outcome in turn (raising exceptions)."""
    remaining = list(outcomes)
    calls: list[int] = []

    async def attempt() -> Any:
        calls.append(1)
        outcome = remaining.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    attempt.calls = calls  # type: ignore[attr-defined]
    return attempt


def is_error(response: Any) -> bool:
    return isinstance(response, RoomSendError)


OK = RoomSendResponse("$sent", "!room")


def limited(ms: int | None) -> RoomSendError:
    return RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", retry_after_ms=ms)


async def test_rate_limits_wait_exactly_as_long_as_the_server_asks() -> None:
    sleeps = Sleeps()
    attempt = scripted(limited(1500), limited(250), OK)
    result = await send_until_accepted(
        attempt, is_error=is_error, backoff=Backoff(1, 60, jitter=0), sleep=sleeps
    )
    assert result is OK
    assert sleeps.delays == pytest.approx([1.51, 0.26])


async def test_a_rate_limit_without_retry_after_backs_off() -> None:
    sleeps = Sleeps()
    attempt = scripted(limited(None), limited(None), OK)
    await send_until_accepted(
        attempt, is_error=is_error, backoff=Backoff(0.5, 60, jitter=0), sleep=sleeps
    )
    assert sleeps.delays == [0.5, 1.0]


async def test_an_outage_is_waited_out_with_growing_delays() -> None:
    sleeps = Sleeps()
    down = aiohttp.ClientConnectionError("refused")
    attempt = scripted(down, down, down, RoomSendError("bad gateway"), OK)
    result = await send_until_accepted(
        attempt, is_error=is_error, backoff=Backoff(1, 3, jitter=0), sleep=sleeps
    )
    assert result is OK
    assert sleeps.delays == [1, 2, 3, 3]


async def test_a_permanent_refusal_is_not_retried() -> None:
    sleeps = Sleeps()
    attempt = scripted(RoomSendError("not in room", "M_FORBIDDEN"))
    result = await send_until_accepted(attempt, is_error=is_error, backoff=Backoff(), sleep=sleeps)
    assert result is None
    assert sleeps.delays == []


async def test_a_lost_login_is_raised_for_the_transport_to_log_in_again() -> None:
    attempt = scripted(RoomSendError("gone", "M_UNKNOWN_TOKEN"))
    with pytest.raises(TransportError):
        await send_until_accepted(attempt, is_error=is_error, backoff=Backoff(), sleep=Sleeps())


def test_backoff_doubles_up_to_its_bound_and_resets() -> None:
    backoff = Backoff(1, 10, jitter=0)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.next_delay() == 1


@given(
    initial=st.floats(0.01, 5),
    spread=st.floats(1, 100),
    jitter=st.floats(0, 0.5),
    rolls=st.lists(st.floats(0, 1), min_size=1, max_size=60),
)
def test_backoff_never_spins_and_never_exceeds_its_bound(
    initial: float, spread: float, jitter: float, rolls: list[float]
) -> None:
    maximum = initial * spread
    values = iter(rolls)
    backoff = Backoff(initial, maximum, jitter=jitter, rand=lambda: next(values))
    for _ in rolls:
        delay = backoff.next_delay()
        assert initial * (1 - jitter) - 1e-9 <= delay <= maximum + 1e-9


@pytest.mark.parametrize(("initial", "maximum", "jitter"), [(0, 1, 0.1), (2, 1, 0.1), (1, 2, 1.0)])
def test_nonsense_backoff_is_refused(initial: float, maximum: float, jitter: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, maximum, jitter=jitter)
