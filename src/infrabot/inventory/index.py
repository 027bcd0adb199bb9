"""Immutable lookups over one loaded inventory, built once per load and swapped whole on reload.

Every lookup ignores case, spaces, punctuation and accents, and works over names, aliases and
domains (``pypi``, ``PyPI``, ``pypi.python.org`` and ``python package index`` all find PyPI).
A service's domain also answers without its parent domain: ``docs`` finds docs.python.org,
unless two services would share that shortened name.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from rapidfuzz import fuzz, process

from infrabot.errors import CommandError
from infrabot.heap import drain_dict, drain_list, gc_paused
from infrabot.inventory.lookup import Resolution, bare_name, by_words, refusal, word_hits
from infrabot.inventory.model import (
    Datacenter,
    Group,
    Host,
    Inventory,
    Person,
    Provider,
    Service,
)
from infrabot.inventory.names import normalize, normalize_all
from infrabot.inventory.reverse import build_reverse
from infrabot.inventory.search import Results, SearchIndex
from infrabot.inventory.words import NameWords

__all__ = ["Index", "Kind", "normalize"]

T = TypeVar("T")
N = TypeVar("N", Service, Host, Provider, Person, Group)
Owner = Person | Group
Named = Service | Host | Provider | Person | Group | Datacenter

# Rank of a lookup key: at equal fuzzy scores a name beats an alias, an alias a domain, a
# domain a shortened domain. "pypu" is one letter from both "pypi" (PyPI's name) and "pypy"
# (an alias of the PyPy website); the name wins.
_NAME, _ALIAS, _DOMAIN, _DERIVED = range(4)
_FUZZY_CUTOFF = 60.0
_BY_LENGTH_ABOVE = 20_000  # keys from which fuzzy search goes by length (same answers)
_LARGE = 10_000  # entities from which an index is worth freezing (see gc_paused)
_OWNER_MEMO = 50_000  # owner references remembered; bounded, as users' words reach it too
_UNRESOLVED = object()


class _Keys(Generic[T]):
    """Lookup texts with their entity and rank, in claim order, as parallel lists; shortened
    domains (which only count when no other key claims them) apart."""

    __slots__ = ("derived_holders", "derived_texts", "holders", "ranks", "texts")

    def __init__(self) -> None:
        self.holders: list[T] = []
        self.texts: list[str] = []
        self.ranks: list[int] = []
        self.derived_holders: list[T] = []
        self.derived_texts: list[str] = []

    def add(self, entity: T, text: str, rank: int) -> None:
        if rank == _DERIVED:
            self.derived_holders.append(entity)
            self.derived_texts.append(text)
        else:
            self.holders.append(entity)
            self.texts.append(text)
            self.ranks.append(rank)

    def add_all(self, entity: T, texts: Sequence[str], rank: int) -> None:
        if texts:
            self.holders += [entity] * len(texts)
            self.texts += texts
            self.ranks += [rank] * len(texts)


class Kind(Generic[T]):
    """One kind of entity (services, hosts, ...): exact keys, fuzzy choices, display names."""

    def __init__(
        self, label: str, keyed: Iterable[tuple[T, str, Iterable[tuple[str, int]]]]
    ) -> None:
        entries: list[T] = []
        keys = _Keys[T]()
        for entity, _display, entity_keys in keyed:
            entries.append(entity)
            for text, rank in entity_keys:
                keys.add(entity, text, rank)
        self._fill(label, entries, keys)

    @classmethod
    def _of(cls, label: str, entries: list[T], keys: _Keys[T]) -> Kind[T]:
        """A kind from keys gathered in bulk (the fast way for a large inventory)."""
        kind = cls.__new__(cls)
        kind._fill(label, entries, keys)
        return kind

    def _fill(self, label: str, entries: list[T], keys: _Keys[T]) -> None:
        self.label = label
        self.entries = entries
        self.words = NameWords(keys.holders, keys.texts)
        by_key, ranks = _first_claims(keys.holders, normalize_all(keys.texts), keys.ranks)
        derived: dict[str, T | None] = {}
        for entity, key in zip(
            keys.derived_holders, normalize_all(keys.derived_texts), strict=True
        ):
            if key:  # a shortened domain shared by two entities names neither
                derived[key] = None if key in derived and derived[key] is not entity else entity
        for key, owner in derived.items():
            if owner is not None and key not in by_key:
                by_key[key] = owner
                ranks.append(_DERIVED)
        self._by_key = by_key
        self._choices = list(by_key)
        self._ranks = ranks  # the rank of each choice, by position
        self._lengths = _by_length(self._choices) if len(by_key) >= _BY_LENGTH_ABOVE else None

    def _closest_by_length(self, key: str) -> list[tuple[str, float, int]]:
        """What ``process.extract(key, choices, limit=5)`` would return first, as far as the
        best score goes: every choice with the best score (the first five by position).

        ``fuzz.ratio`` of strings of lengths m and n is at most 200 * min(m, n) / (m + n),
        so the choices are grouped by length and searched from the lengths that could score
        highest; once a length cannot reach the best score found, neither can the rest. A
        typo of a 20-letter name searches about a third of 300,000 keys instead of all.
        """
        size = len(key)
        lengths = self._lengths
        assert lengths is not None
        reachable = sorted(((200 * min(size, n) / (size + n), n) for n in lengths), reverse=True)
        best = _FUZZY_CUTOFF
        hits: list[tuple[str, float, int]] = []
        for most, n in reachable:
            if most < best - 1e-9:
                break
            choices, positions = lengths[n]
            for choice, score, at in process.extract(
                key, choices, scorer=fuzz.ratio, limit=5, score_cutoff=best
            ):
                hits.append((choice, score, positions[at]))
                best = max(best, score)
        top = [hit for hit in hits if hit[1] >= best]
        top.sort(key=lambda hit: hit[2])
        return top[:5]

    def find(self, query: str) -> T | None:
        """The entity whose name, alias or domain matches ``query`` exactly (normalized)."""
        return self._by_key.get(normalize(query))

    def resolve(self, query: str, *, suggest: bool = True) -> Resolution[T]:
        """What ``query`` names, the way people say names (see :mod:`.lookup`); a typo gets
        the closest name as a suggestion, unless ``suggest`` is false."""
        found = self.find(query)
        if found is None:
            found = self.find(bare_name(query))
        if found is not None:
            return Resolution(found=found)
        hits = word_hits(self.words, query)
        if hits:
            return by_words(self.words, query, _part_of, hits)
        hits = word_hits(self.words, query, loose=True)
        if len(hits) == 1:  # one name holds the words and the rest is a domain's ending
            return Resolution(found=hits[0][0])
        suggestion = self.suggest(query) if suggest else None
        if suggestion is not None:
            return Resolution(suggestion=suggestion)
        # only now the look at each of several loose hits (thousands, for a typo's common
        # words): a close spelling of one name says more
        return by_words(self.words, query, _part_of, hits) if hits else Resolution()

    def suggest(self, query: str) -> T | None:
        """The closest entity to a mistyped ``query``, or None when nothing is close."""
        key = normalize(query)
        if not key or not self._choices:
            return None
        if self._lengths is None:
            found = process.extract(
                key, self._choices, scorer=fuzz.ratio, limit=5, score_cutoff=_FUZZY_CUTOFF
            )
        else:
            found = self._closest_by_length(key)
        if not found:
            return None
        best = max(found, key=lambda hit: (hit[1], -self._ranks[hit[2]]))
        return self._by_key[best[0]]

    def resolve_all(self, refs: Iterable[str | None]) -> dict[str, T | None]:
        """Each reference (None aside) with the entity it names, or None, in one pass."""
        listed = [ref for ref in refs if ref is not None]
        by_key = self._by_key
        return {
            ref: by_key.get(key) for ref, key in zip(listed, normalize_all(listed), strict=True)
        }

    def dismantle(self) -> None:
        """Drop everything this kind holds, a step at a time (see :func:`heap.retire`)."""
        drain_dict(self._by_key)
        drain_list(self.entries)
        self.words.dismantle()
        self._choices.clear()

    def __len__(self) -> int:
        return len(self.entries)


def _part_of(entity: object) -> str | None:
    """The name of what ``entity`` is part of, for the kinds that have one."""
    return getattr(entity, "part_of", None)


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
        self._owner_refs: dict[str, Owner | None] = {}
        large = len(inventory.services) + len(inventory.hosts) >= _LARGE
        with gc_paused(freeze=large):
            self._build(inventory)
        # built after the index, beside it: a large one takes seconds (see .search); the
        # names' words are needed only once it can tell which words names hold
        self._search = SearchIndex(
            inventory,
            background=large,
            then=self._prepare_words if large else None,
        )
        for kind in self.kinds():
            kind.words.known = self._search.names_hold

    def _prepare_words(self) -> None:
        for kind in self.kinds():
            kind.words.prepare()

    def _build(self, inventory: Inventory) -> None:
        inv = inventory
        self.inventory = inv
        keys = _Keys[Service]()
        holders, texts, ranks = keys.holders, keys.texts, keys.ranks
        for s in inv.services:
            aliases, domains = s.aliases, s.domains
            holders.append(s)
            texts.append(s.name)
            ranks.append(_NAME)
            if aliases or domains:
                holders += [s] * (len(aliases) + len(domains))
                texts += aliases
                texts += domains
                ranks += [_ALIAS] * len(aliases)
                ranks += [_DOMAIN] * len(domains)
                for d in domains:
                    for stem in _domain_stems(d):
                        keys.add(s, stem, _DERIVED)
        self.services: Kind[Service] = Kind._of("service", list(inv.services), keys)
        self.hosts: Kind[Host] = _named("host", inv.hosts)
        self.providers: Kind[Provider] = _named("provider", inv.providers)
        self.datacenters: Kind[Datacenter] = Kind(
            "datacenter", ((d, d.code, [(d.code, _NAME)]) for d in inv.datacenters)
        )
        self.people: Kind[Person] = _named("person", inv.people)
        self.groups: Kind[Group] = _named("group", inv.groups)
        self._reverse = build_reverse(
            inv,
            providers=self.providers,
            hosts=self.hosts,
            datacenters=self.datacenters,
            services=self.services,
            people=self.people,
            groups=self.groups,
        )

    def dismantle(self) -> None:
        """Take this index apart, a step at a time, once nothing answers from it any more:
        freeing a 100,000-service index at once would stall the event loop for seconds."""
        for value in list(vars(self).values()):
            if isinstance(value, Kind):
                value.dismantle()
            elif isinstance(value, dict):
                drain_dict(value)
        self._search.dismantle()
        for table in self._reverse.tables():
            drain_dict(table)
        inventory = self.inventory
        for name in ("services", "hosts", "people", "groups", "providers", "datacenters"):
            items = list(getattr(inventory, name))
            inventory.__dict__[name] = ()  # frozen to users; the index is its last owner
            drain_list(items)

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

    def person(self, query: str) -> Person:
        """The person named ``query``; a :class:`CommandError` with a suggestion otherwise."""
        return _require(self.people, query)

    def group(self, query: str) -> Group:
        """The group named ``query``; a :class:`CommandError` with a suggestion otherwise."""
        return _require(self.groups, query)

    def owner(self, query: str) -> Owner | None:
        """The person or group named ``query`` (owners may be either), or None."""
        # references written in the inventory recur on every answer: resolved once, kept
        known = self._owner_refs.get(query, _UNRESOLVED)
        if known is not _UNRESOLVED:
            return known  # type: ignore[return-value]
        person = self.people.find(query)
        found = person if person is not None else self.groups.find(query)
        if len(self._owner_refs) < _OWNER_MEMO:
            self._owner_refs[query] = found
        return found

    def kinds(self) -> tuple[Kind[Any], ...]:
        """Every kind of entity, services first."""
        return (
            self.services,
            self.hosts,
            self.providers,
            self.people,
            self.groups,
            self.datacenters,
        )

    def kind(self, label: str) -> Kind[Any]:
        """The kind called ``label`` (``"service"``, ``"host"``, ...)."""
        return next(kind for kind in self.kinds() if kind.label == label)

    def named_elsewhere(self, query: str, besides: str) -> tuple[str, Named] | None:
        """The entity of another kind than ``besides`` that ``query`` names (exactly or by its
        words, never by a guess), with its kind: ``!host pypi`` names the service PyPI."""
        for kind in self.kinds():
            if kind.label != besides:
                found = kind.resolve(query.strip(), suggest=False).found
                if found is not None:
                    return kind.label, found
        return None

    @property
    def team(self) -> Group | None:
        """The infrastructure team, as the inventory's ``team`` key names it."""
        ref = self.inventory.team
        return self.groups.find(ref) if ref else None

    # --- reverse indexes ---

    def services_owned_by(self, owner: Owner) -> tuple[Service, ...]:
        """Services that list ``owner`` among their owners."""
        return self._reverse.by_owner.get(owner.name, ())

    def services_on_provider(self, provider: Provider) -> tuple[Service, ...]:
        """Services hosted by, or served through, ``provider``."""
        return self._reverse.by_provider.get(provider.name, ())

    def services_on_host(self, host: Host) -> tuple[Service, ...]:
        """Services that run on ``host``."""
        return self._reverse.by_host.get(host.name, ())

    def services_in_datacenter(self, dc: Datacenter) -> tuple[Service, ...]:
        """Services recorded as running in ``dc``."""
        return self._reverse.by_dc.get(dc.code, ())

    def parts_of(self, service: Service) -> tuple[Service, ...]:
        """Services recorded as part of ``service``."""
        return self._reverse.parts.get(service.name, ())

    def hosts_on_provider(self, provider: Provider) -> tuple[Host, ...]:
        """Hosts at ``provider``."""
        return self._reverse.hosts_by_provider.get(provider.name, ())

    def hosts_in_datacenter(self, dc: Datacenter) -> tuple[Host, ...]:
        """Hosts in ``dc``."""
        return self._reverse.hosts_by_dc.get(dc.code, ())

    def datacenters_of(self, provider: Provider) -> tuple[Datacenter, ...]:
        """The datacenters ``provider`` runs for the team."""
        return self._reverse.dcs_by_provider.get(provider.name, ())

    def groups_of(self, person: Person) -> tuple[Group, ...]:
        """The groups ``person`` is a member of."""
        return self._reverse.groups_of.get(person.name, ())

    # --- free text ---

    def search(self, words: str, limit: int = 50) -> Results:
        """Entities holding the most of ``words`` in any field, best first (see
        :mod:`.search`)."""
        return self._search.search(words, limit)

    def search_ready(self, timeout: float | None = None) -> bool:
        """Wait until the full-text index is built (a large one builds beside the bot for a
        few seconds after a load); whether it is. For tools and benchmarks."""
        return self._search.wait(timeout)


