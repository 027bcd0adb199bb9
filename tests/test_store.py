"""The store refuses to open when it cannot be used, and keeps to one running bot."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrabot.errors import StoreError
from infrabot.store import AuditEntry, Store, StoreInUse, StoreLock


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable even for root (immutable), else by its mode; then undo it."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("running as root, and the file cannot be made immutable here")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def made_store(tmp_path: Path) -> Path:
    path = tmp_path / "infrabot.db"
    store = Store(path)
    store.audit(AuditEntry("irc", "alice", "alice", "!reload", True, "ok"))
    store.close()
    return path


def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "infrabot.db"
    path.write_bytes(b"this is not sqlite, just text\n" * 200)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(caught.value) == f"{path}: not a database (damaged, or some other file)"


def test_a_damaged_database_is_refused_when_it_opens(tmp_path: Path) -> None:
    path = made_store(tmp_path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE filler (x TEXT)")
    db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 5 : page * 6] = b"\xff" * page  # wreck one page in the middle
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: damaged")
    assert "\n" not in message


def test_a_read_only_database_is_refused_when_it_opens(tmp_path: Path) -> None:
    path = made_store(tmp_path)
    with read_only(path), pytest.raises(StoreError) as caught:
        Store(path)
    assert str(caught.value) == f"{path}: read-only (the bot must be able to write it)"


def test_a_good_store_still_opens_and_keeps_its_data(tmp_path: Path) -> None:
    store = Store(made_store(tmp_path))
    assert [e.name for e in store.recent_audit()] == ["alice"]
    store.close()


def test_a_second_lock_on_the_same_store_names_the_holder(tmp_path: Path) -> None:
    store = tmp_path / "infrabot.db"
    with StoreLock(store) as first:
        first.acquire()
        assert first.path == tmp_path / "infrabot.db.lock"
        assert first.path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(StoreInUse) as caught:
            StoreLock(store).acquire()
        assert (caught.value.store, caught.value.pid) == (str(store), os.getpid())
        assert str(caught.value) == f"{store}: in use by another process (PID {os.getpid()})"
    # released: the next one takes it at once
    with StoreLock(store) as second:
        second.acquire()


def test_a_waiting_lock_takes_over_when_the_holder_lets_go(tmp_path: Path) -> None:
    store = tmp_path / "infrabot.db"
    first = StoreLock(store)
    first.acquire()
    told: list[int | None] = []
    waiting = threading.Event()
    second = StoreLock(store)

    def wait_for_it() -> None:
        second.acquire(wait=True, waiting=lambda pid: (told.append(pid), waiting.set()))

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    assert waiting.wait(10)
    assert thread.is_alive()  # still waiting: the first holds it
    first.release()
    thread.join(10)
    assert not thread.is_alive()
    assert told == [os.getpid()]
    second.release()


def test_a_lock_file_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create its lock file"):
        StoreLock(blocker / "infrabot.db").acquire()
