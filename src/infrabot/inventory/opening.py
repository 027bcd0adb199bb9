"""The source the configuration names: one file, a folder of parts, or a git repository."""

from __future__ import annotations

from pathlib import Path

from infrabot.config import GitInventory
from infrabot.inventory.git_source import GitSource
from infrabot.inventory.load import DEFAULT_MAX_BYTES
from infrabot.inventory.source import FolderSource, Source, is_folder

__all__ = ["open_source"]


def open_source(
    inventory: Path | GitInventory, *, store: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> Source | None:
    """The source of a folder or git inventory, or None when ``inventory`` is one file.

    A git source keeps its clone in ``clone``, or beside the store (``<store>.inventory``)."""
    if isinstance(inventory, GitInventory):
        clone = inventory.clone or store.with_name(store.name + ".inventory")
        if str(store) == ":memory:":
            clone = Path(".infrabot-inventory")
        return GitSource(
            inventory.git,
            ref=inventory.ref,
            path=inventory.path,
            clone=clone,
            max_bytes=max_bytes,
        )
    return FolderSource(inventory, max_bytes=max_bytes) if is_folder(inventory) else None
