"""Pages: created from chat or alerts, delivered everywhere, escalated until acknowledged.

The pager decides and records; it answers with facts (:mod:`infrabot.paging.facts`) that the
``page`` plugin words for people. Everything a page needs to survive a crash is in the store:
the page, its step and deadline, its history, and a claim for every delivery
(:mod:`.delivery`); the escalation loop (:mod:`.escalation`) picks up from there after a
restart.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from infrabot.config import PagingConfig
from infrabot.errors import PagingError
from infrabot.inventory.index import Index
from infrabot.messages import IncomingMessage, Network, Reply
from infrabot.paging.channels import EmailSender, WebhookSender
from infrabot.paging.delivery import Deliveries
from infrabot.paging.escalation import Escalation
from infrabot.paging.facts import (
    Closed,
    Created,
    Merged,
    NeedsConfirmation,
    PageNotFound,
    PageOutcome,
    ReasonMissing,
)
from infrabot.paging.notices import Notices
from infrabot.paging.plan import Level, plan_or_team, resolve_target
from infrabot.store import PageEvent, PageRecord, Store
from infrabot.transports.base import People

__all__ = ["PageRequest", "Pager"]

log = logging.getLogger(__name__)

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud at 3 a.m.
_CONFIRM_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page waiting for its requester's confirmation (it reaches many people)."""

    kind: str
    target: str
    reason: str
    message: IncomingMessage
    count: int
    expires: float


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
        prefix: str = "!",
        email: EmailSender | None = None,
        webhook: WebhookSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config
        self._index = index
        self._people = people
        self.clock = clock
        """The time pages are stamped with."""
        self.deliveries = Deliveries(
            store=store,
            send=send,
            people=people,
            notices=Notices(prefix),
            email=email,
            webhook=webhook,
        )
        self.escalation = Escalation(
            store=store,
            plan=self._plan,
            deliveries=self.deliveries,
            after=config.escalate_after,
            clock=clock,
        )
        self._recent: dict[str, deque[float]] = {}
        self._pending: dict[str, PageRequest] = {}

    # --- chat commands ---

    async def page(self, message: IncomingMessage, words: list[str]) -> PageOutcome:
        """Page the target the leading ``words`` name, for the reason the rest give."""
        if self.config.require_identified and not message.sender.account:
            raise PagingError("paging needs an identified sender: log in to your account first")
        kind, target, used = resolve_target(self._index(), words)
        reason = " ".join(words[used:])
        if not reason:
            raise ReasonMissing(target, words[0])
        merged = self._merge(target, reason, message)
        if merged is not None:
            return merged
        self._check_rate(message)
        levels = self._plan(kind, target)
        count = len(levels[0].recipients)
        if count > self.config.confirm_over:
            expires = self.clock() + _CONFIRM_SECONDS
            request = PageRequest(kind, target, reason, message, count, expires)
            self._pending[_requester(message)] = request
            return NeedsConfirmation(count, levels[0].label, _CONFIRM_SECONDS)
        return await self._create(kind, target, reason, message, levels)

    async def confirm(self, message: IncomingMessage) -> Created:
        """Send the page the requester was asked to confirm."""
        request = self._pending.pop(_requester(message), None)
        if request is None or request.expires < self.clock():
            raise PagingError("nothing to confirm: no page of yours is waiting")
        levels = self._plan(request.kind, request.target)
        return await self._create(request.kind, request.target, request.reason, message, levels)

    async def ack(self, message: IncomingMessage, page_id: str, *, is_admin: bool) -> Closed:
        """Stop a page's escalation: by a paged person or an admin."""
        page = self.page_by_id(page_id)
        if page.state != "open":
            return Closed(page, already=True)
        if not (is_admin or self._is_paged(page, message)):
            raise PagingError(
                f"only the people paged by {page.id}, or an admin, can acknowledge it"
            )
        detail = f"acknowledged by {_who(message)}"
        self.store.update_page(page.id, ("acked", detail), state="acked", next_at=None)
        self.escalation.wake()
        await self.deliveries.announce(page, self.deliveries.notices.closed(page, detail))
        return Closed(self.page_by_id(page.id))

    async def resolve(
        self, message: IncomingMessage | None, page_id: str, note: str, *, is_admin: bool
    ) -> Closed:
        """Close a page: by a paged person, its requester, an admin, or (``message`` None)
        the alert source."""
        page = self.page_by_id(page_id)
        if page.state == "resolved":
            return Closed(page, already=True)
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
            closed_at=self.clock(),
            note=note or None,
        )
        self.escalation.wake()
        await self.deliveries.announce(page, self.deliveries.notices.closed(page, detail))
        return Closed(self.page_by_id(page.id))

    def unclosed(self) -> list[PageRecord]:
        """The open and acknowledged pages, oldest first."""
        return self.store.unclosed_pages()

    def history(self, page_id: str) -> tuple[PageRecord, list[PageEvent]]:
        """A page and its history, oldest first."""
        page = self.page_by_id(page_id)
        return page, self.store.page_events(page.id)

    def page_by_id(self, page_id: str) -> PageRecord:
        """The page with ``page_id`` (any case); :class:`PageNotFound` when there is none."""
        page = self.store.page(page_id.strip().lower())
        if page is None:
            raise PageNotFound(page_id.strip()[:20])
        return page

    # --- alerts ---

    async def open_alert_page(
        self, kind: str, target: str, reason: str, message: IncomingMessage, alert_key: str
    ) -> Created:
        """Page ``target`` for an alert group; the highlight is the caller's to send."""
        levels = self._plan(kind, target)
        return await self._create(kind, target, reason, message, levels, alert_key=alert_key)

    # --- escalation ---

    async def run(self) -> None:
        """Finish interrupted deliveries, then escalate unacknowledged pages on time, forever."""
        await self.escalation.run()

    # --- helpers ---

    async def _create(
        self,
        kind: str,
        target: str,
        reason: str,
        message: IncomingMessage,
        levels: tuple[Level, ...],
        alert_key: str | None = None,
    ) -> Created:
        """Record a new page and make its first step's deliveries, the room's highlight first
        (for an alert the highlight is the intake's to send, with its batch)."""
        now = self.clock()
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
        self.escalation.wake()
        highlight = await self.deliveries.step(
            page, 0, levels[0], announce=alert_key is None, in_reply_to=message
        )
        return Created(page, highlight)

    def _plan(self, kind: str, target: str) -> tuple[Level, ...]:
        return plan_or_team(self._index(), kind, target)

    def _merge(self, target: str, reason: str, message: IncomingMessage) -> Merged | None:
        now = self.clock()
        for page in self.store.unclosed_pages():
            if page.target == target and now - page.created_at <= self.config.merge_window:
                self.store.update_page(page.id, ("merged", f"{reason} (from {_who(message)})"))
                return Merged(page, now - page.created_at)
        return None

    def _check_rate(self, message: IncomingMessage) -> None:
        window = self._recent.setdefault(_requester(message), deque())
        now = self.clock()
        while window and now - window[0] > self.config.rate_window:
            window.popleft()
        if len(window) >= self.config.rate_limit:
            wait = int(self.config.rate_window - (now - window[0])) + 1
            raise PagingError(
                f"you have paged {len(window)} times recently; wait {wait} s, or ask an admin"
            )

    def _is_paged(self, page: PageRecord, message: IncomingMessage) -> bool:
        """Whether the sender is one of the people a step so far has paged, by the identity
        their network vouches for."""
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

    def _new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
            if self.store.page(candidate) is None:
                return candidate


def _requester(message: IncomingMessage) -> str:
    sender = message.sender
    return f"{sender.network}:{sender.account or sender.name}"


def _who(message: IncomingMessage) -> str:
    sender = message.sender
    if sender.account and sender.account != sender.name:
        return f"{sender.name} ({sender.account})"
    return sender.name
