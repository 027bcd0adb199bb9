"""Logging the Matrix transport in: a configured token, the saved session, or the password.

The bot keeps one device for life: a saved session is resumed, and a password login reuses the
saved device ID, so the homeserver (and people's clients) see the same device across restarts.
With encryption on, logging in also loads that device's crypto store (nio does it once it
knows the device ID), so its identity keys stay the same for life too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nio import (  # type: ignore[import-untyped]
    AsyncClient,
    AsyncClientConfig,
    LoginError,
    WhoamiError,
)

from infrabot.config import MatrixConfig
from infrabot.errors import TransportError
from infrabot.transports.matrix_crypto import CRYPTO_STORE_NAME
from infrabot.transports.matrix_retry import is_rate_limited, rate_limit_delay
from infrabot.transports.matrix_store import MatrixSession, MatrixStateStore

__all__ = ["AUTH_ERRORS", "ClientFactory", "log_in", "nio_client"]

log = logging.getLogger(__name__)

AUTH_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})
"""What the homeserver answers when our token is no longer valid."""

ClientFactory = Callable[[MatrixConfig], Any]
"""Builds the nio client; tests pass a fake."""

Pause = Callable[[float], Awaitable[None]]


def nio_client(config: MatrixConfig) -> Any:
    """A nio client that never retries on its own: our loops honour ``retry_after_ms`` and
    bound the backoff."""
    secret = config.store_secret if config.encryption else None
    encrypted = secret is not None
    client_config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=30,
        store_sync_tokens=False,
        encryption_enabled=encrypted,
        # The crypto store (Olm account, sessions, room keys) is pickled under this key.
        pickle_key=secret.get_secret_value() if secret is not None else "",
        store_name=CRYPTO_STORE_NAME,
    )
    if not encrypted:
        return AsyncClient(config.homeserver, config.user_id, config=client_config)
    config.store_path.mkdir(parents=True, exist_ok=True)
    return AsyncClient(
        config.homeserver, config.user_id, store_path=str(config.store_path), config=client_config
    )


async def log_in(client: Any, config: MatrixConfig, store: MatrixStateStore, pause: Pause) -> None:
    """Log ``client`` in: with the configured access token, else by resuming the saved
    session, else with the password (on the saved device). Raises :class:`TransportError`."""
    if config.access_token is not None:
        client.user_id = config.user_id
        client.access_token = config.access_token.get_secret_value()
        whoami = await client.whoami()
        if isinstance(whoami, WhoamiError):
            refused = whoami.status_code in AUTH_ERRORS
            what = "the configured access token is refused" if refused else "cannot log in"
            raise TransportError(f"matrix: {what}: {whoami}")
        if config.encryption and whoami.device_id:
            # loads the crypto store of the token's device
            client.restore_login(config.user_id, whoami.device_id, client.access_token)
        log.info("matrix: logged in as %s (token), device %s", client.user_id, client.device_id)
        return
    session = store.session
    if session is not None and session.user_id == config.user_id:
        client.restore_login(session.user_id, session.device_id, session.access_token)
        whoami = await client.whoami()
        if not isinstance(whoami, WhoamiError):
            log.info("matrix: resumed device %s as %s", session.device_id, session.user_id)
            return
        if whoami.status_code not in AUTH_ERRORS:
            raise TransportError(f"matrix: cannot check the saved login: {whoami}")
        log.warning("matrix: saved token refused; logging in again on the same device")
        store.forget_token()
        client.access_token = ""
    await _password_login(client, config, store, pause)


async def _password_login(
    client: Any, config: MatrixConfig, store: MatrixStateStore, pause: Pause
) -> None:
    if config.password is None:
        raise TransportError("matrix: set a password or an access_token")
    client.user = config.user_id
    saved = store.session
    # Reusing the device ID keeps one device per bot instead of one per restart.
    client.device_id = store.device_id if saved is None or saved.user_id == config.user_id else None
    while True:
        response = await client.login(
            config.password.get_secret_value(), device_name=config.device_name
        )
        if not (isinstance(response, LoginError) and is_rate_limited(response)):
            break
        await pause(rate_limit_delay(response, config.backoff_max))
    if isinstance(response, LoginError):
        raise TransportError(f"matrix: login refused: {response}")
    store.save_session(MatrixSession(response.user_id, response.device_id, response.access_token))
    log.info("matrix: logged in as %s, device %s", response.user_id, response.device_id)
