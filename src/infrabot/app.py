"""Builds the bot from its configuration and runs every configured transport in one process.

This is the only module that knows every part. Transports are supervised one by one: when
one fails it is restarted with backoff, and the others never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from infrabot import metrics
from infrabot.backoff import Backoff
from infrabot.config import AdminsConfig, Config, GitInventory, WebConfig
from infrabot.git_hook import SECRET_ENV, GitHook
from infrabot.health import Health
from infrabot.heap import gc_paused
from infrabot.inventory.current import CurrentIndex
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory
from infrabot.inventory.opening import open_source
from infrabot.loader import PluginSet, builtin_plugin_dir, load_plugins
from infrabot.messages import Handles, IncomingMessage, Network, Reply, Room, Sender
from infrabot.paging.alerts import AlertIntake
from infrabot.paging.channels import EmailSender, WebhookSender
from infrabot.paging.pager import Pager
from infrabot.rate_limit import UserRateLimiter
from infrabot.reload import Reloader
from infrabot.router import Router, RouterLimits
from infrabot.sd_notify import notify, notify_when_ready
from infrabot.store import AuditEntry, Store
from infrabot.transports.base import Transport
from infrabot.web import AlertServer

__all__ = ["App", "build_transports"]

log = logging.getLogger(__name__)


class App:
    """One bot: the current inventory index, the plugins, the router, and the transports."""

    def __init__(
        self, config: Config, *, plugins: PluginSet | None = None, store: Store | None = None
    ) -> None:
        self.config = config
        self.source = open_source(
            config.inventory, store=config.store, max_bytes=config.max_inventory_bytes
        )
        """A folder (or git) inventory's source; None for one file."""
        with gc_paused(freeze=True):
            self.current = CurrentIndex(self._first_index())
            """The index answering now; a reload swaps it."""
        self.store = store
        folders = self._plugin_folders()
        initial = plugins if plugins is not None else load_plugins(folders)
        for error in initial.errors:
            log.error("%s", error)
        self.reloader = Reloader(
            inventory_path=_shown_path(config.inventory),
            max_bytes=config.max_inventory_bytes,
            current=self.current,
            plugin_folders=folders,
            current_plugins=lambda: self.router.plugins,
            install_plugins=self._install_plugins,
            source=self.source,
        )
        self.pager = (
            Pager(
                store=store,
                index=self.current,
                send=self.send,
                people=lambda: self.transports,
                config=config.paging,
                prefix=config.prefix,
                email=EmailSender(config.paging.smtp) if config.paging.smtp else None,
                webhook=WebhookSender(config.paging.webhook) if config.paging.webhook else None,
            )
            if store is not None
            else None
        )
        self.router = Router(
            plugins=initial,
            index=self.current,
            prefix=config.prefix,
            is_admin=self.is_admin,
            reloads=self.reloader,
            store=store,
            limiter=UserRateLimiter(
                config.rate_limit.rate, config.rate_limit.burst, config.rate_limit.quiet
            ),
            pager=self.pager,
            limits=RouterLimits(channel_lines=config.channel_lines),
        )
        self.transports: dict[Network, Transport] = {}
        self.restart_delays = (1.0, 60.0)
        """The first and the longest wait before restarting a crashed transport, seconds."""
        self._background: set[asyncio.Task[None]] = set()
        self._admin_handles: tuple[Index | None, tuple[Handles, ...]] = (None, ())

    def _first_index(self) -> Index:
        if self.source is None:
            path = self.config.inventory
            assert isinstance(path, Path)  # a git inventory has a source
            return Index(load_inventory(path, max_bytes=self.config.max_inventory_bytes))
        loaded = self.source.load()
        self.source.installed(loaded)
        self.source.tidy()
        return loaded.index

    @property
    def index(self) -> Index:
        """The inventory index answering right now."""
        return self.current()

    @property
    def plugins(self) -> PluginSet:
        """The plugins answering right now."""
        return self.router.plugins

    def _install_plugins(self, plugins: PluginSet) -> None:
        self.router.plugins = plugins

    def _plugin_folders(self) -> list[Path]:
        folders = self.config.plugins if self.config.plugins is not None else [builtin_plugin_dir()]
        return [Path(f) for f in folders]

    def is_admin(self, sender: Sender) -> bool:
        """Whether ``sender`` is an admin by the identity its network vouches for.

        Admins are the accounts under ``admins:`` and the people with the admin role in the
        inventory; the sender's own network says whether the sender is one of them (by
        services account or user ID, never by nick), or runs the bot itself (the console).
        """
        people = self.transports.get(sender.network)
        if sender.account is None or people is None:
            return False
        if people.is_operator(sender):
            return True
        return any(people.is_person(sender, handles) for handles in self._admins())

    def _admins(self) -> tuple[Handles, ...]:
        """The handles of every admin, gathered once per inventory, not per command."""
        index = self.current()
        if self._admin_handles[0] is not index:
            self._admin_handles = (index, _admin_handles(self.config.admins, index))
        return self._admin_handles[1]

    def deliver(self, message: IncomingMessage) -> Awaitable[None] | None:
        """Answer ``message``: route it, then send each reply through its network.

        A reply ready at once (a remembered answer) is handed to its network before this
        returns; what is left to do, if anything, is returned to be awaited (see
        :data:`~infrabot.transports.base.Deliver`). Raises, or the awaitable does, what
        :meth:`send` raises.
        """
        answer = self.router.answer(message)
        if not isinstance(answer, list):
            return self._send_later(answer)
        for i, reply in enumerate(answer):
            rest = self._send_now(reply)
            if rest is not None:
                return self._send_rest(rest, answer[i + 1 :])
        return None

    async def _send_later(self, answer: Awaitable[list[Reply]]) -> None:
        for reply in await answer:
            await self.send(reply)

    async def _send_rest(self, rest: Awaitable[None], replies: list[Reply]) -> None:
        await rest
        for reply in replies:
            await self.send(reply)

    async def send(self, reply: Reply) -> None:
        """Send ``reply`` through the transport of its room's network."""
        rest = self._send_now(reply)
        if rest is not None:
            await rest

    def _send_now(self, reply: Reply) -> Awaitable[None] | None:
        """Hand ``reply`` to its network as far as it goes without waiting; the rest of the
        send, if any is left, to be awaited."""
        network = reply.room.network
        transport = self.transports.get(network)
        if transport is None:
            log.error("no transport for %s; dropped reply to %s", network, reply.room.id)
            return None
        send_now: Callable[[Reply], Awaitable[None] | None] | None = getattr(
            transport, "send_now", None
        )  # see SendsNow: a transport without it sends everything later
        rest = send_now(reply) if send_now is not None else transport.send(reply)
        if rest is None:
            metrics.reply_sent(network)
            return None
        return _counted(rest, network)

    async def run(self, transports: Sequence[Transport]) -> None:
        """Serve every transport until all of them stop."""
        self.transports = {t.network: t for t in transports}
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            # SIGHUP reloads the inventory, as daemons have always done; SIGTERM and Ctrl-C
            # stop every transport cleanly (QUIT on IRC, the sync position saved on Matrix)
            loop.add_signal_handler(signal.SIGHUP, self._reload_in_background)
            loop.add_signal_handler(signal.SIGTERM, self._stop_in_background)
            loop.add_signal_handler(signal.SIGINT, self._stop_in_background)
        try:
            async with asyncio.TaskGroup() as group:
                supervisors = [
                    group.create_task(self._supervise(t), name=f"transport-{t.network}")
                    for t in transports
                ]
                services = [group.create_task(s) for s in self._services()]
                if services:
                    # the services run forever; stop them once every transport has stopped
                    group.create_task(_cancel_when_done(supervisors, services))
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)

    def _services(self) -> list[Coroutine[Any, Any, None]]:
        """What runs beside the transports: the word to systemd that the bot is ready,
        escalation, the file watch, alert intake."""
        services: list[Coroutine[Any, Any, None]] = [notify_when_ready(lambda: self.transports)]
        if self.pager is not None:
            services.append(self.pager.run())
        if self.config.watch_inventory:
            services.append(self.watch_inventory())
        if self.config.web is not None:
            services.append(self._serve_web(self.config.web))
        return services

    async def _serve_web(self, config: WebConfig) -> None:
        pager = self.pager
        intake = AlertIntake(pager, index=self.current, send=self.send) if pager else None
        health = Health(lambda: self.transports, self.store)
        state = metrics.StateCollector(lambda: self.transports, self.current, self.store)
        server = AlertServer(
            config,
            intake,
            routes=self._web_routes(),
            health=health,
            metrics=metrics.registry(state),
        )
        await server.start()
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    def _web_routes(self) -> list[Callable[[web.Application], None]]:
        """The git push webhook, for an inventory in git."""
        inventory = self.config.inventory
        if not isinstance(inventory, GitInventory):
            return []
        rooms = [Room(network=Network(r.network), id=r.room) for r in inventory.announce]

        async def announce(lines: list[str]) -> None:
            for room in rooms:
                await self.send(Reply(room=room, lines=tuple(lines)))

        hook = GitHook(
            secret=os.environ.get(SECRET_ENV),
            ref=inventory.ref,
            reload=self.reloader.reload_inventory,
            announce=announce,
        )
        return [hook.register]

    async def stop(self) -> None:
        """Stop every transport; :meth:`run` returns once they have all stopped."""
        log.info("stopping")
        notify("STOPPING=1")
        await asyncio.gather(*(t.stop() for t in self.transports.values()), return_exceptions=True)

    def _stop_in_background(self) -> None:
        task = asyncio.get_running_loop().create_task(self.stop())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _reload_in_background(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload_inventory("SIGHUP"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reload_inventory(self, reason: str) -> None:
        """Reload the inventory for ``reason`` (a signal, a file change) and log the outcome."""
        result = await self.reloader.reload_inventory()
        log.log(logging.INFO if result.ok else logging.ERROR, "%s: %s", reason, result.summary)
        if self.store is not None:
            self.store.audit(
                AuditEntry(
                    network="system",
                    name=reason,
                    account=None,
                    command="reload",
                    allowed=True,
                    result=result.summary[:300],
                )
            )

    async def watch_inventory(self, interval: float = 1.0, settle: float = 0.5) -> None:
        """Reload when the inventory file changes, once it has stopped changing for ``settle`` s.

        Polling the file's modification time and size is enough for a file people edit by hand,
        and works on every filesystem, network mounts included.
        """
        path = self.config.inventory
        if not isinstance(path, Path):
            return  # a git inventory reloads on !reload and on its push webhook
        seen = _stamp(path)
        while True:
            await asyncio.sleep(interval)
            now = _stamp(path)
            if now == seen:
                continue
            await asyncio.sleep(settle)  # editors write in several steps; wait until it settles
            settled = _stamp(path)
            if settled != now:
                continue
            seen = settled
            await self.reload_inventory("inventory file changed")

    async def _supervise(self, transport: Transport) -> None:
        """Run ``transport``; if it crashes, restart it after a growing, jittered delay."""
        backoff = Backoff(*self.restart_delays, jitter=0.2)
        while True:
            try:
                await transport.run(self.deliver)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = backoff.next_delay()
                log.exception(
                    "%s transport crashed; restarting in %.0f s", transport.network, delay
                )
            await asyncio.sleep(delay)


def _admin_handles(admins: AdminsConfig, index: Index) -> tuple[Handles, ...]:
    """The configured admin accounts, then every person with the admin role."""
    configured = [Handles(irc_account=account) for account in admins.irc]
    configured += [Handles(matrix_id=user_id) for user_id in admins.matrix]
    inventory = [
        person.contact.handles
        for person in index.inventory.people
        if "admin" in (role.casefold() for role in person.roles)
    ]
    return (*configured, *inventory)


async def _counted(rest: Awaitable[None], network: Network) -> None:
    """The rest of a send, counted once it is done."""
    await rest
    metrics.reply_sent(network)


async def _cancel_when_done(
    tasks: Sequence[asyncio.Task[None]], others: Sequence[asyncio.Task[None]]
) -> None:
    await asyncio.wait(tasks)
    for other in others:
        other.cancel()


def _shown_path(inventory: Path | GitInventory) -> Path:
    return inventory if isinstance(inventory, Path) else Path(inventory.git)


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime, info.st_size)


def build_transports(config: Config, store: Store | None = None) -> list[Transport]:
    """A transport for every network named in ``config`` (IRC keeps STS policies in ``store``).

    Each transport module is imported only when its network is configured, so a deployment
    on one network never loads the other's client library.
    """
    transports: list[Transport] = []
    if config.irc is not None:
        from infrabot.transports.irc import IrcTransport

        transports.append(IrcTransport(config.irc, sts_store=store))
    if config.matrix is not None:
        from infrabot.transports.matrix import MatrixTransport

        transports.append(MatrixTransport(config.matrix))
    return transports
