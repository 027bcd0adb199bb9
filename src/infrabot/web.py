"""The HTTP endpoint: ``GET /health``, and ``POST /alerts`` for monitoring to raise pages.

``/alerts`` takes a Prometheus Alertmanager webhook payload, or a simple
``{"service": ..., "summary": ..., "severity": ..., "status": "firing"|"resolved"}``, with
``Authorization: Bearer <token>``. A bad token gets 401, a bad payload 400 with the reason.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from infrabot.config import WebConfig
from infrabot.errors import CommandError, PagingError
from infrabot.paging.pager import Pager

__all__ = ["Alert", "AlertServer", "parse_alerts"]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, whatever format it came in."""

    service: str
    summary: str
    severity: str
    firing: bool
    key: str


class PayloadError(ValueError):
    """A payload that is not a valid alert; the message says why."""


def _text(value: Any, what: str, *, required: bool = True, default: str = "") -> str:
    if value is None and not required:
        return default
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{what} must be a non-empty string")
    return value.strip()[:300]


def parse_alerts(payload: Any) -> list[Alert]:
    """The alerts in an Alertmanager or generic payload; :class:`PayloadError` if malformed."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    if "alerts" in payload:
        items = payload["alerts"]
        if not isinstance(items, list) or not items:
            raise PayloadError("'alerts' must be a non-empty list")
        return [_alertmanager(item, i) for i, item in enumerate(items)]
    service = _text(payload.get("service"), "service")
    status = _text(payload.get("status"), "status", required=False, default="firing")
    if status not in ("firing", "resolved"):
        raise PayloadError("status must be 'firing' or 'resolved'")
    return [
        Alert(
            service=service,
            summary=_text(payload.get("summary"), "summary"),
            severity=_text(payload.get("severity"), "severity", required=False, default="warning"),
            firing=status == "firing",
            key=_text(payload.get("key"), "key", required=False, default=f"generic:{service}"),
        )
    ]


def _alertmanager(item: Any, i: int) -> Alert:
    if not isinstance(item, dict):
        raise PayloadError(f"alerts[{i}] must be an object")
    labels = item.get("labels") or {}
    annotations = item.get("annotations") or {}
    if not isinstance(labels, dict) or not isinstance(annotations, dict):
        raise PayloadError(f"alerts[{i}]: labels and annotations must be objects")
    service = labels.get("service") or labels.get("job")
    name = _text(labels.get("alertname"), f"alerts[{i}].labels.alertname")
    service = _text(service, f"alerts[{i}].labels.service")
    summary = annotations.get("summary") or annotations.get("description") or name
    status = item.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"alerts[{i}].status must be 'firing' or 'resolved'")
    fingerprint = item.get("fingerprint")
    key = fingerprint if isinstance(fingerprint, str) and fingerprint else f"{name}:{service}"
    return Alert(
        service=service,
        summary=_text(summary, f"alerts[{i}].annotations.summary"),
        severity=_text(labels.get("severity"), "severity", required=False, default="warning"),
        firing=status == "firing",
        key=f"am:{key}",
    )


class AlertServer:
    """An aiohttp server for health checks and alert intake."""

    def __init__(self, config: WebConfig, pager: Pager | None) -> None:
        self.config = config
        self.pager = pager
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/health", self._health)
        self.app.router.add_post("/alerts", self._alerts)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on the configured address."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        log.info("alert intake on http://%s:%d", self.config.host, self.config.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def _authorized(self, request: web.Request) -> bool:
        token = self.config.token.get_secret_value() if self.config.token else ""
        given = request.headers.get("Authorization", "")
        # no token configured means no intake: fail closed
        return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    async def _alerts(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        try:
            payload = json.loads(await request.text())
            alerts = parse_alerts(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            return web.json_response({"error": f"bad payload: {exc}"}, status=400)
        if self.pager is None:
            return web.json_response({"error": "paging is not configured"}, status=503)
        results = []
        for alert in alerts:
            try:
                outcome = await self.pager.alert(
                    service=alert.service,
                    summary=alert.summary,
                    severity=alert.severity,
                    firing=alert.firing,
                    key=alert.key,
                )
            except (PagingError, CommandError) as exc:
                outcome = f"error: {exc}"
            results.append({"service": alert.service, "result": outcome})
        return web.json_response({"results": results})
