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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infrabot.inventory.index import Index

__all__ = ["gc_paused", "retire"]

_STEP = 500  # objects freed per step: a few milliseconds each


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
    """
    was_enabled = gc.isenabled()
    if freeze and was_enabled:
        gc.collect()
    gc.disable()
    try:
        yield
    except BaseException:
        if was_enabled:
            gc.enable()
        raise
    if was_enabled:
        if freeze:
            gc.freeze()
        gc.enable()


async def retire(index: Index, grace: float) -> None:
    """Free ``index`` without stalling: wait ``grace`` seconds for commands still using it."""
    await asyncio.sleep(grace)
    await asyncio.to_thread(_dismantle, index)


def _dismantle(index: Index) -> None:
    from infrabot.inventory.index import Kind  # the index module itself uses this one

    for value in list(vars(index).values()):
        if isinstance(value, Kind):
            _drain_dict(value._by_key)
            _drain_list(value.entries)
            value._choices.clear()
        elif isinstance(value, dict):
            _drain_dict(value)
    inventory = index.inventory
    for name in ("services", "hosts", "people", "groups", "providers", "datacenters"):
        items = list(getattr(inventory, name))
        inventory.__dict__[name] = ()  # the model is frozen to users; this is its last owner
        _drain_list(items)


def _drain_dict(table: dict[Any, Any]) -> None:
    while table:
        for _ in range(min(_STEP, len(table))):
            table.popitem()


def _drain_list(items: list[Any]) -> None:
    while items:
        del items[-_STEP:]
