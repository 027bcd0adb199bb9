"""A flood must not delay the quiet: answer times of one quiet user while 30 others flood.

Through a real InspIRCd (with Atheme) at the server's DEFAULT flood limits (threshold 10,
commandrate 1000, fakelag on) and the bot's default flood control (one line a second, bursts of
5; 0.5 commands a second per user, bursts of 5), in one run and one after the other:

- **round-robin**: the bot with the output order it had before, reimplemented here over the
  same queue (flows take turns; a new flow joins at the back of the line of flows), and
- **fair**: the bot as shipped (the flow that used the queue least lately goes first).

In each phase 30 clients send ``!owner pypi`` to the channel once a second (as fast as the
server lets them), the backlog builds for ``--warmup`` seconds, then a quiet client asks the
same once, ``--asks`` times, waiting ``--gap`` seconds after each answer. It reports the quiet
client's answer times (the last line of the two-line answer; p50 and max) and what the bot
wrote meanwhile. Every ask gives up after ``--give-up`` seconds, and the whole run after
``--deadline`` seconds. Needs InspIRCd and Atheme (``scripts/install-irc-servers``)::

    python bench/irc_flood_fairness.py [--flooders 30] [--asks 5] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "irc"))
sys.path.insert(0, str(ROOT / "src"))

from irc_e2e_servers import IrcServers, servers_installed  # noqa: E402

from infrabot.transports.irc_queue import FairQueue, OutLine, Queued, Ticket  # noqa: E402

CHANNEL = "#flood"
QUESTION = "!owner pypi"
POLICIES = ("round-robin", "fair")


class RoundRobinQueue(FairQueue):
    """The order before: flows take turns, and a new flow joins at the back of the line.

    Before, the keys were (target, asker) pairs; here every flooder asks in one channel only,
    so a flow per asker is the same line of turns (its one NOTICE a minute aside).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._turns: dict[Hashable, int] = {}
        self._turn = 0

    def push(self, flow: Hashable, lines: Sequence[OutLine], limit: int | None = None) -> Ticket:
        if flow not in self._flows:
            self._turn += 1
            self._turns[flow] = self._turn
        return super().push(flow, lines, limit)

    def pop(self) -> Queued | None:
        if not self._flows:
            return None
        flow = min(self._flows, key=lambda f: self._turns[f])
        item = self._take(flow)
        if flow in self._flows:
            self._turn += 1
            self._turns[flow] = self._turn  # to the back of the line
        return item


def run_bot(policy: str, config_path: str) -> int:
    """The bot for one phase (a child process): the shipped app, with ``policy``'s order."""
    from infrabot.app import App
    from infrabot.config import load_config
    from infrabot.store import Store
    from infrabot.transports.irc import IrcTransport

    config = load_config(Path(config_path))
    # its "too fast" warnings, one a minute per flooder, would bury the report
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s bot: %(message)s")
    assert config.irc is not None
    app = App(config, store=Store(config.store))
    transport = IrcTransport(config.irc)
    if policy == "round-robin":
        fair = transport.output.queue
        transport.output.queue = RoundRobinQueue(per_key=fair.per_key, total=fair.total)
    asyncio.run(app.run([transport]))
    return 0


# ---------------------------------------------------------------- users


