"""Pages: created from chat or alerts, delivered everywhere, escalated until acknowledged.

Everything a page needs to survive a crash is in the store: the page, its escalation step and
deadline, its history, and a claim for every delivery. Each delivery is claimed before it is
made, so a restarted bot finishes an interrupted step without repeating what was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from infrabot.config import PagingConfig
from infrabot.errors import CommandError, PagingError
from infrabot.inventory.index import Index
from infrabot.messages import IncomingMessage, Mention, Network, Reply, Room, Sender
from infrabot.paging.channels import EmailSender, WebhookSender
from infrabot.paging.plan import Level, Recipient, plan_for, resolve_target
from infrabot.store import PageRecord, Store
from infrabot.transports.base import People

__all__ = ["PageRequest", "Pager"]

log = logging.getLogger(__name__)

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud at 3 a.m.


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page waiting for its requester's confirmation (it reaches many people)."""

    kind: str
    target: str
    reason: str
    message: IncomingMessage
    count: int
    expires: float


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    return f"{seconds / 3600:.1f} h ago"


class Pager:
    """Creates pages, delivers them on every network, and escalates the unacknowledged."""

    def __init__(
        self,
        *,
        store: Store,
        index: Callable[[], Index],
        send: Callable[[Reply], Awaitable[None]],
        people: Callable[[], Mapping[Network, People]],
        config: PagingConfig,
        email: EmailSender | None = None,
        webhook: WebhookSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config
        self._index = index
        self._send = send
        self._people = people
        self._email = email
        self._webhook = webhook
        self._clock = clock
        self._wake = asyncio.Event()
        self._recent: dict[str, deque[float]] = {}
        self._pending: dict[str, PageRequest] = {}

    # --- chat commands ---

    async def page(self, message: IncomingMessage, args: str) -> list[Reply]:
        """``!page <target> <reason>``: create (or merge) a page and deliver its first step."""
        sender = message.sender
        if self.config.require_identified and not sender.account:
            raise PagingError("paging needs an identified sender: log in to your account first")
        words = args.split()
        if not words:
            raise PagingError("page whom? !page <service|person|group> <what is wrong>")
        kind, target, used = resolve_target(self._index(), words)
        reason = " ".join(words[used:])
        if not reason:
            raise PagingError(f"what is wrong with {target}? !page {words[0]} <reason>")
        merged = self._merge(target, reason, message)
        if merged:
            return [self._reply(message, merged)]
        self._check_rate(message)
        levels = self._plan(kind, target)
        count = len(levels[0].recipients)
        if count > self.config.confirm_over:
            key = _requester(message)
            self._pending[key] = PageRequest(
                kind, target, reason, message, count, self._clock() + 300
            )
            return [
                self._reply(
                    message,
                    [
                        f"this would page {count} people ({levels[0].label}); "
                        "say !page confirm within 5 minutes to go ahead"
                    ],
                )
            ]
        return [await self._create(kind, target, reason, message, levels)]

    async def confirm(self, message: IncomingMessage) -> list[Reply]:
        """``!page confirm``: send the page the requester was asked to confirm."""
        request = self._pending.pop(_requester(message), None)
        if request is None or request.expires < self._clock():
            raise PagingError("nothing to confirm: no page of yours is waiting")
        levels = self._plan(request.kind, request.target)
        return [await self._create(request.kind, request.target, request.reason, message, levels)]

    async def ack(self, message: IncomingMessage, page_id: str, *, is_admin: bool) -> str:
        """``!ack <id>``: stop escalation, by a paged person or an admin."""
        page = self._get(page_id)
        if page.state != "open":
            return f"{page.id} is already {page.state}"
        if not (is_admin or self._is_paged(page, message)):
            raise PagingError(
                f"only the people paged by {page.id}, or an admin, can acknowledge it"
            )
        who = _who(message)
        self.store.update_page(
            page.id, ("acked", f"acknowledged by {who}"), state="acked", next_at=None
        )
        self._wake.set()
        await self._announce(page, f"{page.id} ({page.target}) acknowledged by {who}")
        return f"acknowledged {page.id} ({page.target}); escalation stopped"

    async def resolve(
        self, message: IncomingMessage | None, page_id: str, note: str, *, is_admin: bool
    ) -> str:
        """``!resolve <id> [note]``: close a page (a paged person, its requester, an admin)."""
        page = self._get(page_id)
        if page.state == "resolved":
            return f"{page.id} is already resolved"
        if message is not None and not (
            is_admin
            or self._is_paged(page, message)
            or (message.sender.account and message.sender.account == page.requester_account)
        ):
            raise PagingError(
                f"only the people paged by {page.id}, its requester or an admin can resolve it"
            )
        who = _who(message) if message else "the alert source"
        detail = f"resolved by {who}" + (f": {note}" if note else "")
        self.store.update_page(
            page.id,
            ("resolved", detail),
            state="resolved",
            next_at=None,
            closed_by=who,
            closed_at=self._clock(),
            note=note or None,
        )
        self._wake.set()
        await self._announce(page, f"{page.id} ({page.target}) {detail}")
        return f"resolved {page.id} ({page.target})"

    def listing(self) -> list[str]:
        """``!pages``: the open and acknowledged pages."""
        pages = self.store.unclosed_pages()
        if not pages:
            return ["no open pages"]
        now = self._clock()
        return [
            f"{p.id} {p.target}: {p.reason} · {p.state}, step {p.level}, {_ago(now - p.created_at)}"
            for p in pages
        ]

    def info(self, page_id: str) -> list[str]:
        """``!page-info <id>``: a page and its history."""
        page = self._get(page_id)
        head = (
            f"{page.id} {page.target} ({page.target_kind}): {page.reason} · {page.state} · "
            f"asked by {page.requester} in {page.origin_room}"
        )
        events = self.store.page_events(page.id)
        lines = [head]
        for event in events:
            stamp = time.strftime("%H:%M:%S", time.gmtime(event.at))
            lines.append(f"{stamp} {event.kind}: {event.detail}")
        return lines

    # --- alerts ---

    async def alert(
        self, *, service: str, summary: str, severity: str, firing: bool, key: str
    ) -> str:
        """An alert from monitoring: announce it, page for serious ones, resolve when it clears."""
        open_page = next((p for p in self.store.unclosed_pages() if p.alert_key == key), None)
        if not firing:
            if open_page is None:
                await self._announce_alert(f"RESOLVED {service}: {summary}")
                return "resolved (no open page)"
            await self.resolve(None, open_page.id, f"alert cleared: {summary}", is_admin=True)
            return f"resolved {open_page.id}"
        if open_page is not None:
            return f"already paging as {open_page.id}"
        await self._announce_alert(f"ALERT [{severity}] {service}: {summary}")
        if severity.lower() not in {s.lower() for s in self.config.page_severities}:
            return "announced"
        index = self._index()
        kind, target, _ = resolve_target(index, service.split())
        origin = self.config.announce[0] if self.config.announce else None
        if origin is None:
            raise PagingError("no room is configured to announce pages in (paging.announce)")
        net = Network(origin.network)
        message = IncomingMessage(
            sender=Sender(network=net, name="alertmanager", account=None, address="alertmanager"),
            room=Room(network=net, id=origin.room),
            text=summary,
        )
        reply = await self._create(
            kind,
            target,
            f"[{severity}] {summary}",
            message,
            self._plan(kind, target),
            alert_key=key,
        )
        await self._send(reply)
        return f"paged as {reply.lines[0].split()[1]}"

    # --- escalation ---

    async def run(self) -> None:
        """Finish interrupted deliveries, then escalate unacknowledged pages on time, forever."""
        for page in self.store.unclosed_pages():
            if page.state == "open":
                await self._deliver(page, page.level, resumed=True)
        while True:
            now = self._clock()
            deadlines: list[float] = []
            for page in self.store.unclosed_pages():
                if page.state != "open" or page.next_at is None:
                    continue
                if page.next_at <= now:
                    await self._escalate(page)
                    deadlines.append(now + self.config.escalate_after)
                else:
                    deadlines.append(page.next_at)
            wait = min(deadlines) - self._clock() if deadlines else 60.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, min(wait, 60.0))):
                    await self._wake.wait()

    async def _escalate(self, page: PageRecord) -> None:
        levels = self._plan(page.target_kind, page.target)
        step = page.level + 1
        level = levels[min(step, len(levels) - 1)]
        verb = "escalating to" if step < len(levels) else "reminding"
        detail = f"{verb} {level.label}"
        self.store.update_page(
            page.id,
            ("escalated" if step < len(levels) else "reminded", detail),
            level=step,
            next_at=self._clock() + self.config.escalate_after,
        )
        fresh = self.store.page(page.id)
        assert fresh is not None
        waited = _duration(self.config.escalate_after)
        preface = f"{page.id} ({page.target}) not acknowledged after {waited}: {detail}"
        await self._deliver(fresh, step, preface=preface)

    # --- delivery ---

    async def _create(
        self,
        kind: str,
        target: str,
        reason: str,
        message: IncomingMessage,
        levels: tuple[Level, ...],
        alert_key: str | None = None,
    ) -> Reply:
        now = self._clock()
        page = PageRecord(
            id=self._new_id(),
            target=target,
            target_kind=kind,
            reason=reason,
            requester=_who(message),
            requester_account=message.sender.account,
            origin_network=message.room.network,
            origin_room=message.room.id,
            state="open",
            level=0,
            created_at=now,
            next_at=now + self.config.escalate_after,
            alert_key=alert_key,
        )
        self.store.add_page(page, f"{reason} (asked by {page.requester})")
        self._recent.setdefault(_requester(message), deque()).append(now)
        self._wake.set()
        announcement = await self._deliver(page, 0, announce=False)
        return Reply(
            room=message.room,
            lines=tuple(announcement.lines),
            in_reply_to=message,
            mentions=announcement.mentions,
            address_asker=False,
        )

    async def _deliver(
        self,
        page: PageRecord,
        step: int,
        *,
        announce: bool = True,
        resumed: bool = False,
        preface: str | None = None,
    ) -> Reply:
        """Make every delivery of ``step`` not made yet; return the channel highlight."""
        levels = self._plan(page.target_kind, page.target)
        level = levels[min(step, len(levels) - 1)]
        networks = dict(self._people())
        highlight = self._highlight(page, level, networks, preface)
        if announce:
            keyed = replace(highlight, delivery_key=_delivery_key(page, step, "#room", "announce"))
            await self._once(page, step, "#room", "announce", self._send_reply(keyed))
        elif self.store.claim_delivery(page.id, step, "#room", "announce"):
            # the first step's highlight is the command's own reply, sent by the router
            self.store.delivered(page.id, step, "#room", "announce")
        text = (
            f"PAGE {page.id} for {page.target}: {page.reason} (asked by {page.requester} "
            f"in {page.origin_room}). Reply !ack {page.id} to acknowledge."
        )
        for person in level.recipients:
            for network in sorted(networks):
                await self._once(
                    page,
                    step,
                    person.name,
                    network,
                    self._send_private(page, step, person, networks[network], text),
                )
            if self._email and person.email:
                subject = f"[page {page.id}] {page.target}"
                sending = self._email.send(person.email, subject, text)
                await self._once(page, step, person.name, "email", sending)
        if self._webhook:
            payload = {
                "page": page.id,
                "target": page.target,
                "kind": page.target_kind,
                "reason": page.reason,
                "step": step,
                "level": level.label,
                "recipients": [p.name for p in level.recipients],
                "requester": page.requester,
            }
            await self._once(page, step, "*", "webhook", self._webhook.send(payload))
        if resumed:
            log.info("resumed deliveries of %s step %d", page.id, step)
        return highlight

    async def _send_private(
        self, page: PageRecord, step: int, person: Recipient, people: People, text: str
    ) -> bool:
        """The page's text to ``person`` in private, where the network vouches it is them.

        A nick anyone can hold is not enough (it gets the channel highlight only); returns
        False, sending nothing, when the network cannot vouch for a private address now.
        """
        address = await people.private_address(person.handles)
        if address is None:
            if people.mention_address(person.handles):
                detail = f"{person.name} on {people.network}: nobody logged in as them"
                self.store.update_page(page.id, ("unreached", detail))
            return False
        room = Room(network=people.network, id=address, private=True)
        key = _delivery_key(page, step, person.name, people.network)
        await self._send(Reply(room=room, lines=(text,), address_asker=False, delivery_key=key))
        return True

    async def _send_reply(self, reply: Reply) -> bool:
        await self._send(reply)
        return True

    async def _once(
        self,
        page: PageRecord,
        step: int,
        recipient: str,
        channel: str,
        sending: Awaitable[bool | None],
    ) -> None:
        """Make one delivery unless an earlier run made it: claim, send, confirm.

        A delivery is confirmed only once the network has it (the transport's ``send``
        returned). When sending fails, the claim stays unconfirmed and the failure goes into
        the page's history: a restarted bot tries that delivery again. A delivery with nowhere
        to go (``sending`` gives False) is confirmed as settled, so it is not retried.
        """
        if not self.store.claim_delivery(page.id, step, recipient, channel):
            if inspect.iscoroutine(sending):
                sending.close()  # already delivered: never started, never sent
            return
        try:
            await sending
        except Exception as exc:  # one network failing must not stop the others' deliveries
            log.warning("%s: delivery to %s by %s failed: %s", page.id, recipient, channel, exc)
            what = channel if recipient == "*" else f"{channel} to {recipient}"
            self.store.update_page(page.id, ("delivery failed", f"{what}: {exc}"))
            return
        self.store.delivered(page.id, step, recipient, channel)

    def _highlight(
        self,
        page: PageRecord,
        level: Level,
        networks: Mapping[Network, People],
        preface: str | None,
    ) -> Reply:
        network = page.origin_network
        origin = networks.get(Network(network))
        mentions = []
        shown = []
        for person in level.recipients:
            address = origin.mention_address(person.handles) if origin else None
            if address:
                mentions.append(Mention(address=address, name=person.name))
                shown.append(address if network == "irc" else person.name)
            else:
                shown.append(person.name)
        who = ", ".join(shown) or "nobody recorded"
        first = preface or f"PAGE {page.id} for {page.target}: {page.reason}"
        lines = [f"{first} · {level.label}: {who} · !ack {page.id} to acknowledge"]
        unreachable = [p.name for p in level.recipients if not _reachable(p, networks, self._email)]
        if unreachable or not level.recipients:
            fallback = ", ".join(level.fallbacks) or "no other contact recorded"
            names = ", ".join(unreachable) if unreachable else "anyone"
            lines.append(f"No chat handle recorded for {names}; try {fallback}")
        room = Room(network=Network(network), id=page.origin_room)
        return Reply(room=room, lines=tuple(lines), mentions=tuple(mentions), address_asker=False)

    async def _announce(self, page: PageRecord, text: str) -> None:
        room = Room(network=Network(page.origin_network), id=page.origin_room)
        await self._safe_send(Reply(room=room, lines=(text,), address_asker=False))

    async def _announce_alert(self, text: str) -> None:
        for ref in self.config.announce:
            room = Room(network=Network(ref.network), id=ref.room)
            await self._safe_send(Reply(room=room, lines=(text,), address_asker=False))

    async def _safe_send(self, reply: Reply) -> None:
        try:
            await self._send(reply)
        except Exception:  # one network failing must not stop the others' deliveries
            log.exception("page delivery to %s on %s failed", reply.room.id, reply.room.network)

    # --- helpers ---

    def _plan(self, kind: str, target: str) -> tuple[Level, ...]:
        index = self._index()
        try:
            return plan_for(index, kind, target)
        except (CommandError, PagingError):
            # the target left the inventory since the page was made: the team still hears of it
            team = index.team
            if team is None:
                raise PagingError(f"{target} is not in the inventory any more") from None
            return plan_for(index, "group", team.name)

    def _merge(self, target: str, reason: str, message: IncomingMessage) -> list[str] | None:
        now = self._clock()
        for page in self.store.unclosed_pages():
            if page.target == target and now - page.created_at <= self.config.merge_window:
                who = _who(message)
                self.store.update_page(page.id, ("merged", f"{reason} (from {who})"))
                return [
                    f"{target} is already paged as {page.id} ({_ago(now - page.created_at)}, "
                    f"{page.state}); added your note to it"
                ]
        return None

    def _check_rate(self, message: IncomingMessage) -> None:
        key = _requester(message)
        window = self._recent.setdefault(key, deque())
        now = self._clock()
        while window and now - window[0] > self.config.rate_window:
            window.popleft()
        if len(window) >= self.config.rate_limit:
            wait = int(self.config.rate_window - (now - window[0])) + 1
            raise PagingError(
                f"you have paged {len(window)} times recently; wait {wait} s, or ask an admin"
            )

    def _is_paged(self, page: PageRecord, message: IncomingMessage) -> bool:
        levels = self._plan(page.target_kind, page.target)
        sender = message.sender
        people = self._people().get(sender.network)
        if people is None:
            return False
        return any(
            people.is_person(sender, r.handles)
            for level in levels[: page.level + 1]
            for r in level.recipients
        )

    def _get(self, page_id: str) -> PageRecord:
        page = self.store.page(page_id.strip().lower())
        if page is None:
            raise PagingError(f"no page '{page_id.strip()[:20]}'; !pages lists the open ones")
        return page

    def _new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
            if self.store.page(candidate) is None:
                return candidate

    def _reply(self, message: IncomingMessage, lines: list[str]) -> Reply:
        return Reply(room=message.room, lines=tuple(lines), in_reply_to=message)


def _requester(message: IncomingMessage) -> str:
    sender = message.sender
    return f"{sender.network}:{sender.account or sender.name}"


def _who(message: IncomingMessage) -> str:
    sender = message.sender
    if sender.account and sender.account != sender.name:
        return f"{sender.name} ({sender.account})"
    return sender.name


def _reachable(
    person: Recipient, networks: Mapping[Network, People], email: EmailSender | None
) -> bool:
    """Whether the inventory gives any network (or email) a way to reach ``person``."""
    return any(n.mention_address(person.handles) for n in networks.values()) or bool(
        email and person.email
    )


def _delivery_key(page: PageRecord, step: int, recipient: str, channel: str) -> str:
    """The same for every attempt at one delivery, so a network can drop a repeat."""
    return f"page.{page.id}.{step}.{recipient}.{channel}"
