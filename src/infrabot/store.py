"""The bot's durable state in SQLite: the only module that writes SQL.

The schema evolves by numbered migrations, recorded in SQLite's ``user_version``; a database
from an older release is upgraded in place when the store opens.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AuditEntry", "Store"]

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


class Store:
    """A SQLite database; ``":memory:"`` gives a throwaway one for tests."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

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

    def close(self) -> None:
        """Close the database."""
        self._db.close()
