"""Builds the bot from its configuration and runs every configured transport in one process.

This is the only module that knows every part. Transports are supervised one by one: when
one fails it is restarted with backoff, and the others never notice.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from pathlib import Path

from infrabot.config import Config
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory
from infrabot.loader import PluginSet, builtin_plugin_dir, load_plugins
from infrabot.messages import IncomingMessage, Network, Reply, Sender
from infrabot.router import Router
from infrabot.transports.base import Transport

__all__ = ["App", "build_transports"]

log = logging.getLogger(__name__)


class App:
    """One bot: the current inventory index, the plugins, the router, and the transports."""

    def __init__(self, config: Config, *, plugins: PluginSet | None = None) -> None:
        self.config = config
        self._index = Index(load_inventory(config.inventory, max_bytes=config.max_inventory_bytes))
        self.plugins = plugins if plugins is not None else self._load_plugins()
        for error in self.plugins.errors:
            log.error("%s", error)
        self.router = Router(
            plugins=self.plugins,
            index=lambda: self._index,
            prefix=config.prefix,
            is_admin=self.is_admin,
        )
        self.transports: dict[Network, Transport] = {}

    @property
    def index(self) -> Index:
        """The inventory index answering right now."""
        return self._index

    def swap_index(self, index: Index) -> None:
        """Answer from ``index`` from now on; in-flight commands finish on the old one."""
        self._index = index

    def _load_plugins(self) -> PluginSet:
        folders = self.config.plugins if self.config.plugins is not None else [builtin_plugin_dir()]
        return load_plugins([Path(f) for f in folders])

    def is_admin(self, sender: Sender) -> bool:
        """Whether ``sender``'s authenticated account is a configured admin on its network."""
        if sender.account is None:
            return False
        admins = self.config.admins
        if sender.network == "irc":
            return sender.account in admins.irc
        if sender.network == "matrix":
            return sender.account in admins.matrix
        return sender.network == "console"  # whoever runs the console owns the process

    async def deliver(self, message: IncomingMessage) -> None:
        """Answer ``message``: route it, then send each reply through its network."""
        for reply in await self.router.handle(message):
            await self.send(reply)

    async def send(self, reply: Reply) -> None:
        """Send ``reply`` through the transport of its room's network."""
        transport = self.transports.get(reply.room.network)
        if transport is None:
            log.error("no transport for %s; dropped reply to %s", reply.room.network, reply.room.id)
            return
        await transport.send(reply)

    async def run(self, transports: Sequence[Transport]) -> None:
        """Serve every transport until all of them stop."""
        self.transports = {t.network: t for t in transports}
        async with asyncio.TaskGroup() as group:
            for transport in transports:
                group.create_task(self._supervise(transport), name=f"transport-{transport.network}")

    async def _supervise(self, transport: Transport) -> None:
        """Run ``transport``; if it crashes, restart it after a growing, jittered delay."""
        delay = 1.0
        while True:
            try:
                await transport.run(self.deliver)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "%s transport crashed; restarting in %.0f s", transport.network, delay
                )
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 60.0)


def build_transports(config: Config) -> list[Transport]:
    """A transport for every network named in ``config``."""
    transports: list[Transport] = []
    if config.irc is not None:
        from infrabot.transports.irc import IrcTransport  # type: ignore[import-not-found]

        transports.append(IrcTransport(config.irc))
    if config.matrix is not None:
        from infrabot.transports.matrix import MatrixTransport

        transports.append(MatrixTransport(config.matrix))
    return transports
