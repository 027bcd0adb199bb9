"""Search over every field that holds text, ranked, from an inverted index.

``fastly`` finds the provider Fastly by its name and PyPI, docs.python.org and
www.python.org by their hosting; ``chef`` finds OSUOSL by its config management. An entity
must hold every word (any form of case and accents); those holding them in a name, alias or
domain come first, then in a description, role, hosting or config management, then anywhere;
each in inventory order. When nothing holds them all, words may be the start of a word
(``mail`` finds "mailing list"), and last any of the words will do.

The inverted index is SQLite's full-text index (FTS5) in memory, without a copy of the texts:
it is built in C, takes about a tenth of the memory of a Python table of words, and answers
a word held by 20,000 entities in about a millisecond. Building it for 100,000 services takes
a couple of seconds, so a large inventory builds it on a thread of its own once its index is
ready: until then a search says so instead of stalling the bot.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from infrabot.inventory.model import Inventory
from infrabot.inventory.names import spell_plain
from infrabot.inventory.search_fields import FIELDS, Entity, entity_texts, fields_of, kind_of
from infrabot.inventory.words import FILLER, fold_words

__all__ = ["Hit", "Results", "SearchIndex"]

_TIERS = ("{name alias domain}", "{description roles hosting config}", "")
_MAX_TERMS = 8
_COLUMNS = ", ".join(FIELDS)


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: what it is, its name, and the fields the words matched in."""

    kind: str
    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Results:
    """The best hits of a search and how many entities matched in all; ``ready`` is false
    while the index of a newly loaded inventory is still being built."""

    hits: tuple[Hit, ...]
    total: int
    ready: bool = True


class SearchIndex:
    """Every text of one inventory's entities, by field, in a full-text index."""

    def __init__(
        self,
        inventory: Inventory,
        *,
        background: bool = False,
        then: Callable[[], object] | None = None,
    ) -> None:
        """Index ``inventory``'s texts, on a thread of its own if ``background``; ``then``
        runs after the build, on the same thread, before the index says it is ready."""
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            f"CREATE VIRTUAL TABLE texts USING fts5({_COLUMNS}, content='', detail=column, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        self._entities: list[Entity] = []  # by rowid - 1
        self._ready = threading.Event()
        self._stop = False
        self._lock = threading.Lock()
        self._background = background
        self._then = then
        if background:
            threading.Thread(
                target=self._build, args=(inventory,), name="search-index", daemon=True
            ).start()
        else:
            self._build(inventory)

    def _rows(self, inventory: Inventory) -> Iterator[list[str]]:
        at = {field: n for n, field in enumerate(FIELDS)}
        for _kind, entity, fields in entity_texts(inventory):
            if self._stop:
                return
            self._entities.append(entity)
            row = [""] * len(FIELDS)
            for field, values in fields:
                text = " ".join(values)
                # FTS drops accents but keeps "ø" and the like: spelled plainly, as queries are
                row[at[field]] = text if text.isascii() else spell_plain(text)
            yield row

    def _build(self, inventory: Inventory) -> None:
        with self._lock:
            marks = ", ".join("?" * len(FIELDS))
            insert = f"INSERT INTO texts({_COLUMNS}) VALUES ({marks})"
            self._db.executemany(insert, self._rows(inventory))
            if not self._stop:
                self._db.execute("INSERT INTO texts(texts) VALUES ('optimize')")
                then, self._then = self._then, None
                if then is not None:
                    then()
                self._ready.set()

    def names_hold(self, *words: str) -> bool:
        """Whether one entity's names, aliases and domains hold every one of ``words``.
        Until the index is built: yes for a small inventory (built at once), no for a large
        one, whose names are then found whole or by a "did you mean" for those few seconds,
        as scanning them word by word would make every typo several times slower."""
        if not self._ready.is_set():
            return not self._background
        if not words or not all(word.isalnum() for word in words):
            return True
        terms = " ".join(f'"{word}"' for word in words)
        query = f"{{name alias domain}} : ({terms})"
        rows = self._db.execute("SELECT 1 FROM texts WHERE texts MATCH ? LIMIT 1", (query,))
        return rows.fetchone() is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the index is built (for tools and tests); whether it is."""
        return self._ready.wait(timeout)

    def search(self, words: str, limit: int = 50) -> Results:
        """The entities holding every word of ``words``, best first (see the module)."""
        if not self._ready.is_set():
            return Results((), 0, ready=False)
        terms = [w for w in dict.fromkeys(fold_words(words)) if w not in FILLER]
        terms = (terms or list(dict.fromkeys(fold_words(words))))[:_MAX_TERMS]
        if not terms:
            return Results((), 0)
        quoted = [f'"{term}"' for term in terms]  # folded words: letters and digits only
        for expression, prefix in (
            (" ".join(quoted), False),
            (" ".join(f"{q}*" for q in quoted), True),
            (" OR ".join(f"{q}*" for q in quoted), True),
        ):
            total = self._count(expression)
            if total:
                chosen = self._ranked(expression, limit)
                return Results(tuple(self._hit(rowid, terms, prefix) for rowid in chosen), total)
        return Results((), 0)

    def _count(self, expression: str) -> int:
        row = self._db.execute("SELECT count(*) FROM texts WHERE texts MATCH ?", (expression,))
        return int(row.fetchone()[0])

    def _ranked(self, expression: str, limit: int) -> list[int]:
        """The rowids of the first ``limit`` matches, tier by tier."""
        chosen: dict[int, None] = {}
        for tier in _TIERS:
            query = f"{tier} : ({expression})" if tier else expression
            rows = self._db.execute(
                "SELECT rowid FROM texts WHERE texts MATCH ? LIMIT ?",
                (query, limit + len(chosen)),
            )
            for (rowid,) in rows:
                if len(chosen) < limit:
                    chosen.setdefault(rowid)
        return list(chosen)

    def _hit(self, rowid: int, terms: list[str], prefix: bool) -> Hit:
        entity = self._entities[rowid - 1]
        where = []
        for field, values in fields_of(entity):
            held = fold_words(" ".join(values))
            if any(w.startswith(t) if prefix else w == t for t in terms for w in held):
                where.append(field)
        return Hit(kind_of(entity), entity.name, tuple(where))

    def dismantle(self) -> None:
        """Drop what this holds (see :func:`infrabot.heap.retire`); a build still running
        stops at its next entity."""
        self._stop = True
        with self._lock:
            self._entities.clear()
            self._db.close()
