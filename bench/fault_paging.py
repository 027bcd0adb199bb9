"""The fault row "SIGKILL mid-escalation": pages escalating on a real InspIRCd, the bot killed.

Each round opens a page of its own (``!page svcN``) whose ladder has four steps, each with
people of its own: the service's three owners, two escalation contacts one after the other,
then the team of three. Every step is a highlight in the channel and a private message to
each of its people, paced at two lines a second, so a page takes a few seconds to climb.
Once a random number of its lines have arrived (and a random fraction of a second later) the
bot is SIGKILLed and started again; the round waits until the page has reached its last step
and every delivery of every step it reached has arrived, then acknowledges it.

A step reached is counted from the page's level in the store; what each person should have
got follows from the ladder, and what they did get is what their IRC clients saw. "Answered
twice" counts deliveries that arrived more than once, "lost" those that never arrived.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fault_kit import BOT, CHANNEL, Bot, Row, bot_in_channel, irc_section
from irc_e2e_client import IrcClient, register_account
from irc_e2e_servers import IrcServers

LADDER = (("own1", "own2", "own3"), ("esc1",), ("esc2",), ("team1", "team2", "team3"))
PEOPLE = [nick for step in LADDER for nick in step]
REQUESTER = "asker"
LINES_PER_PAGE = len(LADDER) + len(PEOPLE)


def inventory(pages: int) -> str:
    """People with accounts, a team without a lead, one service per round with the ladder."""
    people = "".join(
        f"  - name: {nick}\n    contact: {{irc_nick: {nick}, irc_account: {nick}}}\n"
        for nick in PEOPLE
    )
    team = ", ".join(f"{{person: {n}}}" for n in LADDER[3])
    owners, (esc1,), (esc2,) = ", ".join(LADDER[0]), LADDER[1], LADDER[2]
    services = "".join(
        f"  - name: svc{i}\n    owners: [{owners}]\n    escalation: [{esc1}, {esc2}]\n"
        for i in range(pages)
    )
    groups = f"groups:\n  - name: Infra\n    kind: team\n    members: [{team}]\n"
    return f"version: 1\nteam: Infra\npeople:\n{people}{groups}services:\n{services}"


class Watch:
    """What the people's clients saw of each page: highlights and private messages."""

    def __init__(self, people: dict[str, IrcClient], asker: IrcClient) -> None:
        self.people = people
        self.asker = asker

    def highlights(self, page: str) -> int:
        return sum(
            f"ack {page} to acknowledge" in ln.text for ln in self.asker.messages_from(BOT, CHANNEL)
        )

    def private(self, page: str) -> Counter[str]:
        return Counter(
            {
                nick: sum(f"PAGE {page} " in ln.text for ln in client.messages_from(BOT, nick))
                for nick, client in self.people.items()
            }
        )

    def lines(self, page: str) -> int:
        return self.highlights(page) + sum(self.private(page).values())


