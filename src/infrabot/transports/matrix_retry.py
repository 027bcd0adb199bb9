"""Waiting well on a homeserver: sends that survive rate limits and outages.

The nio client is told never to retry by itself (``max_limit_exceeded=0``, ``max_timeouts=0``)
so that these rules, which the tests pin down, are the only ones in force.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from infrabot.backoff import Backoff
from infrabot.errors import TransportError

__all__ = [
    "CONNECTION_ERRORS",
    "is_rate_limited",
    "rate_limit_delay",
    "send_until_accepted",
]

log = logging.getLogger(__name__)

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    TimeoutError,
    ConnectionError,
)
"""What a request raises when the homeserver cannot be reached (or is restarting)."""

_PERMANENT = frozenset(
    {"M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE", "M_INVALID_PARAM"}
)
"""Errors that the same request will meet again however long we wait."""

_AUTH = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})


def is_rate_limited(response: Any) -> bool:
    """Whether a nio response is ``M_LIMIT_EXCEEDED`` (HTTP 429)."""
    return getattr(response, "status_code", None) in ("M_LIMIT_EXCEEDED", 429)


def rate_limit_delay(response: Any, fallback: float) -> float:
    """Seconds to wait as the server asked (``retry_after_ms``), else ``fallback``."""
    retry_after_ms = getattr(response, "retry_after_ms", None)
    if isinstance(retry_after_ms, int) and not isinstance(retry_after_ms, bool):
        # A little over what was asked, so the retry lands after the window, not in it.
        return max(retry_after_ms, 0) / 1000 + 0.01
    return fallback


async def send_until_accepted(
    attempt: Callable[[], Awaitable[Any]],
    *,
    is_error: Callable[[Any], bool],
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    what: str = "request",
) -> Any | None:
    """Run ``attempt`` until the homeserver accepts it; returns the accepted response.

    Rate limits wait exactly as long as the server says; outages and server errors back
    off. Nothing is dropped for being late. A request the server refuses for good
    (forbidden, too large, ...) is logged and abandoned (None), since retrying cannot help;
    a lost login raises :class:`TransportError` so the transport logs in again.
    """
    backoff.reset()
    while True:
        try:
            response = await attempt()
        except CONNECTION_ERRORS as exc:
            delay = backoff.next_delay()
            log.warning("%s: homeserver unreachable (%s); retrying in %.1f s", what, exc, delay)
            await sleep(delay)
            continue
        if not is_error(response):
            return response
        code = getattr(response, "status_code", None)
        if is_rate_limited(response):
            delay = rate_limit_delay(response, backoff.next_delay())
            log.info("%s: rate limited; retrying in %.2f s", what, delay)
        elif code in _AUTH:
            raise TransportError(f"{what}: the homeserver no longer accepts our token ({code})")
        elif code in _PERMANENT:
            log.error("%s: refused by the homeserver, not retried: %s", what, response)
            return None
        else:
            delay = backoff.next_delay()
            log.warning("%s: failed (%s); retrying in %.1f s", what, response, delay)
        await sleep(delay)
