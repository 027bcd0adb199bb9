"""The fault row "SIGKILL mid-reload": the bot killed while an admin's ``!reload`` runs.

The inventory is one file of 20,000 services (large enough to be loaded in a child process,
as a real one of that size is), each owned by Ada. Each round the admin writes a changed
file (every service now owned by the other of Ada and Bea, written beside it and renamed
over it, as deploy tools do), says ``!reload``, and a user asks a command while the reload
runs; at a random moment within 1.25 times what a reload takes, the bot is SIGKILLed and started
again. Once it is back the user asks three more commands.

Every command must be answered exactly once, naming Ada or Bea (an inventory, old or new,
never a broken one); the loading process of a killed bot must not outlive it for long.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

from fault_kit import (
    BOT,
    CHANNEL,
    Bot,
    Row,
    Tally,
    answered,
    bot_in_channel,
    irc_section,
    many_services,
)
from irc_e2e_client import IrcClient, register_account
from irc_e2e_servers import IrcServers

OWNERS = ("Ada", "Bea")
ADMIN = "boss"


def children(pid: int) -> list[int]:
    """The bot's child processes (its inventory loader, while a reload runs)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited: only its entry is left for its new parent to reap
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def change(inventory: Path, owner: str) -> None:
    """Give every service to ``owner``: a new file renamed over the old one."""
    fresh = many_services(inventory.with_suffix(".new"), owner=owner)
    fresh.replace(inventory)


def owners_named(user: IrcClient) -> set[str]:
    """Whom the bot's answers to ``user`` name as owners."""
    return {
        ln.text.rsplit(" ", 1)[-1].rstrip(".")
        for ln in user.messages_from(BOT, CHANNEL)
        if " is maintained by " in ln.text
    }


async def timed_reload(admin: IrcClient) -> float:
    """One reload left to finish: how long it takes from ``!reload`` to its answer."""
    mark = len(admin.lines)
    began = time.monotonic()
    admin.say(CHANNEL, "!reload")
    await admin.wait_for(lambda ln: ln.nick == BOT and "reloaded" in ln.text, 60, start=mark)
    return time.monotonic() - began


async def one_round(
    number: int,
    bot: Bot,
    users: tuple[IrcClient, IrcClient],
    tally: Tally,
    timing: tuple[float, random.Random],
) -> tuple[bool, bool, list[int]]:
    """One injection: whether the reload had finished before the kill, whether its loading
    process was running then, and the loading processes left behind."""
    admin, user = users
    span, rng = timing
    inventory = Path(bot.config["inventory"])
    change(inventory, OWNERS[(number + 1) % 2])
    mark = len(admin.lines)
    admin.say(CHANNEL, "!reload")
    began = time.monotonic()
    await answered(tally, user, [tally.ask(user)], within=15)
    await asyncio.sleep(max(0.0, rng.uniform(0, 1.25 * span) - (time.monotonic() - began)))
    assert bot.proc is not None
    loaders = children(bot.proc.pid)
    gone = len(user.lines)
    bot.kill()
    finished = any(ln.nick == BOT and "reloaded" in ln.text for ln in admin.lines[mark:])
    bot.start()
    await user.wait_for(lambda ln: ln.command == "QUIT" and ln.nick == BOT, 30, start=gone)
    await bot_in_channel(user)
    await answered(tally, user, [tally.ask(user) for _ in range(3)], within=30)
    await asyncio.sleep(2)  # a loader of the killed bot still running now would be an orphan
    return finished, bool(loaders), [pid for pid in loaders if alive(pid)]


async def row_sigkill_reload(workdir: Path, rounds: int) -> Row:
    """The row: ``rounds`` reloads, each cut short by a SIGKILL."""
    servers = IrcServers(workdir / "ircd-reload")
    await asyncio.to_thread(servers.start)
    await asyncio.to_thread(register_account, servers.port, ADMIN, f"{ADMIN}-pw")
    folder = workdir / "bot-reload"
    folder.mkdir()
    inventory = many_services(folder / "inventory.yaml", owner=OWNERS[0])
    config = {
        "inventory": str(inventory),
        "watch_inventory": False,
        "rate_limit": {"rate": 0},
        "admins": {"irc": [ADMIN]},
        "irc": irc_section(servers.port),
    }
    bot = Bot(folder, config)
    admin, user = IrcClient(ADMIN), IrcClient("asker")
    try:
        await asyncio.gather(
            admin.connect(servers.port, sasl=(ADMIN, f"{ADMIN}-pw")), user.connect(servers.port)
        )
        bot.start()
        await asyncio.gather(bot_in_channel(admin), bot_in_channel(user))
        change(inventory, OWNERS[1])
        span = await timed_reload(admin)  # how long one takes, uninterrupted
        change(inventory, OWNERS[0])
        span = max(span, await timed_reload(admin))
        rng, tally, finished, loading, orphans = random.Random(13), Tally(), 0, 0, []
        for number in range(rounds):
            done, child, left = await one_round(number, bot, (admin, user), tally, (span, rng))
            finished += done
            loading += child
            orphans += left
        tally.read(user)
        row = tally.fill(Row("SIGKILL of the bot mid-reload (IRC)", rounds))
        named = owners_named(user)
        broken = named - set(OWNERS)
        row.note = (
            f"a reload takes {span:.1f} s; {rounds - finished} kills before the new inventory "
            f"was installed ({loading} while its loading process ran), {finished} after; "
            f"owners named: {', '.join(sorted(named))}"
            f"{'; NOT IN EITHER INVENTORY: ' + ', '.join(broken) if broken else ''}; "
            f"loading processes outliving the bot: {len(orphans)}"
        )
        row.peak_mb = bot.peak_mb()
        row.flood_disconnects = bot.flood_disconnects()
        return row
    finally:
        bot.stop()
        await asyncio.gather(admin.close(), user.close(), return_exceptions=True)
        servers.stop()
