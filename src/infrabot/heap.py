"""Keeping a large inventory from making the garbage collector stall the bot.

An index of 100,000 services is millions of long-lived objects. Python's cyclic garbage
collector would walk all of them on every full collection (over a second each at that size),
freezing the event loop, and it would run many of them while a new index is being built.
The inventory holds no reference cycles, so the collector has nothing to find there: bulk
builds run with the collector paused, and what they built is then frozen (moved to the
permanent generation, which collections skip). Freeing a retired index happens piece by
piece in a thread, because dropping it at once is one long uninterruptible call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from typing import Any

from infrabot.inventory.index import Index, Kind

__all__ = ["bulk_build", "retire"]

_STEP = 500  # objects freed per step: a few milliseconds each


@contextlib.contextmanager
def bulk_build() -> Iterator[None]:
    """Pause the cyclic collector while building; freeze what was built when done.

    A few reference cycles made elsewhere in the meantime are frozen too and never collected;
    that costs a little memory per reload and is the price of never stalling.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


async def retire(index: Index, grace: float) -> None:
    """Free ``index`` without stalling: wait ``grace`` seconds for commands still using it."""
    await asyncio.sleep(grace)
    await asyncio.to_thread(_dismantle, index)


def _dismantle(index: Index) -> None:
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
