"""A bot killed with SIGKILL mid-escalation resumes after restart: no page lost, none sent twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.conftest import ROOT
from tests.paging.conftest import HANDLES

WORKER = Path(__file__).with_name("crash_worker.py")


def start(db: Path, inventory: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db), str(inventory), str(out), *extra], env=env
    )


def lines(out: Path) -> list[list[str]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def wait_for(predicate: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_sigkill_mid_escalation_resumes_without_repeats(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(HANDLES)
    db, out = tmp_path / "bot.db", tmp_path / "out.jsonl"
    bot = start(db, inventory, out, "--page")
    try:
        # step 1 (escalation to Cy) starts about 1 s after the page: kill during its deliveries
        wait_for(lambda: any("escalating to escalation 1" in line[2] for line in lines(out)), 15)
        bot.send_signal(signal.SIGKILL)
        bot.wait(5)
        before = lines(out)
        bot = start(db, inventory, out)
        wait_for(lambda: any("escalating to the Infra lead" in line[2] for line in lines(out)), 15)
        time.sleep(0.5)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(5)
    after = lines(out)
    assert len(after) > len(before)
    private = Counter((net, room, text) for net, room, text in after if not room.startswith("#"))
    assert [key for key, n in private.items() if n > 1] == []  # nothing sent twice
    assert ("matrix", "@cy:example.org") in {(net, room) for net, room, _ in after}
    assert ("irc", "lead") in {(net, room) for net, room, _ in after}
    announcements = [text for _, room, text in after if room == "#python-infra"]
    assert len(announcements) == len(set(announcements))
