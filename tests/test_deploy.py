"""Running it as a service: the systemd unit, the example configuration, ``infrabot config``."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from infrabot.cli import main
from infrabot.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "infrabot.service"
EXAMPLE = ROOT / "deploy" / "config.example.yaml"
INSTALL = ROOT / "scripts" / "install-systemd-analyze"


def _systemd_analyze() -> str:
    """systemd-analyze, installed now under CI; else skip when this machine has none."""
    found = shutil.which("systemd-analyze")
    if found is None and os.environ.get("CI"):
        subprocess.run([str(INSTALL)], capture_output=True, timeout=600, check=False)
        found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze not installed: run scripts/install-systemd-analyze")
    return found


def _installed_unit(tmp_path: Path) -> Path:
    """The unit as shipped, but starting this checkout's infrabot: verify checks that the
    program exists, and /opt/infrabot is where a deployment puts it, not this machine."""
    program = Path(sys.executable).parent / "infrabot"
    if not program.exists():
        pytest.skip(f"no infrabot command beside {sys.executable}")
    text = UNIT.read_text()
    assert "ExecStart=/opt/infrabot/bin/infrabot run " in text
    unit = tmp_path / "infrabot.service"
    unit.write_text(text.replace("/opt/infrabot/bin/infrabot", str(program)))
    return unit


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = _systemd_analyze()
    unit = _installed_unit(tmp_path)
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    # an unknown or misspelt key is only a warning: any output at all fails the test
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_unit_is_hardened_by_systemd_analyze_security(tmp_path: Path) -> None:
    analyze = _systemd_analyze()
    unit = _installed_unit(tmp_path)
    result = subprocess.run(
        [analyze, "security", "--offline=yes", "--threshold=20", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert level is not None, result.stdout + result.stderr
    assert float(level.group(1)) <= 2.0 and result.returncode == 0


def _service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_the_unit_reloads_on_sighup_keeps_state_and_is_hardened() -> None:
    service = _service_section()
    assert service["Type"] in ("simple", "notify")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["StateDirectory"] == "infrabot"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
    }.items():
        assert service[key] == value
    # the configuration writes where the unit lets it: the state directory
    example = load_config(EXAMPLE)
    assert example.store.parent == Path("/var/lib/infrabot") == Path(service["WorkingDirectory"])
    assert example.matrix is not None
    assert example.matrix.store_path.parent == Path("/var/lib/infrabot")


def _keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """Every key of ``model`` as a dotted path, and whether it holds a secret."""
    for name, info in model.model_fields.items():
        if (info.description or "").startswith("Deprecated"):
            continue
        path = f"{prefix}{name}"
        text = str(info.annotation)
        yield path, "SecretStr" in text
        for inner in _models(info.annotation):
            yield from _keys(inner, f"{path}.")


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _present(data: object, path: list[str]) -> bool:
    if not path:
        return True
    if isinstance(data, list):
        return any(_present(item, path) for item in data)
    return isinstance(data, dict) and path[0] in data and _present(data[path[0]], path[1:])


def test_the_example_configuration_loads_and_has_every_key() -> None:
    load_config(EXAMPLE)
    text = EXAMPLE.read_text()
    data = yaml.safe_load(text)
    # the alternatives and the secrets are commented out: an explicit key, even null, would
    # win over the environment the secrets come from
    missing = []
    for path, secret in _keys(Config):
        parts = path.split(".")
        if _present(data, parts):
            assert not secret, f"{path} is a secret: leave it to the environment"
            continue
        # a secret, or a key of the git inventory: named in a comment where it belongs
        if not re.search(rf"^\s*#.*\b{re.escape(parts[-1])}:", text, re.MULTILINE):
            missing.append(path)
    assert missing == []


def test_infrabot_config_prints_the_effective_configuration_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INFRABOT_IRC__SASL_PASSWORD", "sasl-Secret-1")
    monkeypatch.setenv("INFRABOT_MATRIX__ACCESS_TOKEN", "syt_secret_token_2")
    monkeypatch.setenv("INFRABOT_WEB__TOKEN", "web-Secret-3")
    assert main(["config", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    shown = yaml.safe_load(out)
    assert shown["irc"]["sasl_password"] == "**********"  # set, from the environment
    assert shown["matrix"]["access_token"] == "**********"
    assert shown["web"]["token"] == "**********"
    assert shown["irc"]["nickserv_password"] is None  # not set
    assert shown["store"] == "/var/lib/infrabot/infrabot.db"
    for secret in ("sasl-Secret-1", "syt_secret_token_2", "web-Secret-3"):
        assert secret not in out


def test_infrabot_config_lists_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bot.yaml"
    bad.write_text(
        "irc: {port: many, flood_burst: 0, sasl_password: hunter2-Secret}\n"
        "log_level: loud\nbogus: 1\n"
    )
    assert main(["config", "--config", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{bad}: irc.port: Input should be a valid integer, unable to parse string as an integer",
        f"{bad}: irc.flood_burst: Input should be greater than or equal to 1",
        f"{bad}: log_level: Value error, must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        f"{bad}: bogus: Extra inputs are not permitted",
        "4 problems",
    ]
    assert captured.out == ""