def _by_length(choices: list[str]) -> dict[int, tuple[list[str], array[int]]]:
    """The choices grouped by length, each with its position among all of them."""
    groups: dict[int, tuple[list[str], array[int]]] = {}
    for at, choice in enumerate(choices):
        group = groups.get(len(choice))
        if group is None:
            group = groups[len(choice)] = ([], array("L"))
        group[0].append(choice)
        group[1].append(at)
    return groups


def _first_claims(
    holders: list[T], keys: list[str], ranks: list[int]
) -> tuple[dict[str, T], list[int]]:
    """Each key with the first entity that claims it (empty keys name nothing), and the rank
    of each of those claims, in the dict's order."""
    by_key = dict(zip(keys, holders, strict=True))
    if len(by_key) == len(keys) and "" not in by_key:  # the usual case: no key twice
        return by_key, list(ranks)
    by_key = {}
    kept: list[int] = []
    for entity, key, rank in zip(holders, keys, ranks, strict=True):
        if key and key not in by_key:
            by_key[key] = entity
            kept.append(rank)
    return by_key, kept


def _named(label: str, entities: Sequence[N]) -> Kind[N]:
    """A kind whose entities are looked up by name and aliases."""
    keys = _Keys[N]()
    for e in entities:
        keys.add(e, e.name, _NAME)
        keys.add_all(e, e.aliases, _ALIAS)
    return Kind._of(label, list(entities), keys)


def _require(kind: Kind[T], query: str) -> T:
    query = query.strip()
    if not query:
        raise CommandError(f"which {kind.label}? Give me a name.")
    resolution = kind.resolve(query)
    if resolution.found is not None:
        return resolution.found
    raise CommandError(refusal(kind.label, query, resolution, lambda e: getattr(e, "name", "")))
