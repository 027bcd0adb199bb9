"""What the bot counts and measures, for Prometheus at ``GET /metrics``.

Two kinds, kept apart:

- events, counted where they happen with one call each (:func:`command_timer` and
  :func:`note_command` in the router, :func:`reply_sent`, :func:`held_back`,
  :func:`escalated`, :func:`delivered`, :func:`timed_reload`);
- state, read when Prometheus scrapes (:class:`StateCollector`): each transport's link, the
  pages by state in the store, the serving inventory's entity counts and age.

Every label is bounded: command names are the registered commands' (an unknown one is
``(unknown)``), networks and delivery channels are the bot's own; no user, room or free text.
The event metrics live in this module, unregistered; :func:`registry` gathers them with the
state of one app.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, ParamSpec, Protocol, TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from infrabot.inventory.current import CurrentIndex
from infrabot.messages import IncomingMessage, Network
from infrabot.transports.base import Linked

__all__ = [
    "StateCollector",
    "command_done",
    "command_timer",
    "delivered",
    "escalated",
    "held_back",
    "note_command",
    "registry",
    "reply_sent",
    "timed_reload",
]

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 20)

REPLIES = Counter("infrabot_replies_sent", "Replies sent, by network", ["network"], registry=None)
HELD_BACK = Counter(
    "infrabot_rate_limited_commands",
    "Commands held back by the per-user rate limit, by network",
    ["network"],
    registry=None,
)
ESCALATIONS = Counter(
    "infrabot_page_escalations",
    "Escalation steps of pages: escalated (to the next level) or reminded (the last again)",
    ["kind"],
    registry=None,
)
DELIVERIES = Counter(
    "infrabot_page_deliveries",
    "Page deliveries, by channel (announce, a network, email, webhook) and outcome",
    ["channel", "outcome"],
    registry=None,
)
RELOADS = Counter(
    "infrabot_reloads", "Reloads, by what and outcome", ["what", "outcome"], registry=None
)
RELOAD_SECONDS = Histogram(
    "infrabot_reload_duration_seconds",
    "How long reloads took, by what",
    ["what"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=None,
)


class _CommandTally(Collector):
    """Commands counted and timed in plain numbers, made into metrics only when scraped.

    It runs for every command: the client library's labelled Counter and Histogram take a
    lock per sample and cost a few microseconds a command, a measurable share of a round
    trip; a dict and a list here cost a fraction of that. Only the event loop writes them;
    a scrape copies them first (one C call each, whole under the GIL).
    """

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts: dict[tuple[str, str], int] = {}
        # per command: the count in each bucket (the last one +Inf), then the sum of seconds
        self.timings: dict[str, list[float]] = {}

    def note(self, command: str, outcome: str, seconds: float) -> None:
        """One command ``command`` handled with ``outcome`` in ``seconds``."""
        counts, key = self.counts, (command, outcome)
        counts[key] = counts.get(key, 0) + 1
        row = self.timings.get(command)
        if row is None:
            row = self.timings[command] = [0.0] * (len(self.bounds) + 2)
        row[bisect_left(self.bounds, seconds)] += 1
        row[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        """``infrabot_commands_total`` and ``infrabot_command_duration_seconds``."""
        commands = CounterMetricFamily(
            "infrabot_commands",
            "Commands handled, by command and outcome",
            labels=["command", "outcome"],
        )
        for (command, outcome), count in sorted(list(self.counts.items())):
            commands.add_metric([command, outcome], count)
        yield commands
        durations = HistogramMetricFamily(
            "infrabot_command_duration_seconds",
            "Time from a command's arrival to its answer being ready",
            labels=["command"],
        )
        edges = [repr(float(bound)) for bound in self.bounds] + ["+Inf"]
        for command, row in sorted(list(self.timings.items())):
            cumulative = list(accumulate(int(n) for n in row[:-1]))
            durations.add_metric([command], list(zip(edges, cumulative, strict=True)), row[-1])
        yield durations


COMMAND_TALLY = _CommandTally(_LATENCY_BUCKETS)

_EVENTS: tuple[Collector, ...] = (COMMAND_TALLY, REPLIES, HELD_BACK, ESCALATIONS)
_EVENTS += (DELIVERIES, RELOADS, RELOAD_SECONDS)

UNKNOWN_COMMAND = "(unknown)"
"""The command label of a name no plugin registered: what users type is not a label."""


@dataclass(slots=True)
class _Command:
    command: str = UNKNOWN_COMMAND
    outcome: str = "error"


_current: contextvars.ContextVar[_Command | None] = contextvars.ContextVar(
    "infrabot_command", default=None
)


class command_timer:
    """Time the handling of ``message``; count it under what :func:`note_command` said
    (``error`` if the block raised before saying), and log the event at DEBUG.

    A class rather than a generator: it runs for every command, and this is cheaper.
    """

    __slots__ = ("_message", "_noted", "_started", "_token")

    def __init__(self, message: IncomingMessage) -> None:
        self._message = message
        self._noted = _Command()

    def __enter__(self) -> None:
        self._token = _current.set(self._noted)
        self._started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self._started
        _current.reset(self._token)
        noted = self._noted
        command_done(self._message, noted.command, noted.outcome, seconds)


def command_done(message: IncomingMessage, command: str, outcome: str, seconds: float) -> None:
    """Count ``command`` for ``message`` as ended with ``outcome`` after ``seconds``, and log
    the event at DEBUG (what :class:`command_timer` does when its block ends)."""
    COMMAND_TALLY.note(command, outcome, seconds)
    if log.isEnabledFor(logging.DEBUG):
        room = message.room
        fields = {
            "network": room.network,
            "room": room.id,
            "command": command,
            "outcome": outcome,
            "duration": seconds,
        }
        log.debug("%s: %s in %.1f ms", command, outcome, seconds * 1e3, extra=fields)


@functools.cache
def _replies(network: Network) -> Any:
    return REPLIES.labels(network)


def note_command(command: str, outcome: str) -> None:
    """Say which command the message being timed ran, and how it ended (``answered``,
    ``failed``, ``refused``, ``unknown``; a remembered answer is counted by the router as
    ``cached`` through :func:`command_done`)."""
    noted = _current.get()
    if noted is not None:
        noted.command, noted.outcome = command, outcome


def reply_sent(network: Network) -> None:
    """A reply went out on ``network``."""
    _replies(network).inc()


def held_back(network: Network) -> None:
    """The rate limit held back a command on ``network``."""
    HELD_BACK.labels(network).inc()


def escalated(kind: str) -> None:
    """A page took an escalation step: ``escalated`` or ``reminded``."""
    ESCALATIONS.labels(kind).inc()


def delivered(page_id: str, channel: str, ok: bool) -> None:
    """One delivery of page ``page_id`` by ``channel`` was made (or failed)."""
    outcome = "ok" if ok else "failed"
    DELIVERIES.labels(channel, outcome).inc()
    log.debug("%s: delivery by %s %s", page_id, channel, outcome, extra={"page_id": page_id})


class _Outcome(Protocol):
    @property
    def ok(self) -> bool:
        """Whether it worked."""
        ...


_R = TypeVar("_R", bound=_Outcome)
_P = ParamSpec("_P")


def timed_reload(
    what: str,
) -> Callable[[Callable[_P, Awaitable[_R]]], Callable[_P, Coroutine[Any, Any, _R]]]:
    """Decorate a reload returning a result with ``ok``: count it and time it as ``what``."""

    def decorate(reload: Callable[_P, Awaitable[_R]]) -> Callable[_P, Coroutine[Any, Any, _R]]:
        @functools.wraps(reload)
        async def timed(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            started = time.perf_counter()
            result = await reload(*args, **kwargs)
            RELOAD_SECONDS.labels(what).observe(time.perf_counter() - started)
            RELOADS.labels(what, "ok" if result.ok else "failed").inc()
            return result

        return timed

    return decorate


class PageCounts(Protocol):
    """A store that counts its pages by state (:meth:`~infrabot.store.Store.page_counts`)."""

    def page_counts(self) -> Mapping[str, int]:
        """How many pages are in each state."""
        ...


_KINDS = ("services", "hosts", "providers", "datacenters", "people", "groups")
_PAGE_STATES = ("open", "acked", "resolved")


class StateCollector(Collector):
    """The state of one bot, read at each scrape."""

    def __init__(
        self,
        transports: Callable[[], Mapping[Network, object]],
        current: CurrentIndex,
        store: PageCounts | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._transports = transports
        self._current = current
        self._store = store
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        """The metrics of the transports, the pages and the inventory, as they are now."""
        yield from self._links()
        if self._store is not None:
            pages = GaugeMetricFamily("infrabot_pages", "Pages by state", labels=["state"])
            counts = self._store.page_counts()
            for state in sorted(set(_PAGE_STATES) | set(counts)):
                pages.add_metric([state], counts.get(state, 0))
            yield pages
        index = self._current()
        entities = GaugeMetricFamily(
            "infrabot_inventory_entities", "Entities in the serving inventory", labels=["kind"]
        )
        for kind in _KINDS:
            entities.add_metric([kind], len(getattr(index, kind)))
        yield entities
        yield GaugeMetricFamily(
            "infrabot_inventory_age_seconds",
            "Seconds since the serving inventory was loaded",
            value=max(0.0, self._clock() - self._current.loaded_at),
        )

    def _links(self) -> Iterator[Metric]:
        connected = GaugeMetricFamily(
            "infrabot_transport_connected",
            "1 while the transport is connected to its network",
            labels=["network"],
        )
        reconnects = CounterMetricFamily(
            "infrabot_transport_reconnects",
            "Times the transport connected again after the first",
            labels=["network"],
        )
        for network, transport in sorted(self._transports().items()):
            if isinstance(transport, Linked):
                connected.add_metric([network], 1 if transport.link.connected else 0)
                reconnects.add_metric([network], max(0, transport.link.connections - 1))
        yield connected
        yield reconnects


def registry(state: StateCollector | None = None) -> CollectorRegistry:
    """A registry of the event metrics, the process's, and ``state``'s, for one endpoint."""
    gathered = CollectorRegistry(auto_describe=True)
    for collector in (*_EVENTS, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        gathered.register(collector)
    if state is not None:
        gathered.register(state)
    return gathered
