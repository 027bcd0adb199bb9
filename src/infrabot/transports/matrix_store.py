"""What the Matrix transport must remember across restarts, in one small SQLite file.

What survives a restart: the session (device ID and access token after a password login, so
a restart reuses the same device instead of piling up new ones), the sync token (where the
next sync resumes), the IDs of the events already answered (so no event is ever answered
twice, whatever order a crash and a reconnect come in), the direct chats accepted, and the
encrypted events still waiting for their room key (with who was told they cannot be read).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HeldEvent", "MatrixSession", "MatrixStateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS handled (
    event_id TEXT PRIMARY KEY,
    handled_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS handled_at_idx ON handled (handled_at);
CREATE TABLE IF NOT EXISTS direct_rooms (room_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS direct_with (user_id TEXT PRIMARY KEY, room_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS undecryptable (
    event_id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    event TEXT NOT NULL,
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS told_undecryptable (user_id TEXT PRIMARY KEY);
"""


@dataclass(frozen=True, slots=True)
class MatrixSession:
    """A logged-in device: who, which device, and the token that proves it."""

    user_id: str
    device_id: str
    access_token: str


@dataclass(frozen=True, slots=True)
class HeldEvent:
    """An encrypted event the bot could not decrypt yet, kept until its key arrives."""

    room_id: str
    event: dict[str, Any]
    seen_at: float


class MatrixStateStore:
    """The transport's durable state in ``<store_path>/state.sqlite3``.

    Writes are committed at once; WAL with ``synchronous=NORMAL`` keeps each commit cheap
    (no fsync per answer) while surviving a crash of the process.
    """

    FILENAME = "state.sqlite3"

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.FILENAME
        fresh = not path.exists()
        self._db = sqlite3.connect(path, isolation_level=None)
        if fresh:
            # The file holds an access token: readable by its owner only.
            os.chmod(path, 0o600)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards."""
        self._db.close()

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _delete(self, *keys: str) -> None:
        self._db.executemany("DELETE FROM state WHERE key = ?", [(k,) for k in keys])

    @property
    def session(self) -> MatrixSession | None:
        """The device kept from the last password login, if any."""
        user_id, device_id, token = (
            self._get("user_id"),
            self._get("device_id"),
            self._get("access_token"),
        )
        if user_id is None or device_id is None or token is None:
            return None
        return MatrixSession(user_id, device_id, token)

    def save_session(self, session: MatrixSession) -> None:
        """Keep ``session`` so the next start logs in as the same device."""
        with self._db:
            self._db.execute("BEGIN")
            self._set("user_id", session.user_id)
            self._set("device_id", session.device_id)
            self._set("access_token", session.access_token)

    def forget_token(self) -> None:
        """Drop a token the server no longer accepts; the device ID is kept for reuse."""
        self._delete("access_token")

    @property
    def device_id(self) -> str | None:
        """The device ID last used, even when its token was dropped."""
        return self._get("device_id")

    @property
    def sync_token(self) -> str | None:
        """Where the next sync resumes (``next_batch`` of the last fully handled sync)."""
        return self._get("sync_token")

    def save_sync_token(self, token: str) -> None:
        """Resume from ``token`` next time: every event before it has been dealt with."""
        self._set("sync_token", token)

    @property
    def direct_rooms(self) -> frozenset[str]:
        """The direct chats the bot accepted (answered as private conversations)."""
        rows = self._db.execute("SELECT room_id FROM direct_rooms").fetchall()
        return frozenset(str(row[0]) for row in rows)

    def add_direct_room(self, room_id: str) -> None:
        """Remember ``room_id`` as a direct chat, across restarts."""
        self._db.execute("INSERT OR IGNORE INTO direct_rooms (room_id) VALUES (?)", (room_id,))

    def direct_room_with(self, user_id: str) -> str | None:
        """The direct room the bot opened with ``user_id``, if it opened one."""
        row = self._db.execute(
            "SELECT room_id FROM direct_with WHERE user_id = ?", (user_id,)
        ).fetchone()
        return str(row[0]) if row else None

    def save_direct_room_with(self, user_id: str, room_id: str) -> None:
        """Remember the direct room opened with ``user_id``, across restarts."""
        self._db.execute(
            "INSERT OR REPLACE INTO direct_with (user_id, room_id) VALUES (?, ?)",
            (user_id, room_id),
        )

    @property
    def opened_direct_rooms(self) -> frozenset[str]:
        """Every direct room the bot opened itself (to page someone, say)."""
        rows = self._db.execute("SELECT room_id FROM direct_with").fetchall()
        return frozenset(str(row[0]) for row in rows)

    def is_handled(self, event_id: str) -> bool:
        """Whether the event was already answered (or deliberately passed over)."""
        row = self._db.execute("SELECT 1 FROM handled WHERE event_id = ?", (event_id,)).fetchone()
        return row is not None

    def mark_handled(self, event_id: str, now: float | None = None) -> None:
        """Remember that the event was dealt with, so it is never answered again."""
        self._db.execute(
            "INSERT OR IGNORE INTO handled (event_id, handled_at) VALUES (?, ?)",
            (event_id, time.time() if now is None else now),
        )

    def prune_handled(self, older_than: float, now: float | None = None) -> int:
        """Forget events handled more than ``older_than`` seconds ago; returns how many.

        Safe once ``older_than`` exceeds the transport's maximum age: such events would be
        ignored as too old anyway.
        """
        cutoff = (time.time() if now is None else now) - older_than
        cursor = self._db.execute("DELETE FROM handled WHERE handled_at < ?", (cutoff,))
        return cursor.rowcount

    def hold_event(self, room_id: str, event: dict[str, Any], now: float) -> None:
        """Keep an undecryptable event until its key arrives (or it is too old to answer)."""
        self._db.execute(
            "INSERT OR IGNORE INTO undecryptable (event_id, room_id, event, seen_at) "
            "VALUES (?, ?, ?, ?)",
            (str(event["event_id"]), room_id, json.dumps(event), now),
        )

    @property
    def held_events(self) -> list[HeldEvent]:
        """The events still waiting for their key, oldest first."""
        rows = self._db.execute(
            "SELECT room_id, event, seen_at FROM undecryptable ORDER BY seen_at, event_id"
        ).fetchall()
        return [HeldEvent(str(room), json.loads(event), float(seen)) for room, event, seen in rows]

    def release_event(self, event_id: str) -> None:
        """Stop waiting for ``event_id``'s key: answered, passed over, or too old."""
        self._db.execute("DELETE FROM undecryptable WHERE event_id = ?", (event_id,))

    def was_told_undecryptable(self, user_id: str) -> bool:
        """Whether ``user_id`` was already told the bot cannot read their messages."""
        row = self._db.execute(
            "SELECT 1 FROM told_undecryptable WHERE user_id = ?", (user_id,)
        ).fetchone()
        return row is not None

    def set_told_undecryptable(self, user_id: str, told: bool) -> None:
        """Remember (or forget, once their messages are read again) that ``user_id`` was told."""
        if told:
            self._db.execute(
                "INSERT OR IGNORE INTO told_undecryptable (user_id) VALUES (?)", (user_id,)
            )
        else:
            self._db.execute("DELETE FROM told_undecryptable WHERE user_id = ?", (user_id,))
