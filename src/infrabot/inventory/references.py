"""Checks that need the whole inventory: unique names, no alias clashes, resolvable references.

Every problem is returned, each with the location of the offending value, so one pass over a
broken file reports all of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from infrabot.inventory.model import Inventory
from infrabot.inventory.names import best_matches, normalize, normalize_all

__all__ = ["Location", "Namespace", "ReferenceProblem", "check_references", "claim"]

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ReferenceProblem:
    """A problem found after the shapes validated: where it is and what is wrong."""

    loc: Location
    reason: str


@dataclass(slots=True)
class Namespace:
    """Names that must not clash, mapping each lookup key to the entity that claims it."""

    label: str
    owners: dict[str, str] = field(default_factory=dict)
    display: list[str] = field(default_factory=list)

    def clash(self, key: str, key_text: str, entity: str, *, is_name: bool) -> str | None:
        """Why ``key_text`` (normalized to ``key``) cannot be claimed by ``entity``, or None
        after claiming it."""
        if not key:
            return f"'{key_text}' has no letters or digits to look it up by"
        holder = self.owners.get(key)
        if holder is None:
            self.owners[key] = entity
            if is_name:
                self.display.append(entity)
            return None
        if is_name:
            # a name is claimed before its entity's aliases, so a taken key is never its own
            if normalize(holder) == key:
                return f"duplicate {self.label} name '{key_text}'"
        elif holder == entity:
            return None  # an entity may repeat its own name as an alias; harmless
        return f"'{key_text}' of {entity} clashes with {holder}, which has the same name"

    def missing(self, ref: str, loc: Location, expected: str) -> ReferenceProblem:
        """The problem of ``ref`` naming nothing here, with the closest name as a hint."""
        hint = best_matches(ref, self.display, limit=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return ReferenceProblem(loc, f"no {expected} '{ref}'{suggestion}")

    def resolve(self, ref: str, loc: Location, expected: str) -> Iterator[ReferenceProblem]:
        if normalize(ref) not in self.owners:
            yield self.missing(ref, loc, expected)

    def canonical(self, ref: str) -> str | None:
        return self.owners.get(normalize(ref))


class _Keys:
    """``normalize`` with memory: the same few thousand references recur across the file."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        key = self._cache.get(text)
        if key is None:
            key = self._cache[text] = normalize(text)
        return key


def claim(
    problems: list[ReferenceProblem],
    ns: Namespace,
    section: str,
    entries: Sequence[Any],
    other_fields: tuple[str, ...] = ("aliases",),
    name_field: str = "name",
) -> None:
    """Claim each entry's name (first) and then its other keys, reporting clashes."""
    texts: list[str] = []
    holders: list[str] = []
    for entry in entries:
        name = getattr(entry, name_field)
        texts.append(name)
        count = len(texts)
        for field_name in other_fields:
            texts += getattr(entry, field_name)
        holders += [name] * (len(texts) - count + 1)
    all_keys = normalize_all(texts)
    del texts
    claimed = dict(zip(all_keys, holders, strict=True))
    taken = ns.owners
    if "" not in claimed and len(claimed) == len(all_keys) and taken.keys().isdisjoint(claimed):
        # the common case, no clash at all: claim everything at once
        if taken:
            taken.update(claimed)
        else:
            ns.owners = claimed
        ns.display += [getattr(entry, name_field) for entry in entries]
        return
    del claimed, holders
    keys = iter(all_keys)
    display, clash = ns.display, ns.clash
    for i, entry in enumerate(entries):
        name = getattr(entry, name_field)
        key = next(keys)
        if key and key not in taken:  # the common case, inline
            taken[key] = name
            display.append(name)
        else:
            reason = clash(key, name, name, is_name=True)
            if reason is not None:
                problems.append(ReferenceProblem((section, i, name_field), reason))
        for field_name in other_fields:
            for pos, text in enumerate(getattr(entry, field_name)):
                key = next(keys)
                if key and key not in taken:
                    taken[key] = name
                    continue
                reason = clash(key, text, name, is_name=False)
                if reason is not None:
                    problems.append(ReferenceProblem((section, i, field_name, pos), reason))


def check_references(inv: Inventory) -> list[ReferenceProblem]:
    """Every naming and reference problem in ``inv``, in file order within each kind."""
    problems: list[ReferenceProblem] = []
    owners = Namespace("person or group")
    providers = Namespace("provider")
    dcs = Namespace("datacenter")
    hosts = Namespace("host")
    services = Namespace("service")
    key = _Keys()

    claim(problems, owners, "people", inv.people)
    claim(problems, owners, "groups", inv.groups)
    claim(problems, providers, "providers", inv.providers)
    claim(problems, dcs, "datacenters", inv.datacenters, (), "code")
    claim(problems, hosts, "hosts", inv.hosts)
    claim(problems, services, "services", inv.services, ("aliases", "domains"))

    person_names = set(normalize_all([t for p in inv.people for t in (p.name, *p.aliases)]))
    for i, g in enumerate(inv.groups):
        if g.lead is not None:
            problems += _person(owners, person_names, g.lead, ("groups", i, "lead"))
        for j, m in enumerate(g.members):
            problems += _person(
                owners, person_names, m.person, ("groups", i, "members", j, "person")
            )
    for i, d in enumerate(inv.datacenters):
        problems += providers.resolve(d.provider, ("datacenters", i, "provider"), "provider")
    problems += _check_hosts(inv, key, providers, dcs)
    _check_services(problems, inv, key, _ServiceNamespaces(owners, providers, dcs, hosts, services))
    if inv.team is not None:
        group_names = {normalize(g.name) for g in inv.groups}
        if normalize(inv.team) not in group_names:
            problems += owners.resolve(inv.team, ("team",), "group")
    return problems


