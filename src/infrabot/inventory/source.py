"""Where the inventory comes from: one file, or a folder of parts (read again part by part).

A source loads a validated inventory without installing it; the reloader swaps it in and then
tells the source (:meth:`FolderSource.installed`), so the next load reuses what did not change
since the inventory that is serving. A git source (:mod:`infrabot.inventory.git_source`) is a
folder source over a fresh work tree of a commit.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from infrabot.errors import InfrabotError
from infrabot.inventory.diff import InventoryDiff, diff_inventories
from infrabot.inventory.index import Index
from infrabot.inventory.load import DEFAULT_MAX_BYTES, load_inventory
from infrabot.inventory.model import Inventory
from infrabot.inventory.parts import PartSet, changed_parts, load_parts, merge_entries
from infrabot.text import clean_line

__all__ = [
    "FolderSource",
    "Loaded",
    "Revision",
    "Serving",
    "Source",
    "SourceError",
    "index_parts",
    "is_folder",
    "load_inventory_at",
    "not_in_git",
    "parts_diff",
]


class SourceError(InfrabotError):
    """The source could not give the inventory asked for (a fetch failed, no such commit);
    the message says why in one line."""


def not_in_git(revision: str) -> SourceError:
    """The refusal of a commit asked of an inventory that is not in git."""
    return SourceError(f"no commit {clean_line(revision, 50)}: the inventory is not in git")


@dataclass(frozen=True, slots=True)
class Revision:
    """The commit an inventory was read from: its id, subject and author."""

    commit: str
    subject: str
    author: str

    @property
    def short(self) -> str:
        """The commit's short id, as people quote it."""
        return self.commit[:7]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated inventory, indexed, not yet serving; ``diff`` is what changed since the
    inventory serving when it was loaded (None when the source cannot tell it cheaply)."""

    index: Index
    parts: PartSet | None = None
    revision: Revision | None = None
    diff: InventoryDiff | None = None
    origin: str = ""
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Serving:
    """What is answering now: where it came from, which commit, since when, how much."""

    origin: str
    revision: Revision | None
    at: float
    parts: int
    counts: Mapping[str, int]


class Source(Protocol):
    """An inventory source whose loads the reloader validates and installs."""

    origin: str
    """Where the inventory comes from, as people may see it."""

    def load(self, revision: str | None = None) -> Loaded:
        """Read and validate the inventory (at ``revision``, for sources that have them);
        :class:`~infrabot.errors.InventoryError` when it cannot be used. Blocking."""
        ...

    def installed(self, loaded: Loaded) -> None:
        """``loaded`` serves from now on: the next load starts from it. Quick: nothing on
        disk changes (see :meth:`tidy`)."""
        ...

    def tidy(self) -> None:
        """Remove from disk what no longer serves (a git source: the folders of other
        commits). Blocking; run after the swap, beside the bot's answers."""
        ...

    @property
    def serving(self) -> Loaded | None:
        """What was installed last."""
        ...


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder (of parts) rather than one inventory file."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def load_inventory_at(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Inventory:
    """The inventory at ``path``: one file, or every part of a folder."""
    if is_folder(path):
        return load_parts(path, max_bytes=max_bytes).inventory
    return load_inventory(path, max_bytes=max_bytes)


def index_parts(parts: PartSet, serving: Loaded | None) -> Index:
    """The index of ``parts``, reusing what the serving index built for the parts that did
    not change."""
    return Index(
        parts.inventory,
        pieces=[p.piece for p in parts.parts],
        previous=serving.index if serving is not None else None,
    )


def parts_diff(old: PartSet | None, new: PartSet) -> InventoryDiff | None:
    """What changed from ``old`` to ``new``, comparing only the parts read again."""
    if old is None:
        return None
    before, after = changed_parts(old, new)
    return diff_inventories(merge_entries(before), merge_entries(after))


class FolderSource:
    """A folder of parts; each load after the first parses only the parts that changed."""

    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder
        self.origin = str(folder)
        self.max_bytes = max_bytes
        self._serving: Loaded | None = None

    @property
    def serving(self) -> Loaded | None:
        """What was installed last."""
        return self._serving

    def load(self, revision: str | None = None) -> Loaded:
        """Read the folder again; only changed parts are parsed. A folder has no revisions."""
        if revision is not None:
            raise not_in_git(revision)
        previous = self._serving.parts if self._serving is not None else None
        parts = load_parts(self.folder, max_bytes=self.max_bytes, previous=previous)
        diff = parts_diff(previous, parts)
        index = index_parts(parts, self._serving)
        return Loaded(index, parts, None, diff, origin=str(self.folder))

    def installed(self, loaded: Loaded) -> None:
        """``loaded`` serves from now on."""
        self._serving = loaded

    def tidy(self) -> None:
        """Nothing to remove: a folder is the admin's own."""
