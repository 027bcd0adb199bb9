"""Reloading the inventory and the plugins without ever losing the working ones.

A reload validates the new inventory fully before anything changes, then swaps the index in one
assignment; on any problem the running bot keeps what it had. Plugins reload all or nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infrabot import metrics
from infrabot.errors import InfrabotError, InventoryError
from infrabot.heap import gc_paused, retire
from infrabot.inventory.current import CurrentIndex
from infrabot.inventory.diff import InventoryDiff, diff_inventories
from infrabot.inventory.offload import load_index_off_loop
from infrabot.inventory.parts import counts
from infrabot.inventory.source import Loaded, Serving, Source, not_in_git
from infrabot.loader import PluginSet, load_plugins

__all__ = ["ReloadResult", "Reloader"]

log = logging.getLogger(__name__)

_RETIRE_ABOVE = 10_000  # services; smaller indexes are freed at once in well under 10 ms


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """How a reload ended: a one-line summary, and every problem when it failed."""

    ok: bool
    summary: str
    problems: tuple[str, ...] = field(default=())


class Reloader:
    """Rebuilds the inventory index or the plugin set, and installs it only when whole."""

    def __init__(
        self,
        *,
        inventory_path: Path,
        max_bytes: int,
        current: CurrentIndex,
        plugin_folders: Sequence[Path],
        current_plugins: Callable[[], PluginSet],
        install_plugins: Callable[[PluginSet], None],
        source: Source | None = None,
    ) -> None:
        self.inventory_path = inventory_path
        self.source = source
        """Where a folder or git inventory comes from; None for one file."""
        self._max_bytes = max_bytes
        self._current = current
        self._plugin_folders = list(plugin_folders)
        self._current_plugins = current_plugins
        self._install_plugins = install_plugins
        self._lock = asyncio.Lock()  # two reloads at once would race to install
        self.grace = 30.0  # longer than any command may run on the index it started with
        self._retiring: set[asyncio.Task[None]] = set()
        self._tidying: asyncio.Task[None] | None = None
        self._loaded_at = time.time()  # of a one-file inventory; a source keeps its own

    @metrics.timed_reload("inventory")
    async def reload_inventory(self, revision: str | None = None) -> ReloadResult:
        """Load and validate the inventory again; install it only if it is valid.

        ``revision`` (a commit) is for a git source: serve that commit, as a rollback.
        Whatever goes wrong while loading (problems in the file, a loading process that died,
        a fetch that failed, a bug) ends in a refused reload: the running bot keeps the index
        it has.
        """
        async with self._lock:
            if self._tidying is not None:
                await self._tidying
                self._tidying = None
            try:
                with gc_paused(freeze=True):
                    loaded = await self._load(revision)
            except InventoryError as exc:
                return _refused(exc, self._what())
            except InfrabotError as exc:  # a source that could not be read: says why
                log.error("reload refused: %s", exc)
                return ReloadResult(False, f"reload failed, still serving {self._what()}: {exc}")
            except Exception:
                log.exception("reload of %s failed", self.inventory_path)
                return ReloadResult(
                    False,
                    "reload failed, still serving the previous inventory: "
                    f"{self.inventory_path}: loading it failed with an internal error (logged)",
                )
            old = self._current()
            diff = loaded.diff
            if diff is None:  # comparing 100,000 entries takes a while: not on the event loop
                diff = await asyncio.to_thread(
                    diff_inventories, old.inventory, loaded.index.inventory
                )
            self._current.swap(loaded.index)
            self._loaded_at = loaded.at
            if self.source is not None:
                self.source.installed(loaded)
                # what served before leaves the disk after the answer, beside the bot's
                # answers; the next reload waits for it (a tidy under way would remove the
                # folder that reload writes)
                self._tidying = asyncio.create_task(self._tidy(self.source))
            if len(old.inventory.services) > _RETIRE_ABOVE:
                task = asyncio.create_task(retire(old, self.grace))
                self._retiring.add(task)
                task.add_done_callback(self._retiring.discard)
            log.info("inventory reloaded: %s", diff.summary(limit=50))
            return ReloadResult(True, _reloaded(loaded, diff))

    @staticmethod
    async def _tidy(source: Source) -> None:
        try:
            await asyncio.to_thread(source.tidy)
        except Exception:  # a folder left on disk serves nobody: the next tidy tries again
            log.exception("removing what served before failed")

    async def _load(self, revision: str | None) -> Loaded:
        if self.source is None and revision is not None:
            raise not_in_git(revision)
        if self.source is None:
            return Loaded(await load_index_off_loop(self.inventory_path, self._max_bytes))
        # parts are small: each one parsed and validated is a short hold of the GIL
        return await asyncio.to_thread(self.source.load, revision)

    def serving(self) -> Serving:
        """What is answering now: origin, commit, since when, parts and counts."""
        index = self._current()
        loaded = self.source.serving if self.source is not None else None
        if self.source is None or loaded is None:
            return Serving(
                str(self.inventory_path), None, self._loaded_at, 0, counts(index.inventory)
            )
        parts = len(loaded.parts.parts) if loaded.parts is not None else 0
        return Serving(
            self.source.origin, loaded.revision, loaded.at, parts, counts(index.inventory)
        )

    def _what(self) -> str:
        serving = self.source.serving if self.source is not None else None
        if serving is not None and serving.revision is not None:
            return serving.revision.short
        return "the previous inventory"

    @metrics.timed_reload("plugins")
    async def reload_plugins(self) -> ReloadResult:
        """Re-import every plugin; install the new set only if all of them load."""
        async with self._lock:
            fresh = load_plugins(self._plugin_folders)
            if fresh.errors:
                for error in fresh.errors:
                    log.error("plugin reload: %s", error)
                head = "; ".join(fresh.errors[:2])
                return ReloadResult(
                    False, f"plugin reload failed, previous plugins kept: {head}", fresh.errors
                )
            before = {s.name for s in self._current_plugins().specs}
            after = {s.name for s in fresh.specs}
            self._install_plugins(fresh)
            changes = [f"+{n}" for n in sorted(after - before)] + [
                f"−{n}" for n in sorted(before - after)
            ]
            detail = f" ({' '.join(changes)})" if changes else ""
            return ReloadResult(
                True, f"reloaded {len(fresh.plugins)} plugins, {len(after)} commands{detail}"
            )


def _refused(exc: InventoryError, what: str) -> ReloadResult:
    problems = tuple(str(p) for p in exc.problems)
    count = len(problems)
    log.error("reload refused, %d error(s):\n%s", count, "\n".join(problems))
    head = "; ".join(problems[:2]) + (" …" if count > 2 else "")
    return ReloadResult(
        False,
        f"reload failed, still serving {what}: {count} error{'s' if count != 1 else ''}: {head}",
        problems,
    )


def _reloaded(loaded: Loaded, diff: InventoryDiff) -> str:
    """``reloaded 3f2a9c1 "PyPI: add a maintainer" by Ada: PyPI owners +Dustin Ingram``."""
    revision = loaded.revision
    if revision is None:
        return f"reloaded: {diff.summary()}"
    return f'reloaded {revision.short} "{revision.subject}" by {revision.author}: {diff.summary()}'