def _person(
    owners: Namespace, person_names: set[str], ref: str, loc: Location
) -> Iterator[ReferenceProblem]:
    if normalize(ref) in person_names:
        return
    if normalize(ref) in owners.owners:
        yield ReferenceProblem(loc, f"'{ref}' is a group; a person is needed here")
        return
    yield from owners.resolve(ref, loc, "person")


def _check_hosts(
    inv: Inventory, key: _Keys, providers: Namespace, dcs: Namespace
) -> Iterator[ReferenceProblem]:
    dc_provider = {key(d.code): key(d.provider) for d in inv.datacenters}
    provider_of, dc_keys = providers.owners.get, dcs.owners
    for i, h in enumerate(inv.hosts):
        if h.provider is not None and key(h.provider) not in providers.owners:
            yield providers.missing(h.provider, ("hosts", i, "provider"), "provider")
        if h.datacenter is not None:
            dc_key = key(h.datacenter)
            if dc_key not in dc_keys:
                yield dcs.missing(h.datacenter, ("hosts", i, "datacenter"), "datacenter")
            expected = dc_provider.get(dc_key)
            owner = provider_of(expected) if expected else None
            given = provider_of(key(h.provider)) if h.provider else None
            if owner and given and owner != given:
                yield ReferenceProblem(
                    ("hosts", i, "datacenter"),
                    f"datacenter '{h.datacenter}' belongs to {owner}, not {given}",
                )


class _ServiceNamespaces(NamedTuple):
    """The namespaces a service's references point into."""

    owners: Namespace
    providers: Namespace
    dcs: Namespace
    hosts: Namespace
    services: Namespace


def _check_services(
    problems: list[ReferenceProblem], inv: Inventory, key: _Keys, names: _ServiceNamespaces
) -> None:
    """Every reference of every service, in file order.

    The names referred to are few compared to the references: each distinct one is looked up
    once, and only when one is unknown are the services walked again to locate it.
    """
    owners, providers, dcs, hosts, services = names
    owner_refs: set[str | None] = set()
    service_refs: set[str | None] = set()
    provider_refs: set[str | None] = set()
    host_refs: set[str | None] = set()
    dc_refs: set[str | None] = set()
    for s in inv.services:
        owner_refs.update(s.owners, s.escalation)
        service_refs.add(s.part_of)
        for h in s.hosting:  # None (not given) is skipped below
            provider_refs.add(h.provider)
            provider_refs.add(h.cdn)
            host_refs.add(h.host)
            dc_refs.add(h.datacenter)
    unknown = {
        ref
        for refs, ns in (
            (owner_refs, owners),
            (service_refs, services),
            (provider_refs, providers),
            (host_refs, hosts),
            (dc_refs, dcs),
        )
        for ref in refs
        if ref is not None and key(ref) not in ns.owners
    }
    if unknown:
        _locate_in_services(problems, inv, key, names)


def _locate_in_services(
    problems: list[ReferenceProblem], inv: Inventory, key: _Keys, names: _ServiceNamespaces
) -> None:
    """Walk the services again, in file order, for the place of every unknown reference."""
    owners, providers, dcs, hosts, services = names
    add = problems.append
    for i, s in enumerate(inv.services):
        for j, ref in enumerate(s.owners):
            if key(ref) not in owners.owners:
                add(owners.missing(ref, ("services", i, "owners", j), "person or group"))
        for j, ref in enumerate(s.escalation):
            if key(ref) not in owners.owners:
                add(owners.missing(ref, ("services", i, "escalation", j), "person or group"))
        if s.part_of is not None and key(s.part_of) not in services.owners:
            add(services.missing(s.part_of, ("services", i, "part_of"), "service"))
        for j, h in enumerate(s.hosting):
            loc: Location = ("services", i, "hosting", j)
            if h.provider is not None and key(h.provider) not in providers.owners:
                add(providers.missing(h.provider, (*loc, "provider"), "provider"))
            if h.cdn is not None and key(h.cdn) not in providers.owners:
                add(providers.missing(h.cdn, (*loc, "cdn"), "provider"))
            if h.host is not None and key(h.host) not in hosts.owners:
                add(hosts.missing(h.host, (*loc, "host"), "host"))
            if h.datacenter is not None and key(h.datacenter) not in dcs.owners:
                add(dcs.missing(h.datacenter, (*loc, "datacenter"), "datacenter"))
