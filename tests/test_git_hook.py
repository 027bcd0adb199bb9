"""The git push webhook: signed as GitHub signs it, a push reloads and the rooms hear of it."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from infrabot.app import App
from infrabot.config import Config, GitInventory, RoomRef, WebConfig
from infrabot.git_hook import SECRET_ENV, GitHook, signature
from infrabot.loader import builtin_plugin_dir
from infrabot.reload import ReloadResult
from infrabot.store import Store
from infrabot.testing import FakeTransport
from tests.conftest import message, with_networks
from tests.inventory.gitrepo import Remote, push_event

SECRET = "hook-secret"
OWNER_PYPI = (
    "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Bot:
    app: App
    irc: FakeTransport
    url: str
    remote: Remote

    async def push(self, ref: str = "refs/heads/main", *, secret: str = SECRET) -> int:
        body, headers = push_event(secret, ref)
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status

    async def announced(self, count: int) -> list[str]:
        async with asyncio.timeout(20):
            while len(self.irc.sent) < count:
                await asyncio.sleep(0.01)
        return [line for reply in self.irc.sent for line in reply.lines]


@pytest.fixture
async def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    remote = Remote(tmp_path)
    plugins = tmp_path / "plugins"
    shutil.copytree(builtin_plugin_dir(), plugins)
    port = free_port()
    config = Config(
        inventory=GitInventory(
            git=str(remote.bare),
            path="inventory",
            announce=[RoomRef(network="irc", room="#python-infra")],
        ),
        store=tmp_path / "state" / "infrabot.db",
        plugins=[plugins],
        web=WebConfig(port=port),
    )
    app = with_networks(App(config, store=Store(":memory:")))
    irc = FakeTransport("irc")
    runner = asyncio.create_task(app.run([irc]))
    url = f"http://127.0.0.1:{port}/hooks/git"
    async with asyncio.timeout(10):
        while True:  # the web server listens a moment after the transports start
            try:
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(url.replace("hooks/git", "health")),
                ):
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
    yield Bot(app, irc, url, remote)
    await app.stop()
    await runner


async def owner_pypi(app: App) -> str:
    return (await app.router.handle(message("!owner pypi")))[0].lines[0]


async def test_a_signed_push_reloads_and_the_channel_hears_it(bot: Bot) -> None:
    pypi = bot.remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))
    commit = bot.remote.commit("PyPI: Richard Jones steps down", author="Ee Durbin")
    started = time.perf_counter()
    assert await bot.push() == 202
    assert await bot.announced(1) == [
        f'reloaded {commit[:7]} "PyPI: Richard Jones steps down" by Ee Durbin: '
        "PyPI owners −Richard Jones"
    ]
    assert time.perf_counter() - started < 5  # generous: the bar (1 s) is a benchmark's
    assert bot.irc.sent[0].room.id == "#python-infra"


async def test_a_broken_push_is_announced_with_its_lines_and_changes_nothing(bot: Bot) -> None:
    pypi = bot.remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("- Richard Jones", "- Richard Jone", 1))
    line = pypi.read_text().splitlines().index("  - Richard Jone") + 1
    bot.remote.commit("PyPI: a typo")
    assert await bot.push() == 202
    summary, problem = await bot.announced(1)
    assert summary.startswith(f"reload failed, still serving {bot.remote.first[:7]}: 1 error: ")
    name = pypi.relative_to(bot.remote.work)
    assert problem == (
        f"{name}:{line}: services[PyPI].owners[2]: no person or group 'Richard Jone'; "
        "did you mean 'Richard Jones'?"
    )
    assert await owner_pypi(bot.app) == OWNER_PYPI


async def test_a_bad_signature_gets_401_and_changes_nothing(bot: Bot) -> None:
    pypi = bot.remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))
    bot.remote.commit("PyPI: Richard Jones steps down")
    assert await bot.push(secret="wrong") == 401
    assert await bot.push(ref="refs/heads/other") == 200
    assert await owner_pypi(bot.app) == OWNER_PYPI
    assert bot.irc.sent == []


async def test_pushes_during_a_reload_are_coalesced() -> None:
    started: list[asyncio.Event] = []
    release = asyncio.Event()

    async def reload() -> ReloadResult:
        started.append(asyncio.Event())
        await release.wait()
        return ReloadResult(True, f"reloaded: {len(started)}")

    announced: list[list[str]] = []

    async def announce(lines: list[str]) -> None:
        announced.append(lines)

    hook = GitHook(secret=SECRET, ref="main", reload=reload, announce=announce)
    for _ in range(5):
        hook.trigger()
        await asyncio.sleep(0)
    release.set()
    running = hook.busy
    assert running is not None
    await running
    assert announced == [["reloaded: 1"], ["reloaded: 2"]]


async def test_without_a_secret_every_request_is_refused() -> None:
    hook = GitHook(secret=None, ref="main", reload=_never, announce=_never_announce)
    request = _FakeRequest(b"{}", {"X-Hub-Signature-256": signature(b"", b"{}")})
    response = await hook.handle(request)  # type: ignore[arg-type]
    assert response.status == 401


async def _never() -> ReloadResult:
    raise AssertionError("no reload may start")


async def _never_announce(lines: list[str]) -> None:
    raise AssertionError("nothing may be announced")


class _FakeRequest:
    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self._body = body
        self.headers = headers

    async def read(self) -> bytes:
        return self._body
