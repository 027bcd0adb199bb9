"""The bot's durable state in SQLite: the only module that writes SQL.

The schema evolves by numbered migrations, recorded in SQLite's ``user_version``; a database
from an older release is upgraded in place when the store opens. A store that cannot be used
(damaged, not a database, read-only) is refused when it opens, with a one-line reason, rather
than at its first write. :class:`StoreLock` keeps a store to one running bot.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from infrabot.errors import StoreError

__all__ = ["AuditEntry", "PageEvent", "PageRecord", "Store", "StoreInUse", "StoreLock"]

_MIGRATIONS: tuple[str, ...] = (
    # 1: the audit trail of admin actions
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        network TEXT NOT NULL,
        name TEXT NOT NULL,
        account TEXT,
        command TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        result TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at);
    """,
    # 2: pages, their history, and every delivery made (so none is made twice)
    """
    CREATE TABLE pages (
        id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        target_kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        requester TEXT NOT NULL,
        requester_account TEXT,
        origin_network TEXT NOT NULL,
        origin_room TEXT NOT NULL,
        state TEXT NOT NULL,
        level INTEGER NOT NULL,
        created_at REAL NOT NULL,
        next_at REAL,
        alert_key TEXT,
        closed_by TEXT,
        closed_at REAL,
        note TEXT
    );
    CREATE INDEX pages_open ON pages (state, next_at);
    CREATE TABLE page_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        page_id TEXT NOT NULL REFERENCES pages (id),
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX page_events_page ON page_events (page_id, id);
    CREATE TABLE deliveries (
        page_id TEXT NOT NULL REFERENCES pages (id),
        step INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        channel TEXT NOT NULL,
        at REAL NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (page_id, step, recipient, channel)
    );
    """,
    # 3: IRCv3 STS policies: hosts to reach only with TLS, until a time
    """
    CREATE TABLE sts_policies (
        host TEXT PRIMARY KEY,
        port INTEGER NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin action, or an attempt at one: who, where, what, and how it ended."""

    network: str
    name: str
    account: str | None
    command: str
    allowed: bool
    result: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class PageRecord:
    """A page as stored: what, why, who asked where, and how far it has escalated."""

    id: str
    target: str
    target_kind: str
    reason: str
    requester: str
    requester_account: str | None
    origin_network: str
    origin_room: str
    state: str  # open | acked | resolved
    level: int
    created_at: float
    next_at: float | None
    alert_key: str | None = None
    closed_by: str | None = None
    closed_at: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PageEvent:
    """One line of a page's history."""

    at: float
    kind: str
    detail: str


_PAGE_COLUMNS = ", ".join(PageRecord.__dataclass_fields__)