@dataclass
class User:
    """A raw-socket user: registers, joins, answers PING; the quiet one records answers."""

    nick: str
    answers: list[tuple[float, str]] = field(default_factory=list)
    bot_lines: int = 0
    bot_quits: list[str] = field(default_factory=list)
    bot_here: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    _got: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def connect(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        registered = asyncio.Event()
        self._task = asyncio.create_task(self._read(registered))
        self.send(f"NICK {self.nick}")
        self.send(f"USER {self.nick} 0 * :bench {self.nick}")
        await asyncio.wait_for(registered.wait(), 30)
        self.send(f"JOIN {CHANNEL}")

    def send(self, line: str) -> None:
        assert self.writer is not None
        self.writer.write(line.encode() + b"\r\n")

    async def _read(self, registered: asyncio.Event) -> None:
        assert self.reader is not None
        addressed = f"PRIVMSG {CHANNEL} :{self.nick}: "
        while raw := await self.reader.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("PING "):
                self.send("PONG " + line[5:])
            elif " 001 " in line:
                registered.set()
            elif " 353 " in line and "infrabot" in _names(line):
                self.bot_here.set()
            elif line.startswith(":infrabot!"):
                self._from_bot(line, addressed)

    def _from_bot(self, line: str, addressed: str) -> None:
        if f" PRIVMSG {CHANNEL} :" in line:
            self.bot_lines += 1
        if addressed in line:
            self.answers.append((time.monotonic(), line.split(addressed, 1)[1]))
            self._got.set()
        elif f" JOIN {CHANNEL}" in line or f" JOIN :{CHANNEL}" in line:
            self.bot_here.set()
        elif " QUIT " in line:
            self.bot_quits.append(line.split(" QUIT ", 1)[1])
            self.bot_here.clear()

    async def ask(self, give_up: float) -> float | None:
        """Seconds until the last line of the two-line answer; None if it never came."""
        mark = len(self.answers)
        start = time.monotonic()
        self.send(f"PRIVMSG {CHANNEL} :{QUESTION}")
        deadline = start + give_up
        while len(self.answers) < mark + 2:
            self._got.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._got.wait(), left)
        return self.answers[mark + 1][0] - start

    async def close(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.send("QUIT :bye")
                self.writer.close()
        if self._task is not None:
            self._task.cancel()


def _names(line: str) -> list[str]:
    """The nicks of a NAMES reply (353), without their status prefixes."""
    return [name.lstrip("~&@%+") for name in line.split(" :", 2)[-1].split()]


async def flood(user: User, offset: float, stop: asyncio.Event) -> None:
    """``QUESTION`` once a second, from ``offset`` on, until ``stop``."""
    await asyncio.sleep(offset)
    while not stop.is_set():
        user.send(f"PRIVMSG {CHANNEL} :{QUESTION}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def bot_in_channel(user: User, within: float = 30.0) -> None:
    """Until ``user`` sees the bot in the channel (its JOIN, or NAMES polled)."""
    async with asyncio.timeout(within):
        while not user.bot_here.is_set():
            user.send(f"NAMES {CHANNEL}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(user.bot_here.wait(), 0.5)


# ---------------------------------------------------------------- phases


@dataclass
class Phase:
    """What one policy gave: the quiet user's answer times and the bot's output."""

    policy: str
    times: list[float | None]
    bot_lines: int
    seconds: float
    bot_quits: list[str]


async def phase(
    policy: str, args: argparse.Namespace, config: Path, users: list[User], quiet: User
) -> Phase:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    bot = subprocess.Popen(  # noqa: ASYNC220 - started once per phase, before measuring
        [sys.executable, __file__, "--bot", policy, str(config)], env=env, cwd=config.parent
    )
    stop = asyncio.Event()
    floods: list[asyncio.Task[None]] = []
    try:
        quiet.bot_here.clear()
        await bot_in_channel(quiet)
        start, lines_before = time.monotonic(), quiet.bot_lines
        quits_before = len(quiet.bot_quits)
        floods = [asyncio.create_task(flood(u, i / len(users), stop)) for i, u in enumerate(users)]
        await asyncio.sleep(args.warmup)
        times: list[float | None] = []
        for _ in range(args.asks):
            took = await quiet.ask(args.give_up)
            times.append(took)
            print(f"{policy}: quiet answered in {_fmt(took)}", flush=True)
            await asyncio.sleep(args.gap)
        return Phase(
            policy,
            times,
            quiet.bot_lines - lines_before,
            time.monotonic() - start,
            quiet.bot_quits[quits_before:],
        )
    finally:
        stop.set()
        await asyncio.gather(*floods, return_exceptions=True)
        if bot.poll() is None:
            bot.terminate()  # SIGTERM: the bot QUITs and exits
        await asyncio.to_thread(bot.wait, 15)
        await asyncio.sleep(3)  # let the server's fakelag for the flooders drain


def _fmt(took: float | None) -> str:
    return "no answer" if took is None else f"{took:.1f} s"


async def measure(args: argparse.Namespace, servers: IrcServers, workdir: Path) -> list[Phase]:
    config = workdir / "bot.yaml"
    config.write_text(
        f"""
store: {workdir / "infrabot.db"}
log_level: WARNING
irc:
  host: 127.0.0.1
  port: {servers.flood_port}
  nick: infrabot
  channels: ['{CHANNEL}']
"""
    )
    users = [User(f"flood{i}") for i in range(args.flooders)]
    quiet = User("quiet")
    try:
        # InspIRCd registers clients on a once-a-second timer: connect everyone at once.
        await asyncio.gather(*(u.connect(servers.flood_port) for u in [*users, quiet]))
        return [await phase(p, args, config, users, quiet) for p in POLICIES]
    finally:
        await asyncio.gather(*(u.close() for u in [*users, quiet]), return_exceptions=True)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def report(phases: list[Phase], args: argparse.Namespace) -> str:
    rows = [
        f"{args.flooders} flooders, one `{QUESTION}` a second each; the quiet user asks "
        f"{args.asks} times after {args.warmup:.0f} s of flood, {args.gap:.0f} s apart. "
        f"InspIRCd default flood limits; bot defaults. "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores.",
        "",
        "| order | quiet answers (s) | p50 (s) | max (s) | within 5 s | channel lines/s "
        "| bot quit |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for ph in phases:
        got = [t for t in ph.times if t is not None]
        p50 = f"{percentile(got, 50):.1f}" if got else "-"
        worst = "no answer" if len(got) < len(ph.times) else f"{max(got):.1f}"
        within = sum(1 for t in got if t <= 5)
        each = ", ".join("-" if t is None else f"{t:.1f}" for t in ph.times)
        rate = ph.bot_lines / ph.seconds if ph.seconds else 0
        quits = "; ".join(ph.bot_quits) or "no"
        rows.append(
            f"| {ph.policy} | {each} | {p50} | {worst} | {within}/{len(ph.times)} | "
            f"{rate:.2f} | {quits} |"
        )
    fair = next(ph for ph in phases if ph.policy == "fair")
    ok = all(t is not None and t <= 5 for t in fair.times)
    rows.append("")
    rows.append(f"- bar (a user who asks once is answered within 5 s): {'PASS' if ok else 'FAIL'}")
    means = [
        f"{ph.policy} {statistics.mean(got):.1f} s"
        for ph in phases
        if (got := [t for t in ph.times if t is not None])
    ]
    rows.append(f"- mean answer times: {', '.join(means)}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flooders", type=int, default=30)
    parser.add_argument("--asks", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of flood first")
    parser.add_argument("--gap", type=float, default=5.0, help="seconds after each answer")
    parser.add_argument("--give-up", type=float, default=120.0, help="seconds per ask")
    parser.add_argument("--deadline", type=float, default=1500.0, help="seconds for the run")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--bot", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot:
        return run_bot(*args.bot)
    if not servers_installed():
        print("InspIRCd/Atheme not installed: run scripts/install-irc-servers", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="infrabot-bench-") as tmp:
        servers = IrcServers(Path(tmp) / "ircd")
        servers.start()
        try:
            phases = asyncio.run(asyncio.wait_for(measure(args, servers, Path(tmp)), args.deadline))
        finally:
            servers.stop()
    text = report(phases, args)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
