"""The bot, `infrabot check` and the console on a folder of parts; reloads read changed parts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infrabot.app import App
from infrabot.cli import main
from infrabot.config import AdminsConfig, Config
from infrabot.inventory import parts as parts_module
from infrabot.loader import builtin_plugin_dir
from infrabot.store import Store
from tests.conftest import PSF_INVENTORY, message, with_networks
from tests.inventory.folders import split

ADMIN = "root-account"
OWNER_PYPI = (
    "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    split(PSF_INVENTORY, tmp_path / "inventory", per_part=4)
    return tmp_path / "inventory"


@pytest.fixture
def app(folder: Path, tmp_path: Path) -> App:
    plugins = tmp_path / "plugins"
    shutil.copytree(builtin_plugin_dir(), plugins)
    config = Config(inventory=folder, plugins=[plugins], admins=AdminsConfig(irc=[ADMIN]))
    return with_networks(App(config, store=Store(":memory:")))


async def lines(app: App, text: str, **kw: object) -> list[str]:
    replies = await app.router.handle(message(text, **kw))  # type: ignore[arg-type]
    return [r.lines[0] for r in replies]


def part_with(folder: Path, text: str) -> Path:
    return next(p for p in sorted(folder.rglob("*.yaml")) if text in p.read_text())


async def test_the_bot_answers_from_a_folder_and_reloads_only_what_changed(
    app: App, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await lines(app, "!owner pypi") == [OWNER_PYPI]
    pypi = part_with(folder, "name: PyPI")
    pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))
    parsed: list[str] = []
    real = parts_module.parse_inventory
    monkeypatch.setattr(
        parts_module,
        "parse_inventory",
        lambda text, file, **kw: parsed.append(file) or real(text, file, **kw),
    )
    assert await lines(app, "!reload", account=ADMIN) == ["reloaded: PyPI owners −Richard Jones"]
    assert parsed == [str(pypi)]
    assert (await lines(app, "!owner pypi"))[0].endswith("Durbin III and Donald Stufft")


async def test_a_broken_part_changes_nothing_and_names_its_line(app: App, folder: Path) -> None:
    pypi = part_with(folder, "name: PyPI")
    text = pypi.read_text()
    pypi.write_text(text.replace("- Richard Jones", "- Richard Jone", 1))
    line = pypi.read_text().splitlines().index("  - Richard Jone") + 1
    channel, _private = await lines(app, "!reload", account=ADMIN)
    assert channel == (
        "reload failed, still serving the previous inventory: 1 error: "
        f"{pypi}:{line}: services[PyPI].owners[2]: no person or group 'Richard Jone'; "
        "did you mean 'Richard Jones'? (full list sent to you privately)"
    )
    assert await lines(app, "!owner pypi") == [OWNER_PYPI]
    pypi.write_text(text)  # mended: the next reload compares with what is serving
    assert await lines(app, "!reload", account=ADMIN) == ["reloaded: no changes"]


def test_check_a_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(folder)]) == 0
    assert capsys.readouterr().out == (
        f"{folder}: OK (16 services, 3 hosts, 9 providers, 4 datacenters, 12 people, 5 groups)\n"
    )
    (folder / "hosts" / "0000.yaml").write_text("hosts:\n  - name: x\n    provider: Nobody\n")
    assert main(["check", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{folder}/hosts/0000.yaml:3: hosts[x].provider: no provider 'Nobody'")


def test_query_a_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--inventory", str(folder), "!owner pypi"]) == 0
    assert capsys.readouterr().out.startswith(OWNER_PYPI + "\n")


async def test_inventory_says_what_is_serving(app: App, folder: Path) -> None:
    (answer,) = await lines(app, "!inventory")
    assert answer.startswith(f"serving {folder}, since ")
    assert answer.endswith(
        "UTC; 12 parts: 16 services, 3 hosts, 9 providers, 4 datacenters, 12 people, 5 groups"
    )
    assert await lines(app, "!reload 3f2a9c1", account=ADMIN) == [
        "reload failed, still serving the previous inventory: no commit 3f2a9c1: the inventory "
        "is not in git"
    ]
