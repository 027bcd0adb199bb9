"""The ``infrabot`` command: query, check, schema, console, and the installed wheel."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infrabot.cli import main
from tests.conftest import PSF_INVENTORY, ROOT
from tests.test_store import made_store, read_only

OWNER_PYPI = "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones\n"


def run(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "infrabot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env=env,
        timeout=60,
    )


def test_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "!owner pypi"]) == 0
    assert capsys.readouterr().out.startswith(OWNER_PYPI)


def test_query_not_a_command_exits_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--channel", "just chatting"]) == 1


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(PSF_INVENTORY)]) == 0
    assert capsys.readouterr().out == (
        f"{PSF_INVENTORY}: OK (16 services, 3 hosts, 9 providers, 4 datacenters, 12 people, "
        "5 groups)\n"
    )


def test_check_prints_all_errors_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "services:\n  - name: a\n    owners: [nobody]\n  - name: b\n    hosting: [{host: nowhere}]\n"
    )
    assert main(["check", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"{bad}:3: services[a].owners[0]: no person or group 'nobody'\n"
        f"{bad}:5: services[b].hosting[0].host: no host 'nowhere'\n"
        "2 errors\n"
    )


def test_broken_inventory_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [")
    assert main(["--inventory", str(bad), "query", "!help"]) == 1
    assert f"{bad}:" in capsys.readouterr().err


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) >= {
        "people",
        "groups",
        "providers",
        "datacenters",
        "hosts",
        "services",
    }


def test_config_file_and_inventory_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text("services:\n  - name: Widget\n    domains: [widget.example.org]\n")
    cfg = tmp_path / "bot.yaml"
    cfg.write_text('inventory: inv.yaml\nprefix: "?"\n')
    assert main(["query", "--config", str(cfg), "?owner widget"]) == 0
    assert capsys.readouterr().out == (
        "Widget (widget.example.org): owners not recorded\nReach: no contact recorded for them\n"
    )


def test_bad_config_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.yaml"
    cfg.write_text("prefixx: '!'\n")
    assert main(["--config", str(cfg), "query", "!help"]) == 2
    assert "prefixx: Extra inputs are not permitted" in capsys.readouterr().err


def test_console_with_piped_input() -> None:
    result = run("console", stdin="owner pypi\n!dc iad1\n\nnonsense\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "infrabot console: type 'help', or Ctrl-D to leave",
        "infrabot> " + OWNER_PYPI.strip(),
        "infrabot> Reach: no contact recorded for them; ask the Infrastructure Team: "
        "infrastructure-staff@python.org, #python-infra on Freenode",
        "infrabot> iad1: Rackspace, region IAD",
        "infrabot> Hosts: none recorded · Services: none recorded",
        "infrabot> no command 'nonsense'; !help lists them",
    ]


def test_run_without_networks_explains(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "no network configured" in result.stderr


@pytest.mark.e2e
def test_wheel_in_a_clean_venv_answers_from_another_folder(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(env_dir / "bin" / "infrabot"), "query", "!owner pypi"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=clean_env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(OWNER_PYPI)


def test_relative_paths_in_the_config_are_relative_to_it(tmp_path: Path) -> None:
    from infrabot.config import load_config

    cfg = tmp_path / "conf" / "bot.yaml"
    cfg.parent.mkdir()
    cfg.write_text(
        "inventory: inv.yaml\nstore: state/bot.db\nplugins: [plugins]\n"
        "irc: {tls: true, tls_ca_file: ca.pem}\nmatrix: {store_path: matrix}\n"
    )
    config = load_config(cfg)
    folder = cfg.parent
    assert config.inventory == folder / "inv.yaml"
    assert config.store == folder / "state" / "bot.db"
    assert config.plugins == [folder / "plugins"]
    assert config.irc is not None and config.irc.tls_ca_file == folder / "ca.pem"
    assert config.matrix is not None and config.matrix.store_path == folder / "matrix"


# --- infrabot run: one bot per store, and a store that cannot be used ---


def _run_config(tmp_path: Path) -> Path:
    """A bot that needs no server: its IRC network is a closed port, retried patiently."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = tmp_path / "bot.yaml"
    cfg.write_text(
        f"store: infrabot.db\nirc: {{host: 127.0.0.1, port: {port}, reconnect_min: 30}}\n"
    )
    return cfg


