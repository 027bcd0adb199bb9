"""``POST /hooks/git``: a push to the inventory's branch reloads it and announces the result.

GitHub, Gitea and Forgejo sign the body with HMAC-SHA256 of a shared secret and send it as
``X-Hub-Signature-256: sha256=<hex>``; it is compared in constant time, and a request without
the right signature gets 401 and changes nothing (with no secret configured, every request
does: fail closed). The secret comes from ``INFRABOT_GIT_WEBHOOK_SECRET``.

A push to the configured branch is answered at once (202) and reloads in the background, so
the forge never waits on validation. Pushes that arrive while a reload runs are coalesced into
one more reload after it: it fetches the branch's newest commit, which holds them all.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from infrabot.plugin import ReloadOutcome

__all__ = ["SECRET_ENV", "GitHook", "signature"]

log = logging.getLogger(__name__)

SECRET_ENV = "INFRABOT_GIT_WEBHOOK_SECRET"
_EVENT_HEADERS = ("X-GitHub-Event", "X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event")
_PROBLEM_LINES = 5  # of a refused reload, announced after its summary


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value a forge sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class GitHook:
    """The push webhook of a git inventory; :meth:`register` adds its route to a web app."""

    def __init__(
        self,
        *,
        secret: str | None,
        ref: str,
        reload: Callable[[], Awaitable[ReloadOutcome]],
        announce: Callable[[list[str]], Awaitable[None]],
    ) -> None:
        self._secret = secret.encode() if secret else b""
        self._ref = f"refs/heads/{ref}"
        self._reload = reload
        self._announce = announce
        self._running: asyncio.Task[None] | None = None
        self._again = False

    def register(self, app: web.Application) -> None:
        """Serve ``POST /hooks/git`` on ``app``."""
        app.router.add_post("/hooks/git", self.handle)

    @property
    def busy(self) -> asyncio.Task[None] | None:
        """The reload (and the coalesced ones after it) running now, if any."""
        return self._running

    async def handle(self, request: web.Request) -> web.Response:
        """Check the signature, then start a reload for a push to the branch."""
        body = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "")
        if not self._secret or not hmac.compare_digest(
            given.encode(), signature(self._secret, body).encode()
        ):
            return web.json_response({"error": "missing or wrong signature"}, status=401)
        event = next((request.headers[h] for h in _EVENT_HEADERS if h in request.headers), "")
        if event == "ping":
            return web.json_response({"status": "pong"})
        if event != "push":
            return web.json_response({"status": f"ignored: event '{event[:40]}'"})
        ref = _ref_of(body)
        if ref != self._ref:
            shown = ref[:100] if isinstance(ref, str) else "none"
            return web.json_response({"status": f"ignored: a push to {shown}"})
        self.trigger()
        return web.json_response({"status": "reloading"}, status=202)

    def trigger(self) -> None:
        """Reload now, or once more after the reload that is running."""
        if self._running is not None and not self._running.done():
            self._again = True
            return
        self._running = asyncio.get_running_loop().create_task(self._reload_until_current())

    async def _reload_until_current(self) -> None:
        while True:
            self._again = False
            try:
                result = await self._reload()
                lines = [result.summary, *result.problems[:_PROBLEM_LINES]]
                if len(result.problems) > _PROBLEM_LINES:
                    lines.append(f"and {len(result.problems) - _PROBLEM_LINES} more errors")
                await self._announce(lines)
            except Exception:  # the next push tries again; this one is logged
                log.exception("a reload for a push failed")
            if not self._again:
                return


def _ref_of(body: bytes) -> Any:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload.get("ref") if isinstance(payload, dict) else None
