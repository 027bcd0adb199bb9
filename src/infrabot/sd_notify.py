"""Telling systemd how the service is doing (``Type=notify``), without any dependency.

systemd gives a ``Type=notify`` service the address of a unix datagram socket in
``NOTIFY_SOCKET`` (a path, or an abstract name starting with ``@``); one datagram of
``KEY=value`` lines says ``READY=1`` (the service is up: ``systemctl start`` returns and units
ordered after it start), ``STOPPING=1``, or a ``STATUS=`` line shown by ``systemctl status``.

Ready means every transport is connected to its network. A network that stays down does not
hold the start back for ever: after :data:`READY_AT_THE_LATEST` seconds the bot says it is
ready anyway, with a status naming what is still down (``/health/ready`` tells the truth
meanwhile), so that systemd does not kill a bot that serves its other networks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

from infrabot.messages import Network
from infrabot.transports.base import Linked

__all__ = ["READY_AT_THE_LATEST", "notify", "notify_when_ready"]

log = logging.getLogger(__name__)

READY_AT_THE_LATEST = 60.0
"""Seconds after which the bot says it is ready even with a network still down."""


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` (``KEY=value`` lines) to systemd; False when not run by systemd with
    ``Type=notify`` (no ``NOTIFY_SOCKET``) or when the socket cannot be reached (logged)."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # the abstract namespace: a NUL byte, then the name
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("cannot notify systemd at %s: %s", address.lstrip("\0"), exc)
        return False
    return True


def _down(transports: Mapping[Network, object]) -> list[str]:
    return sorted(
        network
        for network, transport in transports.items()
        if isinstance(transport, Linked) and not transport.link.connected
    )


async def notify_when_ready(
    transports: Callable[[], Mapping[Network, object]],
    *,
    environ: Mapping[str, str] | None = None,
    at_the_latest: float = READY_AT_THE_LATEST,
    poll: float = 0.1,
) -> None:
    """Say ``READY=1`` once every transport is connected (or after ``at_the_latest`` s).

    Returns at once when not run by systemd with ``Type=notify``.
    """
    if not (os.environ if environ is None else environ).get("NOTIFY_SOCKET"):
        return
    deadline = time.monotonic() + at_the_latest
    # polled, not awaited: a tenth of a second is nothing next to a connection's setup
    while (down := _down(transports())) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(poll)
    if down:
        status = f"STATUS=serving; not connected yet: {', '.join(down)}"
    else:
        status = f"STATUS=serving: {', '.join(sorted(transports())) or 'no network'} connected"
    notify(f"READY=1\n{status}", environ)
