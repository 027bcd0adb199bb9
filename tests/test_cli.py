"""The ``infrabot`` command: query, check, schema, console, and the installed wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from infrabot.cli import main
from tests.conftest import PSF_INVENTORY, ROOT

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
