"""An index built part by part from the previous one is the index a build from nothing gives.

Random parts go through random edits (a part changed, added, deleted, an entity's names or
references changed so that other parts' references resolve elsewhere); after each, the index
built from the previous one must equal a full build of the same parts and a build of their
entries as one inventory: every key and its entity, the fuzzy choices with their ranks and
positions, names' words, the reverse tables, search results and the diff. Names and references
are drawn from small pools, so that keys clash across parts, references name nothing or name
one entity by several spellings, and shortened domains are shared.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import infrabot.inventory.index as index_module
import infrabot.inventory.kind as kind_module
from infrabot.inventory.diff import diff_inventories
from infrabot.inventory.index import Index
from infrabot.inventory.model import (
    Datacenter,
    Group,
    Host,
    Hosting,
    Inventory,
    Member,
    Person,
    Provider,
    Service,
)
from infrabot.inventory.parts import Part, PartSet, merge_entries
from infrabot.inventory.pieces import Piece
from infrabot.inventory.reverse import TABLES
from infrabot.inventory.source import parts_diff

WORDS = ["api", "web", "db", "mail", "pypi", "docs", "x1", "x2"]


def _spelled(name: str, how: int) -> str:
    """``name`` as people write it: as is, in capitals, or with a dash."""
    return [name, name.upper(), f"{name[:1]}-{name[1:]}"][how % 3]


@st.composite
def refs(draw: st.DrawFn, prefix: str) -> str:
    """A reference to one of a few entities of a kind, spelled some way (or to nothing)."""
    return _spelled(f"{prefix}{draw(st.integers(0, 5))}", draw(st.integers(0, 2)))


def _names(draw: st.DrawFn, prefix: str) -> tuple[str, ...]:
    pool = [f"{prefix}{n}" for n in range(6)] + WORDS
    return tuple(draw(st.lists(st.sampled_from(pool), max_size=2, unique=True)))


@st.composite
def services(draw: st.DrawFn, name: str) -> Service:
    domains = draw(
        st.lists(
            st.sampled_from(
                [f"{name}.example.org", "www.site.org", "shared.example.net", "api.x.org"]
            ),
            max_size=2,
            unique=True,
        )
    )
    places = draw(
        st.lists(
            st.builds(
                Hosting,
                provider=st.none() | refs("prov"),
                cdn=st.none() | refs("prov"),
                host=st.none() | refs("h"),
                datacenter=st.none() | refs("dc"),
            ),
            max_size=2,
        )
    )
    return Service(
        name=name,
        aliases=_names(draw, "s"),
        domains=tuple(domains),
        part_of=draw(st.none() | refs("s")),
        owners=tuple(draw(st.lists(refs("p") | refs("g"), max_size=3))),
        hosting=tuple(places),
        description=draw(st.sampled_from([None, "api for mail", "the docs web"])),
    )


@st.composite
def parts(draw: st.DrawFn, serial: list[int]) -> Inventory:
    """One part: a few entries of a few kinds, each entity's name new (``serial`` counts)."""

    def fresh(prefix: str) -> str:
        serial[0] += 1
        return f"{prefix}{serial[0] % 7}" if draw(st.booleans()) else f"{prefix}n{serial[0]}"

    def some(make: Any) -> tuple[Any, ...]:
        return tuple(make() for _ in range(draw(st.integers(0, 2))))

    people = some(lambda: Person(name=fresh("p"), aliases=_names(draw, "p")))
    groups = some(
        lambda: Group(
            name=fresh("g"),
            kind="team",
            aliases=_names(draw, "g"),
            members=tuple(Member(person=r) for r in draw(st.lists(refs("p"), max_size=3))),
        )
    )
    providers = some(lambda: Provider(name=fresh("prov"), aliases=_names(draw, "prov")))
    dcs = some(lambda: Datacenter(code=fresh("dc"), provider=draw(refs("prov"))))
    hosts = some(
        lambda: Host(
            name=fresh("h"),
            aliases=_names(draw, "h"),
            provider=draw(st.none() | refs("prov")),
            datacenter=draw(st.none() | refs("dc")),
        )
    )
    return Inventory(
        people=people,
        groups=groups,
        providers=providers,
        datacenters=dcs,
        hosts=hosts,
        services=tuple(draw(services(fresh("s"))) for _ in range(draw(st.integers(0, 4)))),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[list[Inventory]]:
    """The parts of an inventory, then of each edit of it."""
    serial = [0]
    now = draw(st.lists(parts(serial), min_size=1, max_size=5))
    history = [list(now)]
    for _ in range(draw(st.integers(1, 4))):
        now = list(now)
        edit = draw(st.sampled_from(["change", "add", "delete", "rename", "same"]))
        at = draw(st.integers(0, len(now) - 1))
        if edit == "change":
            now[at] = draw(parts(serial))
        elif edit == "add":
            now.insert(draw(st.integers(0, len(now))), draw(parts(serial)))
        elif edit == "delete" and len(now) > 1:
            del now[at]
        elif edit == "rename":  # new keys for some entity: references elsewhere move
            now[at] = _renamed(now[at], draw(st.sampled_from(["p1", "g1", "prov1", "h1", "dc1"])))
        history.append(now)
    return history


def _renamed(part: Inventory, key: str) -> Inventory:
    """``part`` with an alias ``key`` added to its first entity of each kind (a datacenter's
    code becomes ``key``)."""
    changes: dict[str, Any] = {}
    for section in ("people", "groups", "providers", "hosts", "services"):
        entries = getattr(part, section)
        if entries:
            first = entries[0].model_copy(update={"aliases": (*entries[0].aliases, key)})
            changes[section] = (first, *entries[1:])
    if part.datacenters:
        dc = part.datacenters[0].model_copy(update={"code": key})
        changes["datacenters"] = (dc, *part.datacenters[1:])
    return part.model_copy(update=changes)


def _state(index: Index) -> tuple[Any, ...]:
    """Everything an index answers from, entities by identity."""
    kinds = []
    for kind in index.kinds():
        kind.words.prepare()
        lengths = None
        if kind._lengths is not None:
            lengths = sorted(
                (n, list(g.choices), [g.position(i) for i in range(len(g.choices))])
                for n, g in kind._lengths._groups.items()
            )
        kinds.append(
            (
                kind.label,
                {key: id(e) for key, e in kind._by_key.items()},
                list(kind._choices),
                bytes(kind._ranks),
                [id(e) for e in kind.entries],
                lengths,
                kind.words._text,
                [id(e) for e in kind.words._holders],
            )
        )
    tables = {
        name: {key: [id(e) for e in entries] for key, entries in table.items()}
        for name, table in zip(TABLES, index._reverse.tables(), strict=True)
    }
    return tuple(kinds), tables


def _answers(index: Index) -> list[Any]:
    """What commands would be told, by name and not by identity."""
    queries = [f"{p}{n}" for p in ("s", "p", "g", "prov", "h", "dc") for n in range(8)]
    queries += ["site.org", "shared", "api", "x", "sx", "pr0v1", "h-l", *WORDS]
    said: list[Any] = []
    for kind in index.kinds():
        for query in queries:
            found = kind.resolve(query)
            said.append((kind.label, query, found.found, found.suggestion, found.choices))
    for owner in (*index.inventory.people, *index.inventory.groups):
        said.append([s.name for s in index.services_owned_by(owner)])
    for word in WORDS:
        said.append(index.search(word))
    return said


def _part_set(inventories: list[Inventory], before: PartSet | None) -> PartSet:
    """The parts as a load of a folder makes them: unchanged ones reused, named by place."""
    old = {id(p.inventory): p for p in before.parts} if before is not None else {}
    made = []
    for inv in inventories:
        kept = old.get(id(inv))
        made.append(kept or Part.of(f"{id(inv)}.yaml", f"{id(inv)}.yaml", str(id(inv)), inv))
    changed = frozenset(p.name for p in made if id(p.inventory) not in old)
    names = {p.name for p in made}
    removed = (
        frozenset(p.name for p in before.parts if p.name not in names) if before else frozenset()
    )
    return PartSet(tuple(made), merge_entries(made), changed, removed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.booleans(), st.booleans())
def test_an_index_built_from_the_last_equals_a_full_build(
    history: list[list[Inventory]], by_length: bool, patched: bool
) -> None:
    # small inventories: patch (or search by length) whatever the share of parts changed
    below = 1.0 if patched else 0.0
    with (
        mock.patch.object(kind_module, "BY_LENGTH_ABOVE", 0 if by_length else 10**9),
        mock.patch.object(kind_module, "PATCH_BELOW", below),
        mock.patch.object(index_module, "PATCH_BELOW", below),
    ):
        previous: Index | None = None
        serving: PartSet | None = None
        for inventories in history:
            loaded = _part_set(inventories, serving)
            merged = loaded.inventory
            old_state = _state(previous) if previous is not None else None
            built = Index(merged, pieces=[p.piece for p in loaded.parts], previous=previous)
            full = Index(merged, pieces=[Piece(i) for i in inventories])
            whole = Index(merged)
            assert _state(built) == _state(full) == _state(whole)
            assert _answers(built) == _answers(whole)
            if previous is not None and serving is not None:
                assert _state(previous) == old_state  # the serving index is untouched
                unique = all(
                    len({e.name for e in getattr(i, s)}) == len(getattr(i, s))
                    for i in (serving.inventory, merged)
                    for s in ("services", "hosts", "providers", "datacenters", "people", "groups")
                )
                if unique:  # a diff names entries: only a valid inventory is diffed
                    assert parts_diff(serving, loaded) == diff_inventories(
                        serving.inventory, merged
                    )
                previous.dismantle()  # retired: what it shares with the new one stays
                assert _state(built) == _state(full)
            previous, serving = built, loaded
