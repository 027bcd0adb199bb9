"""Delivering one step of a page: the room's highlight, private messages, email, a webhook.

Each delivery is claimed in the store before it is made and confirmed only once the network
has it (the transport's ``send`` returned), so a restarted bot finishes an interrupted step
and repeats nothing it had confirmed. Who may receive the private text is each network's to
say (:class:`~infrabot.transports.base.People`): a nick anyone can hold gets the highlight only.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from infrabot import metrics
from infrabot.messages import IncomingMessage, Mention, Network, Reply, Room
from infrabot.paging.channels import EmailSender, WebhookSender
from infrabot.paging.notices import Notices
from infrabot.paging.plan import Level, Recipient
from infrabot.store import PageRecord, Store
from infrabot.transports.base import People

__all__ = ["Deliveries"]

log = logging.getLogger(__name__)

Send = Callable[[Reply], Awaitable[None]]


class Deliveries:
    """Makes the deliveries of a page's steps, each at most once per confirmation."""

    def __init__(
        self,
        *,
        store: Store,
        send: Send,
        people: Callable[[], Mapping[Network, People]],
        notices: Notices,
        email: EmailSender | None = None,
        webhook: WebhookSender | None = None,
    ) -> None:
        self.store = store
        self.notices = notices
        self._send = send
        self._people = people
        self._email = email
        self._webhook = webhook
        self._failed: set[tuple[str, int, str, str]] = set()
        # claims this process is sending right now: a claim left unconfirmed by a dead
        # process may be taken again, one still in flight here must not be sent twice
        self._sending: set[tuple[str, int, str, str]] = set()

    async def step(
        self,
        page: PageRecord,
        step: int,
        level: Level,
        *,
        announce: bool = True,
        preface: str | None = None,
        in_reply_to: IncomingMessage | None = None,
    ) -> Reply:
        """Make every delivery of ``step`` not made yet, the room's highlight first (as an
        answer to ``in_reply_to`` when given); return the highlight.

        Without ``announce`` the highlight is the caller's to send.
        """
        networks = dict(self._people())
        highlight = self.highlight(page, level, networks, preface)
        if announce:
            key = _delivery_key(page, step, "#room", "announce")
            keyed = replace(highlight, delivery_key=key, in_reply_to=in_reply_to)
            await self._once(page, step, "#room", "announce", self._send_reply(keyed))
        elif self.store.claim_delivery(page.id, step, "#room", "announce"):
            self.store.delivered(page.id, step, "#room", "announce")
        text = self.notices.private_text(page)
        for person in level.recipients:
            for network in sorted(networks):
                sending = self._send_private(page, step, person, networks[network], text)
                await self._once(page, step, person.name, network, sending)
            if self._email and person.email:
                subject = f"[page {page.id}] {page.target}"
                emailing = self._email.send(person.email, subject, text)
                await self._once(page, step, person.name, "email", emailing)
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
        return highlight

    async def announce(self, page: PageRecord, text: str) -> None:
        """Say ``text`` in the room the page came from; a failure is logged, not raised."""
        room = Room(network=Network(page.origin_network), id=page.origin_room)
        try:
            await self._send(Reply(room=room, lines=(text,), address_asker=False))
        except Exception:  # one network failing must not stop what comes next
            log.exception("announcement of %s to %s failed", page.id, room.id)

    def highlight(
        self,
        page: PageRecord,
        level: Level,
        networks: Mapping[Network, People],
        preface: str | None,
    ) -> Reply:
        """The room's announcement of a step, mentioning whoever its network can highlight."""
        origin = networks.get(Network(page.origin_network))
        mentions = []
        for person in level.recipients:
            address = origin.mention_address(person.handles) if origin else None
            if address:  # each transport renders it its way (a nick, a pill)
                mentions.append(Mention(address=address, name=person.name))
        who = ", ".join(p.name for p in level.recipients) or "nobody recorded"
        lines = [self.notices.highlight(page, level.label, who, preface)]
        unreachable = [p.name for p in level.recipients if not self._reachable(p, networks)]
        if unreachable or not level.recipients:
            lines.append(self.notices.unreachable(unreachable, level.fallbacks))
        room = Room(network=Network(page.origin_network), id=page.origin_room)
        return Reply(room=room, lines=tuple(lines), mentions=tuple(mentions), address_asker=False)

    async def _send_private(
        self, page: PageRecord, step: int, person: Recipient, people: People, text: str
    ) -> bool:
        """``text`` to ``person`` in private, where the network vouches it is them; False,
        sending nothing, when the network cannot vouch for a private address now."""
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

        When sending fails, the claim stays unconfirmed and the failure goes into the page's
        history: the escalation loop (and a restarted bot) tries that delivery again. A
        delivery with nowhere to go (``sending`` gives False) is settled, never retried.
        """
        attempt = (page.id, step, recipient, channel)
        if attempt in self._sending or not self.store.claim_delivery(*attempt):
            if inspect.iscoroutine(sending):
                sending.close()  # delivered or being delivered: never started, never sent
            return
        self._sending.add(attempt)
        try:
            await sending
        except Exception as exc:  # one network failing must not stop the others' deliveries
            log.warning("%s: delivery to %s by %s failed: %s", page.id, recipient, channel, exc)
            metrics.delivered(page.id, channel, ok=False)
            if attempt not in self._failed:  # retried until it goes: its history says it once
                self._failed.add(attempt)
                what = channel if recipient == "*" else f"{channel} to {recipient}"
                self.store.update_page(page.id, ("delivery failed", f"{what}: {exc}"))
            return
        finally:
            self._sending.discard(attempt)
        self.store.delivered(*attempt)
        metrics.delivered(page.id, channel, ok=True)

    def _reachable(self, person: Recipient, networks: Mapping[Network, People]) -> bool:
        """Whether the inventory gives any network (or email) a way to reach ``person``."""
        return any(n.mention_address(person.handles) for n in networks.values()) or bool(
            self._email and person.email
        )


def _delivery_key(page: PageRecord, step: int, recipient: str, channel: str) -> str:
    """The same for every attempt at one delivery, so a network can drop a repeat."""
    return f"page.{page.id}.{step}.{recipient}.{channel}"
