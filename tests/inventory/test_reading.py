"""Only a regular file is read as the inventory: a FIFO or a device is refused, never waited on."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrabot.errors import InventoryError
from infrabot.inventory import load_inventory
from infrabot.reload import Reloader
from tests.conftest import PSF_INVENTORY


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO with no writer. Whatever still waits on it at the end is let go (a read that
    blocked would otherwise keep the test run from exiting)."""
    path = tmp_path / "inventory.yaml"
    os.mkfifo(path)
    yield path
    release(path)


def release(path: Path) -> None:
    """Open ``path`` for writing and close it: a reader blocked on it gets an end of file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        assert exc.errno == errno.ENXIO  # nobody reading: nothing to let go


def refusal(path: Path | str) -> str:
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    (problem,) = caught.value.problems
    return str(problem)


def test_a_fifo_is_refused(fifo: Path) -> None:
    guard = threading.Timer(10, release, (fifo,))  # before, this waited for a writer
    guard.start()
    try:
        assert refusal(fifo) == f"{fifo}: not a regular file (a FIFO); refusing to read it"
    finally:
        guard.cancel()


def test_a_device_is_refused() -> None:
    assert refusal("/dev/null") == (
        "/dev/null: not a regular file (a character device); refusing to read it"
    )


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path) == f"{tmp_path}: not a regular file (a directory); refusing to read it"


def test_a_fifo_swapped_in_after_the_check_is_refused_unread(
    fifo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the path looked like a regular file when it was checked, and is a FIFO when opened
    regular = os.stat(PSF_INVENTORY)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: regular if p == fifo else real_stat(p))
    guard = threading.Timer(10, release, (fifo,))
    guard.start()
    try:
        assert refusal(fifo) == f"{fifo}: not a regular file (a FIFO); refusing to read it"
    finally:
        guard.cancel()


async def test_reloading_from_a_fifo_is_refused_at_once(
    fifo: Path,
) -> None:
    from infrabot.inventory import Index
    from infrabot.inventory.current import CurrentIndex

    current = CurrentIndex(Index(load_inventory(PSF_INVENTORY)))
    reloader = Reloader(
        inventory_path=fifo,
        max_bytes=1 << 20,
        current=current,
        plugin_folders=[],
        current_plugins=lambda: None,  # type: ignore[arg-type,return-value]
        install_plugins=lambda plugins: None,
    )
    loop = asyncio.get_running_loop()
    guard = loop.call_later(10, release, fifo)  # before, each reload left a thread waiting
    try:
        result = await reloader.reload_inventory()
    finally:
        guard.cancel()
    assert result.summary == (
        "reload failed, still serving the previous inventory: 1 error: "
        f"{fifo}: not a regular file (a FIFO); refusing to read it"
    )
    assert current().services.find("pypi") is not None
