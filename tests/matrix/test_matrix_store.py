"""The transport's durable state survives a reopen."""

from __future__ import annotations

import stat
from pathlib import Path

from infrabot.transports.matrix_store import MatrixSession, MatrixStateStore


def test_session_and_sync_token_survive_a_restart(tmp_path: Path) -> None:
    store = MatrixStateStore(tmp_path / "m")
    assert store.session is None and store.sync_token is None
    store.save_session(MatrixSession("@bot:x.org", "DEVICE", "secret"))
    store.save_sync_token("s42")
    store.close()

    again = MatrixStateStore(tmp_path / "m")
    assert again.session == MatrixSession("@bot:x.org", "DEVICE", "secret")
    assert again.sync_token == "s42"
    again.close()


def test_the_state_file_is_private(tmp_path: Path) -> None:
    MatrixStateStore(tmp_path).close()
    mode = (tmp_path / MatrixStateStore.FILENAME).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_refused_token_is_dropped_but_the_device_kept(tmp_path: Path) -> None:
    store = MatrixStateStore(tmp_path)
    store.save_session(MatrixSession("@bot:x.org", "DEVICE", "secret"))
    store.forget_token()
    assert store.session is None
    assert store.device_id == "DEVICE"


def test_handled_events_are_remembered_and_pruned(tmp_path: Path) -> None:
    store = MatrixStateStore(tmp_path)
    store.mark_handled("$old", now=1000.0)
    store.mark_handled("$new", now=5000.0)
    store.mark_handled("$new", now=6000.0)  # twice is harmless
    store.close()

    store = MatrixStateStore(tmp_path)
    assert store.is_handled("$old") and store.is_handled("$new")
    assert not store.is_handled("$other")
    assert store.prune_handled(older_than=3000, now=6000.0) == 1
    assert not store.is_handled("$old") and store.is_handled("$new")