def level(db: Path, page: str) -> int:
    """How far up its ladder the page has climbed (0: its first step), from the store."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        found = conn.execute("SELECT level FROM pages WHERE id = ?", (page,)).fetchone()
    return int(found[0]) if found else 0


def expected(reached: int) -> tuple[int, Counter[str]]:
    """Highlights and private messages each person should get once steps 0..``reached`` ran
    (steps past the ladder's end remind its last step's people)."""
    private: Counter[str] = Counter()
    for step in range(reached + 1):
        private.update(LADDER[min(step, len(LADDER) - 1)])
    return reached + 1, private


async def until(condition: object, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


async def bot_back(asker: IrcClient) -> None:
    """Return once the killed bot has left the channel and its successor has joined."""
    gone = len(asker.lines)
    await asker.wait_for(lambda ln: ln.command == "QUIT" and ln.nick == BOT, 30, start=gone)
    await bot_in_channel(asker)


async def one_round(
    number: int, bot: Bot, watch: Watch, rng: random.Random, tally: Counter[str]
) -> None:
    asker = watch.asker
    asker.say(CHANNEL, f"!page svc{number} disk full (round {number})")
    first = await asker.wait_for(
        lambda ln: ln.nick == BOT and ln.text.startswith("PAGE ") and f"svc{number}:" in ln.text,
        30,
    )
    page = first.text.split()[1]
    seen = rng.randrange(1, LINES_PER_PAGE - 1)
    await until(lambda: watch.lines(page) >= seen, 60)
    await asyncio.sleep(rng.uniform(0, 0.5))
    bot.kill()
    tally[f"killed at level {level(bot.workdir / 'infrabot.db', page)}"] += 1
    bot.start()
    await bot_back(asker)
    db = bot.workdir / "infrabot.db"

    def complete() -> bool:
        reached = level(db, page)
        highlights, private = expected(reached)
        return (
            reached >= len(LADDER) - 1
            and watch.highlights(page) >= highlights
            and all(watch.private(page)[n] >= private[n] for n in PEOPLE)
        )

    await until(complete, 90)

    def complete_at_ack() -> bool:
        highlights, private = expected(level(db, page))
        return watch.highlights(page) >= highlights and all(
            watch.private(page)[n] >= private[n] for n in PEOPLE
        )

    watch.people["team1"].say(CHANNEL, f"!ack {page}")
    await asker.wait_for(lambda ln: ln.nick == BOT and f"{page} (svc{number}) ack" in ln.text, 30)
    # A step the page climbed to just before the ack is still delivered, paced at two lines
    # a second behind the ack's answer: wait for it, then for anything repeated.
    await until(complete_at_ack, 30)
    await asyncio.sleep(1.0)
    highlights, private = expected(level(db, page))
    got_highlights, got = watch.highlights(page), watch.private(page)
    tally["sent"] += highlights + sum(private.values())
    tally["twice"] += max(0, got_highlights - highlights)
    tally["lost"] += max(0, highlights - got_highlights)
    for nick in PEOPLE:
        tally["twice"] += max(0, got[nick] - private[nick])
        tally["lost"] += max(0, private[nick] - got[nick])
    short = {n: private[n] - got[n] for n in PEOPLE if got[n] != private[n]}
    if short or got_highlights != highlights:
        # what a wrong round looks like, to find its cause in the bot's log
        print(
            f"round {number} page {page}: level {level(db, page)}, highlights "
            f"{got_highlights}/{highlights}, private short (+) or over (-): {short}",
            file=sys.stderr,
        )
        for line in bot.log().splitlines():
            if page in line:
                print(f"  {line}", file=sys.stderr)


async def row_sigkill_paging(workdir: Path, rounds: int) -> Row:
    """The row: ``rounds`` pages, one SIGKILL each."""
    servers = IrcServers(workdir / "ircd-paging")
    await asyncio.to_thread(servers.start)
    folder = workdir / "bot-paging"
    folder.mkdir()
    accounts = [BOT, REQUESTER, *PEOPLE]
    with ThreadPoolExecutor(len(accounts)) as pool:
        registered = pool.map(lambda a: register_account(servers.port, a, f"{a}-pw"), accounts)
        await asyncio.to_thread(list, registered)
    (folder / "inventory.yaml").write_text(inventory(rounds))
    bot = Bot(
        folder,
        {
            "inventory": str(folder / "inventory.yaml"),
            "rate_limit": {"rate": 0},
            "paging": {"escalate_after": 2, "confirm_over": 50, "rate_limit": 1000},
            "irc": irc_section(
                servers.port,
                sasl_username=BOT,
                sasl_password=f"{BOT}-pw",
                flood_rate=2,
                flood_burst=1,
            ),
        },
    )
    clients = {nick: IrcClient(nick) for nick in [REQUESTER, *PEOPLE]}
    try:
        await asyncio.gather(
            *(c.connect(servers.port, sasl=(n, f"{n}-pw")) for n, c in clients.items())
        )
        await asyncio.gather(*(c.join(CHANNEL) for c in clients.values()))
        bot.start()
        asker = clients.pop(REQUESTER)
        await bot_in_channel(asker)
        watch, rng, tally = Watch(clients, asker), random.Random(13), Counter[str]()
        for number in range(rounds):
            await one_round(number, bot, watch, rng, tally)
        row = Row("SIGKILL of the bot mid-escalation (IRC)", rounds)
        row.sent = tally["sent"]
        row.twice, row.lost = tally["twice"], tally["lost"]
        row.answered = row.sent - row.lost
        levels = sorted(k for k in tally if k.startswith("killed"))
        row.note = "deliveries of steps reached; " + ", ".join(f"{tally[k]} {k}" for k in levels)
        row.peak_mb = bot.peak_mb()
        row.flood_disconnects = bot.flood_disconnects()
        return row
    finally:
        bot.stop()
        await asyncio.gather(*(c.close() for c in clients.values()), return_exceptions=True)
        servers.stop()
