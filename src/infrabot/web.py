"""The HTTP endpoint: health probes, and ``POST /alerts`` for monitoring to raise pages.

``GET /health/live`` answers 200 while the process answers at all; ``GET /health/ready``
answers 200 when every transport is connected and the store takes writes, else 503, with a
JSON body naming what is down and since when (:mod:`infrabot.health`). ``GET /health`` is
the old liveness probe, kept for the monitors that use it. ``GET /metrics`` serves the
bot's metrics to Prometheus (:mod:`infrabot.metrics`), unless ``web.metrics`` is off.

``/alerts`` takes a Prometheus Alertmanager webhook payload, or a simple
``{"service": ..., "summary": ..., "severity": ..., "status": "firing"|"resolved"}``, with
``Authorization: Bearer <token>``. A bad token gets 401, a bad payload 400 with the reason.
The answer, once the alerts' batch is announced, says what became of each alert (see
:mod:`infrabot.paging.alerts`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from infrabot.config import WebConfig
from infrabot.errors import PagingError
from infrabot.health import Health
from infrabot.paging.alerts import Alert, AlertIntake
from infrabot.text import clean_line

__all__ = ["Alert", "AlertServer", "PayloadError", "parse_alerts"]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


class PayloadError(ValueError):
    """A payload that is not a valid alert; the message says why."""


def _text(value: Any, what: str, *, required: bool = True, default: str = "") -> str:
    """``value`` as one clean line of at most 300 characters (no line breaks or controls)."""
    if value is None and not required:
        return default
    text = clean_line(value, 300) if isinstance(value, str) else ""
    if not text:
        raise PayloadError(f"{what} must be a non-empty string")
    return text


def parse_alerts(payload: Any) -> list[Alert]:
    """The alerts in an Alertmanager or generic payload; :class:`PayloadError` if malformed."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    if "alerts" in payload:
        items = payload["alerts"]
        if not isinstance(items, list) or not items:
            raise PayloadError("'alerts' must be a non-empty list")
        group = _group(payload.get("groupKey"))
        return [_alertmanager(item, i, group) for i, item in enumerate(items)]
    status = _status(payload.get("status", "firing"), "status")
    return [
        Alert(
            service=_text(payload.get("service"), "service"),
            summary=_text(payload.get("summary"), "summary"),
            severity=_text(payload.get("severity"), "severity", required=False, default="warning"),
            firing=status == "firing",
            fingerprint=_text(payload.get("key"), "key", required=False)[:64],
        )
    ]


def _group(value: Any) -> str:
    """Alertmanager's ``groupKey``, shortened to a digest: it can be long, and only its
    identity matters."""
    if value is None:
        return ""
    if not isinstance(value, str) or not value:
        raise PayloadError("groupKey must be a non-empty string")
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]


def _status(value: Any, what: str) -> str:
    if value not in ("firing", "resolved"):
        raise PayloadError(f"{what} must be 'firing' or 'resolved'")
    return str(value)


def _alertmanager(item: Any, i: int, group: str) -> Alert:
    if not isinstance(item, dict):
        raise PayloadError(f"alerts[{i}] must be an object")
    labels = item.get("labels") or {}
    annotations = item.get("annotations") or {}
    if not isinstance(labels, dict) or not isinstance(annotations, dict):
        raise PayloadError(f"alerts[{i}]: labels and annotations must be objects")
    name = _text(labels.get("alertname"), f"alerts[{i}].labels.alertname")
    service = _text(labels.get("service") or labels.get("job"), f"alerts[{i}].labels.service")
    summary = annotations.get("summary") or annotations.get("description") or name
    status = _status(item.get("status", "firing"), f"alerts[{i}].status")
    fingerprint = item.get("fingerprint")
    return Alert(
        service=service,
        summary=_text(summary, f"alerts[{i}].annotations.summary"),
        severity=_text(labels.get("severity"), "severity", required=False, default="warning"),
        firing=status == "firing",
        fingerprint=clean_line(fingerprint, 64) if isinstance(fingerprint, str) else "",
        group=group,
    )


def _body(data: bytes) -> Any:
    """The JSON in ``data``; :class:`PayloadError` with a short reason if there is none."""
    try:
        # bytes, whatever charset the request claims: JSON is UTF-8 (or 16/32, detected)
        return json.loads(data)
    except RecursionError:
        # the decoder gives up cleanly at the interpreter's depth limit; no alert nests so
        raise PayloadError("the JSON is nested too deeply") from None
    except ValueError as exc:
        raise PayloadError(str(exc)) from None


class AlertServer:
    """An aiohttp server for health checks and alert intake (none when ``intake`` is None)."""

    def __init__(
        self,
        config: WebConfig,
        intake: AlertIntake | None,
        routes: Sequence[Callable[[web.Application], None]] = (),
        *,
        health: Health | None = None,
        metrics: CollectorRegistry | None = None,
    ) -> None:
        self.config = config
        self.intake = intake
        self.health = health if health is not None else Health(dict, None)
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/health", self._health)
        self.app.router.add_get("/health/live", self._live)
        self.app.router.add_get("/health/ready", self._ready)
        self.metrics = metrics
        if metrics is not None and config.metrics:
            self.app.router.add_get("/metrics", self._metrics)
        self.app.router.add_post("/alerts", self._alerts)
        for add_routes in routes:  # endpoints of their own modules (the git push webhook)
            add_routes(self.app)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on the configured address."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        log.info("alert intake on http://%s:%d", self.config.host, self.config.port)

    async def stop(self) -> None:
        """Announce the alerts still waiting, then stop listening."""
        if self.intake is not None:
            await self.intake.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _live(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _ready(self, request: web.Request) -> web.Response:
        ready, body = self.health.ready()
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        assert self.metrics is not None
        body = generate_latest(self.metrics)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _authorized(self, request: web.Request) -> bool:
        token = self.config.token.get_secret_value() if self.config.token else ""
        given = request.headers.get("Authorization", "")
        # no token configured means no intake: fail closed
        return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    async def _alerts(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        try:
            alerts = parse_alerts(_body(await request.read()))
        except PayloadError as exc:
            return web.json_response({"error": f"bad payload: {exc}"}, status=400)
        if self.intake is None:
            return web.json_response({"error": "paging is not configured"}, status=503)
        try:
            results = await self.intake.submit(alerts)
        except PagingError as exc:
            return web.json_response({"error": str(exc)}, status=503)
        answers = [
            {"service": alert.service, "result": result}
            for alert, result in zip(alerts, results, strict=True)
        ]
        return web.json_response({"results": answers})