class Store:
    """A SQLite database; ``":memory:"`` gives a throwaway one for tests."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: {_reason(exc)}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._check_usable()
            self._migrate()
        except (StoreError, sqlite3.Error) as exc:
            self._db.close()
            raise StoreError(f"{self.path}: {_reason(exc)}") from None

    def _check_usable(self) -> None:
        """Refuse a damaged or read-only database now, not at the first page it should keep."""
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)").fetchall()]
        if problems != ["ok"]:
            detail = " ".join(" ".join(problems).replace("*** in database main ***", "").split())
            raise StoreError(f"damaged: {detail[:200]}")
        # a read-only file opens and reads; only a write shows it, so try one and undo it
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(f"PRAGMA user_version = {self.schema_version}")
        finally:
            self._db.execute("ROLLBACK")

    def check_writable(self) -> None:
        """Write to the database now (its schema version, unchanged), committed: raises
        :class:`StoreError` with a short reason when the store cannot keep a page."""
        try:
            with self._transaction():
                self._db.execute(f"PRAGMA user_version = {self.schema_version}")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {_reason(exc)}") from None

    @property
    def schema_version(self) -> int:
        """How many migrations this database has had."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        for number, script in enumerate(_MIGRATIONS, start=1):
            if self.schema_version >= number:
                continue
            # executescript commits first; the version bump rides in the same script
            self._db.executescript(f"BEGIN; {script} PRAGMA user_version = {number}; COMMIT;")

    def audit(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the audit trail (stamped now unless it carries a time)."""
        self._db.execute(
            "INSERT INTO audit (at, network, name, account, command, allowed, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry.at or time.time(),
                entry.network,
                entry.name,
                entry.account,
                entry.command,
                int(entry.allowed),
                entry.result,
            ),
        )

    def recent_audit(self, limit: int = 10) -> list[AuditEntry]:
        """The newest ``limit`` audit entries, newest first."""
        rows = self._db.execute(
            "SELECT network, name, account, command, allowed, result, at FROM audit"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            AuditEntry(
                network=r[0],
                name=r[1],
                account=r[2],
                command=r[3],
                allowed=bool(r[4]),
                result=r[5],
                at=r[6],
            )
            for r in rows
        ]

    # --- pages ---

    def add_page(self, page: PageRecord, detail: str) -> None:
        """Record a new page and the first line of its history, together."""
        marks = ", ".join("?" for _ in PageRecord.__dataclass_fields__)
        with self._transaction():
            self._db.execute(
                f"INSERT INTO pages ({_PAGE_COLUMNS}) VALUES ({marks})",
                tuple(getattr(page, f) for f in PageRecord.__dataclass_fields__),
            )
            self._event(page.id, "created", detail)

    def page(self, page_id: str) -> PageRecord | None:
        """The page with ``page_id``, if any."""
        row = self._db.execute(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE id = ?", (page_id,)
        ).fetchone()
        return PageRecord(*row) if row else None

    def pages(self, *, state: str | None = None, limit: int = 50) -> list[PageRecord]:
        """Pages, newest first; only those in ``state`` when given."""
        where, args = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._db.execute(
            f"SELECT {_PAGE_COLUMNS} FROM pages {where} ORDER BY created_at DESC LIMIT ?",
            (*args, limit),
        ).fetchall()
        return [PageRecord(*row) for row in rows]

    def page_counts(self) -> dict[str, int]:
        """How many pages are in each state (``open``, ``acked``, ``resolved``)."""
        rows = self._db.execute("SELECT state, COUNT(*) FROM pages GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def unclosed_pages(self) -> list[PageRecord]:
        """Open and acknowledged pages, oldest first."""
        rows = self._db.execute(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE state != 'resolved' ORDER BY created_at"
        ).fetchall()
        return [PageRecord(*row) for row in rows]

    def update_page(self, page_id: str, event: tuple[str, str], **changes: object) -> None:
        """Change fields of a page and add a line to its history, together."""
        columns = ", ".join(f"{name} = ?" for name in changes)
        with self._transaction():
            if changes:
                self._db.execute(
                    f"UPDATE pages SET {columns} WHERE id = ?", (*changes.values(), page_id)
                )
            self._event(page_id, *event)

    def page_events(self, page_id: str) -> list[PageEvent]:
        """A page's history, oldest first."""
        rows = self._db.execute(
            "SELECT at, kind, detail FROM page_events WHERE page_id = ? ORDER BY id", (page_id,)
        ).fetchall()
        return [PageEvent(*row) for row in rows]

    def claim_delivery(self, page_id: str, step: int, recipient: str, channel: str) -> bool:
        """Claim a delivery about to be made; False if it was already made.

        A claim is confirmed by :meth:`delivered` once the send returns. A claim left
        unconfirmed (the bot died while sending) can be claimed again, so a restarted bot
        finishes an interrupted step and never repeats a finished delivery.
        """
        with self._transaction():
            row = self._db.execute(
                "SELECT delivered FROM deliveries"
                " WHERE page_id = ? AND step = ? AND recipient = ? AND channel = ?",
                (page_id, step, recipient, channel),
            ).fetchone()
            if row is not None:
                return not row[0]
            self._db.execute(
                "INSERT INTO deliveries (page_id, step, recipient, channel, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (page_id, step, recipient, channel, time.time()),
            )
            return True

    def delivered(self, page_id: str, step: int, recipient: str, channel: str) -> None:
        """Confirm a claimed delivery as made."""
        self._db.execute(
            "UPDATE deliveries SET delivered = 1"
            " WHERE page_id = ? AND step = ? AND recipient = ? AND channel = ?",
            (page_id, step, recipient, channel),
        )

    def deliveries(self, page_id: str) -> list[tuple[int, str, str]]:
        """(step, recipient, channel) of every delivery made for a page, in order."""
        rows = self._db.execute(
            "SELECT step, recipient, channel FROM deliveries WHERE page_id = ? ORDER BY rowid",
            (page_id,),
        ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def unconfirmed(self, page_id: str, step: int) -> int:
        """How many deliveries of a page's ``step`` are claimed but not confirmed as made."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE page_id = ? AND step = ? AND delivered = 0",
            (page_id, step),
        ).fetchone()
        return int(row[0])

    def unconfirmed_steps(self, page_id: str) -> list[int]:
        """The steps of a page with deliveries claimed but not confirmed as made, in order."""
        rows = self._db.execute(
            "SELECT DISTINCT step FROM deliveries WHERE page_id = ? AND delivered = 0"
            " ORDER BY step",
            (page_id,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    # --- IRC STS policies ---

    def sts_policy(self, host: str) -> tuple[int, float] | None:
        """(port, expires_at) of the STS policy kept for ``host``, if any."""
        row = self._db.execute(
            "SELECT port, expires_at FROM sts_policies WHERE host = ?", (host,)
        ).fetchone()
        return (int(row[0]), float(row[1])) if row else None

    def set_sts_policy(self, host: str, port: int, expires_at: float) -> None:
        """Keep (or renew) the STS policy for ``host``: TLS on ``port`` until ``expires_at``."""
        self._db.execute(
            "INSERT INTO sts_policies (host, port, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (host) DO UPDATE SET port = excluded.port,"
            " expires_at = excluded.expires_at",
            (host, port, expires_at),
        )

    def drop_sts_policy(self, host: str) -> None:
        """Forget the STS policy for ``host``."""
        self._db.execute("DELETE FROM sts_policies WHERE host = ?", (host,))

    def _event(self, page_id: str, kind: str, detail: str) -> None:
        self._db.execute(
            "INSERT INTO page_events (page_id, at, kind, detail) VALUES (?, ?, ?, ?)",
            (page_id, time.time(), kind, detail),
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        self._db.close()


_REASONS = {
    "file is not a database": "not a database (damaged, or some other file)",
    "database disk image is malformed": "damaged (database disk image is malformed)",
    "attempt to write a readonly database": "read-only (the bot must be able to write it)",
    "unable to open database file": "cannot open it (a missing or read-only folder?)",
}


def _reason(exc: BaseException) -> str:
    """A short reason for a store that cannot be used, from SQLite's or the OS's words."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return _REASONS.get(text, text)


class StoreInUse(StoreError):
    """Another process holds the store's lock: it is running a bot on this store."""

    def __init__(self, store: str, pid: int | None) -> None:
        self.store = store
        self.pid = pid
        holder = f" (PID {pid})" if pid is not None else ""
        super().__init__(f"{store}: in use by another process{holder}")


class StoreLock:
    """One running bot per store: an exclusive ``flock`` on ``<store>.lock`` beside it.

    The kernel drops the lock when its holder ends, however it ends (SIGKILL included), so a
    crashed bot never leaves a stale lock behind. The file keeps the holder's PID, to name it.
    The file itself stays: removing it would let two processes lock two different files.
    """

    def __init__(self, store: Path | str) -> None:
        self.store = str(store)
        self.path = Path(f"{self.store}.lock")
        self._fd: int | None = None

    def acquire(
        self, *, wait: bool = False, waiting: Callable[[int | None], None] | None = None
    ) -> None:
        """Take the lock, or raise :class:`StoreInUse`; with ``wait``, wait for it instead.

        ``waiting`` is told the holder's PID (None if unknown) before the wait begins.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(
                f"{self.store}: cannot create its lock file {self.path}: {_reason(exc)}"
            ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise StoreInUse(self.store, _read_pid(fd)) from None
                if waiting is not None:
                    waiting(_read_pid(fd))
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Let the next bot have the store."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
