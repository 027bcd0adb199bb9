"""Alert intake: alerts from monitoring become grouped announcements and, when serious, pages.

Alerts that arrive within ``paging.alert_window`` seconds of the first one form a batch, and a
batch is announced in one message: a line for each service and status, with counts, at most
:data:`ANNOUNCE_LINES` lines, the last of them a summary of whatever did not fit. No alert is
left out. After a batch that put n lines in the rooms (announcement, page highlights and
resolutions) the next one waits n windows, :data:`ANNOUNCE_LINES` at most, so a storm's
announcements reach a room at about one line a window, well below what networks let a bot say,
and no sender waits much longer than that for its answer.

An alert group (Alertmanager's ``groupKey`` and the service, or the service alone) has at most
one unclosed page. Its first alert of a paging severity opens it; the group's later alerts go
into the page's history instead of paging again; a notification in which all of the group's
alerts are resolved resolves it. Every alert gets a truthful answer: announced (and with what),
paged as X, merged into page X, resolved X.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from infrabot.errors import CommandError, PagingError
from infrabot.inventory.index import Index
from infrabot.messages import IncomingMessage, Network, Reply, Room, Sender
from infrabot.paging.pager import Pager
from infrabot.paging.plan import resolve_target
from infrabot.store import PageRecord
from infrabot.text import clean_line, shorten
from infrabot.waiting import Interrupted, unless

__all__ = ["ANNOUNCE_LINES", "Alert", "AlertIntake"]

log = logging.getLogger(__name__)

ANNOUNCE_LINES = 5
"""Most lines one batch's announcement takes; past that the rest share one summary line."""

HISTORY_PER_BATCH = 20
"""Most alerts one batch adds to a page's history one by one; the others are counted."""

_SHOWN_SERVICES = 10
"""Services named in a summary line; more are an ellipsis."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, whatever format it came in; every text already one clean line."""

    service: str
    summary: str
    severity: str
    firing: bool
    fingerprint: str = ""
    """The source's identity of this alert (Alertmanager's fingerprint), when it gives one."""
    group: str = ""
    """The source's alert group (from Alertmanager's ``groupKey``); the service when empty."""


@dataclass(slots=True)
class _Item:
    """An alert in a batch, and what became of it."""

    alert: Alert
    notification: int
    result: str = ""
    not_paged: str = ""
    on_page: bool = False  # announced by its page's own "resolved" line


