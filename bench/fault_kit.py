"""What every row of the fault figures shares: the row, the bot in its own process, the tally.

The bot is ``infrabot run`` (its own process, as in production), configured by a YAML file the
row writes; it is stopped with SIGTERM, or killed with SIGKILL where that is the fault.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e" / "irc"), str(ROOT / "tests" / "e2e" / "matrix")]

from irc_e2e_client import IrcClient  # noqa: E402

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


def many_services(path: Path, owner: str = "Ada", count: int = SERVICES) -> Path:
    """An inventory of ``count`` services, each owned by ``owner``: every command can ask
    about a service of its own, so each answer says which command it answers."""
    services = "".join(f"  - name: svc{i}\n    owners: [{owner}]\n" for i in range(count))
    path.write_text(f"version: 1\npeople:\n  - name: {owner}\nservices:\n{services}")
    return path


def irc_section(port: int, *, flood: bool = False, **extra: Any) -> dict[str, Any]:
    """The bot's ``irc`` section: quick reconnects; flood control off unless ``flood``."""
    section: dict[str, Any] = {
        "port": port,
        "nick": BOT,
        "channels": [CHANNEL],
        "reconnect_min": 0.5,
        "reconnect_max": 2,
    }
    if not flood:
        section["flood_rate"] = 0
    return {**section, **extra}


@dataclass
class Bot:
    """``infrabot run`` in its own process, its stderr kept (across restarts) in ``bot.err``."""

    workdir: Path
    config: dict[str, Any]
    proc: subprocess.Popen[bytes] | None = None
    peak_kb: int = 0
    """The highest VmHWM of any of its processes so far (a killed one included)."""

    def start(self) -> None:
        """Write the configuration and start the bot."""
        path = self.workdir / "bot.yaml"
        path.write_text(yaml.safe_dump({"store": str(self.workdir / "infrabot.db"), **self.config}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infrabot", "run", "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "bot.err").open("ab"),
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            cwd=self.workdir,
        )

    def memory_kb(self, key: str = "VmRSS") -> int:
        """``key`` of the running process's /proc status, in kB (0 once it has gone)."""
        assert self.proc is not None
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        match = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) if match else 0

    def peak_mb(self) -> float:
        """The peak memory (VmHWM) of every process of this bot so far, in MB."""
        if self.proc is not None and self.proc.poll() is None:
            self.peak_kb = max(self.peak_kb, self.memory_kb("VmHWM"))
        return self.peak_kb / 1024

    def log(self) -> str:
        """Everything the bot's processes wrote to stderr."""
        return (self.workdir / "bot.err").read_text(errors="replace")

    def flood_disconnects(self) -> int:
        """Disconnections for flooding, as the bot logged them."""
        return len(re.findall(r"(?i)(disconnected|server error).*flood", self.log()))

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer would."""
        assert self.proc is not None
        self.peak_mb()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        """SIGTERM, as an operator stops it."""
        if self.proc is not None and self.proc.poll() is None:
            self.peak_mb()
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

    def next_tag(self) -> str:
        """The service the next command asks about."""
        tag = f"svc{self._next % SERVICES}"
        self._next += 1
        return tag

    def ask(self, user: IrcClient) -> str:
        """``!owner svcN`` from ``user`` in the channel."""
        tag = self.next_tag()
        user.say(CHANNEL, f"!owner {tag}")
        self.sent.append(tag)
        return tag

    def read(self, user: IrcClient) -> None:
        """Count (again) the answers ``user`` got; each answer's first line names its service."""
        self.count(user.nick, [line.text for line in user.messages_from(BOT, CHANNEL)])

    def count(self, who: str, texts: list[str]) -> None:
        """Count (again) the answers ``who`` got, given every text the bot sent them."""
        prefix = f"{who}: "
        counts: Counter[str] = Counter()
        for text in texts:
            text = text.removeprefix(prefix)
            if " is maintained by " in text:
                counts[text.split(" ", 1)[0]] += 1
        self._seen[who] = counts

    def unanswered(self, tags: list[str]) -> int:
        """How many of ``tags`` have no answer yet."""
        answers = self.answers
        return sum(1 for tag in tags if answers[tag] == 0)

    def fill(self, row: Row) -> Row:
        """``row`` with the commands sent, answered, answered twice and lost."""
        answers = self.answers
        row.sent = len(self.sent)
        row.answered = sum(1 for tag in self.sent if answers[tag] > 0)
        row.twice = sum(1 for tag in self.sent if answers[tag] > 1)
        row.lost = row.sent - row.answered
        return row


async def bot_in_channel(user: IrcClient, within: float = 60) -> None:
    """Join (unless already in), and return once the bot is in the channel too.

    The bot is there when NAMES lists it or its JOIN arrives after ours; a user already in
    the channel asks NAMES again rather than join twice.
    """
    mark = len(user.lines)
    joined = any(ln.command == "366" and CHANNEL in ln.params for ln in user.lines)
    user.send(f"NAMES {CHANNEL}" if joined else f"JOIN {CHANNEL}")

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
    """Wait until every one of ``tags`` has an answer, for at most ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        tally.read(user)
        if tally.unanswered(tags) == 0:
            return
        await asyncio.sleep(0.05)