class BackgroundRun:
    """``infrabot run`` in the background, its stderr in a file the test reads."""

    def __init__(self, cfg: Path, *options: str) -> None:
        self.err_path = cfg.parent / f"stderr-{time.monotonic_ns()}.txt"
        with self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "infrabot", "run", "--config", str(cfg), *options],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            )

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_until(self, what: str, done: Callable[[], bool], within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not done():
            assert self.proc.poll() is None, f"exited {self.proc.returncode}: {self.stderr}"
            assert time.monotonic() < deadline, f"not {what} within {within} s: {self.stderr}"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)


def _holds(lock: Path, bot: BackgroundRun) -> Callable[[], bool]:
    return lambda: lock.exists() and lock.read_text() == f"{bot.proc.pid}\n"


def _serving(bot: BackgroundRun) -> Callable[[], bool]:
    # its transport has tried the (closed) port: the bot is up, signal handlers and all
    return lambda: "cannot connect to 127.0.0.1" in bot.stderr


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[..., BackgroundRun]]:
    bots: list[BackgroundRun] = []

    def start(*options: str) -> BackgroundRun:
        bot = BackgroundRun(tmp_path / "bot.yaml", *options)
        bots.append(bot)
        return bot

    _run_config(tmp_path)
    yield start
    for bot in bots:
        bot.stop(signal.SIGKILL)


def test_a_second_bot_on_the_same_store_refuses_at_once(
    tmp_path: Path, running: Callable[..., BackgroundRun]
) -> None:
    first = running()
    lock = tmp_path / "infrabot.db.lock"
    first.wait_until("holding the store", _holds(lock, first))
    second = run("run", "--config", str(tmp_path / "bot.yaml"))
    assert second.returncode == 1
    assert second.stderr == (
        f"infrabot: the store {tmp_path / 'infrabot.db'} is in use by another infrabot "
        f"(PID {first.proc.pid}); stop it, or start this one with --standby\n"
    )
    assert first.proc.poll() is None  # the first one serves on, undisturbed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_standby_takes_over_when_the_first_stops(
    tmp_path: Path, running: Callable[..., BackgroundRun], sig: int
) -> None:
    first = running()
    lock = tmp_path / "infrabot.db.lock"
    first.wait_until("serving", _serving(first))
    assert _holds(lock, first)()
    standby = running("--standby")
    standby.wait_until("standing by", lambda: "standing by" in standby.stderr)
    assert f"in use by another infrabot (PID {first.proc.pid}); standing by" in standby.stderr
    assert "taking over" not in standby.stderr
    assert lock.read_text() == f"{first.proc.pid}\n"
    assert first.stop(sig) == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
    standby.wait_until("taking over", lambda: "taking over" in standby.stderr)
    standby.wait_until("serving", _serving(standby))
    assert _holds(lock, standby)()
    assert standby.stop() == 0
    assert "Traceback" not in standby.stderr


def test_a_corrupt_store_is_one_line_and_a_failure(tmp_path: Path) -> None:
    cfg = _run_config(tmp_path)
    (tmp_path / "infrabot.db").write_bytes(b"not a database\n" * 300)
    result = run("run", "--config", str(cfg))
    assert result.returncode == 1
    assert result.stderr == (
        f"infrabot: cannot use the store {tmp_path / 'infrabot.db'}: "
        "not a database (damaged, or some other file)\n"
    )


def test_a_read_only_store_is_one_line_and_a_failure(tmp_path: Path) -> None:
    cfg = _run_config(tmp_path)
    store = made_store(tmp_path)
    with read_only(store):
        result = run("run", "--config", str(cfg))
    assert result.returncode == 1
    assert result.stderr == (
        f"infrabot: cannot use the store {store}: read-only (the bot must be able to write it)\n"
    )
