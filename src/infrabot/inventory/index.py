"""Immutable lookups over one loaded inventory, built once per load and swapped whole on reload.

Every lookup ignores case, spaces, punctuation and accents, and works over names, aliases and
domains (``pypi``, ``PyPI``, ``pypi.python.org`` and ``python package index`` all find PyPI).
A service's domain also answers without its parent domain: ``docs`` finds docs.python.org,
unless two services would share that shortened name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from infrabot.errors import CommandError
from infrabot.inventory.model import (
    Datacenter,
    Group,
    Host,
    Inventory,
    Person,
    Provider,
    Service,
)
from infrabot.inventory.names import normalize

__all__ = ["Index", "Kind", "Match", "normalize"]

T = TypeVar("T")
Owner = Person | Group

# Rank of a lookup key: at equal fuzzy scores a name beats an alias, an alias a domain, a
# domain a shortened domain. "pypu" is one letter from both "pypi" (PyPI's name) and "pypy"
# (an alias of the PyPy website); the name wins.
_NAME, _ALIAS, _DOMAIN, _DERIVED = range(4)
_FUZZY_CUTOFF = 60.0


class Kind(Generic[T]):
    """One kind of entity (services, hosts, ...): exact keys, fuzzy choices, display names."""

    def __init__(
        self, label: str, keyed: Iterable[tuple[T, str, Iterable[tuple[str, int]]]]
    ) -> None:
        self.label = label
        self._by_key: dict[str, T] = {}
        self._rank: dict[str, int] = {}
        self.entries: list[T] = []
        derived: dict[str, T | None] = {}
        for entity, _display, keys in keyed:
            self.entries.append(entity)
            for text, rank in keys:
                key = normalize(text)
                if not key:
                    continue
                if rank == _DERIVED:
                    # a shortened domain shared by two entities names neither
                    derived[key] = None if key in derived and derived[key] is not entity else entity
                elif key not in self._by_key:
                    self._by_key[key] = entity
                    self._rank[key] = rank
        for key, owner in derived.items():
            if owner is not None and key not in self._by_key:
                self._by_key[key] = owner
                self._rank[key] = _DERIVED
        self._choices = list(self._by_key)

    def find(self, query: str) -> T | None:
        """The entity whose name, alias or domain matches ``query`` exactly (normalized)."""
        return self._by_key.get(normalize(query))

    def suggest(self, query: str) -> T | None:
        """The closest entity to a mistyped ``query``, or None when nothing is close."""
        key = normalize(query)
        if not key or not self._choices:
            return None
        found = process.extract(
            key, self._choices, scorer=fuzz.ratio, limit=5, score_cutoff=_FUZZY_CUTOFF
        )
        if not found:
            return None
        best = max(found, key=lambda hit: (hit[1], -self._rank[hit[0]]))
        return self._by_key[best[0]]

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class Match:
    """One hit of a free-text search: what kind of thing, and its name."""

    kind: str
    name: str


def _domain_stems(domain: str) -> list[str]:
    """Short names of a domain: ``pypi.python.org`` → ``pypi``, ``www.python.org`` →
    ``python.org``, ``pypy.org`` → ``pypy``."""
    host, _, path = domain.partition("/")
    labels = host.split(".")
    stems: list[str] = []
    if labels[0] == "www" and len(labels) > 2:
        stems.append(".".join(labels[1:]) + (f"/{path}" if path else ""))
    elif len(labels) > 2 or len(labels) == 2:
        stems.append(labels[0])
    return stems


class Index:
    """Everything the commands ask of an inventory, precomputed."""

    def __init__(self, inventory: Inventory) -> None:
        inv = inventory
        self.inventory = inv
        self.services: Kind[Service] = Kind(
            "service",
            (
                (
                    s,
                    s.name,
                    [(s.name, _NAME)]
                    + [(a, _ALIAS) for a in s.aliases]
                    + [(d, _DOMAIN) for d in s.domains]
                    + [(stem, _DERIVED) for d in s.domains for stem in _domain_stems(d)],
                )
                for s in inv.services
            ),
        )
        self.hosts: Kind[Host] = Kind(
            "host",
            ((h, h.name, [(h.name, _NAME)] + [(a, _ALIAS) for a in h.aliases]) for h in inv.hosts),
        )
        self.providers: Kind[Provider] = Kind(
            "provider",
            (
                (p, p.name, [(p.name, _NAME)] + [(a, _ALIAS) for a in p.aliases])
                for p in inv.providers
            ),
        )
        self.datacenters: Kind[Datacenter] = Kind(
            "datacenter", ((d, d.code, [(d.code, _NAME)]) for d in inv.datacenters)
        )
        self.people: Kind[Person] = Kind(
            "person",
            ((p, p.name, [(p.name, _NAME)] + [(a, _ALIAS) for a in p.aliases]) for p in inv.people),
        )
        self.groups: Kind[Group] = Kind(
            "group",
            ((g, g.name, [(g.name, _NAME)] + [(a, _ALIAS) for a in g.aliases]) for g in inv.groups),
        )
        self._build_reverse()

    def _build_reverse(self) -> None:
        by_owner: dict[str, list[Service]] = defaultdict(list)
        by_provider: dict[str, list[Service]] = defaultdict(list)
        by_host: dict[str, list[Service]] = defaultdict(list)
        by_dc: dict[str, list[Service]] = defaultdict(list)
        parts: dict[str, list[Service]] = defaultdict(list)
        for s in self.inventory.services:
            for owner_ref in s.owners:
                owner = self.owner(owner_ref)
                by_owner[owner.name if owner else owner_ref].append(s)
            providers: dict[str, None] = {}
            for place in s.hosting:
                for ref in (place.provider, place.cdn):
                    provider = self.providers.find(ref) if ref else None
                    if provider is not None:
                        providers[provider.name] = None
                on_host = self.hosts.find(place.host) if place.host else None
                if on_host is not None:
                    by_host[on_host.name].append(s)
                in_dc = self.datacenters.find(place.datacenter) if place.datacenter else None
                if in_dc is not None:
                    by_dc[in_dc.code].append(s)
            for name in providers:
                by_provider[name].append(s)
            parent = self.services.find(s.part_of) if s.part_of else None
            if parent is not None:
                parts[parent.name].append(s)
        hosts_by_provider: dict[str, list[Host]] = defaultdict(list)
        hosts_by_dc: dict[str, list[Host]] = defaultdict(list)
        for h in self.inventory.hosts:
            provider = self.providers.find(h.provider) if h.provider else None
            if provider is not None:
                hosts_by_provider[provider.name].append(h)
            dc = self.datacenters.find(h.datacenter) if h.datacenter else None
            if dc is not None:
                hosts_by_dc[dc.code].append(h)
        dcs_by_provider: dict[str, list[Datacenter]] = defaultdict(list)
        for d in self.inventory.datacenters:
            provider = self.providers.find(d.provider)
            if provider is not None:
                dcs_by_provider[provider.name].append(d)
        groups_of: dict[str, list[Group]] = defaultdict(list)
        for g in self.inventory.groups:
            for m in g.members:
                person = self.people.find(m.person)
                if person is not None:
                    groups_of[person.name].append(g)
        freeze = _freeze
        self._by_owner = freeze(by_owner)
        self._by_provider = freeze(by_provider)
        self._by_host = freeze(by_host)
        self._by_dc = freeze(by_dc)
        self._parts = freeze(parts)
        self._hosts_by_provider = freeze(hosts_by_provider)
        self._hosts_by_dc = freeze(hosts_by_dc)
        self._dcs_by_provider = freeze(dcs_by_provider)
        self._groups_of = freeze(groups_of)

    # --- exact lookups that answer the user, with a suggestion when nothing matches ---

    def service(self, query: str) -> Service:
        """The service named ``query``; a :class:`CommandError` with a suggestion otherwise."""
        return _require(self.services, query)

    def host(self, query: str) -> Host:
        """The host named ``query``; a :class:`CommandError` with a suggestion otherwise."""
        return _require(self.hosts, query)

    def provider(self, query: str) -> Provider:
        """The provider named ``query``; a :class:`CommandError` with a suggestion otherwise."""
        return _require(self.providers, query)

    def datacenter(self, query: str) -> Datacenter:
        """The datacenter with code ``query``; a :class:`CommandError` otherwise."""
        return _require(self.datacenters, query)

    def owner(self, query: str) -> Owner | None:
        """The person or group named ``query`` (owners may be either), or None."""
        person = self.people.find(query)
        return person if person is not None else self.groups.find(query)

    @property
    def team(self) -> Group | None:
        """The infrastructure team, as the inventory's ``team`` key names it."""
        ref = self.inventory.team
        return self.groups.find(ref) if ref else None

    # --- reverse indexes ---

    def services_owned_by(self, owner: Owner) -> tuple[Service, ...]:
        """Services that list ``owner`` among their owners."""
        return self._by_owner.get(owner.name, ())

    def services_on_provider(self, provider: Provider) -> tuple[Service, ...]:
        """Services hosted by, or served through, ``provider``."""
        return self._by_provider.get(provider.name, ())

    def services_on_host(self, host: Host) -> tuple[Service, ...]:
        """Services that run on ``host``."""
        return self._by_host.get(host.name, ())

    def services_in_datacenter(self, dc: Datacenter) -> tuple[Service, ...]:
        """Services recorded as running in ``dc``."""
        return self._by_dc.get(dc.code, ())

    def parts_of(self, service: Service) -> tuple[Service, ...]:
        """Services recorded as part of ``service``."""
        return self._parts.get(service.name, ())

    def hosts_on_provider(self, provider: Provider) -> tuple[Host, ...]:
        """Hosts at ``provider``."""
        return self._hosts_by_provider.get(provider.name, ())

    def hosts_in_datacenter(self, dc: Datacenter) -> tuple[Host, ...]:
        """Hosts in ``dc``."""
        return self._hosts_by_dc.get(dc.code, ())

    def datacenters_of(self, provider: Provider) -> tuple[Datacenter, ...]:
        """The datacenters ``provider`` runs for the team."""
        return self._dcs_by_provider.get(provider.name, ())

    def groups_of(self, person: Person) -> tuple[Group, ...]:
        """The groups ``person`` is a member of."""
        return self._groups_of.get(person.name, ())

    # --- free text ---

    def search(self, words: str, limit: int = 50) -> list[Match]:
        """Entities whose names or descriptions contain every word, exact hits first."""
        terms = [w for w in words.casefold().split() if w]
        if not terms:
            return []
        hits: list[Match] = []
        seen: set[tuple[str, str]] = set()

        def add(kind: str, name: str) -> None:
            if (kind, name) not in seen and len(hits) < limit:
                seen.add((kind, name))
                hits.append(Match(kind, name))

        for kind, found in self._exact(words):
            add(kind, found)
        for kind, name, haystack in self._haystacks():
            if all(t in haystack for t in terms):
                add(kind, name)
        return hits

    def _exact(self, words: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for kind in (self.services, self.hosts, self.providers, self.people, self.groups):
            entity = kind.find(words)
            if entity is not None:
                out.append((kind.label, getattr(entity, "name", "")))
        dc = self.datacenters.find(words)
        if dc is not None:
            out.append(("datacenter", dc.code))
        return out

    def _haystacks(self) -> Iterable[tuple[str, str, str]]:
        for s in self.inventory.services:
            text = [s.name, *s.aliases, *s.domains, s.description or "", *s.notes]
            text += [h.description or "" for h in s.hosting]
            yield "service", s.name, " ".join(text).casefold()
        for h in self.inventory.hosts:
            text = [h.name, *h.aliases, h.description or "", *h.runs, *h.notes]
            yield "host", h.name, " ".join(text).casefold()
        for p in self.inventory.providers:
            yield (
                "provider",
                p.name,
                " ".join([p.name, *p.aliases, *p.uses, p.description or "", *p.notes]).casefold(),
            )
        for d in self.inventory.datacenters:
            yield "datacenter", d.code, " ".join([d.code, d.region or "", *d.notes]).casefold()
        for person in self.inventory.people:
            yield (
                "person",
                person.name,
                " ".join([person.name, *person.aliases, *person.roles, *person.notes]).casefold(),
            )
        for g in self.inventory.groups:
            yield (
                "group",
                g.name,
                " ".join(
                    [g.name, *g.aliases, g.description or "", g.mailing_list or ""]
                ).casefold(),
            )


def _freeze(table: Mapping[str, list[T]]) -> dict[str, tuple[T, ...]]:
    return {k: tuple(v) for k, v in table.items()}


def _require(kind: Kind[T], query: str) -> T:
    query = query.strip()
    if not query:
        raise CommandError(f"which {kind.label}? Give me a name.")
    found = kind.find(query)
    if found is not None:
        return found
    shown = query if len(query) <= 40 else query[:37] + "..."
    hint = kind.suggest(query)
    if hint is None:
        raise CommandError(f"no {kind.label} '{shown}'")
    name = getattr(hint, "name", None) or getattr(hint, "code", "")
    raise CommandError(f"no {kind.label} '{shown}'; did you mean {name}?")
