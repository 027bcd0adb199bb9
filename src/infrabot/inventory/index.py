"""Immutable lookups over one loaded inventory, built once per load and swapped whole on reload.

Every lookup ignores case, spaces, punctuation and accents, and works over names, aliases and
domains (``pypi``, ``PyPI``, ``pypi.python.org`` and ``python package index`` all find PyPI);
see :mod:`.kind`.

An index is assembled from the inventory's parts (one part for an inventory read from one
file): each part's keys (:mod:`.pieces`) and its share of the reverse tables
(:mod:`.reverse`). Given the index it replaces, a new index reuses what the unchanged parts
gave that one, and builds only the rest; the result is the index a build from nothing gives.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, TypeVar

from infrabot.errors import CommandError
from infrabot.heap import drain_dict, drain_list, gc_paused
from infrabot.inventory.kind import Kind
from infrabot.inventory.lookup import refusal
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
from infrabot.inventory.pieces import NAMESPACES, Piece, Reuse, changed_keys, reuse_of, stale
from infrabot.inventory.reverse import PartTables, Resolver, Reverse, join, part_tables, patch
from infrabot.inventory.search import Results, SearchIndex

__all__ = ["Index", "Kind", "normalize"]

T = TypeVar("T")
Owner = Person | Group
Named = Service | Host | Provider | Person | Group | Datacenter

_LARGE = 10_000  # entities from which an index is worth freezing (see gc_paused)
_OWNER_MEMO = 50_000  # owner references remembered; bounded, as users' words reach it too
PATCH_BELOW = 0.25
"""Of the parts' shares built again, below which the reverse tables are patched."""
_UNRESOLVED = object()
# the kinds, by their section in the inventory and by the label people read
_KINDS = (
    ("services", "service"),
    ("hosts", "host"),
    ("providers", "provider"),
    ("datacenters", "datacenter"),
    ("people", "person"),
    ("groups", "group"),
)


class Index:
    """Everything the commands ask of an inventory, precomputed."""

    def __init__(
        self,
        inventory: Inventory,
        *,
        pieces: Sequence[Piece] | None = None,
        previous: Index | None = None,
    ) -> None:
        """Index ``inventory``, the entries of ``pieces`` (its parts with their keys) in
        order (itself, one part, when they are not given), reusing what ``previous`` (an
        index still serving) built for the pieces it shares with this one, by identity."""
        self._owner_refs: dict[str, Owner | None] = {}
        large = len(inventory.services) + len(inventory.hosts) >= _LARGE
        with gc_paused(freeze=large):
            self._build(inventory, [Piece(inventory)] if pieces is None else pieces, previous)
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

    def _build(self, inventory: Inventory, given: Sequence[Piece], previous: Index | None) -> None:
        self.inventory = inventory
        reuse = reuse_of(given, previous._pieces if previous is not None else ())
        pieces = reuse.pieces
        me = weakref.ref(self)
        for piece in pieces:
            piece.owner = me
        self._pieces: list[Piece] = pieces

        def kind(section: str, label: str) -> Kind[Any]:
            before = previous.kind(label) if previous is not None else None
            return Kind(label, [p.keys(section) for p in pieces], before)

        self.services: Kind[Service] = kind("services", "service")
        self.hosts: Kind[Host] = kind("hosts", "host")
        self.providers: Kind[Provider] = kind("providers", "provider")
        self.datacenters: Kind[Datacenter] = kind("datacenters", "datacenter")
        self.people: Kind[Person] = kind("people", "person")
        self.groups: Kind[Group] = kind("groups", "group")
        resolve = Resolver(
            providers=self.providers,
            hosts=self.hosts,
            datacenters=self.datacenters,
            services=self.services,
            people=self.people,
            groups=self.groups,
        )
        if previous is None or not _in_order(reuse):
            self._shares = [part_tables(p.source, resolve) for p in pieces]
            self._reverse = join(self._shares)
        else:
            self._reverse = self._reuse_shares(reuse, previous, resolve)

    def _reuse_shares(self, reuse: Reuse, previous: Index, resolve: Resolver) -> Reverse:
        """The reverse tables, from the shares of ``previous`` that still hold."""
        pieces, kept = reuse.pieces, reuse.kept
        still = set(kept.values())
        gone = [at for at in range(len(previous._pieces)) if at not in still]
        went = [previous._pieces[at] for at in gone]
        came = [p for at, p in enumerate(pieces) if at not in kept]
        by_kind = {
            section: changed_keys(section, previous.kind(label), self.kind(label), went, came)
            for section, label in _KINDS
        }
        changed = {
            namespace: set().union(*(by_kind[k] for k in kinds))
            for namespace, kinds in NAMESPACES.items()
        }
        shares: list[PartTables] = []
        dropped = [previous._shares[at] for at in gone]
        added: list[PartTables] = []
        for at, piece in enumerate(pieces):
            was = kept.get(at)
            if was is not None and not stale(piece, changed):
                shares.append(previous._shares[was])
                continue
            share = part_tables(piece.source, resolve)
            if was is not None:
                dropped.append(previous._shares[was])
            shares.append(share)
            added.append(share)
        self._shares = shares
        if len(added) > PATCH_BELOW * len(pieces):
            return join(shares)
        return patch(previous._reverse, dropped, added, shares)

    def dismantle(self) -> None:
        """Take this index apart, a step at a time, once nothing answers from it any more:
        freeing a 100,000-service index at once would stall the event loop for seconds.
        What it shares with the index serving now (the keys and tables of the parts both
        hold) stays whole."""
        for value in list(vars(self).values()):
            if isinstance(value, Kind):
                value.dismantle()
            elif isinstance(value, dict):
                drain_dict(value)
        self._search.dismantle()
        for table in self._reverse.tables():
            drain_dict(table)
        pieces, self._pieces = self._pieces, []
        for piece in pieces:
            if piece.owner is not None and piece.owner() is self:
                piece.dismantle()
        drain_list(pieces)
        drain_list(self._shares)
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


def _in_order(reuse: Reuse) -> bool:
    """Whether the reused pieces keep their order: then every name that no new share touches
    has its entries from the same parts in the same order as before."""
    was = list(reuse.kept.values())
    return all(a < b for a, b in pairwise(was))


def _require(kind: Kind[T], query: str) -> T:
    query = query.strip()
    if not query:
        raise CommandError(f"which {kind.label}? Give me a name.")
    resolution = kind.resolve(query)
    if resolution.found is not None:
        return resolution.found
    raise CommandError(refusal(kind.label, query, resolution, lambda e: getattr(e, "name", "")))
