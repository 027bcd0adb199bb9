"""The IRC rows of the fault figures: server restarts, the default flood limits, fuzzing.

- ``restarts``: InspIRCd killed and started again N times (Atheme relinks each time); each
  round a user asks a few commands once the bot is back, and waits for the answers;
- ``flood``: 20 users on a port with InspIRCd's default flood limits, each asking now and then
  for M minutes, the bot with its default flood control: nothing lost, never kicked;
- ``fuzz``: 100,000 fuzzed messages (random text, CTCP, formatting, long lines, near-commands)
  through a port with flood limits off, a probe command every 2,000; memory after vs before.
"""

from __future__ import annotations

import asyncio
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
from irc_e2e_client import IrcClient
from irc_e2e_servers import IrcServers


async def row_restarts(servers: IrcServers, bot: Bot, rounds: int) -> Row:
    tally = Tally()
    for number in range(rounds):
        user = IrcClient(f"r{number}")
        await user.connect(servers.port)
        await bot_in_channel(user)
        tags = [tally.ask(user) for _ in range(5)]
        await answered(tally, user, tags, within=15)
        await user.close()
        await asyncio.to_thread(servers.restart_ircd)
    row = Row(f"InspIRCd restarts (Atheme relinking; {servers.services_revived} revived)", rounds)
    return tally.fill(row)


async def row_flood(servers: IrcServers, bot: Bot, minutes: float) -> Row:
    users = [IrcClient(f"asker{i}") for i in range(20)]
    await asyncio.gather(*(u.connect(servers.port) for u in users))
    await asyncio.gather(*(bot_in_channel(u) for u in users))
    tally = Tally()
    # what the bot may send at the server's default limits: one line a second, two per answer,
    # so each of 20 users asks about once in 40 s, at random moments
    end = time.monotonic() + minutes * 60

    async def asking(user: IrcClient) -> None:
        await asyncio.sleep(random.uniform(0, 40))
        while time.monotonic() < end:
            tally.ask(user)
            await asyncio.sleep(random.uniform(30, 50))

    await asyncio.gather(*(asking(u) for u in users))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for user in users:
            tally.read(user)
        if tally.unanswered(tally.sent) == 0:
            break
        await asyncio.sleep(0.5)
    await asyncio.gather(*(u.close() for u in users))
    return tally.fill(Row("20 users at the server's default flood limits", len(users)))


def fuzz_line(rng: random.Random) -> str:
    """One hostile message text: never a line break or NUL, which IRC cannot carry."""
    kind = rng.randrange(7)
    if kind == 0:
        text = "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 120)))
    elif kind == 1:
        text = f"\x01{rng.choice(['VERSION', 'PING', 'ACTION', 'DCC SEND', 'X' * 50])} x\x01"
    elif kind == 2:
        text = "!" + " ".join(
            rng.choice(["owner", "host", "page", "%s", "{}", "\x02", "ü"])
            for _ in range(rng.randrange(1, 30))
        )
    elif kind == 3:
        text = "!owner " + "".join(rng.choice("abc\x03\x0f\x1f\u202e*?[]") for _ in range(400))
    elif kind == 4:
        text = f"{BOT}: " + rng.choice(["help", "owner", "x" * 300, "\x01ACTION\x01"])
    elif kind == 5:
        text = "A" * rng.randrange(300, 460)
    else:
        text = rng.choice(["!", "!!", "! owner", "!OWNER SVC1", "!owner\tsvc1", "!page"])
    return "".join(c for c in text if c not in "\r\n\0")[:440] or "x"


async def row_fuzz(servers: IrcServers, bot: Bot, count: int) -> Row:
    rng = random.Random(13)
    fuzzer, probe = IrcClient("fuzzer"), IrcClient("probe")
    await asyncio.gather(fuzzer.connect(servers.port), probe.connect(servers.port))
    await asyncio.gather(bot_in_channel(fuzzer), bot_in_channel(probe))
    tally = Tally()
    before = 0
    for number in range(count):
        target = CHANNEL if number % 3 else BOT
        fuzzer.say(target, fuzz_line(rng))
        if number % 200 == 0:
            assert fuzzer.writer is not None
            await fuzzer.writer.drain()
            fuzzer.lines.clear()  # the bot's answers to the fuzz: not needed, not kept
        if number == 2000:
            await asyncio.sleep(2)
            before = bot.memory_kb()
        if number % 2000 == 1999:
            tags = [tally.ask(probe)]
            await answered(tally, probe, tags, within=30)
    await answered(tally, probe, tally.sent, within=30)
    await asyncio.sleep(2)
    after = bot.memory_kb()
    await asyncio.gather(fuzzer.close(), probe.close())
    row = tally.fill(Row("fuzzed messages through IRC (flood control off)", count))
    row.note = f"RSS {before / 1024:.1f} MB after 2,000, {after / 1024:.1f} MB after all"
    row.note += f" ({(after / before - 1) * 100:+.1f}%)" if before else ""
    return row


async def run_irc_row(name: str, quick: bool, workdir: Path) -> Row:
    """One of ``restarts``, ``flood``, ``fuzz`` on fresh servers and a fresh bot."""
    servers = IrcServers(workdir / f"ircd-{name}")
    await asyncio.to_thread(servers.start)
    flood = name == "flood"
    folder = workdir / f"bot-{name}"
    folder.mkdir()
    config = {
        "inventory": str(many_services(folder / "inventory.yaml")),
        "irc": irc_section(servers.flood_port if flood else servers.port, flood=flood),
    }
    if not flood:
        config["rate_limit"] = {"rate": 0}
    bot = Bot(folder, config)
    bot.start()
    try:
        if name == "restarts":
            row = await row_restarts(servers, bot, 3 if quick else 20)
        elif flood:
            row = await row_flood(servers, bot, 1 if quick else 5)
        else:
            row = await row_fuzz(servers, bot, 5000 if quick else 100_000)
        row.peak_mb = bot.peak_mb()
        row.flood_disconnects = bot.flood_disconnects()
        return row
    finally:
        bot.stop()
        servers.stop()
