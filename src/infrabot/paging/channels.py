"""Delivery beyond chat: email over SMTP and a generic JSON webhook."""

from __future__ import annotations

import json
import logging
from email.message import EmailMessage
from typing import Any

import aiohttp
import aiosmtplib

from infrabot.config import SmtpConfig, WebhookConfig
from infrabot.errors import PagingError

__all__ = ["EmailSender", "WebhookSender"]

log = logging.getLogger(__name__)


class EmailSender:
    """Sends page notifications by email."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one message; raises :class:`PagingError` when the server refuses it."""
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        password = self.config.password.get_secret_value() if self.config.password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=self.config.host,
                port=self.config.port,
                username=self.config.username,
                password=password,
                start_tls=self.config.starttls,
                timeout=self.config.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise PagingError(f"email to {to} failed: {exc}") from exc


class WebhookSender:
    """POSTs page events as JSON to a configured URL."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config

    async def send(self, payload: dict[str, Any]) -> None:
        """POST ``payload``; raises :class:`PagingError` on a network error or a non-2xx status."""
        headers = {"Content-Type": "application/json"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token.get_secret_value()}"
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.config.url, data=json.dumps(payload), headers=headers) as resp,
            ):
                if resp.status >= 300:
                    raise PagingError(f"webhook answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PagingError(f"webhook failed: {exc}") from exc
