"""A bot killed with SIGKILL in the middle of paging 15 people on a real InspIRCd.

Deliveries are paced (two lines a second), so the kill lands while most private messages are
still waiting. After a restart every person gets the page: once, or twice for the one whose
line was written just before the kill and not yet confirmed. None is lost.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from irc_e2e_bot import ALICE, BOT_ACCOUNT, CHANNEL
from irc_e2e_client import IrcClient, register_account
from irc_e2e_servers import IrcServers

from infrabot.testing import until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
CROWD = [(f"crowd{n:02d}", f"crowd{n:02d}-pw") for n in range(15)]


def _inventory() -> str:
    people = "".join(
        f"  - name: Member {n:02d}\n    contact: {{irc_nick: {nick}, irc_account: {nick}}}\n"
        for n, (nick, _) in enumerate(CROWD)
    )
    members = ", ".join(f"{{person: Member {n:02d}}}" for n in range(len(CROWD)))
    return f"people:\n{people}groups:\n  - name: Crowd\n    kind: team\n    members: [{members}]\n"


def _config(folder: Path, port: int) -> Path:
    (folder / "inventory.yaml").write_text(_inventory())
    config = {
        "inventory": str(folder / "inventory.yaml"),
        "store": str(folder / "bot.db"),
        "paging": {"escalate_after": 600, "confirm_over": 50},
        "irc": {
            "host": "127.0.0.1",
            "port": port,
            "nick": "infrabot",
            "sasl_username": BOT_ACCOUNT[0],
            "sasl_password": BOT_ACCOUNT[1],
            "channels": [CHANNEL],
            "flood_rate": 2,
            "flood_burst": 1,
        },
    }
    path = folder / "bot.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _start(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "infrabot", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(config.parent / "bot.log").open("ab"),
    )


def _private_pages(clients: list[IrcClient]) -> Counter[str]:
    return Counter(
        c.nick
        for c in clients
        for line in c.messages_from("infrabot", c.nick)
        if "PAGE " in line.text
    )


def _unconfirmed(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'irc' AND delivered = 0"
        ).fetchone()
    return int(row[0])


async def test_sigkill_mid_page_loses_no_message(irc_servers: IrcServers, tmp_path: Path) -> None:
    port = irc_servers.port
    with ThreadPoolExecutor(len(CROWD)) as pool:
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: list(pool.map(lambda acc: register_account(port, *acc), CROWD))
        )
    crowd = [IrcClient(nick) for nick, _ in CROWD]
    alice = IrcClient("alice")
    everyone = [*crowd, alice]
    bot: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.gather(
            alice.connect(port, sasl=ALICE),
            *(c.connect(port, sasl=account) for c, account in zip(crowd, CROWD, strict=True)),
        )
        await asyncio.gather(*(c.join(CHANNEL) for c in everyone))
        config = _config(tmp_path, port)
        bot = _start(config)
        await alice.wait_for(lambda ln: ln.command == "JOIN" and ln.nick == "infrabot", 30)
        alice.say(CHANNEL, "!page crowd the database is down")
        # kill once a few have their message and most are still waiting for the pace
        await until(lambda: sum(_private_pages(crowd).values()) >= 3, 30)
        bot.send_signal(signal.SIGKILL)
        bot.wait(10)
        before = _private_pages(crowd)
        assert sum(before.values()) < len(CROWD)  # the kill landed mid-page

        bot = _start(config)
        await until(lambda: len(_private_pages(crowd)) == len(CROWD), 60)
        await until(lambda: _unconfirmed(tmp_path / "bot.db") == 0, 30)
        after = _private_pages(crowd)
        assert sorted(after) == sorted(nick for nick, _ in CROWD)  # nobody is left out
        assert max(after.values()) <= 2
        assert sum(n == 2 for n in after.values()) <= 1  # only a line in flight at the kill
        assert highlight_count(alice) == 1  # the channel highlight went out once
    finally:
        if bot is not None and bot.poll() is None:
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
        await asyncio.gather(*(c.close() for c in everyone), return_exceptions=True)


def highlight_count(client: IrcClient) -> int:
    return sum("PAGE " in line.text for line in client.messages_from("infrabot", CHANNEL))
