"""The reverse indexes of an inventory: who owns what, what runs where, who is in which group.

Built once per load beside the lookups of :mod:`.index`, from references resolved in bulk:
the same few thousand references recur across 100,000 services, so each is resolved once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from infrabot.inventory.model import Datacenter, Group, Host, Inventory, Person, Provider, Service

__all__ = ["Lookup", "Reverse", "build_reverse"]

T = TypeVar("T", covariant=True)
Table = dict[str, tuple[T, ...]]


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
        return tuple(getattr(self, name) for name in self.__slots__)


def build_reverse(
    inventory: Inventory,
    *,
    providers: Lookup[Provider],
    hosts: Lookup[Host],
    datacenters: Lookup[Datacenter],
    services: Lookup[Service],
    people: Lookup[Person],
    groups: Lookup[Group],
) -> Reverse:
    """The reverse indexes of ``inventory``, its references found through the lookups."""
    by_owner, by_provider, by_host, by_dc, parts = _service_tables(
        inventory.services, providers, hosts, datacenters, services, people, groups
    )
    hosts_by_provider, hosts_by_dc = _host_tables(inventory.hosts, providers, datacenters)
    dcs_by_provider: dict[str, list[Datacenter]] = defaultdict(list)
    for d in inventory.datacenters:
        provider = providers.find(d.provider)
        if provider is not None:
            dcs_by_provider[provider.name].append(d)
    groups_of: dict[str, list[Group]] = defaultdict(list)
    for g in inventory.groups:
        for m in g.members:
            person = people.find(m.person)
            if person is not None:
                groups_of[person.name].append(g)
    return Reverse(
        by_owner=by_owner,
        by_provider=by_provider,
        by_host=by_host,
        by_dc=by_dc,
        parts=parts,
        hosts_by_provider=hosts_by_provider,
        hosts_by_dc=hosts_by_dc,
        dcs_by_provider=_freeze(dcs_by_provider),
        groups_of=_freeze(groups_of),
    )


def _service_tables(
    services: Sequence[Service],
    providers: Lookup[Provider],
    hosts: Lookup[Host],
    datacenters: Lookup[Datacenter],
    named_services: Lookup[Service],
    people: Lookup[Person],
    groups: Lookup[Group],
) -> tuple[Table[Service], Table[Service], Table[Service], Table[Service], Table[Service]]:
    """By owner, by provider (hosting or CDN), by host, by datacenter, and parts of."""
    owner_name = _owner_names({ref for s in services for ref in s.owners}, people, groups)
    places = [place for s in services for place in s.hosting]
    provider_name = _names(providers, {r for p in places for r in (p.provider, p.cdn)})
    host_name = _names(hosts, {p.host for p in places})
    dc_code = {
        ref: dc.code if dc is not None else None
        for ref, dc in datacenters.resolve_all({p.datacenter for p in places}).items()
    }
    service_name = _names(named_services, {s.part_of for s in services})
    by_owner: dict[str, list[Service]] = defaultdict(list)
    by_provider: dict[str, list[Service]] = defaultdict(list)
    by_host: dict[str, list[Service]] = defaultdict(list)
    by_dc: dict[str, list[Service]] = defaultdict(list)
    parts: dict[str, list[Service]] = defaultdict(list)
    for s in services:
        for owner_ref in s.owners:
            by_owner[owner_name[owner_ref]].append(s)
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
    frozen = [_freeze(t) for t in (by_owner, by_provider, by_host, by_dc, parts)]
    return frozen[0], frozen[1], frozen[2], frozen[3], frozen[4]


def _host_tables(
    hosts: Sequence[Host], providers: Lookup[Provider], datacenters: Lookup[Datacenter]
) -> tuple[Table[Host], Table[Host]]:
    """Hosts by provider and by datacenter."""
    by_provider: dict[str, list[Host]] = defaultdict(list)
    by_dc: dict[str, list[Host]] = defaultdict(list)
    provider_of = _names(providers, {h.provider for h in hosts}).get
    dc_of = datacenters.resolve_all({h.datacenter for h in hosts}).get
    for h in hosts:
        at_provider = provider_of(h.provider) if h.provider else None
        if at_provider is not None:
            by_provider[at_provider].append(h)
        dc = dc_of(h.datacenter) if h.datacenter else None
        if dc is not None:
            by_dc[dc.code].append(h)
    return _freeze(by_provider), _freeze(by_dc)


def _owner_names(refs: set[str], people: Lookup[Person], groups: Lookup[Group]) -> dict[str, str]:
    """Each owner reference with the name of the person or group it names (else itself)."""
    as_people = people.resolve_all(refs)
    as_groups = groups.resolve_all(ref for ref in refs if as_people.get(ref) is None)
    named: dict[str, str] = {}
    for ref in refs:
        found: Person | Group | None = as_people.get(ref) or as_groups.get(ref)
        named[ref] = found.name if found is not None else ref
    return named


def _names(lookup: Lookup[Any], refs: Iterable[str | None]) -> dict[str, str | None]:
    """Each reference with the name of the entity it finds (None when it finds nothing)."""
    return {ref: e.name if e is not None else None for ref, e in lookup.resolve_all(refs).items()}


def _freeze(table: Mapping[str, list[Any]]) -> dict[str, tuple[Any, ...]]:
    return {k: tuple(v) for k, v in table.items()}
