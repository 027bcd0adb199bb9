"""Loading an inventory without stalling the event loop, however large it is.

Parsing (``yaml_rs``) and validating (pydantic) each hold the GIL for their whole call, so a
thread alone would freeze the bot for seconds on a 100,000-service file. Large files are
therefore parsed and fully validated in a child process; the child hands back the raw
sections in small pickled chunks, and this process re-validates them chunk by chunk in a
thread. No single call then holds the GIL for more than a few tens of milliseconds, and the
event loop keeps answering while the new index is built.

A child that dies (a parser crashing on a hostile file, memory running out) only ends that
load: its death is an :class:`InventoryError` naming the file, and the bot goes on serving the
inventory it had.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import pickle
import signal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import yaml_rs
from pydantic import TypeAdapter

from infrabot.errors import InventoryError, InventoryProblem
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory, parse_inventory, read_inventory_text
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

_CRASHES = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE}

Chunks = list[tuple[str, bytes]]
# what the child sends back: its problems, the validated file's chunks, or why it failed
Outcome = tuple[list[InventoryProblem], Chunks, str | None]


async def load_index_off_loop(path: Path, max_bytes: int) -> Index:
    """Load, validate and index ``path`` without blocking the running event loop.

    Raises :class:`InventoryError` with the same problems :func:`load_inventory` reports, and
    with a problem of its own when the child process dies (a parser that crashed on the file,
    the memory that ran out): the running bot is never taken down with it.
    """
    if _size(path) < CHILD_PROCESS_BYTES:
        return await asyncio.to_thread(lambda: Index(load_inventory(path, max_bytes=max_bytes)))
    # spawn, not fork: forking a process that runs threads and an event loop is unsafe
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_parse_in_child,
        args=(sender, str(path), max_bytes),
        name="infrabot-inventory",
        daemon=True,
    )
    child.start()
    sender.close()  # the child holds the only writing end now: its death ends our reading
    try:
        problems, chunks, failure = await asyncio.to_thread(_outcome, child, receiver)
    finally:
        if child.is_alive():  # cancelled: nobody wants the answer any more
            child.kill()
    if failure is not None:
        raise InventoryError([InventoryProblem(str(path), None, "", failure)])
    if problems:
        raise InventoryError(problems)
    return await asyncio.to_thread(_assemble, chunks)


def _outcome(child: BaseProcess, receiver: Connection) -> Outcome:
    """The child's answer, or the reason it gave none, once it has exited."""
    outcome: Outcome | None
    try:
        with receiver:
            outcome = receiver.recv()
    except (EOFError, OSError):  # it died before answering
        outcome = None
    child.join()
    return outcome if outcome is not None else ([], [], _death(child.exitcode))


def _death(code: int | None) -> str:
    """Why a loading process that gave no answer ended, for the person who asked."""
    if code is None or code >= 0:
        return f"the loading process exited with status {code} before answering; refusing the file"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    if -code in _CRASHES:
        return (
            f"the YAML parser crashed on this file (the loading process died of {name}); "
            "refusing it"
        )
    return f"the loading process was killed by {name} before answering; refusing the file"


def _parse_in_child(sender: Connection, path: str, max_bytes: int) -> None:
    """Validate fully, then send the raw sections in pickled chunks (or the problems)."""
    gc.disable()  # this process lives for one load: the collector would only slow it down
    outcome: Outcome
    try:
        text = read_inventory_text(path, max_bytes=max_bytes)
        parse_inventory(text, path)
    except InventoryError as exc:
        outcome = exc.problems, [], None
    except Exception as exc:  # MemoryError and the like: the parent says so, in one line
        detail = f" ({str(exc)[:200]})" if str(exc) else ""
        outcome = [], [], f"loading failed with {type(exc).__name__}{detail}; refusing the file"
    else:
        outcome = [], _chunks(text), None
    with sender:
        sender.send(outcome)


def _chunks(text: str) -> Chunks:
    """The validated text's raw sections, a thousand entries a pickle."""
    data = yaml_rs.loads(text, parse_datetime=False)
    assert isinstance(data, dict)  # parse_inventory refused anything else
    chunks: Chunks = [("", pickle.dumps({k: data.get(k) for k in ("version", "team")}))]
    for section in _SECTIONS:
        items = data.get(section) or []
        for start in range(0, len(items), _CHUNK):
            chunks.append((section, pickle.dumps(items[start : start + _CHUNK])))
    return chunks


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the loader will say what is wrong with it


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
