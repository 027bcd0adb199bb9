"""The IRC transport: one connection to one network, kept alive for as long as the bot runs.

It runs on ``irc.client_aio`` inside the app's own event loop and speaks only IRC. The
pieces, one idea each: the connection (:mod:`.irc_connection`), capabilities and SASL
(:mod:`.irc_caps`, :mod:`.irc_login`), accounts and people (:mod:`.irc_identity`,
:mod:`.irc_accounts`), channel membership (:mod:`.irc_channels`), the bot's nick
(:mod:`.irc_nicks`), users' messages and CTCP (:mod:`.irc_intake`), and the way out: lines
checked and split by bytes (:mod:`.irc_lines`), paced by a fair queue whose sends return once
written (:mod:`.irc_queue`, :mod:`.irc_output`). This module keeps the session: connect,
register, a PING watchdog, and reconnection forever with backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from irc.client import Event  # type: ignore[import-untyped]
from irc.client_aio import AioReactor  # type: ignore[import-untyped]

from infrabot.backoff import Backoff
from infrabot.config import IrcConfig
from infrabot.messages import Handles, Network, Reply, Sender
from infrabot.rate_limit import TokenBucket
from infrabot.text import CleanLines, clean_line
from infrabot.transports.base import Deliver, Link
from infrabot.transports.irc_accounts import Accounts
from infrabot.transports.irc_caps import CapNegotiation
from infrabot.transports.irc_channels import Channels
from infrabot.transports.irc_connection import IrcConnection, Received, tls_context
from infrabot.transports.irc_host import EventHandler
from infrabot.transports.irc_identity import AccountLookups, AccountTracker, irc_lower
from infrabot.transports.irc_intake import Intake
from infrabot.transports.irc_lines import LineShaper, with_nicks
from infrabot.transports.irc_login import Login
from infrabot.transports.irc_nicks import Nicks
from infrabot.transports.irc_output import SEND_TIMEOUT, Output
from infrabot.transports.irc_privmsg import UserLine
from infrabot.transports.irc_queue import FairQueue, OutLine, Ticket
from infrabot.transports.irc_sasl import sasl_login
from infrabot.transports.irc_sts import StsKeeper, StsPolicies
from infrabot.transports.irc_text import DEFAULT_LINELEN
from infrabot.waiting import Interrupted, unless

__all__ = ["IRC", "WANTED_CAPS", "ConnectionFactory", "IrcTransport"]

log = logging.getLogger(__name__)

IRC = Network("irc")
"""The network name of every IRC message and reply."""

WANTED_CAPS = ("message-tags", "account-tag", "extended-join", "account-notify", "multi-prefix")
"""IRCv3 capabilities requested whenever the server offers them (``sasl`` is asked apart)."""

ConnectionFactory = Callable[[Callable[[Received], None]], IrcConnection]
"""Makes the connection of one session, given where what it reads goes (tests pass their own)."""


class IrcTransport:
    """infrabot on one IRC network: see the module docstring for what it takes care of."""

    network = IRC

    def __init__(
        self,
        config: IrcConfig,
        *,
        connect: ConnectionFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
        send_timeout: float = SEND_TIMEOUT,
        sts_store: StsPolicies | None = None,
    ) -> None:
        self.config = config
        self._connect = connect
        self.sts = StsKeeper(sts_store)
        """The network's STS policies (:mod:`.irc_sts`); ``sts_store`` keeps them."""
        self._target = config
        """What the current connection was made with (TLS and port after an STS upgrade)."""
        self._clock = clock
        self.nick = config.nick
        self.account: str | None = None
        """The account the bot itself is logged in to, once services say so."""
        self.connections = 0
        """How many times the bot has registered on the network (1 + reconnects)."""
        self.registered = asyncio.Event()
        self.link = Link()
        """Connected means registered on the network; read by health checks and metrics."""
        self.tracker = AccountTracker()
        self.lookups = AccountLookups(config.lookup_timeout)
        """Open questions to the server about accounts (WHOX/WHOIS)."""
        self.bucket = TokenBucket(config.flood_rate, config.flood_burst, clock)
        queue = FairQueue(
            per_key=config.max_queued_lines,
            total=max(config.max_queued_lines, config.max_private_lines) * 25,
            clock=clock,
        )
        self.output = Output(self.bucket, queue, timeout=send_timeout)
        """Every paced line leaves through here (:mod:`.irc_output`)."""
        self.login = Login(self)
        self.membership = Channels(self)
        self.nicks = Nicks(self)
        self.accounts = Accounts(self, IRC)
        self.intake = Intake(self, self.accounts, IRC, clock=clock)
        self._handlers: dict[str, EventHandler] = {
            "disconnect": self._on_disconnect,
            "ping": self._on_ping,
            "error": self._on_error,
            "welcome": self._on_welcome,
            "featurelist": self._on_isupport,
            **self.login.handlers(),
            "cap": self._on_cap,
            **self.membership.handlers(),
            **self.nicks.handlers(),
            **self.accounts.handlers(),
            **self.intake.handlers(),
        }
        self._conn: IrcConnection | None = None
        self._closed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session_tasks: list[asyncio.Task[None]] = []
        self._reset_session()

    @property
    def channels(self) -> set[str]:
        """Channels the bot is in right now (lower case)."""
        return self.membership.joined

    @property
    def caps(self) -> set[str]:
        """The capabilities the server acknowledged on this connection."""
        return self.negotiation.caps

    # ----------------------------------------------------------------- lifecycle

    def _reset_session(self) -> None:
        self.account = None
        cfg = self.config
        self.negotiation = CapNegotiation(WANTED_CAPS, sasl_login(cfg), required=cfg.sasl_required)
        """Capabilities and the SASL login of the current connection (:mod:`.irc_caps`)."""
        self.shaper = LineShaper()
        """This connection's line limits and the targets they allow (:mod:`.irc_lines`)."""
        self.nicks.reset()
        self.membership.reset()
        self._last_rx = self._clock()
        self._ping_out = False
        self.tracker.clear()
        self.registered.clear()

    async def run(self, deliver: Deliver) -> None:
        """Connect, and reconnect forever (backoff with jitter) until :meth:`stop`."""
        self.intake.deliver = deliver
        self._stopping.clear()
        if self._connect is None:
            reactor = AioReactor(loop=asyncio.get_running_loop())
            self._connect = lambda on_event: IrcConnection(reactor, on_event)
        sender = asyncio.create_task(self.output.run(), name="irc-sender")
        cfg = self.config
        backoff = Backoff(cfg.reconnect_min, max(cfg.reconnect_min, cfg.reconnect_max), jitter=0.5)
        try:
            while not self._stopping.is_set():
                was_registered = False
                try:
                    was_registered = await self._session(self._connect)
                except (OSError, TimeoutError, ssl.SSLError) as exc:
                    target = self._target
                    log.warning("cannot connect to %s:%s: %s", target.host, target.port, exc)
                finally:
                    await self._end_session()
                if self._stopping.is_set():
                    break
                if was_registered:
                    backoff.reset()  # a connection that worked: start again from the shortest
                wait = 0.0 if self.sts.take_reconnect() else backoff.next_delay()
                log.info("reconnecting to %s in %.1f s", cfg.host, wait)
                with contextlib.suppress(Interrupted):
                    await unless(asyncio.sleep(wait), self._stopping)
        finally:
            self.link.down("stopped")
            self.output.close("the bot is stopping")
            sender.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def stop(self) -> None:
        """Say goodbye (QUIT) and make :meth:`run` return."""
        self._stopping.set()
        self._closed.set()  # also ends a session still waiting to register
        self.output.close("the bot is stopping")
        conn = self._conn
        if conn is not None and conn.connected:
            with contextlib.suppress(Exception):
                conn.disconnect("infrabot stopping")

    async def _session(self, connect: ConnectionFactory) -> bool:
        """One connection from connect to close; True when it got as far as registering."""
        self._reset_session()
        self._closed = asyncio.Event()
        if self._stopping.is_set():
            return False
        conn = connect(lambda event: self._on_event(conn, event))
        self._conn = self.accounts.conn = conn
        cfg = self._target = self.sts.connect_config(self.config)
        async with asyncio.timeout(cfg.connect_timeout):
            await conn.open(
                host=cfg.host,
                port=cfg.port,
                nick=cfg.nick,
                username=cfg.username or cfg.nick,
                realname=cfg.realname,
                password=cfg.server_password.get_secret_value() if cfg.server_password else None,
                tls=tls_context(cfg),
            )
            self.spawn(self.login.guard(conn))
            with contextlib.suppress(Interrupted):
                await unless(self.registered.wait(), self._closed)
        if not self.registered.is_set():
            return False
        self._session_tasks = [
            asyncio.create_task(self._watchdog(conn), name="irc-watchdog"),
            asyncio.create_task(self._upkeep(conn), name="irc-upkeep"),
        ]
        await self._closed.wait()
        return True

    async def _end_session(self) -> None:
        for task in self._session_tasks:
            task.cancel()
        self._session_tasks = []
        conn, self._conn = self._conn, None
        self.accounts.conn = None
        if conn is not None and conn.connected:
            with contextlib.suppress(Exception):
                conn.disconnect("reconnecting")
        self.registered.clear()
        self.link.down("disconnected")
        self.output.detach()
        self.lookups.abandon()

    def current(self, conn: IrcConnection) -> bool:
        """Whether ``conn`` is the live connection (not one given up on)."""
        return conn is self._conn and bool(conn.connected)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` beside the connection, cancelled when the transport stops."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- people

    def mention_address(self, person: Handles) -> str | None:
        """See :meth:`.irc_accounts.Accounts.mention_address`."""
        return self.accounts.mention_address(person)

    async def private_address(self, person: Handles) -> str | None:
        """See :meth:`.irc_accounts.Accounts.private_address`."""
        return await self.accounts.private_address(person)

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """See :meth:`.irc_accounts.Accounts.is_person`."""
        return self.accounts.is_person(sender, person)

    def is_operator(self, sender: Sender) -> bool:
        """Nobody on IRC runs the bot's process."""
        return False

    # ----------------------------------------------------------------- events

    def _on_event(self, conn: IrcConnection, event: Received) -> None:
        if conn is not self._conn:
            return  # a late event from a connection we already gave up on
        if isinstance(event, UserLine):  # most lines: someone talking, read by the quick path
            self._last_rx = self._clock()
            self._ping_out = False
            self.intake.on_line(conn, event)
            return
        if event.type == "all_raw_messages":  # the first event of any other line
            self._last_rx = self._clock()
            self._ping_out = False
            return
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(conn, event)

    def _on_disconnect(self, conn: IrcConnection, event: Event) -> None:
        log.warning("disconnected from %s: %s", self.config.host, " ".join(event.arguments))
        self.registered.clear()
        self.output.detach()
        self._closed.set()

    def _on_ping(self, conn: IrcConnection, event: Event) -> None:
        conn.send_raw(f"PONG :{event.target}")

    def _on_error(self, conn: IrcConnection, event: Event) -> None:
        log.warning("server error: %s", event.target)

    def _on_cap(self, conn: IrcConnection, event: Event) -> None:
        if self.sts.on_cap(event.arguments, self._target):
            conn.disconnect("upgrading to TLS")  # before anything else goes out in plain text
            return
        self.login.on_cap(conn, event)

    def _on_welcome(self, conn: IrcConnection, event: Event) -> None:
        self.nick = event.target
        self.connections += 1
        log.info(
            "registered on %s as %s (connection %d)", self.config.host, self.nick, self.connections
        )
        self.login.on_registered(conn)
        self.membership.join_all(conn)
        self.registered.set()
        self.link.up()
        self.output.attach(conn)

    def _on_isupport(self, conn: IrcConnection, event: Event) -> None:
        linelen = self.shaper.announce(list(event.arguments[:-1]))
        if linelen is not None:
            conn.linelen = linelen

    # --- staying alive

    async def _upkeep(self, conn: IrcConnection) -> None:
        """Now and then: take back the main nick, log in if services were away, and join
        any configured channel the bot is missing."""
        while conn.connected:
            await asyncio.sleep(self.config.regain_nick_interval)
            self.upkeep(conn)

    def upkeep(self, conn: IrcConnection) -> None:
        """One round of :meth:`_upkeep` (tests call it instead of waiting)."""
        self.nicks.regain(conn)
        self.login.retry(conn)
        self.membership.rejoin_missing(conn)

    async def _watchdog(self, conn: IrcConnection) -> None:
        """PING after ``ping_interval`` quiet seconds; no answer in ``ping_timeout``: dead."""
        cfg = self.config
        step = max(min(cfg.ping_interval, cfg.ping_timeout) / 4, 0.05)
        while conn.connected:
            await asyncio.sleep(step)
            quiet = self._clock() - self._last_rx
            if quiet > cfg.ping_interval + cfg.ping_timeout:
                log.warning("no answer from %s in %.0f s; reconnecting", cfg.host, quiet)
                with contextlib.suppress(Exception):
                    conn.disconnect("ping timeout")
                self._closed.set()
                return
            if quiet > cfg.ping_interval and not self._ping_out:
                self._ping_out = True
                self.bucket.charge()
                with contextlib.suppress(Exception):
                    conn.send_raw(f"PING :infrabot-{int(self._clock())}")

    # ----------------------------------------------------------------- output

    async def send(self, reply: Reply) -> None:
        """Send ``reply``: cleaned, addressed, split by bytes, paced fairly.

        Returns once every line is written to the socket; for a reply with a ``delivery_key``
        (a durable delivery), once the server's side has acknowledged it too. Raises
        :class:`TransportError` when a line could not be handed over: a target that is not one
        nick or channel (then nothing is written), the connection lost or the bot stopping
        first, lines left out of a full queue, or no chance to write within the send timeout.
        Lines to a nick are refused while the bot is not connected; lines to a channel wait
        for the connection, within the send timeout (see :mod:`.irc_output`).
        """
        rest = self.send_now(reply)
        if rest is not None:
            await rest

    def send_now(self, reply: Reply) -> Awaitable[None] | None:
        """:meth:`send` up to its first wait: lines the pacing allows now are written before
        this returns; what is left (lines paced out later, an acknowledgement) is returned."""
        lines: Sequence[str] = reply.lines
        if reply.mentions or type(lines) is not CleanLines:  # not known clean, or changed here
            lines = [c for c in (clean_line(line, None) for line in with_nicks(reply)) if c]
        if not lines:
            return None
        room = reply.room
        target = room.id
        self.shaper.check_target(target, private=room.private)
        asker = reply.in_reply_to.sender.name if reply.in_reply_to is not None else None
        addressed = asker if asker and reply.address_asker and not room.private else None
        linelen = self._conn.linelen if self._conn is not None else DEFAULT_LINELEN
        shaped = self.shaper.privmsgs(
            target, lines, asker=addressed, nick=self.nick, linelen=linelen
        )
        # Fair shares are per asker; a reply to nobody in particular (a page) is its target's.
        tickets = [self._enqueue(irc_lower(asker or target), shaped)]
        acknowledged = reply.delivery_key is not None
        if self.output.confirmed(tickets, acknowledged=acknowledged):
            return None
        return self.output.confirm(tickets, acknowledged=acknowledged)

    def _enqueue(self, flow: str, lines: Sequence[OutLine]) -> Ticket:
        channel = bool(lines) and lines[0].target.startswith(("#", "&", "!", "+"))
        limit = self.config.max_queued_lines if channel else self.config.max_private_lines
        return self.output.submit(flow, lines, limit)
