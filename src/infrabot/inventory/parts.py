"""An inventory kept as a folder of parts: every ``*.yaml`` under the folder is one part.

Any part may hold any of the lists (people, groups, providers, datacenters, hosts, services)
and the ``team`` key (in one part only); the parts together are one inventory, so a reference
in one part may name an entry of another. Each part is read with the same guards as a single
file (a regular file, the size limit, the nesting and alias bounds) and its shapes are
validated on its own; names and references are then checked across all parts, and every
problem names the part file and its line.

Loading again with the previous :class:`PartSet` reads every part but parses and validates
only those whose content changed (by SHA-256): the unchanged parts' entries are reused as they
are, and so are their facts (:mod:`.part_facts`), which check names and references across
parts without walking every entry again. Names starting with a dot (``.git``, ``.github``)
are skipped, files and folders alike.
"""

from __future__ import annotations

import hashlib
import os
import stat
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from infrabot.errors import InventoryError, InventoryProblem
from infrabot.inventory.fields_sets import share_fields_sets
from infrabot.inventory.load import (
    DEFAULT_MAX_BYTES,
    inventory_text,
    locate_problems,
    parse_inventory,
    read_inventory_bytes,
    validate_parsed,
)
from infrabot.inventory.model import Inventory
from infrabot.inventory.names import normalize
from infrabot.inventory.parse_ahead import AHEAD_FROM_PARTS, ParseAhead, second_core
from infrabot.inventory.part_facts import PartFacts, consistent, facts_of
from infrabot.inventory.pieces import Piece
from infrabot.inventory.references import Location, ReferenceProblem, check_references

__all__ = ["MAX_PARTS", "Known", "Part", "PartSet", "load_parts", "part_names"]

MAX_PARTS = 20_000
"""A folder with more ``*.yaml`` files than this is refused."""

SECTIONS = ("people", "groups", "providers", "datacenters", "hosts", "services")


class Known(NamedTuple):
    """What a source vouches for a part before it is read: a hash of its content and its
    size in bytes."""

    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Part:
    """One file of the folder: its name in the folder, how problems name it, a hash of its
    content (SHA-256 of its bytes, or what the source vouched for: a git blob id), and its
    entries (shapes validated; references are checked across parts) with their lookup keys.

    The keys are made once, when the part is read: the index serves from them, and the check
    across parts reads the names each part claims from them (one copy of every key)."""

    name: str
    file: str
    digest: str
    piece: Piece
    """The part's entries with their lookup keys, for every index that serves the part."""
    facts: PartFacts
    """What the part claims and refers to, for checking across parts without its entries."""

    @classmethod
    def of(cls, name: str, file: str, digest: str, entries: Inventory) -> Part:
        """The part of ``entries``, its keys and facts made."""
        piece = Piece(entries)
        return cls(name, file, digest, piece, facts_of(piece))

    @property
    def inventory(self) -> Inventory:
        """The part's entries."""
        return self.piece.source


@dataclass(frozen=True, slots=True)
class PartSet:
    """Every part of a folder, in name order, and the one inventory they make together.

    ``changed`` names the parts read again in this load (all of them in a first load),
    ``removed`` those that were in the previous load and are gone."""

    parts: tuple[Part, ...]
    inventory: Inventory
    changed: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    _by_name: dict[str, Part] = field(default_factory=dict, compare=False, repr=False)

    def part(self, name: str) -> Part | None:
        """The part called ``name`` (its path in the folder), or None."""
        if not self._by_name:
            self._by_name.update((p.name, p) for p in self.parts)
        return self._by_name.get(name)


def part_names(folder: Path) -> list[str]:
    """The parts under ``folder``: the ``*.yaml`` files' paths relative to it, sorted.

    Symbolic links to folders are not followed; names starting with a dot are skipped."""
    names: list[str] = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = PurePosixPath(Path(top).relative_to(folder).as_posix())
        names += [str(base / f) for f in files if f.endswith(".yaml") and not f.startswith(".")]
    return sorted(n.removeprefix("./") for n in names)


