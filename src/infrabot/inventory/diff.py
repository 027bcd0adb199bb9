"""What changed between two inventories, as one short line for the channel.

``+1 service (www.jython.org) · PyPI owners +Dustin Ingram −Richard Jones · −1 host (ximinez)``
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from infrabot.inventory.model import Inventory

__all__ = ["InventoryDiff", "diff_inventories"]

_KINDS: tuple[tuple[str, str, str], ...] = (
    ("services", "service", "services"),
    ("hosts", "host", "hosts"),
    ("providers", "provider", "providers"),
    ("datacenters", "datacenter", "datacenters"),
    ("people", "person", "people"),
    ("groups", "group", "groups"),
)


@dataclass(frozen=True, slots=True)
class InventoryDiff:
    """The changes, each already worded: additions, removals and per-entry changes."""

    parts: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not self.parts

    def summary(self, limit: int = 6) -> str:
        """The changes joined with ``·``; past ``limit``, the rest are counted."""
        if not self.parts:
            return "no changes"
        shown = list(self.parts[:limit])
        if len(self.parts) > limit:
            shown.append(f"and {len(self.parts) - limit} more changes")
        return " · ".join(shown)


def _key(entry: BaseModel) -> str:
    return str(getattr(entry, "name", None) or getattr(entry, "code", ""))


def _counted(sign: str, entries: Sequence[str], singular: str, plural: str) -> str:
    noun = singular if len(entries) == 1 else plural
    names = ", ".join(entries[:3]) + (", …" if len(entries) > 3 else "")
    return f"{sign}{len(entries)} {noun} ({names})"


def _field_changes(name: str, old: BaseModel, new: BaseModel) -> list[str]:
    changes: list[str] = []
    for field in type(old).model_fields:
        before, after = getattr(old, field), getattr(new, field)
        if before == after:
            continue
        if isinstance(before, tuple) and all(isinstance(v, str) for v in (*before, *after)):
            added = [v for v in after if v not in before]
            removed = [v for v in before if v not in after]
            moves = [f"+{v}" for v in added] + [f"−{v}" for v in removed]
            changes.append(f"{name} {field} " + (" ".join(moves) if moves else "reordered"))
        elif isinstance(before, str | None) and isinstance(after, str | None):
            changes.append(f"{name} {field} {before or 'unset'} → {after or 'unset'}")
        else:
            changes.append(f"{name} {field} changed")
    return changes


def diff_inventories(old: Inventory, new: Inventory) -> InventoryDiff:
    """Every added, removed and changed entry between ``old`` and ``new``, kind by kind."""
    parts: list[str] = []
    if old.team != new.team:
        parts.append(f"team {old.team or 'unset'} → {new.team or 'unset'}")
    for attr, singular, plural in _KINDS:
        before = {_key(e): e for e in getattr(old, attr)}
        after = {_key(e): e for e in getattr(new, attr)}
        added = [k for k in after if k not in before]
        removed = [k for k in before if k not in after]
        if added:
            parts.append(_counted("+", added, singular, plural))
        for key in after:
            if key in before and before[key] != after[key]:
                parts.extend(_field_changes(key, before[key], after[key]))
        if removed:
            parts.append(_counted("−", removed, singular, plural))
    return InventoryDiff(tuple(parts))
