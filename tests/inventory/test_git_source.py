"""The inventory from a git repository: real git, a bare remote, commits pushed to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infrabot.app import App
from infrabot.config import AdminsConfig, Config, GitInventory
from infrabot.errors import InventoryError
from infrabot.inventory.git_source import FetchError, GitSource, shown_remote
from infrabot.loader import builtin_plugin_dir
from infrabot.store import Store
from tests.conftest import message, with_networks
from tests.inventory.gitrepo import Remote, git

ADMIN = "root-account"
OWNER_PYPI = (
    "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones"
)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


@pytest.fixture
def app(remote: Remote, tmp_path: Path) -> App:
    plugins = tmp_path / "plugins"
    shutil.copytree(builtin_plugin_dir(), plugins)
    config = Config(
        inventory=GitInventory(git=str(remote.bare), path="inventory"),
        store=tmp_path / "state" / "infrabot.db",
        plugins=[plugins],
        admins=AdminsConfig(irc=[ADMIN]),
    )
    return with_networks(App(config, store=Store(":memory:")))


async def lines(app: App, text: str, **kw: object) -> list[str]:
    replies = await app.router.handle(message(text, **kw))  # type: ignore[arg-type]
    return [r.lines[0] for r in replies]


def drop_richard(remote: Remote) -> str:
    pypi = remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))
    return remote.commit("PyPI: Richard Jones steps down", author="Ee Durbin")


async def test_reload_serves_the_pushed_commit_and_names_it(app: App, remote: Remote) -> None:
    assert await lines(app, "!owner pypi") == [OWNER_PYPI]
    commit = drop_richard(remote)
    assert await lines(app, "!reload", account=ADMIN) == [
        f'reloaded {commit[:7]} "PyPI: Richard Jones steps down" by Ee Durbin: '
        "PyPI owners −Richard Jones"
    ]
    assert (await lines(app, "!owner pypi"))[0].endswith("Durbin III and Donald Stufft")
    (answer,) = await lines(app, "!inventory")
    assert answer.startswith(
        f'serving {commit[:7]} "PyPI: Richard Jones steps down" by Ee Durbin, '
        f"from {remote.bare} (main, inventory), since "
    )
    assert answer.endswith(
        "UTC; 12 parts: 16 services, 3 hosts, 9 providers, 4 datacenters, 12 people, 5 groups"
    )


async def test_a_broken_commit_keeps_the_good_one(app: App, remote: Remote) -> None:
    good = git(remote.work, "rev-parse", "HEAD").strip()
    pypi = remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("- Richard Jones", "- Richard Jone", 1))
    line = pypi.read_text().splitlines().index("  - Richard Jone") + 1
    remote.commit("PyPI: a typo")
    channel, _private = await lines(app, "!reload", account=ADMIN)
    name = pypi.relative_to(remote.work)
    assert channel == (
        f"reload failed, still serving {good[:7]}: 1 error: {name}:{line}: "
        "services[PyPI].owners[2]: no person or group 'Richard Jone'; did you mean "
        "'Richard Jones'? (full list sent to you privately)"
    )
    assert await lines(app, "!owner pypi") == [OWNER_PYPI]
    assert (await lines(app, "!inventory"))[0].startswith(f"serving {good[:7]} ")


async def test_reload_a_commit_rolls_back(app: App, remote: Remote) -> None:
    drop_richard(remote)
    await lines(app, "!reload", account=ADMIN)
    assert await lines(app, f"!reload {remote.first[:10]}", account=ADMIN) == [
        f'reloaded {remote.first[:7]} "Inventory: the PSF\'s services" by Ada Lovelace: '
        "PyPI owners +Richard Jones"
    ]
    assert await lines(app, "!owner pypi") == [OWNER_PYPI]


async def test_a_commit_not_on_the_branch_is_refused(app: App, remote: Remote) -> None:
    gone = drop_richard(remote)
    assert (await lines(app, "!reload", account=ADMIN))[0].startswith(f"reloaded {gone[:7]} ")
    git(remote.work, "reset", "--quiet", "--hard", remote.first)
    git(remote.work, "push", "--quiet", "--force", "origin", "main")  # gone is force-pushed away
    assert await lines(app, f"!reload {gone[:12]}", account=ADMIN) == [
        f"reload failed, still serving {gone[:7]}: commit {gone[:7]} is not on main of "
        f"{remote.bare} (main, inventory) (force-pushed away?); refusing it"
    ]
    assert await lines(app, "!reload 0123456789abcdef", account=ADMIN) == [
        f"reload failed, still serving {gone[:7]}: no commit 0123456789abcdef in "
        f"{remote.bare} (main, inventory)"
    ]
    assert (await lines(app, "!reload", account=ADMIN))[0].startswith(
        f"reloaded {remote.first[:7]} "
    )


async def test_a_failed_fetch_is_one_line_and_keeps_serving(app: App, remote: Remote) -> None:
    remote.bare.rename(remote.bare.with_name("moved.git"))
    (answer,) = await lines(app, "!reload", account=ADMIN)
    assert answer.startswith(
        f"reload failed, still serving {remote.first[:7]}: fetch from {remote.bare} "
        "(main, inventory) failed: "
    )
    assert "\n" not in answer and len(answer) < 400
    assert await lines(app, "!owner pypi") == [OWNER_PYPI]


def test_the_token_is_never_in_an_argument_or_a_message(tmp_path: Path) -> None:
    token = "ghp_s3cr3tTOKENvalue"
    source = GitSource(
        f"http://user:{token}@127.0.0.1:9/inventory.git",
        clone=tmp_path / "clone",
        environ={"INFRABOT_GIT_TOKEN": token, "PATH": "/usr/bin:/bin"},
    )
    env = source._env()
    assert token not in env.get("GIT_CONFIG_VALUE_0", "")  # sent encoded, as a header
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert "INFRABOT_GIT_TOKEN" not in env and env["GIT_TERMINAL_PROMPT"] == "0"
    with pytest.raises(FetchError) as caught:
        source.load()
    assert token not in str(caught.value)
    assert str(caught.value).startswith(
        "fetch from http://127.0.0.1:9/inventory.git (main, .) failed: "
    )


def test_shown_remote_leaves_out_credentials() -> None:
    assert shown_remote("https://bot:tok@git.example.org/infra/inv.git") == (
        "https://git.example.org/infra/inv.git"
    )
    assert shown_remote("git@github.com:psf/inventory.git") == "github.com:psf/inventory.git"
    assert shown_remote("/srv/git/inventory.git") == "/srv/git/inventory.git"


def test_work_trees_of_other_commits_are_removed(remote: Remote, tmp_path: Path) -> None:
    source = GitSource(str(remote.bare), path="inventory", clone=tmp_path / "clone")
    first = source.load()
    source.installed(first)
    drop_richard(remote)
    second = source.load()
    assert second.parts is not None and second.parts.changed == {"services/0003.yaml"}
    source.installed(second)
    assert len(list((tmp_path / "clone" / "trees").iterdir())) == 2  # until tidied
    source.tidy()
    assert [p.name for p in (tmp_path / "clone" / "trees").iterdir()] == [Path(second.origin).name]


def test_a_new_commit_links_the_files_it_shares_and_writes_the_rest(
    remote: Remote, tmp_path: Path
) -> None:
    source = GitSource(str(remote.bare), path="inventory", clone=tmp_path / "clone")
    first = source.load()
    source.installed(first)
    changed = drop_richard(remote)
    second = source.load()
    old, new = Path(first.origin) / "inventory", Path(second.origin) / "inventory"
    same = old / "people.yaml", new / "people.yaml"
    assert same[0].stat().st_ino == same[1].stat().st_ino  # linked, not written again
    edited = remote.part_with("name: PyPI").relative_to(remote.work / "inventory")
    assert (old / edited).stat().st_ino != (new / edited).stat().st_ino
    assert (new / edited).read_text() == remote.part_with("name: PyPI").read_text()
    assert second.revision is not None and second.revision.commit == changed
    assert not (new.parent / "README.md").exists()  # only the folder of parts is written
    source.installed(second)
    assert (new / "people.yaml").read_text().startswith("team: ")


def test_a_symbolic_link_in_the_commit_is_refused_as_a_part(remote: Remote, tmp_path: Path) -> None:
    (remote.work / "inventory" / "linked.yaml").symlink_to("/etc/hostname")
    remote.commit("a link")
    source = GitSource(str(remote.bare), path="inventory", clone=tmp_path / "clone")
    with pytest.raises(InventoryError) as caught:
        source.load()
    assert [str(p) for p in caught.value.problems] == [
        "inventory/linked.yaml: a symbolic link; a part must be a file in the folder"
    ]
