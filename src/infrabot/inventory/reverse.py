"""The reverse indexes of an inventory: who owns what, what runs where, who is in which group.

Each part's entries give their own share of every table (:func:`part_tables`), keyed by the
canonical names their references resolve to across the whole inventory; the tables are those
shares joined in part order (:func:`join`). A reload that changed a few parts builds their
shares again and patches only the names those shares touch (:func:`patch`): every other name's
entries come from unchanged parts, in the same order, so they stay as they were.

References are resolved in bulk (:class:`Resolver`): the same few thousand references recur
across 100,000 services, so each is resolved once per build.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any, Protocol, TypeVar

from infrabot.inventory.model import Datacenter, Group, Host, Inventory, Person, Provider, Service

__all__ = ["TABLES", "Lookup", "PartTables", "Resolver", "Reverse", "join", "part_tables", "patch"]

T = TypeVar("T", covariant=True)
Table = dict[str, tuple[T, ...]]

TABLES = (
    "by_owner",
    "by_provider",
    "by_host",
    "by_dc",
    "parts",
    "hosts_by_provider",
    "hosts_by_dc",
    "dcs_by_provider",
    "groups_of",
)


class Lookup(Protocol[T]):
    """Finding entities of one kind by the references an inventory writes."""

    def find(self, query: str) -> T | None:
        """The entity ``query`` names, or None."""
        ...

    def resolve_all(self, refs: Iterable[str | None]) -> Mapping[str, T | None]:
        """Each reference (None aside) with the entity it names, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Reverse:
    """Every reverse index, keyed by the canonical name (a datacenter by its code)."""

    by_owner: Table[Service]
    by_provider: Table[Service]
    by_host: Table[Service]
    by_dc: Table[Service]
    parts: Table[Service]
    hosts_by_provider: Table[Host]
    hosts_by_dc: Table[Host]
    dcs_by_provider: Table[Datacenter]
    groups_of: Table[Group]

    def tables(self) -> tuple[dict[str, Any], ...]:
        """Every table, to take apart when the index retires."""
        return tuple(getattr(self, name) for name in TABLES)


class Runs:
    """One part's share of one table: each name with its entries, as runs of one tuple."""

    __slots__ = ("ends", "items", "names")

    def __init__(self, table: Mapping[str, list[Any]]) -> None:
        self.names = tuple(table)
        self.items = tuple(chain.from_iterable(table.values()))
        self.ends = array("L", accumulate(map(len, table.values())))

    def run(self, at: int) -> tuple[Any, ...]:
        """The entries of the ``at``-th name."""
        return self.items[self.ends[at - 1] if at else 0 : self.ends[at]]


PartTables = tuple[Runs, ...]
"""One part's share of every table, in the order of :data:`TABLES`."""


class Resolver:
    """Each reference with the canonical name it resolves to, found once per build."""

    def __init__(
        self,
        *,
        providers: Lookup[Provider],
        hosts: Lookup[Host],
        datacenters: Lookup[Datacenter],
        services: Lookup[Service],
        people: Lookup[Person],
        groups: Lookup[Group],
    ) -> None:
        self.providers = _Names(providers)
        self.hosts = _Names(hosts)
        self.datacenters = _Names(datacenters)
        self.services = _Names(services)
        self.people = _Names(people)
        self.owners = _Names(people, groups)


class _Names:
    """Canonical names in one namespace (owners: a person's, else a group's, else the
    reference itself), memoized."""

    def __init__(self, first: Lookup[Any], then: Lookup[Any] | None = None) -> None:
        self._first, self._then = first, then
        self._known: dict[str, str | None] = {}

    def of(self, refs: Iterable[str | None]) -> dict[str, str | None]:
        """A table holding (at least) each of ``refs``, None aside."""
        known = self._known
        missing = {ref for ref in refs if ref is not None and ref not in known}
        if missing:
            found: dict[str, Any] = dict(self._first.resolve_all(missing))
            if self._then is not None:
                unnamed = [ref for ref, e in found.items() if e is None]
                found.update(self._then.resolve_all(unnamed))
            for ref, e in found.items():
                known[ref] = e.name if e is not None else (ref if self._then is not None else None)
        return known


def part_tables(inv: Inventory, resolve: Resolver) -> PartTables:
    """The share of every table of one part's entries."""
    service = _service_tables(inv.services, resolve)
    hosts = _host_tables(inv.hosts, resolve)
    providers = resolve.providers.of(d.provider for d in inv.datacenters)
    dcs_by_provider: dict[str, list[Datacenter]] = defaultdict(list)
    for d in inv.datacenters:
        provider = providers[d.provider]
        if provider is not None:
            dcs_by_provider[provider].append(d)
    people = resolve.people.of(m.person for g in inv.groups for m in g.members)
    groups_of: dict[str, list[Group]] = defaultdict(list)
    for g in inv.groups:
        for m in g.members:
            person = people[m.person]
            if person is not None:
                groups_of[person].append(g)
    tables: list[Mapping[str, list[Any]]] = [*service, *hosts, dcs_by_provider, groups_of]
    return tuple(Runs(t) for t in tables)


