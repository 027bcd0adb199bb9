"""The inventory in git, end to end: a push, its signed webhook, and the channel on InspIRCd.

The bot (``infrabot run``, its own process) serves an inventory from a bare git remote made
here. A commit pushed and its webhook (signed as GitHub signs it) reach the channel as
``reloaded <commit> ...``; a broken commit reaches it as its file:line problems while
``!owner`` still answers from the last good commit; ``!reload <old commit>`` rolls back.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml
from irc_e2e_bot import ALICE
from irc_e2e_client import IrcClient
from irc_e2e_servers import IrcServers, free_port

from infrabot.git_hook import SECRET_ENV
from tests.inventory.gitrepo import Remote, push_event

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
ROOM = "#inventory"
BOT = "gitbot"
SECRET = "push-secret"


async def _push_hook(port: int, *, secret: str = SECRET) -> int:
    body, headers = push_event(secret)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/hooks/git", data=body, headers=headers) as response,
    ):
        return response.status


async def _next_from_bot(client: IrcClient, start: int, prefix: str) -> str:
    """The text of the first line the bot says in the room from ``start`` on that starts
    with ``prefix`` (a line index of ``client``)."""
    line = await client.wait_for(
        lambda ln: ln.nick == BOT and ln.command == "PRIVMSG" and ln.text.startswith(prefix),
        30,
        start=start,
    )
    return line.text


def _from_bot(client: IrcClient, start: int, prefix: str) -> list[str]:
    """What the bot said in the room from line ``start`` on, starting with ``prefix``."""
    return [
        ln.text
        for ln in client.lines[start:]
        if ln.nick == BOT and ln.command == "PRIVMSG" and ln.text.startswith(prefix)
    ]


async def test_a_push_reloads_a_broken_one_is_refused_and_a_reload_rolls_back(
    irc_servers: IrcServers, tmp_path: Path
) -> None:
    remote = Remote(tmp_path)
    web = free_port()
    config = tmp_path / "bot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "inventory": {
                    "git": str(remote.bare),
                    "path": "inventory",
                    "announce": [{"network": "irc", "room": ROOM}],
                },
                "store": str(tmp_path / "state" / "bot.db"),
                "rate_limit": {"rate": 0},
                "admins": {"irc": [ALICE[0]]},
                "web": {"port": web},
                "irc": {"port": irc_servers.port, "nick": BOT, "channels": [ROOM]},
            }
        )
    )
    alice, bob = IrcClient("alice"), IrcClient("bob")
    bot: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.gather(
            alice.connect(irc_servers.port, sasl=ALICE), bob.connect(irc_servers.port)
        )
        await asyncio.gather(alice.join(ROOM), bob.join(ROOM))
        # the bot starts once both are in the room, so that its JOIN is a line they see
        bot = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "infrabot", "run", "--config", str(config)],
            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), SECRET_ENV: SECRET},
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "bot.log").open("ab"),
        )
        await bob.wait_for(lambda ln: ln.command == "JOIN" and ln.nick == BOT, 60)

        # a good commit: pushed, its webhook, the channel hears of it
        pypi = remote.part_with("name: PyPI")
        pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))
        good = remote.commit("PyPI: Richard Jones steps down", author="Ee Durbin")
        mark = len(bob.lines)
        assert await _push_hook(web, secret="not the secret") == 401
        assert await _push_hook(web) == 202
        assert await _next_from_bot(bob, mark, "reloaded ") == (
            f'reloaded {good[:7]} "PyPI: Richard Jones steps down" by Ee Durbin: '
            "PyPI owners −Richard Jones"
        )
        assert not _from_bot(bob, mark, "reloaded ")[1:]  # the bad signature changed nothing

        # a broken commit: its problem with file and line, and the good commit still serves
        pypi.write_text(pypi.read_text().replace("- Donald Stufft", "- Donald Stuft", 1))
        line = pypi.read_text().splitlines().index("  - Donald Stuft") + 1
        remote.commit("PyPI: a typo")
        mark = len(bob.lines)
        assert await _push_hook(web) == 202
        summary = await _next_from_bot(bob, mark, "reload failed")
        assert summary.startswith(f"reload failed, still serving {good[:7]}: 1 error")
        problem = await _next_from_bot(bob, mark, f"{pypi.relative_to(remote.work)}:{line}: ")
        assert "no person or group 'Donald Stuft'; did you mean 'Donald Stufft'?" in problem
        mark = len(bob.lines)
        bob.say(ROOM, "!owner pypi")
        owners = await _next_from_bot(bob, mark, "bob: PyPI")
        assert "Donald Stufft" in owners and "Richard Jones" not in owners

        # a rollback to the first commit, by an admin
        mark = len(bob.lines)
        alice.say(ROOM, f"!reload {remote.first[:7]}")
        rolled = await _next_from_bot(bob, mark, f"alice: reloaded {remote.first[:7]} ")
        assert "+Richard Jones" in rolled
        mark = len(bob.lines)
        bob.say(ROOM, "!owner pypi")
        assert "Richard Jones" in await _next_from_bot(bob, mark, "bob: PyPI")
    finally:
        if bot is not None:
            bot.terminate()
            try:
                bot.wait(15)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait(10)
        await asyncio.gather(alice.close(), bob.close(), return_exceptions=True)
