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
from itertools import chain
from operator import attrgetter
from typing import Any

from infrabot.inventory.keys import KeySet
from infrabot.inventory.names import normalize, normalize_all
from infrabot.inventory.pieces import Piece

__all__ = ["PartFacts", "consistent", "facts_of"]

_KINDS = ("owners", "providers", "datacenters", "hosts", "services")
_OWNERS, _PROVIDERS, _DCS, _HOSTS, _SERVICES = range(5)
_HOSTING, _OWNERS_OF, _ESCALATION = (
    attrgetter("hosting"),
    attrgetter("owners"),
    attrgetter("escalation"),
)
_PROVIDER, _CDN, _HOST = attrgetter("provider"), attrgetter("cdn"), attrgetter("host")
_DATACENTER, _PART_OF = attrgetter("datacenter"), attrgetter("part_of")


@dataclass(frozen=True, slots=True)
class PartFacts:
    """The lookup keys one part claims and the names its references give, by namespace.

    The keys claimed are its piece's own (:mod:`.keys`), and the references are the strings
    of its entries as written, each once: facts hold no string of their own, as a copy of
    every key and reference would cost a tenth of the index's memory. When parts are
    checked together a reference written as a name is written (the usual case) is found
    among the names as written; only the others are folded to keys."""

    clean: bool
    """No clash and no empty key among the part's own names."""
    claims: tuple[Sequence[str], ...]
    """Keys claimed, by namespace (owners, providers, datacenters, hosts, services), each
    once."""
    texts: tuple[Sequence[str], ...]
    """The names, aliases (and domains) that claim them, as written, by the same namespaces."""
    needs: tuple[tuple[str, ...], ...]
    """Names referred to, as written, by the same namespaces."""
    provider_names: dict[str, str]
    """Each provider key claimed here, with the provider's name."""
    person_keys: Sequence[str]
    person_texts: Sequence[str]
    person_needs: tuple[str, ...]
    """Names a group's lead or members give: they must be people."""
    group_names: tuple[str, ...]
    dc_providers: dict[str, str]
    """Each datacenter's key with its provider's key."""
    host_sites: tuple[tuple[str, str], ...]
    """Each host's (datacenter, provider) as written, when it gives both."""
    team: str | None


def facts_of(piece: Piece) -> PartFacts:
    """The facts of one part's entries (validated in shape, not yet across parts) and their
    keys."""
    inv = piece.source
    owners = [*piece.people.keys, *piece.groups.keys]
    spaces = (piece.providers, piece.datacenters, piece.hosts, piece.services)
    clean = len(set(owners)) == len(owners) and all(
        _own(keys) for keys in (piece.people, piece.groups, *spaces)
    )
    services, hosts = inv.services, inv.hosts
    places = list(chain.from_iterable(map(_HOSTING, services)))
    # attribute by attribute, each a loop in C: a part's services are walked in a few ms
    needs: list[set[str | None]] = [set() for _ in _KINDS]
    needs[_OWNERS].update(*map(_OWNERS_OF, services), *map(_ESCALATION, services))
    needs[_PROVIDERS].update(
        map(_PROVIDER, inv.datacenters), map(_PROVIDER, hosts), map(_PROVIDER, places)
    )
    needs[_PROVIDERS].update(map(_CDN, places))
    needs[_DCS].update(map(_DATACENTER, hosts), map(_DATACENTER, places))
    needs[_HOSTS].update(map(_HOST, places))
    needs[_SERVICES].update(map(_PART_OF, services))
    persons = chain((g.lead for g in inv.groups), (m.person for g in inv.groups for m in g.members))
    return PartFacts(
        clean=clean,
        claims=(owners, *(keys.keys for keys in spaces)),
        texts=([*piece.people.texts, *piece.groups.texts], *(keys.texts for keys in spaces)),
        needs=tuple(_given(refs) for refs in needs),
        provider_names=dict(
            zip(piece.providers.keys, [p.name for p in piece.providers.owners], strict=True)
        ),
        person_keys=piece.people.keys,
        person_texts=piece.people.texts,
        person_needs=_given(persons),
        group_names=tuple(g.name for g in inv.groups),
        dc_providers={normalize(d.code): normalize(d.provider) for d in inv.datacenters},
        host_sites=tuple(
            {
                (h.datacenter, h.provider)
                for h in inv.hosts
                if h.datacenter is not None and h.provider is not None
            }
        ),
        team=inv.team,
    )


def _own(keys: KeySet[Any]) -> bool:
    """Whether every key of ``keys`` is claimed by one entity alone, and none is empty.

    A key set holds each key once, with its first claim; fewer keys than texts is a clash,
    an empty key, or (often: ``bugs.python.org`` is its own domain) an entity repeating its
    own name, which is harmless."""
    if len(keys.keys) == len(keys.texts):
        return True
    first = dict(zip(keys.keys, keys.owners, strict=True))
    folded = normalize_all(keys.texts)
    return all(k and first.get(k) is e for k, e in zip(folded, keys.holders, strict=True))


def _given(refs: Iterable[str | None]) -> tuple[str, ...]:
    return tuple({r for r in refs if r is not None})


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
    for space, taken in enumerate(merged):
        if not _all_named([f.needs[space] for f in parts], [f.texts[space] for f in parts], taken):
            return False
    persons = set().union(*(f.person_keys for f in parts))
    people = [f.person_texts for f in parts]
    if not _all_named([f.person_needs for f in parts], people, persons):
        return False
    return _sites_agree(parts) and _team_is_a_group(parts)


def _all_named(
    needs: Sequence[Sequence[str]], texts: Sequence[Sequence[str]], keys: set[str]
) -> bool:
    """Whether every name of ``needs`` is one of ``texts`` as written or folds to one of
    ``keys`` (the keys of those texts).

    A reference is usually written as the name it refers to: where the names are fewer than
    the references (owners, hosts) the references are looked up among the names as written
    and only the others folded; where they are many more (services, which few references
    name), the references are folded."""
    if sum(map(len, texts)) > sum(map(len, needs)):
        return keys.issuperset(normalize_all([n for part in needs for n in part]))
    written = set().union(*texts)
    return all(
        written.issuperset(part)
        or keys.issuperset(normalize_all([n for n in part if n not in written]))
        for part in needs
    )


def _sites_agree(parts: Sequence[PartFacts]) -> bool:
    """Every host's datacenter belongs to the host's provider."""
    names: dict[str, str] = {}
    dc_provider: dict[str, str] = {}
    for f in parts:
        names.update(f.provider_names)
        dc_provider.update(f.dc_providers)
    sites = list(set().union(*(f.host_sites for f in parts)))  # a few hundred distinct
    folded = normalize_all([text for site in sites for text in site])
    for dc, provider in zip(folded[::2], folded[1::2], strict=True):
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
    groups = set(normalize_all([name for f in parts for name in f.group_names]))
    return len(teams) == 1 and normalize(teams[0]) in groups
