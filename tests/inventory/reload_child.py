"""A bot process that reloads its inventory from a file, for tests that may crash a process.

Run as a script: ``python reload_child.py FILE MODE``. It holds the shipped inventory, reloads
from FILE with :class:`Reloader` and prints one JSON line: the reload's summary, whether the
previous index is still served and answers, and how many loading processes are left.

MODE says where the file is parsed and what the parser does there:

- ``thread``: in this process, as for a small file; the parser is the real one.
- ``child``: in a child process, as for a large file; the parser is the real one.
- ``child-segfault``, ``child-memory``, ``child-hang``: in a child process whose parser dies
  of SIGSEGV, raises MemoryError, or never returns (the reload is then cancelled after a
  second, as the router cancels a command that takes too long).

The child process is spawned: it runs this file again, as ``__mp_main__``, so the parser is
replaced there before it loads anything, and only there.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import yaml_rs

MODE = os.environ.get("RELOAD_CHILD_MODE", "")


def _segfault(*_args: object, **_kw: object) -> Any:
    os.kill(os.getpid(), signal.SIGSEGV)


def _out_of_memory(*_args: object, **_kw: object) -> Any:
    raise MemoryError


def _hang(*_args: object, **_kw: object) -> Any:
    time.sleep(3600)


if __name__ == "__mp_main__":  # this file, run again in the spawned loading process
    replacement = {"child-segfault": _segfault, "child-memory": _out_of_memory}
    yaml_rs.loads = replacement.get(MODE, _hang if MODE == "child-hang" else yaml_rs.loads)


async def main(path: Path) -> dict[str, object]:
    from infrabot.inventory import Index, load_inventory, offload
    from infrabot.inventory.current import CurrentIndex
    from infrabot.reload import Reloader

    if MODE.startswith("child"):
        offload.CHILD_PROCESS_BYTES = 0
    shipped = Path(__file__).resolve().parents[2] / "inventory.yaml"
    current = CurrentIndex(Index(load_inventory(shipped)))
    first = current()
    reloader = Reloader(
        inventory_path=path,
        max_bytes=64 * 1024 * 1024,
        current=current,
        plugin_folders=[],
        current_plugins=lambda: None,  # type: ignore[arg-type,return-value]
        install_plugins=lambda plugins: None,
    )
    if MODE == "child-hang":
        try:
            summary = (await asyncio.wait_for(reloader.reload_inventory(), 1.0)).summary
        except TimeoutError:
            summary = "cancelled"
        await asyncio.get_running_loop().shutdown_default_executor()
    else:
        summary = (await reloader.reload_inventory()).summary
    return {
        "summary": summary,
        "previous": current() is first,
        "answers": current().services.find("pypi") is not None,
        "children": len(multiprocessing.active_children()),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))), flush=True)
