"""The lookup keys of one kind of entity in one part of an inventory, normalized once.

A kind's lookups (:mod:`.kind`) are assembled from these, part after part: a reload with one
part changed builds the keys of that part alone and reuses the others' as they are (they never
change once built). An inventory read from one file is one part.

Keys have a rank: at equal fuzzy scores a name beats an alias, an alias a domain, a domain a
shortened domain. "pypu" is one letter from both "pypi" (PyPI's name) and "pypy" (an alias of
the PyPy website); the name wins.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Generic, TypeVar

from infrabot.heap import drain_dict, drain_list
from infrabot.inventory.model import Datacenter, Group, Host, Person, Provider, Service
from infrabot.inventory.names import normalize_all

__all__ = [
    "ALIAS",
    "DERIVED",
    "DOMAIN",
    "NAME",
    "KeySet",
    "by_length",
    "datacenter_keys",
    "named_keys",
    "service_keys",
]

T = TypeVar("T")
N = TypeVar("N", Service, Host, Provider, Person, Group)

NAME, ALIAS, DOMAIN, DERIVED = range(4)

Lengths = dict[int, tuple[list[str], "array[int]"]]


class KeySet(Generic[T]):
    """One part's entities of one kind with their lookup keys.

    ``texts`` and ``holders`` are every lookup text in claim order (a name, then its aliases
    and domains) with its entity; ``keys``, ``owners`` and ``ranks`` are the normalized keys
    each with the first entity of this part that claims it (empty keys name nothing), and
    ``derived`` the shortened domains that none of those keys claims, which only count where
    no other part's key claims them either (one shared by two entities names neither).
    Immutable once built; shared by every index that serves the part.
    """

    __slots__ = ("_lengths", "derived", "entries", "holders", "keys", "owners", "ranks", "texts")

    def __init__(
        self,
        entries: Sequence[T],
        holders: list[T],
        texts: list[str],
        ranks: list[int],
        derived: tuple[list[T], list[str]] = ([], []),
    ) -> None:
        self.entries = entries
        self.holders = holders
        self.texts = texts
        keys = normalize_all(texts)
        claims = dict(zip(keys, holders, strict=True))
        if len(claims) == len(keys) and "" not in claims:  # the usual case: no key twice
            self.keys, self.owners, self.ranks = keys, holders, bytes(ranks)
        else:
            self.keys, self.owners, self.ranks = _first_claims(holders, keys, ranks)
        # a shortened domain that a key of this part claims is claimed for good: only the
        # others may ever count (usually none: a service's domain stem is its name)
        self.derived = {k: e for k, e in _derived(*derived).items() if k not in claims}
        self._lengths: Lengths | None = None

    @property
    def lengths(self) -> Lengths:
        """The keys grouped by length, each with its position among this part's keys (made
        on first use: only a kind with many keys searches by length)."""
        if self._lengths is None:
            self._lengths = by_length(self.keys)
        return self._lengths

    def dismantle(self) -> None:
        """Drop the keys, a step at a time, when no index serves them any more."""
        for items in (self.holders, self.texts, self.keys, self.owners):
            drain_list(items)
        drain_dict(self.derived)
        self._lengths = None

    def __len__(self) -> int:
        return len(self.entries)


def by_length(choices: Sequence[str]) -> Lengths:
    """The choices grouped by length, each with its position among all of them."""
    groups: Lengths = {}
    for at, choice in enumerate(choices):
        group = groups.get(len(choice))
        if group is None:
            group = groups[len(choice)] = ([], array("L"))
        group[0].append(choice)
        group[1].append(at)
    return groups


def _first_claims(
    holders: list[T], keys: list[str], ranks: list[int]
) -> tuple[list[str], list[T], bytes]:
    """Each key once, with the first entity that claims it and the rank of that claim."""
    seen: set[str] = set()
    kept_keys: list[str] = []
    kept_holders: list[T] = []
    kept_ranks = bytearray()
    for entity, key, rank in zip(holders, keys, ranks, strict=True):
        if key and key not in seen:
            seen.add(key)
            kept_keys.append(key)
            kept_holders.append(entity)
            kept_ranks.append(rank)
    return kept_keys, kept_holders, bytes(kept_ranks)


def _derived(holders: list[T], texts: list[str]) -> dict[str, T | None]:
    """Each shortened domain with its entity, or None when two entities share it."""
    derived: dict[str, T | None] = {}
    for entity, key in zip(holders, normalize_all(texts), strict=True):
        if key:
            derived[key] = None if key in derived and derived[key] is not entity else entity
    return derived


def domain_stems(domain: str) -> list[str]:
    """Short names of a domain: ``pypi.python.org`` → ``pypi``, ``www.python.org`` →
    ``python.org``, ``pypy.org`` → ``pypy``."""
    host, _, path = domain.partition("/")
    labels = host.split(".")
    stems: list[str] = []
    if labels[0] == "www" and len(labels) > 2:
        stems.append(".".join(labels[1:]) + (f"/{path}" if path else ""))
    elif len(labels) >= 2:
        stems.append(labels[0])
    return stems


def service_keys(services: Sequence[Service]) -> KeySet[Service]:
    """Services by name, aliases and domains, and by their domains' short names."""
    holders: list[Service] = []
    texts: list[str] = []
    ranks: list[int] = []
    derived_holders: list[Service] = []
    derived_texts: list[str] = []
    for s in services:
        aliases, domains = s.aliases, s.domains
        holders.append(s)
        texts.append(s.name)
        ranks.append(NAME)
        if aliases or domains:
            holders += [s] * (len(aliases) + len(domains))
            texts += aliases
            texts += domains
            ranks += [ALIAS] * len(aliases)
            ranks += [DOMAIN] * len(domains)
            for d in domains:
                for stem in domain_stems(d):
                    derived_holders.append(s)
                    derived_texts.append(stem)
    return KeySet(services, holders, texts, ranks, (derived_holders, derived_texts))


def named_keys(entities: Sequence[N]) -> KeySet[N]:
    """Entities looked up by name and aliases."""
    holders: list[N] = []
    texts: list[str] = []
    ranks: list[int] = []
    for e in entities:
        holders.append(e)
        texts.append(e.name)
        ranks.append(NAME)
        if e.aliases:
            holders += [e] * len(e.aliases)
            texts += e.aliases
            ranks += [ALIAS] * len(e.aliases)
    return KeySet(entities, holders, texts, ranks)


def datacenter_keys(datacenters: Sequence[Datacenter]) -> KeySet[Datacenter]:
    """Datacenters by their code."""
    return KeySet(
        datacenters, list(datacenters), [d.code for d in datacenters], [NAME] * len(datacenters)
    )
