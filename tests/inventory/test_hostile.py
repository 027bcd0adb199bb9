"""Hostile inventory files end in a clear refusal: never a crash, a hang, or a blow-up.

What could take a process down is run in a separate process (``infrabot check``, or a bot
process running a reload, ``reload_child.py``), so that a failure here is a failed test rather
than a crashed test run.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PSF_INVENTORY, ROOT

HERE = Path(__file__).resolve().parent
REFUSED = "reload failed, still serving the previous inventory: 1 error: "
DEEP = "- " * 20_000 + "x\n"  # 40 KB, far deeper than yaml_rs's stack allows


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), **extra}


def _limit_memory() -> None:
    # a gigabyte of address space: plenty for the bot, far too little for an alias bomb
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def check(path: Path, *, limit_memory: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infrabot", "check", str(path)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        preexec_fn=_limit_memory if limit_memory else None,
    )


def reload_in_a_bot(path: Path, mode: str) -> dict[str, object]:
    """What a bot process reports after reloading from ``path`` (see reload_child.py)."""
    done = subprocess.run(
        [sys.executable, str(HERE / "reload_child.py"), str(path)],
        capture_output=True,
        text=True,
        env=_env(RELOAD_CHILD_MODE=mode),
        timeout=60,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    report: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return report


def test_check_refuses_deep_nesting_instead_of_crashing(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    done = check(path)
    assert done.returncode == 1, done.returncode  # -11 (SIGSEGV) before
    assert done.stderr.splitlines() == [
        f"{path}:1: YAML nested too deeply: the line starts with more than 200 columns of "
        "indentation and '- ' indicators; refusing it before parsing",
        "1 error",
    ]


def test_a_reload_of_deep_nesting_is_refused_and_the_bot_keeps_serving(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    report = reload_in_a_bot(path, "thread")
    assert str(report["summary"]).startswith(f"{REFUSED}{path}:1: YAML nested too deeply")
    assert report["previous"] is True and report["answers"] is True


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (
            "child-segfault",
            "the YAML parser crashed on this file (the loading process died of SIGSEGV); "
            "refusing it",
        ),
        ("child-memory", "loading failed with MemoryError; refusing the file"),
    ],
)
def test_a_loading_process_that_dies_is_a_refused_reload(
    tmp_path: Path, mode: str, reason: str
) -> None:
    path = tmp_path / "inventory.yaml"
    shutil.copy(PSF_INVENTORY, path)  # a valid file: the loading process fails all the same
    report = reload_in_a_bot(path, mode)
    assert report == {
        "summary": f"{REFUSED}{path}: {reason}",
        "previous": True,
        "answers": True,
        "children": 0,
    }


def test_a_cancelled_reload_ends_its_loading_process(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    shutil.copy(PSF_INVENTORY, path)
    # the child's parser never returns; the reload is cancelled, as a command taking too long
    # is: the loading process goes, and the event loop was never blocked waiting for it
    report = reload_in_a_bot(path, "child-hang")
    assert report == {"summary": "cancelled", "previous": True, "answers": True, "children": 0}


@pytest.mark.parametrize("aliases", [20_000, 40_000])
def test_alias_amplification_is_refused_before_it_expands(tmp_path: Path, aliases: int) -> None:
    # 260 and 320 KB that expanded to 4 and 8 GB: refused within a gigabyte of address space
    path = tmp_path / "amplified.yaml"
    path.write_text(
        "version: 1\npeople:\n  - name: Anchor\n"
        f'    notes: [&a "{"x" * 200_000}"]\n'
        "  - name: Aliases\n"
        "    notes: [" + ",".join(["*a"] * aliases) + "]\n"
    )
    done = check(path, limit_memory=True)
    assert done.returncode == 1, done.stderr[-500:]
    assert done.stderr.splitlines() == [
        f"{path}:6: YAML aliases repeat more than 1048576 characters of text (the file itself "
        f"has {len(path.read_text())}); refusing (alias bomb?)",
        "1 error",
    ]


def test_check_refuses_a_fifo_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "inventory.yaml"
    os.mkfifo(fifo)
    done = check(fifo)  # waited for ever before (until the timeout here)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{fifo}: not a regular file (a FIFO); refusing to read it",
        "1 error",
    ]
