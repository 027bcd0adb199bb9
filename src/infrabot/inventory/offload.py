"""Loading an inventory without stalling the event loop, however large it is.

Parsing (``yaml_rs``) and validating (pydantic) each hold the GIL for their whole call, so a
thread alone would freeze the bot for seconds on a 100,000-service file. Large files are
therefore parsed and fully validated in a child process; the child hands back the raw
sections in small pickled chunks, and this process re-validates them chunk by chunk in a
thread. No single call then holds the GIL for more than a few tens of milliseconds, and the
event loop keeps answering while the new index is built.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import hashlib
import multiprocessing
import pickle
from pathlib import Path
from typing import Any

import yaml_rs
from pydantic import TypeAdapter

from infrabot.errors import InventoryError, InventoryProblem
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory
from infrabot.inventory.model import (
    Datacenter,
    Group,
    Host,
    Inventory,
    Person,
    Provider,
    Service,
)

__all__ = ["CHILD_PROCESS_BYTES", "load_index_off_loop"]

CHILD_PROCESS_BYTES = 512 * 1024
"""Files at least this large are parsed in a child process; smaller ones in a thread."""

_CHUNK = 1000  # entries per chunk: about 20 ms of validation each
_ADAPTERS: dict[str, TypeAdapter[tuple[Any, ...]]] = {
    "people": TypeAdapter(tuple[Person, ...]),
    "groups": TypeAdapter(tuple[Group, ...]),
    "providers": TypeAdapter(tuple[Provider, ...]),
    "datacenters": TypeAdapter(tuple[Datacenter, ...]),
    "hosts": TypeAdapter(tuple[Host, ...]),
    "services": TypeAdapter(tuple[Service, ...]),
}
_SECTIONS = tuple(_ADAPTERS)

Chunks = list[tuple[str, bytes]]


async def load_index_off_loop(path: Path, max_bytes: int) -> Index:
    """Load, validate and index ``path`` without blocking the running event loop.

    Raises :class:`InventoryError` with the same problems :func:`load_inventory` reports.
    """
    if _size(path) < CHILD_PROCESS_BYTES:
        return await asyncio.to_thread(lambda: Index(load_inventory(path, max_bytes=max_bytes)))
    loop = asyncio.get_running_loop()
    # spawn, not fork: forking a process that runs threads and an event loop is unsafe
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        problems, chunks = await loop.run_in_executor(pool, _parse_in_child, str(path), max_bytes)
    if problems:
        raise InventoryError(problems)
    return await asyncio.to_thread(_assemble, chunks)


def _parse_in_child(path: str, max_bytes: int) -> tuple[list[InventoryProblem], Chunks]:
    """Validate fully, then return the raw sections in pickled chunks (or the problems)."""
    gc.disable()  # this process lives for one load: the collector would only slow it down
    for _attempt in range(3):
        before = _digest(path)
        try:
            load_inventory(path, max_bytes=max_bytes)
        except InventoryError as exc:
            return exc.problems, []
        text = Path(path).read_text(encoding="utf-8")
        if hashlib.sha256(text.encode()).hexdigest() != before:
            continue  # the file changed while we read it: validate the new one
        data = yaml_rs.loads(text, parse_datetime=False)
        assert isinstance(data, dict)  # load_inventory refused anything else
        chunks: Chunks = [("", pickle.dumps({k: data.get(k) for k in ("version", "team")}))]
        for section in _SECTIONS:
            items = data.get(section) or []
            for start in range(0, len(items), _CHUNK):
                chunks.append((section, pickle.dumps(items[start : start + _CHUNK])))
        return [], chunks
    return [InventoryProblem(path, None, "", "the file kept changing while it was read")], []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the loader will say what is wrong with it


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _assemble(chunks: Chunks) -> Index:
    """Rebuild the validated inventory from chunks, each a short call, then index it."""
    head: dict[str, Any] = {}
    sections: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    for section, blob in chunks:
        if not section:
            head = pickle.loads(blob)
            continue
        sections[section].extend(_ADAPTERS[section].validate_python(pickle.loads(blob)))
    # every value was validated just above (and the whole file in the child): no second pass
    inventory = Inventory.model_construct(
        version=head.get("version") or 1,
        team=head.get("team"),
        people=tuple(sections["people"]),
        groups=tuple(sections["groups"]),
        providers=tuple(sections["providers"]),
        datacenters=tuple(sections["datacenters"]),
        hosts=tuple(sections["hosts"]),
        services=tuple(sections["services"]),
    )
    return Index(inventory)
