"""The fault figures: the real bot against real servers, faults injected, one table of results.

Each row runs ``infrabot run`` (its own process) on a fresh InspIRCd + Atheme and counts, for
the commands users sent: how many were answered, answered twice, and lost (sent while the bot
was in the channel, never answered); how often the server disconnected the bot for flooding;
and the bot's peak memory (VmHWM). Every command asks about a service of its own
(``!owner svc123``), so each answer says which command it answers.

Rows (``--quick`` runs each briefly, as a smoke test of the bench itself):

- ``restarts``: InspIRCd killed and started again N times (Atheme relinks each time); each
  round a user asks a few commands once the bot is back, and waits for the answers;
- ``flood``: 20 users on a port with InspIRCd's default flood limits, each asking now and then
  for M minutes, the bot with its default flood control: nothing lost, never kicked;
- ``fuzz``: 100,000 fuzzed messages (random text, CTCP, formatting, long lines, near-commands)
  through a port with flood limits off, a probe command every 2,000; memory after vs before.

Rows of the issue this bench does not run yet: Synapse restarts, SIGKILL mid-escalation,
SIGKILL mid-reload (their properties are asserted by the suite's e2e and SIGKILL tests).

Usage::

    python bench/faults.py [--quick] [--rows restarts,flood,fuzz] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e" / "irc")]

from irc_e2e_client import IrcClient  # noqa: E402
from irc_e2e_servers import IrcServers, servers_installed  # noqa: E402

CHANNEL = "#faults"
BOT = "faultbot"
SERVICES = 20_000


@dataclass
class Row:
    """One fault's figures."""

    fault: str
    injected: int
    sent: int = 0
    answered: int = 0
    twice: int = 0
    lost: int = 0
    flood_disconnects: int = 0
    peak_mb: float = 0.0
    note: str = ""


@dataclass
class Bot:
    """``infrabot run`` in its own process, its stderr kept."""

    workdir: Path
    port: int
    flood: bool = False
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        inventory = self.workdir / "inventory.yaml"
        if not inventory.exists():
            services = "".join(f"  - name: svc{i}\n    owners: [Ada]\n" for i in range(SERVICES))
            inventory.write_text(f"version: 1\npeople:\n  - name: Ada\nservices:\n{services}")
        limits = "" if self.flood else "\n  flood_rate: 0"
        rate = "" if self.flood else "rate_limit: {rate: 0}\n"
        config = self.workdir / "bot.yaml"
        config.write_text(
            f"inventory: {inventory}\nstore: {self.workdir / 'infrabot.db'}\n{rate}"
            f"irc:\n  port: {self.port}\n  nick: {BOT}\n  channels: ['{CHANNEL}']\n"
            f"  reconnect_min: 0.5\n  reconnect_max: 2{limits}\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infrabot", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "bot.err").open("wb"),
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            cwd=self.workdir,
        )

    def memory_kb(self, key: str = "VmRSS") -> int:
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) if match else 0

    def flood_disconnects(self) -> int:
        text = (self.workdir / "bot.err").read_text(errors="replace")
        return len(re.findall(r"(?i)(disconnected|server error).*flood", text))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Tally:
    """Commands sent and the answers seen, by the service each asks about."""

    sent: list[str] = field(default_factory=list)
    _seen: dict[str, Counter[str]] = field(default_factory=dict)
    _next: int = 0

    @property
    def answers(self) -> Counter[str]:
        """How many answers each service got, over every user."""
        total: Counter[str] = Counter()
        for counts in self._seen.values():
            total.update(counts)
        return total

    def ask(self, user: IrcClient) -> str:
        tag = f"svc{self._next % SERVICES}"
        self._next += 1
        user.say(CHANNEL, f"!owner {tag}")
        self.sent.append(tag)
        return tag

    def read(self, user: IrcClient) -> None:
        """Count (again) the answers ``user`` got; each answer's first line names its service."""
        prefix = f"{user.nick}: "
        counts: Counter[str] = Counter()
        for line in user.messages_from(BOT, CHANNEL):
            text = line.text
            if text.startswith(prefix) and " is maintained by " in text:
                counts[text[len(prefix) :].split(" ", 1)[0]] += 1
        self._seen[user.nick] = counts

    def unanswered(self, tags: list[str]) -> int:
        answers = self.answers
        return sum(1 for tag in tags if answers[tag] == 0)

    def fill(self, row: Row) -> Row:
        answers = self.answers
        row.sent = len(self.sent)
        row.answered = sum(1 for tag in self.sent if answers[tag] > 0)
        row.twice = sum(1 for tag in self.sent if answers[tag] > 1)
        row.lost = row.sent - row.answered
        return row


async def bot_in_channel(user: IrcClient, within: float = 60) -> None:
    """Join, and return once the bot is in the channel too."""
    mark = len(user.lines)
    user.send(f"JOIN {CHANNEL}")

    def seen(line: object) -> bool:
        listed = [n.lstrip("@+%~&") for n in getattr(line, "text", "").split()]
        names = getattr(line, "command", "") == "353" and BOT in listed
        joined = getattr(line, "command", "") == "JOIN" and getattr(line, "nick", "") == BOT
        return names or joined

    try:
        await user.wait_for(seen, within, start=mark)
    except TimeoutError:
        raise TimeoutError(
            f"{BOT} not in {CHANNEL}: {[ln.raw for ln in user.lines[-5:]]}"
        ) from None


async def answered(tally: Tally, user: IrcClient, tags: list[str], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        tally.read(user)
        if tally.unanswered(tags) == 0:
            return
        await asyncio.sleep(0.05)


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


async def run_row(name: str, args: argparse.Namespace, workdir: Path) -> Row:
    servers = IrcServers(workdir / f"ircd-{name}")
    await asyncio.to_thread(servers.start)
    bot = Bot(workdir / f"bot-{name}", servers.flood_port if name == "flood" else servers.port)
    bot.workdir.mkdir()
    bot.flood = name == "flood"
    bot.start()
    try:
        if name == "restarts":
            row = await row_restarts(servers, bot, 3 if args.quick else 20)
        elif name == "flood":
            row = await row_flood(servers, bot, 1 if args.quick else 5)
        else:
            row = await row_fuzz(servers, bot, 5000 if args.quick else 100_000)
        row.peak_mb = bot.memory_kb("VmHWM") / 1024
        row.flood_disconnects = bot.flood_disconnects()
        return row
    finally:
        bot.stop()
        servers.stop()


def table(rows: list[Row]) -> str:
    lines = [
        "| fault | injected | sent | answered | answered twice | lost | flood disconnects "
        "| peak memory (MB) | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.fault} | {r.injected} | {r.sent} | {r.answered} | {r.twice} | {r.lost} "
            f"| {r.flood_disconnects} | {r.peak_mb:.1f} | {r.note} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", default="restarts,flood,fuzz")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    if not servers_installed():
        print("needs InspIRCd and Atheme: run scripts/install-irc-servers", file=sys.stderr)
        return 2
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.rows.split(","):
            rows.append(asyncio.run(run_row(name, args, Path(tmp))))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    took = time.monotonic() - started
    text = table(rows)
    print(text)
    print(f"took {took:.0f} s")
    if args.markdown:
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        args.markdown.write_text(f"{machine}; the run took {took:.0f} s.\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