@dataclass(slots=True)
class _Batch:
    items: list[_Item] = field(default_factory=list)
    due: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class AlertIntake:
    """Gathers alerts into batches, pages for the serious ones, and announces each batch."""

    def __init__(
        self,
        pager: Pager,
        *,
        index: Callable[[], Index],
        send: Callable[[Reply], Awaitable[None]],
        window: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pager = pager
        self._index = index
        self._send = send
        self.window = pager.config.alert_window if window is None else window
        self._clock = clock
        self._sleep = sleep
        self._batch: _Batch | None = None
        self._timers: set[asyncio.Task[None]] = set()  # held, or the loop may drop them
        self._lock = asyncio.Lock()
        self._quiet_at = 0.0
        self._notifications = 0
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many alerts wait in the batch not yet announced."""
        return len(self._batch.items) if self._batch is not None else 0

    async def submit(self, alerts: Sequence[Alert]) -> list[str]:
        """Add one notification's alerts to the open batch; once it is announced, what became
        of each. Raises :class:`PagingError` when there is no room to announce in."""
        if not self._pager.config.announce:
            raise PagingError("no room is configured to announce alerts in (paging.announce)")
        if self._batch is None:
            self._batch = _Batch()
            timer = asyncio.get_running_loop().create_task(self._close_after(self._batch))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)
        batch = self._batch
        self._notifications += 1
        items = [_Item(alert, self._notifications) for alert in alerts]
        batch.items.extend(items)
        if self._closed:
            batch.due.set()
        # the batch is announced even when the asker stops waiting: nothing is lost
        await asyncio.shield(batch.done.wait())
        return [item.result for item in items]

    async def flush(self) -> None:
        """Announce the open batch now, without waiting for its window or the pacing."""
        batch = self._batch
        if batch is not None:
            batch.due.set()
            await batch.done.wait()

    async def close(self) -> None:
        """Announce what waits; later alerts are announced as they come."""
        self._closed = True
        await self.flush()

    async def _close_after(self, batch: _Batch) -> None:
        await self._pause(batch, self.window)
        async with self._lock:
            # the last batch put lines in the rooms: give them time to be read
            await self._pause(batch, self._quiet_at - self._clock())
            if self._batch is batch:
                self._batch = None
            lines = 0
            try:
                lines = await self._process(batch.items)
            except Exception:
                log.exception("alert batch of %d failed", len(batch.items))
                for item in batch.items:
                    item.result = item.result or "error: not handled; the bot's log says why"
            finally:
                held = min(lines, ANNOUNCE_LINES)  # page highlights must not delay answers long
                self._quiet_at = self._clock() + held * self.window
                batch.done.set()

    async def _pause(self, batch: _Batch, seconds: float) -> None:
        """Wait ``seconds``, or less if the batch is hurried (:meth:`flush`, :meth:`close`)."""
        if seconds <= 0 or batch.due.is_set():
            return
        with contextlib.suppress(Interrupted):
            await unless(self._sleep(seconds), batch.due)

    # --- one batch ---

    async def _process(self, items: list[_Item]) -> int:
        """Page for, then announce, one batch; how many lines it put in the rooms."""
        paging = _Paging(self._pager, self._index(), self._origin, items)
        highlights, resolved = await paging.run()
        severities = {s.casefold() for s in self._pager.config.page_severities}
        lines = _announcement(items, severities)
        announced = await self._announce(lines)
        for item in items:
            if not announced and item.result.startswith("announced"):
                item.result = "not announced: no room took the message"
            if item.not_paged:
                item.result = f"{item.result}; not paged: {item.not_paged}"
        for reply in highlights:
            await self._deliver(reply)
        return len(lines) + resolved + sum(len(reply.lines) for reply in highlights)

    async def _announce(self, lines: list[str]) -> bool:
        """Send ``lines`` to every announce room; whether at least one took them."""
        if not lines:
            return True
        delivered = False
        for ref in self._pager.config.announce:
            room = Room(network=Network(ref.network), id=ref.room)
            reply = Reply(room=room, lines=tuple(lines), address_asker=False)
            delivered |= await self._deliver(reply)
        return delivered

    async def _deliver(self, reply: Reply) -> bool:
        try:
            await self._send(reply)
        except Exception:  # one network failing must not keep the others from hearing
            log.exception("alert message to %s on %s failed", reply.room.id, reply.room.network)
            return False
        return True

    def _origin(self, alert: Alert) -> IncomingMessage:
        """The message an alert's page is asked by: monitoring, in the first announce room."""
        origin = self._pager.config.announce[0]
        net = Network(origin.network)
        return IncomingMessage(
            sender=Sender(network=net, name="alertmanager", account=None, address="alertmanager"),
            room=Room(network=net, id=origin.room),
            text=alert.summary,
        )


class _Paging:
    """The paging half of one batch: open, add to, and resolve the pages of its groups."""

    def __init__(
        self,
        pager: Pager,
        index: Index,
        origin: Callable[[Alert], IncomingMessage],
        items: list[_Item],
    ) -> None:
        self.pager = pager
        self.index = index
        self.origin = origin
        self.items = items
        self.severities = {s.casefold() for s in self.pager.config.page_severities}
        self.pages = {p.alert_key: p for p in self.pager.store.unclosed_pages() if p.alert_key}
        self.seen: dict[str, set[tuple[str, str]]] = {}
        self.written: Counter[str] = Counter()
        self.highlights: list[Reply] = []
        self.resolved = 0

    async def run(self) -> tuple[list[Reply], int]:
        """Page for the batch; the highlights to send and how many pages it resolved."""
        for (kind, target, key), chunk in self._chunks():
            await self._chunk(kind, target, key, chunk)
        return self.highlights, self.resolved

    def _chunks(self) -> Iterator[tuple[tuple[str, str, str], list[_Item]]]:
        """The batch's alerts by notification and page group, in the order they came."""
        targets: dict[str, tuple[str, str] | str] = {}
        chunks: dict[tuple[int, str, str, str], list[_Item]] = {}
        if not self.pages and not any(self._pages(item.alert) for item in self.items):
            return  # no page to open or add to: only announced, no lookups needed
        for item in self.items:
            service = item.alert.service
            if service not in targets:
                try:
                    kind, target, _ = resolve_target(self.index, service.split())
                    targets[service] = (kind, target)
                except CommandError as exc:  # a PagingError too
                    targets[service] = str(exc)
            found = targets[service]
            if isinstance(found, str):
                if self._pages(item.alert):
                    item.not_paged = found
                continue
            kind, target = found
            key = f"alert:{kind}:{target}" + (f":{item.alert.group}" if item.alert.group else "")
            chunks.setdefault((item.notification, kind, target, key), []).append(item)
        for (_, kind, target, key), chunk in chunks.items():
            yield (kind, target, key), chunk

    def _pages(self, alert: Alert) -> bool:
        return alert.firing and alert.severity.casefold() in self.severities

    async def _chunk(self, kind: str, target: str, key: str, chunk: list[_Item]) -> None:
        page = self.pages.get(key)
        if not any(item.alert.firing for item in chunk):
            if page is not None:
                await self._resolve(page, chunk)
                del self.pages[key]
            return
        if page is None:
            paging = [item for item in chunk if self._pages(item.alert)]
            if not paging:
                return  # nothing serious, nothing open: only announced
            page = await self._open(kind, target, key, paging)
            if page is None:
                return
            self.pages[key] = page
        self._record(page, chunk)

    async def _open(
        self, kind: str, target: str, key: str, paging: list[_Item]
    ) -> PageRecord | None:
        first = paging[0]
        more = len(paging) - 1
        reason = f"[{first.alert.severity}] {first.alert.summary}" + (
            f" (and {more} more {_plural(more, 'alert')})" if more else ""
        )
        try:
            created = await self.pager.open_alert_page(
                kind, target, reason, self.origin(first.alert), key
            )
        except CommandError as exc:  # a PagingError too
            for item in paging:
                item.not_paged = str(exc)
            return None
        first.result = f"paged as {created.page.id}"
        self.highlights.append(created.highlight)
        return created.page

    def _record(self, page: PageRecord, chunk: list[_Item]) -> None:
        """Put the chunk's alerts in the page's history, each once, a bounded number a batch."""
        seen = self._seen(page)
        skipped = 0
        for item in chunk:
            kind = "alert" if item.alert.firing else "alert resolved"
            entry = (kind, _history(item.alert))
            fresh = entry not in seen
            if fresh and self.written[page.id] < HISTORY_PER_BATCH:
                self.pager.store.update_page(page.id, entry)
                self.written[page.id] += 1
                seen.add(entry)
            elif fresh:
                skipped += 1
            if not item.result:
                verb = "merged into" if item.alert.firing else "noted in"
                item.result = f"{verb} page {page.id}" if fresh else f"already in page {page.id}"
        if skipped:
            detail = f"and {skipped} more {_plural(skipped, 'alert')} of the group, not listed"
            self.pager.store.update_page(page.id, ("alerts", detail))

    def _seen(self, page: PageRecord) -> set[tuple[str, str]]:
        if page.id not in self.seen:
            events = self.pager.store.page_events(page.id)
            self.seen[page.id] = {(e.kind, e.detail) for e in events}
        return self.seen[page.id]

    async def _resolve(self, page: PageRecord, chunk: list[_Item]) -> None:
        more = len(chunk) - 1
        note = f"alert cleared: {chunk[0].alert.summary}" + (f" (and {more} more)" if more else "")
        await self.pager.resolve(None, page.id, note, is_admin=True)
        self.resolved += 1
        for item in chunk:
            item.result = f"resolved {page.id}"
            item.on_page = True


def _history(alert: Alert) -> str:
    tail = f" · {alert.fingerprint}" if alert.fingerprint else ""
    return f"[{alert.severity}] {alert.summary}{tail}"


def _announcement(items: Sequence[_Item], severities: set[str]) -> list[str]:
    """The lines announcing a batch, and each announced alert's result set on the way.

    One line per service and status, serious groups first; when there are more groups than
    :data:`ANNOUNCE_LINES`, the last line sums up the rest.
    """
    groups: dict[tuple[str, bool], list[_Item]] = {}
    for item in items:
        if not item.on_page:
            groups.setdefault((item.alert.service.casefold(), item.alert.firing), []).append(item)

    def rank(key: tuple[str, bool]) -> tuple[bool, bool]:
        serious = any(i.alert.severity.casefold() in severities for i in groups[key])
        return (not key[1], not serious)

    ordered = sorted(groups, key=rank)  # stable: groups keep their order of arrival
    shown = ordered if len(ordered) <= ANNOUNCE_LINES else ordered[: ANNOUNCE_LINES - 1]
    lines = [_group_line(groups[key]) for key in shown]
    rest = [item for key in ordered[len(shown) :] for item in groups[key]]
    if rest:
        lines.append(_summary_line(rest))
    return lines


def _group_line(group: list[_Item]) -> str:
    first = group[0].alert
    count = len(group)
    status = "firing" if first.firing else "resolved"
    for item in group:
        item.result = item.result or (
            "announced"
            if count == 1
            else f"announced with {count - 1} other {status} alerts for {first.service}"
        )
    if count == 1 and first.firing:
        return clean_line(f"ALERT [{first.severity}] {first.service}: {first.summary}", 400)
    if count == 1:
        return clean_line(f"RESOLVED {first.service}: {first.summary}", 400)
    severities = Counter(item.alert.severity for item in group)
    by_count = ", ".join(f"{n} {severity}" for severity, n in severities.most_common())
    summaries = "; ".join(dict.fromkeys(item.alert.summary for item in group))
    head = (
        f"ALERT {first.service}: {count} firing"
        if first.firing
        else (f"RESOLVED {first.service}: {count} alerts")
    )
    return clean_line(f"{head} ({by_count}): {summaries}", 400)


def _summary_line(rest: list[_Item]) -> str:
    by_name: dict[str, str] = {}
    for item in rest:
        by_name.setdefault(item.alert.service.casefold(), item.alert.service)
    services = list(by_name.values())
    named = ", ".join(shorten(s, 40) for s in services[:_SHOWN_SERVICES])
    if len(services) > _SHOWN_SERVICES:
        named += ", …"
    total = len(rest)
    counted = f"{_plural(total, 'alert')} for {len(services)} {_plural(len(services), 'service')}"
    for item in rest:
        item.result = item.result or f"announced in the summary line: … and {total} more {counted}"
    return clean_line(f"… and {total} more {counted}: {named}", 400)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"