def load_parts(
    folder: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    label: str | None = None,
    previous: PartSet | None = None,
    known: Mapping[str, Known] | None = None,
) -> PartSet:
    """Read and validate every part of ``folder``; :class:`InventoryError` lists every problem.

    ``label`` is how problems name the folder (its path by default: a git source gives the
    path in its repository). ``max_bytes`` bounds each part and all of them together. Parts
    whose content is the same as in ``previous`` are not parsed again. ``known`` is what the
    source vouches for some parts (a git source: each file's blob id and size, from git): a
    part of the same hash as in ``previous`` is then not even read.
    """
    known = known or {}
    shown = PurePosixPath(label) if label is not None else None
    names = _names(folder)
    problems: list[InventoryProblem] = []
    parts: list[Part] = []
    changed: set[str] = set()
    fields_sets: dict[frozenset[str], set[str]] = {}
    total = 0
    # a first load parses every part: the second core parses from the last meanwhile
    many = previous is None and len(names) >= AHEAD_FROM_PARTS and second_core()
    with ParseAhead(folder, names if many else [], max_bytes) as ahead:
        for at, name in enumerate(names):
            file = str(shown / name) if shown is not None else str(folder / name)
            old = previous.part(name) if previous is not None else None
            if old is not None and old.file != file:
                old = None
            try:
                raw, digest, size = _content(folder / name, file, max_bytes, known.get(name), old)
            except InventoryError as exc:
                problems += exc.problems
                continue
            total += size
            if total > max_bytes:
                reason = f"the parts hold over {max_bytes} bytes together, the limit; refusing them"
                raise InventoryError([*problems, InventoryProblem(file, None, "", reason)])
            if old is not None and old.digest == digest:
                parts.append(old)  # the same bytes: read as UTF-8 and valid already
                continue
            changed.add(name)
            assert raw is not None  # read: it is not the old part's
            # a folder's own digest is the SHA-256 the child gives: not hashed twice
            parsed = ahead.take(at, raw, None if name in known else digest)
            try:
                entries = _entries(raw, file, parsed, fields_sets)
            except InventoryError as exc:
                problems += exc.problems
            else:
                parts.append(Part.of(name, file, digest, entries))
    if problems:
        raise InventoryError(problems)
    gone = {p.name for p in previous.parts} - set(names) if previous is not None else set()
    return PartSet(
        tuple(parts), _checked(folder, parts, max_bytes), frozenset(changed), frozenset(gone)
    )


def _checked(folder: Path, parts: Sequence[Part], max_bytes: int) -> Inventory:
    """The parts' entries as one inventory, names and references checked across parts."""
    inventory = _merged(parts)
    # the parts' own facts tell a sound inventory in milliseconds; the full check over every
    # entry runs only when they cannot, and finds and places each problem
    found = [] if consistent([p.facts for p in parts]) else check_references(inventory)
    if found:
        raise InventoryError(_locate_across(folder, parts, found, max_bytes))
    return inventory


def _entries(
    raw: bytes, file: str, parsed: bytes | None, fields_sets: dict[frozenset[str], set[str]]
) -> Inventory:
    """A part's entries, shapes validated, from its bytes or from the JSON ``parsed`` of
    them; they share ``fields_sets`` with the other parts'."""
    text = inventory_text(raw, file)
    if parsed is None:
        entries = parse_inventory(text, file, references=False)
    else:
        entries = validate_parsed(text, file, parsed)
    for section in SECTIONS:  # a few dozen distinct sets, not one per entry
        share_fields_sets(getattr(entries, section), fields_sets)
    return entries


def _content(
    path: Path, file: str, max_bytes: int, vouched: Known | None, old: Part | None
) -> tuple[bytes | None, str, int]:
    """A part's bytes, content hash and size; no bytes when the source vouches for a hash
    that is ``old``'s (the part as it was read before)."""
    if vouched is not None and old is not None and old.digest == vouched.digest:
        return None, vouched.digest, vouched.size
    raw = _read_part(path, file, max_bytes)
    digest = vouched.digest if vouched is not None else hashlib.sha256(raw).hexdigest()
    return raw, digest, len(raw)


def _names(folder: Path) -> list[str]:
    try:
        if not stat.S_ISDIR(os.stat(folder).st_mode):
            raise _single(str(folder), "not a folder")
    except OSError as exc:
        raise _single(str(folder), f"cannot read the folder: {exc.strerror or exc}") from None
    names = part_names(folder)
    if not names:
        raise _single(str(folder), "the folder holds no *.yaml parts")
    if len(names) > MAX_PARTS:
        raise _single(str(folder), f"the folder holds {len(names)} parts, over {MAX_PARTS}")
    return names


def _single(file: str, reason: str) -> InventoryError:
    return InventoryError([InventoryProblem(file, None, "", reason)])


