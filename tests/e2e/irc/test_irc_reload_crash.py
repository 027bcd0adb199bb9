"""A bot killed with SIGKILL in the middle of an admin's ``!reload``, on a real InspIRCd.

The inventory is large enough to be loaded in a child process, so the kill lands while that
process is still loading: the restarted bot serves a whole inventory (here the new file), its
answers come once each, and the killed bot's loading process does not live on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from irc_e2e_bot import ALICE
from irc_e2e_client import IrcClient
from irc_e2e_servers import IrcServers

from infrabot.testing import until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
ROOM = "#reload-crash"
BOT = "reloadbot"


def _inventory(path: Path, owner: str) -> None:
    """20,000 services owned by ``owner`` (over the size loaded in a child), renamed into
    place as a deploy tool writes it."""
    services = "".join(f"  - name: svc{i}\n    owners: [{owner}]\n" for i in range(20_000))
    fresh = path.with_suffix(".new")
    fresh.write_text(f"people:\n  - name: {owner}\nservices:\n{services}")
    fresh.replace(path)


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infrabot", "run", "--config", str(config)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.DEVNULL,
        stderr=(config.parent / "bot.log").open("ab"),
    )


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its entry waits to be reaped


def _answers(client: IrcClient, service: str) -> list[str]:
    return [
        ln.text
        for ln in client.messages_from(BOT, ROOM)
        if ln.text.startswith(f"{client.nick}: {service} is maintained by ")
    ]


async def test_sigkill_mid_reload_serves_a_whole_inventory_after_restart(
    irc_servers: IrcServers, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory.yaml"
    _inventory(inventory, "Ada")
    config = tmp_path / "bot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "inventory": str(inventory),
                "store": str(tmp_path / "bot.db"),
                "watch_inventory": False,
                "rate_limit": {"rate": 0},
                "admins": {"irc": [ALICE[0]]},
                "irc": {"port": irc_servers.port, "nick": BOT, "channels": [ROOM]},
            }
        )
    )
    alice, bob = IrcClient("alice"), IrcClient("bob")
    bot = _start(config)
    try:
        await asyncio.gather(
            alice.connect(irc_servers.port, sasl=ALICE), bob.connect(irc_servers.port)
        )
        await asyncio.gather(alice.join(ROOM), bob.join(ROOM))
        await bob.wait_for(lambda ln: ln.command == "JOIN" and ln.nick == BOT, 60)

        _inventory(inventory, "Bea")
        alice.say(ROOM, "!reload")
        await until(lambda: _children(bot.pid), 30, "the reload's loading process")
        loaders = _children(bot.pid)
        gone = len(bob.lines)
        bot.send_signal(signal.SIGKILL)
        bot.wait(10)
        assert not any("reloaded" in ln.text for ln in alice.messages_from(BOT, ROOM))
        await until(lambda: not any(_running(p) for p in loaders), 30, "the loader to end")

        bot = _start(config)
        await bob.wait_for(lambda ln: ln.command == "QUIT" and ln.nick == BOT, 30, start=gone)
        await bob.wait_for(lambda ln: ln.command == "JOIN" and ln.nick == BOT, 60, start=gone)
        bob.say(ROOM, "!owner svc7")
        await until(lambda: _answers(bob, "svc7"), 30, "the answer")
        bob.say(ROOM, "!owner svc8")  # once it is answered, nothing more about svc7 can come
        await until(lambda: _answers(bob, "svc8"), 30, "the second answer")
        assert _answers(bob, "svc7") == ["bob: svc7 is maintained by Bea"]
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
        await asyncio.gather(alice.close(), bob.close(), return_exceptions=True)
