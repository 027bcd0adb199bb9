"""The IRC transport: one connection to one network, kept alive for as long as the bot runs.

It runs on ``irc.client_aio`` inside the app's own event loop. Around the library it adds
what a bot needs on a real network: capability negotiation and SASL PLAIN before
registration (:mod:`.irc_caps`; the asyncio client has neither), identity tracking
(:mod:`.irc_identity`), byte-safe splitting (:mod:`.irc_text`), targets checked by IRC's
grammar (:mod:`.irc_names`, :mod:`.irc_lines`), flood control, a fair output queue whose
sends return once the lines are written (:mod:`.irc_queue`, :mod:`.irc_output`), nick
recovery, a PING watchdog, and reconnection forever with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from irc.client import Event  # type: ignore[import-untyped]
from irc.client_aio import AioReactor  # type: ignore[import-untyped]

from infrabot.backoff import Backoff
from infrabot.config import IrcConfig
from infrabot.errors import TransportError
from infrabot.messages import Handles, IncomingMessage, Network, Reply, Room, Sender
from infrabot.rate_limit import TokenBucket, UserRateLimiter, Verdict
from infrabot.text import clean_line
from infrabot.transports.base import Deliver
from infrabot.transports.irc_caps import CapNegotiation
from infrabot.transports.irc_connection import IrcConnection, tls_context
from infrabot.transports.irc_identity import (
    AccountLookups,
    AccountTracker,
    account_from_tags,
    irc_lower,
    normalize_account,
)
from infrabot.transports.irc_lines import LineShaper, with_nicks
from infrabot.transports.irc_names import is_nick
from infrabot.transports.irc_output import SEND_TIMEOUT, Output
from infrabot.transports.irc_queue import FairQueue, OutLine, Ticket
from infrabot.transports.irc_text import DEFAULT_LINELEN

__all__ = ["IRC", "WANTED_CAPS", "IrcTransport"]

log = logging.getLogger(__name__)

IRC = Network("irc")
"""The network name of every IRC message and reply."""

WANTED_CAPS = ("message-tags", "account-tag", "extended-join", "account-notify", "multi-prefix")
"""IRCv3 capabilities requested whenever the server offers them (``sasl`` is asked apart)."""

_WHOX_CHANNEL_TOKEN = "71"
_WHOX_LOOKUP_TOKEN = "72"
_CAP_TIMEOUT = 10.0


class IrcTransport:
    """infrabot on one IRC network: see the module docstring for what it takes care of."""

    network = IRC

    def __init__(
        self,
        config: IrcConfig,
        *,
        prefix: str = "!",
        clock: Callable[[], float] = time.monotonic,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.config = config
        self.prefix = prefix
        self._clock = clock
        self.nick = config.nick
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
        # CTCP is answered by the transport itself: it gets a limit of its own (commands have
        # the router's, the same on every network)
        self.ctcp_limiter = UserRateLimiter(0.5, 5, clock=clock)
        self.account: str | None = None
        """The account the bot itself is logged in to, once services say so."""
        self.channels: set[str] = set()
        """Channels the bot is in right now (lower case)."""
        self.connections = 0
        """How many times the bot has registered on the network (1 + reconnects)."""
        self.registered = asyncio.Event()
        self._deliver: Deliver | None = None
        self._conn: IrcConnection | None = None
        self._closed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session_tasks: list[asyncio.Task[None]] = []
        self._sender_task: asyncio.Task[None] | None = None
        self._reset_session()

    # ----------------------------------------------------------------- lifecycle

    def _reset_session(self) -> None:
        self.account = None
        cfg = self.config
        password = cfg.sasl_password.get_secret_value() if cfg.sasl_password else ""
        sasl = (cfg.sasl_username, password) if cfg.sasl_username and password else None
        self.negotiation = CapNegotiation(WANTED_CAPS, sasl)
        """Capabilities and the SASL login of the current connection (:mod:`.irc_caps`)."""
        self._nick_tries = 0
        self.shaper = LineShaper()
        """This connection's line limits and the targets they allow (:mod:`.irc_lines`)."""
        self._stay_out: set[str] = set()
        self._last_rx = self._clock()
        self._ping_out = False
        self.tracker.clear()
        self.channels = set()
        self.registered.clear()

    async def run(self, deliver: Deliver) -> None:
        """Connect, and reconnect forever (backoff with jitter) until :meth:`stop`."""
        self._deliver = deliver
        self._stopping.clear()
        reactor = AioReactor(loop=asyncio.get_running_loop())
        self._sender_task = asyncio.create_task(self.output.run(), name="irc-sender")
        cfg = self.config
        backoff = Backoff(cfg.reconnect_min, max(cfg.reconnect_min, cfg.reconnect_max), jitter=0.5)
        try:
            while not self._stopping.is_set():
                was_registered = False
                try:
                    was_registered = await self._session(reactor)
                except (OSError, TimeoutError, ssl.SSLError) as exc:
                    log.warning(
                        "cannot connect to %s:%s: %s", self.config.host, self.config.port, exc
                    )
                finally:
                    await self._end_session()
                if self._stopping.is_set():
                    break
                if was_registered:
                    backoff.reset()  # a connection that worked: start again from the shortest
                wait = backoff.next_delay()
                log.info("reconnecting to %s in %.1f s", self.config.host, wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)
        finally:
            self.output.close("the bot is stopping")
            self._sender_task.cancel()
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

    # ----------------------------------------------------------------- people

    def mention_address(self, person: Handles) -> str | None:
        """The recorded nick: a highlight reaches whoever holds it, and says nothing private."""
        nick = person.irc_nick
        return nick if nick and is_nick(nick) else None

    async def private_address(self, person: Handles) -> str | None:
        """The nick of a client that services say is logged in as ``person``'s account right
        now; None when there is none. A nick alone is never enough. Raises
        :class:`TransportError` while not connected (the question cannot be asked).

        First the users we share a channel with (their accounts are kept current); else the
        server is asked (WHOX, or WHOIS) about the recorded nick and the account name used as
        a nick, and a nick is returned only if its account is the person's.
        """
        account = person.irc_account
        if not account:
            return None
        known = self.tracker.nick_of(account)
        conn = self._conn
        if known is not None:
            return known
        if conn is None or not self.registered.is_set():
            # nobody can vouch for anyone yet: a failure to retry, not "not logged in"
            raise TransportError("irc: not connected, so nobody can be vouched for yet")
        # A nick we share a channel with is already settled: nick_of found no account there.
        candidates = list(
            dict.fromkeys(
                n
                for n in (person.irc_nick, account)
                if n and is_nick(n) and not self.tracker.known(n)
            )
        )
        found = await asyncio.gather(*(self._lookup_account(conn, n) for n in candidates))
        for nick, logged_in in zip(candidates, found, strict=True):
            if logged_in is not None and irc_lower(logged_in) == irc_lower(account):
                return nick
        return None

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """Whether ``sender`` is logged in as ``person``'s services account (never by nick)."""
        return (
            sender.network == IRC
            and bool(sender.account and person.irc_account)
            and irc_lower(sender.account or "") == irc_lower(person.irc_account or "")
        )

    async def _session(self, reactor: AioReactor) -> bool:
        """One connection from connect to close; True when it got as far as registering."""
        self._reset_session()
        self._closed = asyncio.Event()
        if self._stopping.is_set():
            return False
        conn = IrcConnection(reactor, lambda event: self._on_event(conn, event))
        self._conn = conn
        cfg = self.config
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
            self._spawn(self._cap_guard(conn))
            registered = asyncio.ensure_future(self.registered.wait())
            closed = asyncio.ensure_future(self._closed.wait())
            try:
                await asyncio.wait({registered, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                registered.cancel()
                closed.cancel()
        if not self.registered.is_set():
            return False
        self._session_tasks = [
            asyncio.create_task(self._watchdog(conn), name="irc-watchdog"),
            asyncio.create_task(self._regain_nick(conn), name="irc-regain-nick"),
        ]
        await self._closed.wait()
        return True

    async def _end_session(self) -> None:
        for task in self._session_tasks:
            task.cancel()
        self._session_tasks = []
        conn, self._conn = self._conn, None
        if conn is not None and conn.connected:
            with contextlib.suppress(Exception):
                conn.disconnect("reconnecting")
        self.registered.clear()
        self.output.detach()
        self.lookups.abandon()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- events

    def _on_event(self, conn: IrcConnection, event: Event) -> None:
        if conn is not self._conn:
            return  # a late event from a connection we already gave up on
        handler = self._handlers.get(event.type)
        if event.type == "all_raw_messages":
            self._last_rx = self._clock()
            self._ping_out = False
            return
        if handler is not None:
            handler(self, conn, event)

    def _on_disconnect(self, conn: IrcConnection, event: Event) -> None:
        log.warning("disconnected from %s: %s", self.config.host, " ".join(event.arguments))
        self.registered.clear()
        self.output.detach()
        self._closed.set()

    def _on_ping(self, conn: IrcConnection, event: Event) -> None:
        conn.send_raw(f"PONG :{event.target}")

    def _on_error(self, conn: IrcConnection, event: Event) -> None:
        log.warning("server error: %s", event.target)

    # --- capability negotiation and SASL

    def _on_cap(self, conn: IrcConnection, event: Event) -> None:
        lines = self.negotiation.on_cap(
            list(event.arguments),
            registered=self.registered.is_set(),
            logged_in=self.account is not None,
        )
        self._send_all(conn, lines)

    def _on_authenticate(self, conn: IrcConnection, event: Event) -> None:
        self._send_all(conn, self.negotiation.on_authenticate(event.target))

    def _send_all(self, conn: IrcConnection, lines: list[str]) -> None:
        for line in lines:
            conn.send_raw(line)

    @property
    def caps(self) -> set[str]:
        """The capabilities the server acknowledged on this connection."""
        return self.negotiation.caps

    def _on_loggedin(self, conn: IrcConnection, event: Event) -> None:
        # 900 <nick> <nick!user@host> <account> :You are now logged in as <account>
        if len(event.arguments) >= 2:
            self.account = event.arguments[1]
            log.info("logged in to services as %s", self.account)

    def _on_sasl_success(self, conn: IrcConnection, event: Event) -> None:
        self._send_all(conn, self.negotiation.on_sasl_result(True))

    def _on_sasl_failure(self, conn: IrcConnection, event: Event) -> None:
        reason = f"{event.type}: {' '.join(event.arguments)}"
        self._send_all(conn, self.negotiation.on_sasl_result(False, reason))
        if self.registered.is_set():
            self._identify(conn)  # a late SASL try failed: NickServ is the way left
        self._spawn(self._retry_sasl_later(conn, 2.0 * (self.negotiation.retries + 1)))

    async def _retry_sasl_later(self, conn: IrcConnection, delay: float) -> None:
        """A few more SASL tries, spaced out, while the bot is not logged in."""
        await asyncio.sleep(delay)
        if conn is self._conn and conn.connected and self.account is None:
            self._send_all(conn, self.negotiation.retry_sasl())

    async def _cap_guard(self, conn: IrcConnection) -> None:
        """Never let a server that stalls negotiation hold registration forever."""
        await asyncio.sleep(_CAP_TIMEOUT)
        if conn is self._conn and conn.connected and not self.negotiation.done:
            log.warning("capability negotiation stalled; ending it")
            self._send_all(conn, self.negotiation.end())

    # --- registration, nick, channels

    def _on_welcome(self, conn: IrcConnection, event: Event) -> None:
        self.nick = event.target
        self.connections += 1
        log.info(
            "registered on %s as %s (connection %d)", self.config.host, self.nick, self.connections
        )
        if self.negotiation.sasl_state != "done":
            self._identify(conn)
        for channel in self.config.channels:
            self._join(conn, channel)
        self.registered.set()
        self.output.attach(conn)

    def _identify(self, conn: IrcConnection) -> None:
        """Log in the old way, by a message to NickServ, when that is configured."""
        if self.config.nickserv_password and self.account is None:
            account = self.config.sasl_username or self.config.nick
            secret = self.config.nickserv_password.get_secret_value()
            conn.send_raw(f"PRIVMSG NickServ :IDENTIFY {account} {secret}")

    def _on_isupport(self, conn: IrcConnection, event: Event) -> None:
        linelen = self.shaper.announce(list(event.arguments[:-1]))
        if linelen is not None:
            conn.linelen = linelen

    def _join(self, conn: IrcConnection, channel: str) -> None:
        key = self.config.channel_keys.get(channel)
        self.bucket.charge()
        if key is not None:
            conn.send_raw(f"JOIN {channel} {key.get_secret_value()}")
        else:
            conn.send_raw(f"JOIN {channel}")

    def _on_nick_taken(self, conn: IrcConnection, event: Event) -> None:
        if self.registered.is_set():
            return  # a regain attempt failed; keep the nick we have
        candidates = [*self.config.alt_nicks, self.config.nick + "_", self.config.nick + "__"]
        if self._nick_tries < len(candidates):
            nick = candidates[self._nick_tries]
        else:
            nick = f"{self.config.nick[:12]}{random.randint(100, 9999)}"
        self._nick_tries += 1
        log.warning(
            "nick %s is taken; trying %s", event.arguments[0] if event.arguments else "?", nick
        )
        conn.nick(nick)

    def _on_nick(self, conn: IrcConnection, event: Event) -> None:
        old, new = event.source.nick, event.target
        if irc_lower(old) == irc_lower(self.nick):
            self.nick = new
            log.info("now known as %s", new)
        else:
            self.tracker.renamed(old, new)
            # whoever holds the old nick next is someone else: nothing private goes to them
            self.output.withdraw_to(old, f"{old} changed nick")
            if irc_lower(old) == irc_lower(self.config.nick):
                self._try_regain(conn)

    def _on_quit(self, conn: IrcConnection, event: Event) -> None:
        nick = event.source.nick
        self.tracker.quit(nick)
        self.output.withdraw_to(nick, f"{nick} quit")
        if irc_lower(nick) == irc_lower(self.config.nick):
            self._try_regain(conn)

    def _try_regain(self, conn: IrcConnection) -> None:
        if irc_lower(self.nick) != irc_lower(self.config.nick) and self.registered.is_set():
            self.bucket.charge()
            conn.nick(self.config.nick)

    async def _regain_nick(self, conn: IrcConnection) -> None:
        """Now and then: take back the main nick, and log in if services were away."""
        while conn.connected:
            await asyncio.sleep(self.config.regain_nick_interval)
            self._try_regain(conn)
            self._retry_login(conn)
            self._rejoin_missing(conn)

    def _rejoin_missing(self, conn: IrcConnection) -> None:
        """Join again any configured channel we are not in (a failed join, a lost rejoin).

        A channel we were kicked from stays left when ``rejoin_on_kick`` is off.
        """
        if not self.registered.is_set():
            return
        for channel in self.config.channels:
            name = irc_lower(channel)
            if name not in self.channels and name not in self._stay_out:
                self._join(conn, channel)

    def _retry_login(self, conn: IrcConnection) -> None:
        """Ask again for capabilities when SASL was not offered at connect time.

        Servers with cap-notify say ``CAP NEW sasl`` when services link; for the others,
        a fresh ``CAP LS`` shows whether SASL is there now.
        """
        if self.registered.is_set() and self.negotiation.should_ask_again(self.account is not None):
            self.bucket.charge()
            conn.send_raw("CAP LS 302")

    def _on_join(self, conn: IrcConnection, event: Event) -> None:
        nick, channel = event.source.nick, event.target
        extended = "extended-join" in self.caps
        if irc_lower(nick) == irc_lower(self.nick):
            self.channels.add(irc_lower(channel))
            self.shaper.user, self.shaper.host = event.source.user, event.source.host
            log.info("joined %s", channel)
            if not extended or "account-notify" not in self.caps:
                self._who_channel(conn, channel)
            return
        account = event.arguments[0] if extended and event.arguments else None
        self.tracker.joined(nick, channel, account, extended=extended)

    def _who_channel(self, conn: IrcConnection, channel: str) -> None:
        if "WHOX" in self.shaper.isupport:
            self.bucket.charge()
            conn.send_raw(f"WHO {channel} %tna,{_WHOX_CHANNEL_TOKEN}")

    def _on_join_refused(self, conn: IrcConnection, event: Event) -> None:
        # 471/473/474/475 <me> <channel> :reason; we try again every regain_nick_interval.
        channel = event.arguments[0] if event.arguments else "?"
        log.warning("cannot join %s: %s (%s)", channel, event.arguments[-1:], event.type)

    def _on_namreply(self, conn: IrcConnection, event: Event) -> None:
        if len(event.arguments) >= 3:
            channel = event.arguments[1]
            for name in event.arguments[2].split():
                self.tracker.seen_in(name.lstrip("~&@%+"), channel)

    def _on_part(self, conn: IrcConnection, event: Event) -> None:
        nick, channel = event.source.nick, event.target
        if irc_lower(nick) == irc_lower(self.nick):
            self.channels.discard(irc_lower(channel))
            self.tracker.we_left(channel)
        else:
            self.tracker.parted(nick, channel)

    def _on_kick(self, conn: IrcConnection, event: Event) -> None:
        channel = event.target
        kicked = event.arguments[0] if event.arguments else ""
        if irc_lower(kicked) != irc_lower(self.nick):
            self.tracker.parted(kicked, channel)
            return
        self.channels.discard(irc_lower(channel))
        self.tracker.we_left(channel)
        log.warning("kicked from %s by %s: %s", channel, event.source.nick, event.arguments[1:])
        if self.config.rejoin_on_kick:
            self._spawn(self._rejoin_later(conn, channel))
        else:
            self._stay_out.add(irc_lower(channel))

    async def _rejoin_later(self, conn: IrcConnection, channel: str) -> None:
        await asyncio.sleep(self.config.rejoin_delay)
        if conn is self._conn and conn.connected and irc_lower(channel) not in self.channels:
            self._join(conn, channel)

    # --- identity

    def _on_account(self, conn: IrcConnection, event: Event) -> None:
        self.tracker.set_account(event.source.nick, event.target)

    def _on_whox(self, conn: IrcConnection, event: Event) -> None:
        # 354 <me> <token> <nick> <account>
        args = event.arguments
        if len(args) >= 3 and args[0] in (_WHOX_CHANNEL_TOKEN, _WHOX_LOOKUP_TOKEN):
            self.tracker.set_account(args[1], args[2])  # kept only if we share a channel
            if args[0] == _WHOX_LOOKUP_TOKEN:
                self.lookups.answer(args[1], normalize_account(args[2]))

    def _on_whois_account(self, conn: IrcConnection, event: Event) -> None:
        # 330 <me> <nick> <account> :is logged in as
        if len(event.arguments) >= 2:
            self.lookups.answer(event.arguments[0], event.arguments[1])

    def _on_lookup_end(self, conn: IrcConnection, event: Event) -> None:
        # 315 end of WHO / 318 end of WHOIS: whoever was not answered has no account.
        if event.arguments:
            self.lookups.answer(event.arguments[0], None)

    async def _lookup_account(self, conn: IrcConnection, nick: str) -> str | None:
        """Ask the server which account ``nick`` is logged in to (WHOX, else WHOIS)."""

        def question() -> None:
            self.bucket.charge()
            if "WHOX" in self.shaper.isupport:
                conn.send_raw(f"WHO {nick} %tna,{_WHOX_LOOKUP_TOKEN}")
            else:
                conn.send_raw(f"WHOIS {nick}")

        return await self.lookups.ask(nick, question)

    def _known_account(
        self, nick: str, event: Event, channel: str | None
    ) -> tuple[bool, str | None]:
        """(True, account) when the event or our state settles it; (False, None) to ask."""
        if "account-tag" in self.caps:
            account = account_from_tags(event.tags)
            if channel is not None:
                self.tracker.seen_in(nick, channel)
            self.tracker.set_account(nick, account)
            return True, account
        if "account-notify" in self.caps and self.tracker.known(nick):
            return True, self.tracker.account(nick)
        return False, None

    # --- messages and CTCP

    def _on_message(self, conn: IrcConnection, event: Event) -> None:
        nick = event.source.nick
        if not nick or irc_lower(nick) == irc_lower(self.nick):
            return
        private = event.type == "privmsg"
        text: str = event.arguments[0] if event.arguments else ""
        if not self._is_command(text, private):
            return
        channel = None if private else event.target
        settled, account = self._known_account(nick, event, channel)
        room = Room(IRC, nick if private else event.target, private=private)
        msgid = next((t.get("value") for t in event.tags or () if t.get("key") == "msgid"), None)
        if settled:
            self._spawn(self._dispatch(nick, account, room, text, msgid))
        else:
            self._spawn(self._lookup_and_dispatch(conn, nick, room, text, msgid))

    def _is_command(self, text: str, private: bool) -> bool:
        if private or (self.prefix and text.startswith(self.prefix)):
            return True
        head = text[: len(self.nick) + 1]
        return irc_lower(head[:-1]) == irc_lower(self.nick) and head[-1:] in (":", ",")

    async def _lookup_and_dispatch(
        self, conn: IrcConnection, nick: str, room: Room, text: str, msgid: str | None
    ) -> None:
        account = await self._lookup_account(conn, nick)
        await self._dispatch(nick, account, room, text, msgid)

    async def _dispatch(
        self, nick: str, account: str | None, room: Room, text: str, msgid: str | None
    ) -> None:
        if self._deliver is None:
            return
        message = IncomingMessage(
            sender=Sender(network=IRC, name=nick, account=account, address=nick),
            room=room,
            text=text,
            bot_name=self.nick,
            event_id=msgid,
        )
        try:
            await self._deliver(message)
        except TransportError as exc:  # a full queue in a flood, a lost connection: said once
            log.info("could not answer %s in %s: %s", nick, room.id, exc)
        except Exception:
            log.exception("failed to answer %s in %s", nick, room.id)

    def _on_ctcp(self, conn: IrcConnection, event: Event) -> None:
        nick = event.source.nick
        kind = event.arguments[0].upper() if event.arguments else ""
        if kind not in ("VERSION", "PING"):
            return
        if (
            self.ctcp_limiter.check(irc_lower(f"{event.source.user}@{event.source.host}"))
            != Verdict.ALLOW
        ):
            return
        if kind == "VERSION":
            body = f"VERSION {clean_line(self.config.version, None)}"
        else:
            param = clean_line(event.arguments[1] if len(event.arguments) > 1 else "", None)[:64]
            body = f"PING {param}".rstrip()
        self._enqueue(irc_lower(nick), [OutLine("NOTICE", nick, f"\x01{body}\x01")])

    # --- staying alive

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
        """Send ``reply``: cleaned, addressed, split by bytes, private when long, paced fairly.

        Returns once every line is written to the socket; for a reply with a ``delivery_key``
        (a durable delivery), once the server's side has acknowledged it too. Raises
        :class:`TransportError` when a line could not be handed over: a target that is not one
        nick or channel (then nothing is written), the connection lost or the bot stopping
        first, lines left out of a full queue, or no chance to write within the send timeout.
        Lines to a nick are refused while the bot is not connected; lines to a channel wait
        for the connection, within the send timeout (see :mod:`.irc_output`).
        """
        lines = [clean for clean in (clean_line(line, None) for line in with_nicks(reply)) if clean]
        if not lines:
            return
        target = reply.room.id
        self.shaper.check_target(target, private=reply.room.private)
        asker = reply.in_reply_to.sender.name if reply.in_reply_to is not None else None
        # Fair shares are per asker; a reply to nobody in particular (a page) is its target's.
        flow = irc_lower(asker or target)
        if reply.room.private or not asker:
            tickets = [self._enqueue(flow, self._privmsgs(target, lines))]
        else:
            tickets = self._answer_in_channel(reply, target, asker, flow, lines)
        acknowledged = reply.delivery_key is not None
        if not self.output.confirmed(tickets, acknowledged=acknowledged):
            await self.output.confirm(tickets, acknowledged=acknowledged)

    def _answer_in_channel(
        self, reply: Reply, target: str, asker: str, flow: str, lines: list[str]
    ) -> list[Ticket]:
        addressed = [f"{asker}: {line}" for line in lines] if reply.address_asker else lines
        out = self._privmsgs(target, addressed)
        if len(out) <= self.config.channel_max_lines:
            return [self._enqueue(flow, out)]
        # Too long for the channel: the whole answer in private, a pointer in the channel.
        self.shaper.check_target(asker, private=True)
        private = self._privmsgs(asker, lines)
        pointer = f"{asker}: that answer is {len(private)} lines; I sent it to you in private"
        in_private = self._enqueue(flow, private)
        return [in_private, self._enqueue(flow, self._privmsgs(target, [pointer]))]

    def _privmsgs(self, target: str, lines: list[str]) -> list[OutLine]:
        linelen = self._conn.linelen if self._conn is not None else DEFAULT_LINELEN
        return self.shaper.privmsgs(target, lines, nick=self.nick, linelen=linelen)

    def _enqueue(self, flow: str, lines: list[OutLine]) -> Ticket:
        channel = bool(lines) and lines[0].target.startswith(("#", "&", "!", "+"))
        limit = self.config.max_queued_lines if channel else self.config.max_private_lines
        return self.output.submit(flow, lines, limit)

    _handlers: ClassVar[dict[str, Callable[[IrcTransport, IrcConnection, Event], None]]] = {
        "disconnect": _on_disconnect,
        "ping": _on_ping,
        "error": _on_error,
        "cap": _on_cap,
        "authenticate": _on_authenticate,
        "loggedin": _on_loggedin,
        "saslsuccess": _on_sasl_success,
        "saslfail": _on_sasl_failure,
        "sasltoolong": _on_sasl_failure,
        "saslaborted": _on_sasl_failure,
        "saslalready": _on_sasl_success,
        "welcome": _on_welcome,
        "featurelist": _on_isupport,
        "nicknameinuse": _on_nick_taken,
        "erroneusnickname": _on_nick_taken,
        "unavailresource": _on_nick_taken,
        "nickcollision": _on_nick_taken,
        "nick": _on_nick,
        "quit": _on_quit,
        "join": _on_join,
        "namreply": _on_namreply,
        "channelisfull": _on_join_refused,
        "inviteonlychan": _on_join_refused,
        "bannedfromchan": _on_join_refused,
        "badchannelkey": _on_join_refused,
        "part": _on_part,
        "kick": _on_kick,
        "account": _on_account,
        "whospcrpl": _on_whox,
        "whoisaccount": _on_whois_account,
        "endofwho": _on_lookup_end,
        "endofwhois": _on_lookup_end,
        "pubmsg": _on_message,
        "privmsg": _on_message,
        "ctcp": _on_ctcp,
    }
