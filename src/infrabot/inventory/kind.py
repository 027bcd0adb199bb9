"""One kind of entity (services, hosts, ...) of an index: exact keys, fuzzy choices, names'
words, assembled from the keys of each part (:mod:`.keys`).

Every lookup ignores case, spaces, punctuation and accents, and works over names, aliases and
domains (``pypi``, ``PyPI``, ``pypi.python.org`` and ``python package index`` all find PyPI).
A service's domain also answers without its parent domain: ``docs`` finds docs.python.org,
unless two services would share that shortened name.

The parts' keys are joined in part order, so a kind assembled from parts is the kind of their
entries read as one inventory: the first claim of a key wins, and a key's position (which
orders equal fuzzy scores) is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any, Generic, TypeVar

from rapidfuzz import fuzz, process

from infrabot.heap import drain_dict, drain_list
from infrabot.inventory.by_length import ByLength
from infrabot.inventory.keys import DERIVED, KeySet, by_length
from infrabot.inventory.lookup import Resolution, bare_name, by_words, word_hits
from infrabot.inventory.names import normalize, normalize_all
from infrabot.inventory.words import NameWords

__all__ = ["BY_LENGTH_ABOVE", "Kind"]

T = TypeVar("T")

BY_LENGTH_ABOVE = 20_000
"""Keys from which fuzzy search goes by length (same answers, a fraction of the work)."""

FUZZY_CUTOFF = 60.0
PATCH_BELOW = 0.25
"""Of the parts changed, below which a kind's table of keys is the previous one patched."""


class Kind(Generic[T]):
    """One kind of entity: exact keys, fuzzy choices, display names."""

    def __init__(
        self, label: str, parts: Sequence[KeySet[T]], previous: Kind[T] | None = None
    ) -> None:
        """The kind ``label`` of the entities of ``parts``, in order; ``previous``, a kind
        of mostly the same parts (still serving), saves building its table of keys anew."""
        self.label = label
        self._parts = list(parts)
        self.entries: list[T] = list(chain.from_iterable(p.entries for p in parts))
        self.words = NameWords([(p.holders, p.texts) for p in parts])
        keys = list(chain.from_iterable(p.keys for p in parts))
        by_key = _patched(previous, parts, len(keys)) if previous is not None else None
        if by_key is None:
            by_key = dict(zip(keys, chain.from_iterable(p.owners for p in parts), strict=True))
        # no key in two parts (always so in a valid inventory): each part's positions hold
        self._joined = joined = len(by_key) == len(keys)
        ranks = b"".join(p.ranks for p in parts)
        if not joined:
            by_key, ranks = _first_claims(parts)
            keys = list(by_key)
        derived = _unclaimed(_derived(parts), by_key)
        by_key.update(derived)
        self._by_key = by_key
        self._derived = list(derived)
        self._choices = keys + self._derived
        self._ranks = ranks + bytes([DERIVED]) * len(derived)  # the rank of each choice
        self._lengths: ByLength | None = None
        if len(by_key) >= BY_LENGTH_ABOVE:
            if joined:
                runs = list(zip(_offsets(parts), (p.lengths for p in parts), strict=True))
                runs.append((len(keys), by_length(self._derived)))
            else:
                runs = [(0, by_length(self._choices))]
            self._lengths = ByLength(runs)

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
                key, self._choices, scorer=fuzz.ratio, limit=5, score_cutoff=FUZZY_CUTOFF
            )
        else:
            found = self._lengths.closest(key, FUZZY_CUTOFF)
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

    def owner_of(self, key: str) -> T | None:
        """The entity that normalized ``key`` names, or None."""
        return self._by_key.get(key)

    def dismantle(self) -> None:
        """Drop everything this kind holds, a step at a time (see :func:`heap.retire`); what
        it shares with the parts' keys stays whole, for the index that serves them now."""
        drain_dict(self._by_key)
        drain_list(self.entries)
        self._parts.clear()
        self.words.dismantle()
        drain_list(self._choices)
        if self._lengths is not None:
            self._lengths.clear()

    def __len__(self) -> int:
        return len(self.entries)


def _patched(previous: Kind[T], parts: Sequence[KeySet[T]], count: int) -> dict[str, T] | None:
    """The keys of ``parts`` (``count`` of them) with their entities, as the keys of
    ``previous`` without the parts that went and with those that came (a copy of a large
    table costs a tenth of building it); None when that does not give them."""
    if not previous._joined:
        return None
    before = {id(p) for p in previous._parts}
    now = {id(p) for p in parts}
    went = [p for p in previous._parts if id(p) not in now]
    came = [p for p in parts if id(p) not in before]
    if len(went) + len(came) > PATCH_BELOW * len(parts):
        return None
    by_key = previous._by_key.copy()
    for key in previous._derived:
        del by_key[key]
    for p in went:
        for key in p.keys:
            del by_key[key]
    for p in came:
        by_key.update(zip(p.keys, p.owners, strict=True))
    return by_key if len(by_key) == count else None  # else a key came that was taken


def _offsets(parts: Sequence[KeySet[Any]]) -> list[int]:
    """The position among all keys of each part's first key."""
    offsets, at = [], 0
    for p in parts:
        offsets.append(at)
        at += len(p.keys)
    return offsets


def _first_claims(parts: Sequence[KeySet[T]]) -> tuple[dict[str, T], bytes]:
    """Each key with the first entity that claims it, across parts, and the rank of each of
    those claims, in the dict's order (for keys claimed in two parts)."""
    by_key: dict[str, T] = {}
    ranks = bytearray()
    for p in parts:
        for key, entity, rank in zip(p.keys, p.owners, p.ranks, strict=True):
            if key not in by_key:
                by_key[key] = entity
                ranks.append(rank)
    return by_key, bytes(ranks)


def _derived(parts: Sequence[KeySet[T]]) -> dict[str, T | None]:
    """Every part's shortened domains; one given in two parts (by two entities) names none."""
    derived: dict[str, T | None] = {}
    for p in parts:
        if derived.keys().isdisjoint(p.derived):
            derived.update(p.derived)
        else:
            for key, entity in p.derived.items():
                derived[key] = None if key in derived else entity
    return derived


def _unclaimed(derived: dict[str, T | None], by_key: dict[str, T]) -> dict[str, T]:
    """The shortened domains that name one entity and that no other key claims."""
    return {k: e for k, e in derived.items() if e is not None and k not in by_key}


def _part_of(entity: object) -> str | None:
    """The name of what ``entity`` is part of, for the kinds that have one."""
    return getattr(entity, "part_of", None)
