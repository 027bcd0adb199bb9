"""Search over every field that holds text: an inverted index from each word to the entities
and fields that hold it, ranked by how many of the words match and where.

``fastly`` finds the provider Fastly by its name and PyPI, docs.python.org and
www.python.org by their hosting; ``chef`` finds OSUOSL by its config management. The index
is built once per inventory, on the first search (a Python step per word of every text, about
a second on 100,000 services, which the load of an inventory does not pay), and never changes.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from dataclasses import dataclass

from infrabot.inventory.model import Inventory
from infrabot.inventory.search_fields import FIELDS, entity_texts
from infrabot.inventory.words import FILLER, fold_lines, fold_words

__all__ = ["FIELDS", "Hit", "Results", "SearchIndex"]

# the weight of a field is its place from the end of FIELDS
_WEIGHT = {field: len(FIELDS) - at for at, field in enumerate(FIELDS)}
_FIELD_BITS = 4  # a posting is entity number << 4 | field number


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: what it is, its name, and the fields each word matched in."""

    kind: str
    name: str
    fields: tuple[str, ...]
    words_matched: int


@dataclass(frozen=True, slots=True)
class Results:
    """The best hits of a search, and how many entities matched in all."""

    hits: tuple[Hit, ...]
    total: int  # entities matching as many words as the hits


class SearchIndex:
    """Words to the entities and fields holding them, for one inventory; built on first use."""

    def __init__(self, inventory: Inventory) -> None:
        self._inventory: Inventory | None = inventory
        self._lock = threading.Lock()
        self._postings: dict[str, array[int]] = {}
        self._entities: list[tuple[str, str]] = []

    def _ready(self) -> dict[str, array[int]]:
        with self._lock:  # a search and a warm-up on a worker thread build it once
            if self._inventory is not None:
                self._build(self._inventory)
                self._inventory = None
        return self._postings

    def warm(self) -> None:
        """Build the index now (say, on the thread that loaded the inventory)."""
        self._ready()

    def _build(self, inv: Inventory) -> None:
        codes: list[int] = []
        texts: list[str] = []
        entities = self._entities
        field_no = {field: at for at, field in enumerate(FIELDS)}
        for kind, name, fields in entity_texts(inv):
            base = len(entities) << _FIELD_BITS
            entities.append((kind, name))
            for field, values in fields:
                if values:
                    codes.append(base | field_no[field])
                    texts.append(" ".join(values))
        postings = self._postings
        for code, line in zip(codes, fold_lines(texts), strict=True):
            for word in set(line.split()):
                found = postings.get(word)
                if found is None:
                    postings[word] = array("L", (code,))
                else:
                    found.append(code)

    def search(self, words: str, limit: int = 50) -> Results:
        """The entities holding the most of ``words`` (all of them, when any entity does),
        ranked by where they matched (a name above a note), then in inventory order."""
        postings = self._ready()
        terms = list(dict.fromkeys(w for w in fold_words(words) if w not in FILLER))
        if not terms:
            terms = list(dict.fromkeys(fold_words(words)))
        matched: dict[int, dict[str, int]] = {}  # entity → word → best field
        for term in terms:
            for code in postings.get(term, ()):
                entity, field = code >> _FIELD_BITS, code & ((1 << _FIELD_BITS) - 1)
                seen = matched.setdefault(entity, {})
                if field < seen.get(term, len(FIELDS)):
                    seen[term] = field
        if not matched:
            return Results((), 0)
        most = max(len(fields) for fields in matched.values())
        best = [(e, f) for e, f in matched.items() if len(f) == most]
        ranked = heapq.nsmallest(
            limit,
            best,
            key=lambda item: (-sum(_WEIGHT[FIELDS[f]] for f in item[1].values()), item[0]),
        )
        hits = []
        for entity, fields in ranked:
            kind, name = self._entities[entity]
            where = tuple(dict.fromkeys(FIELDS[f] for f in sorted(fields.values())))
            hits.append(Hit(kind, name, where, most))
        return Results(tuple(hits), len(best))

    def dismantle(self) -> None:
        """Drop what this holds (see :func:`infrabot.heap.retire`)."""
        self._postings.clear()
        self._entities.clear()
        self._inventory = None
