"""Keeping a large inventory from making the garbage collector stall the bot.

An index of 100,000 services is millions of long-lived objects. Python's cyclic garbage
collector would walk all of them on every full collection (over a second each at that size),
freezing the event loop, and it would run many of them while a new index is being built.
The inventory holds no reference cycles, so the collector has nothing to find there: bulk
builds run with the collector paused (:func:`gc_paused`), and what they built is then
frozen (moved to the permanent generation, which collections skip). Freeing a retired index
happens piece by piece in a thread, because dropping it at once is one long uninterruptible
call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["Dismantlable", "drain_dict", "drain_list", "gc_paused", "retire"]

_STEP = 500  # objects freed per step: a few milliseconds each


class _Build:
    """The one build that owns the collector right now (builds nest: a reload loads a file,
    which builds an index); the outermost decides, and inner ones add their requests."""

    depth = 0
    freeze = False


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Hold off the cyclic garbage collector while building a large, acyclic structure.

    Loading a big inventory allocates millions of containers that all stay alive; each
    allocation burst triggers collections that scan them again and again for cycles that do
    not exist (about half the time of a 100,000-service load). Reference counting still frees
    everything at once; the collector resumes afterwards, as it was.

    With ``freeze``, what was built is moved to the collector's permanent generation
    (:func:`gc.freeze`): an inventory is immutable, has no cycles and lives until the next
    reload, and scanning its million objects costs half a second on each full collection.
    Garbage already waiting is collected first, so none of it is kept for ever; what is frozen
    is still freed by reference counting when the inventory is dropped. Nothing is frozen when
    the build fails: what it leaves behind is garbage, and some of it may hang in cycles (an
    exception and the frames of its traceback) that only the collector can free, which it
    never would in the permanent generation.

    This is the one place that decides: a pause inside another (a file loaded inside a
    reload) changes nothing at once, and a freeze it asks for happens when the outermost
    build ends well, whatever the outer one asked.
    """
    if _Build.depth:
        _Build.depth += 1
        try:
            yield
        finally:
            _Build.depth -= 1
        _Build.freeze = _Build.freeze or freeze
        return
    was_enabled = gc.isenabled()
    if freeze and was_enabled:
        gc.collect()
    gc.disable()
    _Build.depth, _Build.freeze = 1, freeze
    try:
        yield
    except BaseException:
        if was_enabled:
            gc.enable()
        raise
    finally:
        _Build.depth = 0
    if was_enabled:
        if _Build.freeze:
            gc.freeze()
        gc.enable()


class Dismantlable(Protocol):
    """A large structure that can take itself apart in small steps (see :func:`retire`)."""

    def dismantle(self) -> None:
        """Drop every reference it holds, a few hundred at a time."""
        ...


async def retire(structure: Dismantlable, grace: float) -> None:
    """Free ``structure`` without stalling: wait ``grace`` seconds for commands still using
    it, then let it take itself apart in a thread (dropping it whole is one long call)."""
    await asyncio.sleep(grace)
    await asyncio.to_thread(structure.dismantle)


def drain_dict(table: dict[Any, Any]) -> None:
    """Empty ``table`` a few hundred entries at a time (each step a few milliseconds)."""
    while table:
        for _ in range(min(_STEP, len(table))):
            table.popitem()


def drain_list(items: list[Any]) -> None:
    """Empty ``items`` a few hundred at a time."""
    while items:
        del items[-_STEP:]