def _service_tables(
    services: Sequence[Service], resolve: Resolver
) -> tuple[dict[str, list[Service]], ...]:
    """By owner, by provider (hosting or CDN), by host, by datacenter, and parts of."""
    owner_name = resolve.owners.of({ref for s in services for ref in s.owners})
    places = [place for s in services for place in s.hosting]
    provider_name = resolve.providers.of({r for p in places for r in (p.provider, p.cdn)})
    host_name = resolve.hosts.of({p.host for p in places})
    dc_code = resolve.datacenters.of({p.datacenter for p in places})
    service_name = resolve.services.of({s.part_of for s in services})
    by_owner: dict[str, list[Service]] = defaultdict(list)
    by_provider: dict[str, list[Service]] = defaultdict(list)
    by_host: dict[str, list[Service]] = defaultdict(list)
    by_dc: dict[str, list[Service]] = defaultdict(list)
    parts: dict[str, list[Service]] = defaultdict(list)
    for s in services:
        for owner_ref in s.owners:
            by_owner[owner_name[owner_ref]].append(s)  # type: ignore[index]
        if s.hosting:
            at: dict[str, None] = {}
            for place in s.hosting:
                for ref in (place.provider, place.cdn):
                    named = provider_name.get(ref) if ref else None
                    if named is not None:
                        at[named] = None
                on_host = host_name.get(place.host) if place.host else None
                if on_host is not None:
                    by_host[on_host].append(s)
                in_dc = dc_code.get(place.datacenter) if place.datacenter else None
                if in_dc is not None:
                    by_dc[in_dc].append(s)
            for name in at:
                by_provider[name].append(s)
        parent = service_name.get(s.part_of) if s.part_of else None
        if parent is not None:
            parts[parent].append(s)
    return by_owner, by_provider, by_host, by_dc, parts


def _host_tables(
    hosts: Sequence[Host], resolve: Resolver
) -> tuple[dict[str, list[Host]], dict[str, list[Host]]]:
    """Hosts by provider and by datacenter."""
    by_provider: dict[str, list[Host]] = defaultdict(list)
    by_dc: dict[str, list[Host]] = defaultdict(list)
    provider_of = resolve.providers.of({h.provider for h in hosts}).get
    dc_of = resolve.datacenters.of({h.datacenter for h in hosts}).get
    for h in hosts:
        at_provider = provider_of(h.provider) if h.provider else None
        if at_provider is not None:
            by_provider[at_provider].append(h)
        dc = dc_of(h.datacenter) if h.datacenter else None
        if dc is not None:
            by_dc[dc].append(h)
    return by_provider, by_dc


def join(shares: Sequence[PartTables]) -> Reverse:
    """The tables of every part's share, in part order."""
    return Reverse(*(_joined([s[t] for s in shares]) for t in range(len(TABLES))))


def _joined(runs: Iterable[Runs]) -> dict[str, tuple[Any, ...]]:
    table: dict[str, list[Any]] = {}
    for r in runs:
        items, start = r.items, 0
        for name, end in zip(r.names, r.ends, strict=True):
            got = table.get(name)
            if got is None:
                table[name] = list(items[start:end])
            else:
                got += items[start:end]
            start = end
    return {name: tuple(items) for name, items in table.items()}


def patch(
    old: Reverse,
    dropped: Iterable[PartTables],
    added: Iterable[PartTables],
    shares: Sequence[PartTables],
) -> Reverse:
    """``old``, the tables of other shares, made the tables of ``shares``: where ``dropped``
    (shares of ``old`` gone) and ``added`` (shares new in ``shares``) name an entry again, it
    is joined again from every share; every other name keeps its entries."""
    touched: list[set[str]] = [set() for _ in TABLES]
    for share in chain(dropped, added):
        for names, runs in zip(touched, share, strict=True):
            names.update(runs.names)
    return Reverse(
        *(
            _patched(table, names, [s[t] for s in shares])
            for t, (table, names) in enumerate(zip(old.tables(), touched, strict=True))
        )
    )


def _patched(
    table: dict[str, tuple[Any, ...]], names: set[str], runs: Iterable[Runs]
) -> dict[str, tuple[Any, ...]]:
    patched = dict(table)
    if not names:
        return patched
    again: dict[str, list[Any]] = {}
    for r in runs:
        for name in names.intersection(r.names):
            again.setdefault(name, []).extend(r.run(r.names.index(name)))
    for name in names:
        patched.pop(name, None)
    patched.update((name, tuple(items)) for name, items in again.items())
    return patched
