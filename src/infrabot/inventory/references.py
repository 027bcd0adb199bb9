"""Checks that need the whole inventory: unique names, no alias clashes, resolvable references.

Every problem is returned, each with the location of the offending value, so one pass over a
broken file reports all of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from infrabot.inventory.model import Inventory, Service
from infrabot.inventory.names import best_matches, normalize

__all__ = ["Location", "ReferenceProblem", "check_references"]

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ReferenceProblem:
    """A problem found after the shapes validated: where it is and what is wrong."""

    loc: Location
    reason: str


@dataclass(slots=True)
class _Namespace:
    """Names that must not clash, mapping each lookup key to the entity that claims it."""

    label: str
    owners: dict[str, str] = field(default_factory=dict)
    display: list[str] = field(default_factory=list)

    def claim(
        self, key_text: str, entity: str, loc: Location, *, is_name: bool
    ) -> Iterator[ReferenceProblem]:
        key = normalize(key_text)
        if not key:
            yield ReferenceProblem(loc, f"'{key_text}' has no letters or digits to look it up by")
            return
        holder = self.owners.get(key)
        if holder is None:
            self.owners[key] = entity
            if is_name:
                self.display.append(entity)
        elif holder == entity:
            return  # an entity may repeat its own name as an alias; harmless
        elif is_name and normalize(holder) == key:
            yield ReferenceProblem(loc, f"duplicate {self.label} name '{key_text}'")
        else:
            yield ReferenceProblem(
                loc, f"'{key_text}' of {entity} clashes with {holder}, which has the same name"
            )

    def resolve(self, ref: str, loc: Location, expected: str) -> Iterator[ReferenceProblem]:
        if normalize(ref) in self.owners:
            return
        hint = best_matches(ref, self.display, limit=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        yield ReferenceProblem(loc, f"no {expected} '{ref}'{suggestion}")

    def canonical(self, ref: str) -> str | None:
        return self.owners.get(normalize(ref))


def _claims(
    ns: _Namespace,
    section: str,
    entries: Iterable[tuple[str, Iterable[tuple[str, str]]]],
    name_field: str = "name",
) -> Iterator[ReferenceProblem]:
    """Claim each entry's name (first) and then its other keys, reporting clashes."""
    for i, (name, others) in enumerate(entries):
        yield from ns.claim(name, name, (section, i, name_field), is_name=True)
        for field_name, pos_text in others:
            field_part, _, pos = field_name.partition("#")
            yield from ns.claim(pos_text, name, (section, i, field_part, int(pos)), is_name=False)


def _keys(field_name: str, values: Iterable[str]) -> list[tuple[str, str]]:
    return [(f"{field_name}#{j}", v) for j, v in enumerate(values)]


def check_references(inv: Inventory) -> list[ReferenceProblem]:
    """Every naming and reference problem in ``inv``, in file order within each kind."""
    problems: list[ReferenceProblem] = []
    owners = _Namespace("person or group")
    providers = _Namespace("provider")
    dcs = _Namespace("datacenter")
    hosts = _Namespace("host")
    services = _Namespace("service")

    problems += _claims(
        owners, "people", ((p.name, _keys("aliases", p.aliases)) for p in inv.people)
    )
    problems += _claims(
        owners, "groups", ((g.name, _keys("aliases", g.aliases)) for g in inv.groups)
    )
    problems += _claims(
        providers, "providers", ((p.name, _keys("aliases", p.aliases)) for p in inv.providers)
    )
    problems += _claims(dcs, "datacenters", ((d.code, ()) for d in inv.datacenters), "code")
    problems += _claims(hosts, "hosts", ((h.name, _keys("aliases", h.aliases)) for h in inv.hosts))
    problems += _claims(
        services,
        "services",
        ((s.name, _keys("aliases", s.aliases) + _keys("domains", s.domains)) for s in inv.services),
    )

    person_names = {normalize(p.name) for p in inv.people} | {
        normalize(a) for p in inv.people for a in p.aliases
    }
    for i, g in enumerate(inv.groups):
        if g.lead is not None:
            problems += _person(owners, person_names, g.lead, ("groups", i, "lead"))
        for j, m in enumerate(g.members):
            problems += _person(
                owners, person_names, m.person, ("groups", i, "members", j, "person")
            )
    for i, d in enumerate(inv.datacenters):
        problems += providers.resolve(d.provider, ("datacenters", i, "provider"), "provider")
    problems += _check_hosts(inv, providers, dcs)
    for i, s in enumerate(inv.services):
        problems += _check_service(i, s, owners, providers, dcs, hosts, services)
    if inv.team is not None:
        group_names = {normalize(g.name) for g in inv.groups}
        if normalize(inv.team) not in group_names:
            problems += owners.resolve(inv.team, ("team",), "group")
    return problems


def _person(
    owners: _Namespace, person_names: set[str], ref: str, loc: Location
) -> Iterator[ReferenceProblem]:
    if normalize(ref) in person_names:
        return
    if normalize(ref) in owners.owners:
        yield ReferenceProblem(loc, f"'{ref}' is a group; a person is needed here")
        return
    yield from owners.resolve(ref, loc, "person")


def _check_hosts(
    inv: Inventory, providers: _Namespace, dcs: _Namespace
) -> Iterator[ReferenceProblem]:
    dc_provider = {normalize(d.code): normalize(d.provider) for d in inv.datacenters}
    for i, h in enumerate(inv.hosts):
        if h.provider is not None:
            yield from providers.resolve(h.provider, ("hosts", i, "provider"), "provider")
        if h.datacenter is not None:
            yield from dcs.resolve(h.datacenter, ("hosts", i, "datacenter"), "datacenter")
            dc_ref = dc_provider.get(normalize(h.datacenter))
            owner = providers.canonical(dc_ref) if dc_ref else None
            given = providers.canonical(h.provider) if h.provider else None
            if owner and given and owner != given:
                yield ReferenceProblem(
                    ("hosts", i, "datacenter"),
                    f"datacenter '{h.datacenter}' belongs to {owner}, not {given}",
                )


def _check_service(
    i: int,
    s: Service,
    owners: _Namespace,
    providers: _Namespace,
    dcs: _Namespace,
    hosts: _Namespace,
    services: _Namespace,
) -> Iterator[ReferenceProblem]:
    base: Location = ("services", i)
    for j, ref in enumerate(s.owners):
        yield from owners.resolve(ref, (*base, "owners", j), "person or group")
    for j, ref in enumerate(s.escalation):
        yield from owners.resolve(ref, (*base, "escalation", j), "person or group")
    if s.part_of is not None:
        yield from services.resolve(s.part_of, (*base, "part_of"), "service")
    for j, h in enumerate(s.hosting):
        loc: Location = (*base, "hosting", j)
        if h.provider is not None:
            yield from providers.resolve(h.provider, (*loc, "provider"), "provider")
        if h.cdn is not None:
            yield from providers.resolve(h.cdn, (*loc, "cdn"), "provider")
        if h.host is not None:
            yield from hosts.resolve(h.host, (*loc, "host"), "host")
        if h.datacenter is not None:
            yield from dcs.resolve(h.datacenter, (*loc, "datacenter"), "datacenter")
