"""Admin reloads: exact summaries, refusals, broken files that change nothing, plugin rollback."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest

from infrabot.app import App
from infrabot.config import AdminsConfig, Config
from infrabot.inventory import load_inventory
from infrabot.loader import builtin_plugin_dir
from infrabot.messages import Reply
from infrabot.store import Store
from infrabot.testing import FakeTransport
from tests.conftest import PSF_INVENTORY, message, with_networks
from tests.inventory.test_malformed import CASES

ADMIN = "root-account"
OWNER_PYPI = (
    "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones"
)


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    shutil.copy(PSF_INVENTORY, path)
    return path


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plugins"
    shutil.copytree(builtin_plugin_dir(), folder)
    return folder


@pytest.fixture
def app(inventory: Path, plugin_dir: Path) -> App:
    config = Config(inventory=inventory, plugins=[plugin_dir], admins=AdminsConfig(irc=[ADMIN]))
    return with_networks(App(config, store=Store(":memory:")))


async def say(app: App, text: str, **kw: object) -> list[Reply]:
    return await app.router.handle(message(text, **kw))  # type: ignore[arg-type]


async def first_lines(app: App, text: str, **kw: object) -> list[str]:
    return [r.lines[0] for r in await say(app, text, **kw)]


async def test_reload_reports_exact_changes(app: App, inventory: Path) -> None:
    text = inventory.read_text()
    text = text.replace(
        "  - name: Richard Jones\n", "  - name: Richard Jones\n  - name: Dustin Ingram\n"
    )
    text = text.replace("Donald Stufft, Richard Jones]", "Donald Stufft, Dustin Ingram]")
    inventory.write_text(text)
    assert await first_lines(app, "!reload", account=ADMIN) == [
        "reloaded: PyPI owners +Dustin Ingram −Richard Jones · +1 person (Dustin Ingram)"
    ]
    assert (await first_lines(app, "!owner pypi"))[0].endswith("Donald Stufft and Dustin Ingram")
    assert await first_lines(app, "!reload", account=ADMIN) == ["reloaded: no changes"]


@pytest.mark.parametrize(("text", "expected"), CASES)
async def test_broken_inventory_changes_nothing(
    app: App, inventory: Path, text: str, expected: list[str]
) -> None:
    inventory.write_text(text)
    replies = await say(app, "!reload", account=ADMIN)
    channel, private = replies
    count = len(expected)
    assert channel.room.id == "#python-infra"
    assert channel.lines[0].startswith(
        f"reload failed, still serving the previous inventory: {count} error{'s' if count > 1 else ''}: {inventory}"
    )
    assert channel.lines[0].endswith("(full list sent to you privately)")
    assert private.room.private and private.room.id == "alice"
    for line, want in zip(private.lines, expected, strict=True):
        # chat lines fold runs of spaces, so compare the way a person reads them
        assert line.startswith(
            " ".join((str(inventory) + want.removeprefix("inventory.yaml")).split())
        )
    assert (await first_lines(app, "!owner pypi")) == [OWNER_PYPI]


async def test_non_admins_are_refused_and_audited(app: App) -> None:
    assert await first_lines(app, "!reload", account=None, nick=ADMIN) == [
        "sorry, !reload is for admins only"
    ]
    assert await first_lines(app, "!reload", account="mallory") == [
        "sorry, !reload is for admins only"
    ]
    assert await first_lines(app, "!reload", account=ADMIN) == ["reloaded: no changes"]
    replies = await say(app, "!audit 3", account=ADMIN, private=True)
    lines = replies[0].lines
    assert [line.split(" ", 2)[2] for line in lines[1:]] == [
        "alice (mallory) on irc: !reload → REFUSED sorry, !reload is for admins only",
        "root-account (not identified) on irc: !reload → REFUSED sorry, !reload is for admins only",
    ]
    assert lines[0].endswith("alice (root-account) on irc: !reload → reloaded: no changes")


async def test_whoami(app: App) -> None:
    assert await first_lines(app, "!whoami", account=ADMIN) == [
        "alice on irc: account root-account, an admin"
    ]
    assert await first_lines(app, "!whoami", account=None, nick="root-account") == [
        "root-account on irc: not identified, not an admin"
    ]


async def test_plugin_reload_rolls_back(app: App, plugin_dir: Path) -> None:
    (plugin_dir / "extra.py").write_text(
        "from infrabot.plugin import command\n@command('ping')\ndef ping(c, a):\n    return 'pong'\n"
    )
    assert await first_lines(app, "!reload plugins", account=ADMIN) == [
        "reloaded 12 plugins, 19 commands (+ping)"
    ]
    assert await first_lines(app, "!ping") == ["pong"]
    (plugin_dir / "extra.py").write_text("from infrabot.plugin import command\ndef broken(:\n")
    lines = await first_lines(app, "!reload plugins", account=ADMIN)
    assert lines[0].startswith(
        "plugin reload failed, previous plugins kept: plugin extra: SyntaxError"
    )
    assert await first_lines(app, "!ping") == ["pong"]
    assert (await first_lines(app, "!owner pypi")) == [OWNER_PYPI]


async def wait_for(condition: object, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_sighup_reloads(app: App, inventory: Path) -> None:
    transport = FakeTransport("idle")
    runner = asyncio.create_task(app.run([transport]))
    await asyncio.wait_for(transport.running.wait(), 5)  # the signal handlers are in place
    inventory.write_text(inventory.read_text().replace("status: legacy", "status: unreachable"))
    os.kill(os.getpid(), signal.SIGHUP)
    await wait_for(lambda: app.index.host("dinsdale").status == "unreachable")
    await transport.stop()
    await runner


async def test_file_watch_reloads_once_settled(app: App, inventory: Path) -> None:
    watcher = asyncio.create_task(app.watch_inventory(interval=0.05, settle=0.05))
    await asyncio.sleep(0.1)
    inventory.write_text(inventory.read_text().replace("region: IAD", "region: IAD-2"))
    await wait_for(lambda: app.index.datacenter("iad1").region == "IAD-2")
    inventory.write_text("services: [")  # broken: the watcher must keep the good one
    await asyncio.sleep(0.3)
    assert app.index.datacenter("iad1").region == "IAD-2"
    watcher.cancel()


def test_store_migrates_and_persists(tmp_path: Path) -> None:
    from infrabot.store import _MIGRATIONS, AuditEntry

    latest = len(_MIGRATIONS)
    path = tmp_path / "state" / "infrabot.db"
    store = Store(path)
    assert store.schema_version == latest >= 3
    store.audit(AuditEntry("irc", "alice", "alice", "!reload", True, "ok"))
    store.close()
    again = Store(path)
    assert [e.command for e in again.recent_audit()] == ["!reload"]
    assert again.schema_version == latest


async def test_large_files_load_in_a_child_process_with_the_same_result(
    inventory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infrabot.errors import InventoryError
    from infrabot.inventory import offload

    monkeypatch.setattr(offload, "CHILD_PROCESS_BYTES", 0)
    index = await offload.load_index_off_loop(inventory, 1 << 20)
    assert index.inventory == load_inventory(inventory)
    assert index.service("pypi").name == "PyPI"
    inventory.write_text(CASES[6].values[0])  # a dangling owner, with a suggestion
    with pytest.raises(InventoryError) as caught:
        await offload.load_index_off_loop(inventory, 1 << 20)
    assert [str(p) for p in caught.value.problems] == [
        f"{inventory}:30: services[PyPI].owners[1]: no person or group 'Ernest Durbin'; "
        "did you mean 'Ernest W. Durbin III'?"
    ]


async def test_sigterm_stops_every_transport(app: App) -> None:
    first, second = FakeTransport("idle"), FakeTransport("idle2")
    runner = asyncio.create_task(app.run([first, second]))
    async with asyncio.timeout(5):
        await first.running.wait()
        await second.running.wait()
    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(5):
        await runner  # returns only once both transports were stopped
    assert not first.running.is_set() and not second.running.is_set()


async def test_people_with_the_admin_role_are_admins_by_account(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "people:\n"
        "  - name: Root\n    roles: [Admin]\n"
        "    contact: {irc_nick: rootnick, irc_account: rootacct, matrix_id: '@root:example.org'}\n"
        "  - name: Plain\n    contact: {irc_account: plain}\n"
    )
    app = with_networks(App(Config(inventory=inventory), store=Store(":memory:")))
    assert await first_lines(app, "!whoami", account="rootacct") == [
        "alice on irc: account rootacct, an admin"
    ]
    assert await first_lines(app, "!whoami", account="rootnick") == [
        "alice on irc: account rootnick, not an admin"
    ]
    assert await first_lines(app, "!whoami", account=None, nick="rootnick") == [
        "rootnick on irc: not identified, not an admin"
    ]
    assert await first_lines(app, "!whoami", account="plain") == [
        "alice on irc: account plain, not an admin"
    ]
    assert await first_lines(app, "!whoami", account="@root:example.org", network="matrix") == [
        "alice on matrix: account @root:example.org, an admin"
    ]


async def test_an_unexpected_failure_while_loading_is_a_refused_reload(
    app: App, inventory: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # the file watch and SIGHUP reload outside the router: an exception there would end the
    # watch, and with it the bot's task group
    import infrabot.reload

    async def broken(path: Path, max_bytes: int) -> None:
        raise MemoryError

    monkeypatch.setattr(infrabot.reload, "load_index_off_loop", broken)
    result = await app.reloader.reload_inventory()
    assert not result.ok
    assert result.summary == (
        "reload failed, still serving the previous inventory: "
        f"{inventory}: loading it failed with an internal error (logged)"
    )
    assert "MemoryError" in caplog.text
    assert (await first_lines(app, "!owner pypi")) == [OWNER_PYPI]
