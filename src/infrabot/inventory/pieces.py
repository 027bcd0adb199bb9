"""What each part of an inventory gives its index, and what a new index may reuse of the last.

A :class:`Piece` is one part's lookup keys, kind by kind (:mod:`.keys`): they depend on that
part's entries alone, so an index built after a reload reuses the piece of every part it gets
again (the same entries, by identity: :func:`~.parts.load_parts` keeps the part of unchanged
content) and builds pieces only for the parts that are new or changed.

A part's share of the reverse tables (:mod:`.reverse`) depends on more: its references resolve
through every part's keys. It is reused unless a reference of the part names a key whose
entity changed (:func:`stale`): a key is claimed only by the parts that hold it, so only keys
of the parts that went or came can change what they name.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from infrabot.inventory.keys import KeySet, datacenter_keys, named_keys, service_keys
from infrabot.inventory.model import Datacenter, Group, Host, Inventory, Person, Provider, Service
from infrabot.inventory.names import normalize_all

__all__ = ["NAMESPACES", "Piece", "Reuse", "changed_keys", "reuse_of", "stale"]

KINDS = ("services", "hosts", "providers", "datacenters", "people", "groups")
"""The kinds of entry a piece holds keys of, by their section in the inventory."""

NAMESPACES = {
    "owners": ("people", "groups"),
    "providers": ("providers",),
    "hosts": ("hosts",),
    "datacenters": ("datacenters",),
    "services": ("services",),
    "people": ("people",),
}
"""Each namespace the reverse tables resolve references in, with the kinds it looks in."""


class Piece:
    """One part's entries with their lookup keys, kind by kind; shared by every index that
    serves the part (see :attr:`owner`)."""

    __slots__ = (
        "datacenters",
        "groups",
        "hosts",
        "owner",
        "people",
        "providers",
        "services",
        "source",
    )

    def __init__(self, source: Inventory) -> None:
        self.source = source
        self.services: KeySet[Service] = service_keys(source.services)
        self.hosts: KeySet[Host] = named_keys(source.hosts)
        self.providers: KeySet[Provider] = named_keys(source.providers)
        self.datacenters: KeySet[Datacenter] = datacenter_keys(source.datacenters)
        self.people: KeySet[Person] = named_keys(source.people)
        self.groups: KeySet[Group] = named_keys(source.groups)
        self.owner: weakref.ref[Any] | None = None
        """The newest index built with this piece: only it may take the piece apart."""

    def dismantle(self) -> None:
        """Drop the keys, a step at a time (see :meth:`.index.Index.dismantle`)."""
        for kind in KINDS:
            self.keys(kind).dismantle()

    def keys(self, kind: str) -> KeySet[Any]:
        """The keys of kind ``kind`` (a section name: ``"services"``, ...)."""
        keys: KeySet[Any] = getattr(self, kind)
        return keys


@dataclass(frozen=True, slots=True)
class Reuse:
    """The pieces of a new index, and which of them (by position) come from the previous."""

    pieces: list[Piece]
    kept: dict[int, int]
    """Position in the new pieces → position in the previous pieces, for every reused piece."""


def reuse_of(pieces: Sequence[Piece], previous: Sequence[Piece] = ()) -> Reuse:
    """``pieces``, with the position in ``previous`` of each that a previous index built."""
    known = {id(p): at for at, p in enumerate(previous)}
    kept = {at: known[id(p)] for at, p in enumerate(pieces) if id(p) in known}
    return Reuse(list(pieces), kept)


def changed_keys(
    kind: str, old: Any, new: Any, went: Iterable[Piece], came: Iterable[Piece]
) -> set[str]:
    """The keys of kind ``kind`` that name another entity (or none) in ``new`` than in ``old``
    (kinds, :class:`~.kind.Kind`), among the keys of the pieces that went and came."""
    candidates: set[str] = set()
    for piece in (*went, *came):
        keys = piece.keys(kind)
        candidates.update(keys.keys, keys.derived)
    changed = set()
    for key in candidates:
        before, after = old.owner_of(key), new.owner_of(key)
        if (before.name if before is not None else None) != (
            after.name if after is not None else None
        ):
            changed.add(key)
    return changed


def stale(piece: Piece, changed: dict[str, set[str]]) -> bool:
    """Whether ``piece`` refers, in some namespace, to a key of ``changed`` (by namespace)."""
    for namespace, keys in changed.items():
        if keys and not keys.isdisjoint(normalize_all(list(_references(piece.source, namespace)))):
            return True
    return False


def _references(inv: Inventory, namespace: str) -> Iterator[str]:
    """Every reference in ``namespace`` that ``inv``'s entries make for the reverse tables."""
    if namespace == "owners":
        yield from (ref for s in inv.services for ref in s.owners)
    elif namespace == "services":
        yield from (s.part_of for s in inv.services if s.part_of)
    elif namespace == "people":
        yield from (m.person for g in inv.groups for m in g.members)
    else:
        places = [p for s in inv.services for p in s.hosting]
        if namespace == "providers":
            refs = [r for p in places for r in (p.provider, p.cdn)]
            refs += [h.provider for h in inv.hosts] + [d.provider for d in inv.datacenters]
        elif namespace == "hosts":
            refs = [p.host for p in places]
        else:
            refs = [p.datacenter for p in places] + [h.datacenter for h in inv.hosts]
        yield from (ref for ref in refs if ref)