def _read_part(path: Path, file: str, max_bytes: int) -> bytes:
    """The part's bytes; a symbolic link is refused, as it may lead out of the folder."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise _single(file, "a symbolic link; a part must be a file in the folder")
    except OSError as exc:
        raise _single(file, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        return read_inventory_bytes(path, max_bytes=max_bytes)
    except InventoryError as exc:  # name the part as the folder's label has it
        raise InventoryError(
            [InventoryProblem(file, p.line, p.path, p.reason) for p in exc.problems]
        ) from None


def _merged(parts: Sequence[Part]) -> Inventory:
    """The parts' entries as one inventory, part after part (each already validated)."""
    teams = [(p, p.inventory.team) for p in parts if p.inventory.team is not None]
    if len(teams) > 1:
        files = ", ".join(p.file for p, _team in teams)
        reason = f"'team' is set in {len(teams)} parts ({files}); set it in one"
        raise InventoryError([InventoryProblem(teams[1][0].file, None, "team", reason)])
    return merge_entries(parts)


def merge_entries(parts: Iterable[Part]) -> Inventory:
    """The entries of ``parts`` (and their ``team``) as one inventory, without checking it
    again: each part's entries are validated already."""
    chosen = [p.inventory for p in parts]
    team = next((i.team for i in chosen if i.team is not None), None)
    sections: dict[str, Any] = {
        s: tuple(chain.from_iterable(getattr(i, s) for i in chosen)) for s in SECTIONS
    }
    return Inventory.model_construct(team=team, **sections)


class _Placer:
    """Maps a location in the merged inventory to its part and the location in that part."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = parts
        self.starts: dict[str, list[int]] = {}
        for section in SECTIONS:
            at, starts = 0, []
            for p in parts:
                starts.append(at)
                at += len(getattr(p.inventory, section))
            self.starts[section] = starts

    def place(self, loc: Location) -> tuple[int, Location]:
        section = loc[0]
        if section == "team" or len(loc) < 2 or not isinstance(loc[1], int):
            return next(i for i, p in enumerate(self.parts) if p.inventory.team), loc
        starts = self.starts[str(section)]
        which = bisect_right(starts, loc[1]) - 1
        # parts with no entries of this section share their start: take the last of them
        return which, (section, loc[1] - starts[which], *loc[2:])


def _locate_across(
    folder: Path, parts: Sequence[Part], found: Sequence[ReferenceProblem], max_bytes: int
) -> list[InventoryProblem]:
    """Every problem of the merged inventory, located in its part; a duplicate name also says
    where the name was first given."""
    placer = _Placer(parts)
    placed = [placer.place(p.loc) for p in found]
    entries: dict[str, list[object]] = {}
    firsts = [_first_claim(placer, entries, p) for p in found]
    wanted: dict[int, list[Location]] = {}
    for which, loc in [*placed, *(f for f in firsts if f is not None)]:
        wanted.setdefault(which, []).append(loc)
    located: dict[tuple[int, Location], InventoryProblem] = {}
    for which, locs in wanted.items():
        part = parts[which]
        text = inventory_text(_read_part(folder / part.name, part.file, max_bytes), part.file)
        here = locate_problems(text, part.file, part.inventory, [(x, "") for x in locs])
        for loc, spot in zip(locs, here, strict=True):
            located[(which, loc)] = spot
    out: list[InventoryProblem] = []
    for problem, where, first in zip(found, placed, firsts, strict=True):
        at = located[where]
        reason = problem.reason
        if first is not None:
            earlier = located[first]
            at_line = f":{earlier.line}" if earlier.line is not None else ""
            reason += f" (first given in {earlier.file}{at_line})"
        out.append(InventoryProblem(at.file, at.line, at.path, reason))
    return out


def _first_claim(
    placer: _Placer, entries: dict[str, list[object]], problem: ReferenceProblem
) -> tuple[int, Location] | None:
    """For a duplicate name in another part, where that name was first given."""
    loc = problem.loc
    if not problem.reason.startswith("duplicate ") or len(loc) < 3:
        return None
    section, i, key = str(loc[0]), loc[1], str(loc[2])
    assert isinstance(i, int)
    if section not in entries:  # gathered once, however many duplicates there are
        entries[section] = [e for p in placer.parts for e in getattr(p.inventory, section)]
    items = entries[section]
    wanted = normalize(getattr(items[i], key))
    for j in range(i):
        if normalize(getattr(items[j], key)) == wanted:
            first = placer.place((section, j, key))
            return first if first[0] != placer.place(loc)[0] else None
    return None


def changed_parts(old: PartSet, new: PartSet) -> tuple[list[Part], list[Part]]:
    """The parts of ``old`` and of ``new`` that differ (changed, added or removed), for a
    diff that compares only what changed."""
    return (
        [p for p in old.parts if p.name in new.changed or p.name in new.removed],
        [p for p in new.parts if p.name in new.changed],
    )


def counts(inventory: Inventory) -> Mapping[str, int]:
    """How many entries of each kind ``inventory`` holds."""
    return {s: len(getattr(inventory, s)) for s in SECTIONS}
