"""IRCv3 Strict Transport Security (STS): once a network says it speaks TLS, never plain text.

Two kinds of policy arrive in the ``sts`` capability's value:

- on a plain connection, ``port=P`` (an upgrade): leave at once, before anything else is
  sent (no SASL password over plain text), and connect with TLS on P;
- on a TLS connection, ``duration=D`` (persistence): for D seconds, connect to this host
  only with TLS, on this port. It is kept in the store, so a restarted bot honours it;
  ``duration=0`` ends it.

While a policy holds, a TLS failure is retried with TLS, never in plain text. An upgrade
seen on a plain connection is kept for the rest of the run even before any TLS connection
worked (STS does not let a plain-text offer be stored, but neither may the bot go back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from infrabot.config import IrcConfig

__all__ = ["StsKeeper", "StsPolicies", "parse_sts"]

log = logging.getLogger(__name__)


class StsPolicies(Protocol):
    """Where persistence policies are kept (:class:`infrabot.store.Store` is one)."""

    def sts_policy(self, host: str) -> tuple[int, float] | None:
        """(port, expires_at) of the policy for ``host``, if one was kept."""

    def set_sts_policy(self, host: str, port: int, expires_at: float) -> None:
        """Keep (or renew) the policy for ``host``."""

    def drop_sts_policy(self, host: str) -> None:
        """Forget the policy for ``host``."""


def parse_sts(value: str) -> dict[str, str]:
    """``port=6697,duration=300`` as {key: value}; keys in lower case."""
    fields: dict[str, str] = {}
    for item in value.split(","):
        key, _, val = item.partition("=")
        if key:
            fields.setdefault(key.strip().lower(), val.strip())
    return fields


class StsKeeper:
    """The STS policies of the bot's IRC network: what to connect with, what an offer means."""

    def __init__(
        self, policies: StsPolicies | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._policies = policies
        self._clock = clock
        self._upgrades: dict[str, int] = {}
        self._reconnect_now = False

    def connect_config(self, config: IrcConfig) -> IrcConfig:
        """``config``, or a copy with TLS on the policy's port while a policy for its host
        holds (a configuration that asks for TLS already is left as it is)."""
        if config.tls:
            return config
        port = self._policy_port(config.host)
        if port is None:
            return config
        log.info(
            "STS: connecting to %s with TLS on port %d (the server's policy)", config.host, port
        )
        return config.model_copy(update={"tls": True, "port": port})

    def on_cap(self, args: Sequence[str], connected: IrcConfig) -> bool:
        """Read ``CAP <args>`` (LS or NEW) on the connection made with ``connected``; True
        when that connection must be left now for a TLS one (see :meth:`take_reconnect`)."""
        sub = args[0].upper() if args else ""
        if sub not in ("LS", "NEW") or len(args) < 2:
            return False
        value = next(
            (v for name, _, v in (i.partition("=") for i in args[-1].split()) if name == "sts"),
            None,
        )
        if value is None:
            return False
        fields = parse_sts(value)
        host = _key(connected.host)
        if not connected.tls:
            port = fields.get("port", "")
            if not port.isdigit() or not 0 < int(port) < 65536:
                log.warning("STS: ignoring an upgrade without a usable port: %r", value[:100])
                return False
            log.info("STS: %s asks for TLS on port %s; reconnecting", connected.host, port)
            self._upgrades[host] = int(port)
            self._reconnect_now = True
            return True
        duration = fields.get("duration", "")
        if duration.isdigit():
            self._persist(host, connected.port, int(duration))
        return False

    def take_reconnect(self) -> bool:
        """Whether the last connection was left for a TLS upgrade (reconnect without waiting);
        answers True once."""
        now, self._reconnect_now = self._reconnect_now, False
        return now

    def _persist(self, host: str, port: int, duration: int) -> None:
        if duration == 0:
            log.info("STS: %s ended its policy", host)
            self._upgrades.pop(host, None)
            if self._policies is not None:
                self._policies.drop_sts_policy(host)
            return
        self._upgrades[host] = port
        if self._policies is not None:
            self._policies.set_sts_policy(host, port, self._clock() + duration)

    def _policy_port(self, host: str) -> int | None:
        key = _key(host)
        if key in self._upgrades:
            return self._upgrades[key]
        kept = self._policies.sts_policy(key) if self._policies is not None else None
        if kept is None:
            return None
        port, expires_at = kept
        if expires_at <= self._clock():
            assert self._policies is not None
            self._policies.drop_sts_policy(key)
            return None
        return port


def _key(host: str) -> str:
    return host.lower().rstrip(".")
