"""What one part claims and refers to, gathered once when it is parsed, so that a reload checks
names and references across all parts without walking the entries of the parts it reused.

:func:`consistent` answers whether the parts together are free of every problem
:func:`~infrabot.inventory.references.check_references` would find (no name claimed twice, no
reference to a name nobody claims, a host's datacenter at its provider, the team a group). It
is sound, not complete: when it says yes, the full check would find nothing; when it cannot
tell cheaply it says no, and the full check runs and words every problem with its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from infrabot.inventory.model import Inventory
from infrabot.inventory.names import normalize, normalize_all
from infrabot.inventory.references import Namespace, ReferenceProblem, claim

__all__ = ["PartFacts", "consistent", "facts_of"]

_KINDS = ("owners", "providers", "datacenters", "hosts", "services")
_OWNERS, _PROVIDERS, _DCS, _HOSTS, _SERVICES = range(5)


@dataclass(frozen=True, slots=True)
class PartFacts:
    """The lookup keys one part claims and the keys its references need, by namespace."""

    clean: bool
    """No clash and no empty key among the part's own names."""
    claims: tuple[tuple[str, ...], ...]
    """Keys claimed, by namespace (owners, providers, datacenters, hosts, services), each
    once (a tuple: a set of every part's keys would hold a fifth of the index's memory)."""
    needs: tuple[frozenset[str], ...]
    """Keys referred to, by the same namespaces."""
    provider_names: dict[str, str]
    """Each provider key claimed here, with the provider's name."""
    person_keys: frozenset[str]
    person_needs: frozenset[str]
    """Keys a group's lead or members refer to: they must be people."""
    group_names: frozenset[str]
    dc_providers: dict[str, str]
    """Each datacenter's key with its provider's key."""
    host_sites: frozenset[tuple[str, str]]
    """Each host's (datacenter key, provider key), when it gives both."""
    team: str | None


def facts_of(inv: Inventory) -> PartFacts:
    """The facts of one part's entries (validated in shape, not yet across parts)."""
    problems: list[ReferenceProblem] = []
    spaces = [Namespace(label) for label in _KINDS]
    claim(problems, spaces[_OWNERS], "people", inv.people)
    claim(problems, spaces[_OWNERS], "groups", inv.groups)
    claim(problems, spaces[_PROVIDERS], "providers", inv.providers)
    claim(problems, spaces[_DCS], "datacenters", inv.datacenters, (), "code")
    claim(problems, spaces[_HOSTS], "hosts", inv.hosts)
    claim(problems, spaces[_SERVICES], "services", inv.services, ("aliases", "domains"))
    needs: list[set[str | None]] = [set() for _ in _KINDS]
    needs[_PROVIDERS].update(d.provider for d in inv.datacenters)
    for h in inv.hosts:
        needs[_PROVIDERS].add(h.provider)
        needs[_DCS].add(h.datacenter)
    for s in inv.services:
        needs[_OWNERS].update(s.owners, s.escalation)
        needs[_SERVICES].add(s.part_of)
        for where in s.hosting:
            needs[_PROVIDERS].update((where.provider, where.cdn))
            needs[_HOSTS].add(where.host)
            needs[_DCS].add(where.datacenter)
    persons = [g.lead for g in inv.groups] + [m.person for g in inv.groups for m in g.members]
    return PartFacts(
        clean=not problems,
        claims=tuple(tuple(ns.owners) for ns in spaces),
        needs=tuple(_keys(refs) for refs in needs),
        provider_names=dict(spaces[_PROVIDERS].owners),
        person_keys=_keys(t for p in inv.people for t in (p.name, *p.aliases)),
        person_needs=_keys(persons),
        group_names=_keys(g.name for g in inv.groups),
        dc_providers={normalize(d.code): normalize(d.provider) for d in inv.datacenters},
        host_sites=frozenset(
            (normalize(h.datacenter), normalize(h.provider))
            for h in inv.hosts
            if h.datacenter is not None and h.provider is not None
        ),
        team=inv.team,
    )


def _keys(refs: Iterable[str | None]) -> frozenset[str]:
    return frozenset(normalize_all([r for r in refs if r is not None]))


def consistent(parts: Sequence[PartFacts]) -> bool:
    """Whether the parts together are surely free of naming and reference problems."""
    if not all(f.clean for f in parts):
        return False
    merged: list[set[str]] = [set() for _ in _KINDS]
    for f in parts:
        for taken, claims in zip(merged, f.claims, strict=True):
            before = len(taken)
            taken.update(claims)
            if len(taken) != before + len(claims):  # a name in two parts: the full check says
                return False
    persons = set().union(*(f.person_keys for f in parts))
    for f in parts:
        if not all(needs <= taken for taken, needs in zip(merged, f.needs, strict=True)):
            return False
        if not f.person_needs <= persons:
            return False
    return _sites_agree(parts) and _team_is_a_group(parts)


def _sites_agree(parts: Sequence[PartFacts]) -> bool:
    """Every host's datacenter belongs to the host's provider."""
    names: dict[str, str] = {}
    dc_provider: dict[str, str] = {}
    for f in parts:
        names.update(f.provider_names)
        dc_provider.update(f.dc_providers)
    for f in parts:
        for dc, provider in f.host_sites:
            expected = dc_provider.get(dc)
            owner = names.get(expected) if expected else None
            given = names.get(provider)
            if owner and given and owner != given:
                return False
    return True


def _team_is_a_group(parts: Sequence[PartFacts]) -> bool:
    teams = [f.team for f in parts if f.team is not None]
    if not teams:
        return True
    groups = set().union(*(f.group_names for f in parts))
    return len(teams) == 1 and normalize(teams[0]) in groups
