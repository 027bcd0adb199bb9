"""A local console: talk to the bot as a user would, with no server.

On a terminal it uses prompt_toolkit (line editing, history kept across sessions); with
piped input it reads plain lines, so scripts and tests can drive it.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import TextIO

from infrabot.messages import Handles, IncomingMessage, Network, Reply, Room, Sender
from infrabot.transports.base import Deliver, Link, hand_over

__all__ = ["ConsoleTransport"]

CONSOLE = Network("console")


def _history_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "infrabot" / "console_history"


class ConsoleTransport:
    """The terminal as a private conversation with the bot: no prefix needed."""

    network = CONSOLE

    def __init__(
        self,
        bot_name: str = "infrabot",
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.bot_name = bot_name
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        user = _local_user()
        # The person at the local console is who the operating system says they are.
        self.sender = Sender(network=CONSOLE, name=user, account=user, address=user)
        self.room = Room(network=CONSOLE, id="console", private=True)
        self._stopped = asyncio.Event()
        self.link = Link()
        """Up while the console reads input."""

    async def run(self, deliver: Deliver) -> None:
        """Read lines until end of input (Ctrl-D) or :meth:`stop`."""
        read = self._prompt_reader() if self._stdin.isatty() else self._plain_reader
        self._write("infrabot console: type 'help', or Ctrl-D to leave")
        self.link.up()
        while not self._stopped.is_set():
            line = await read()
            if line is None:
                break
            if not line.strip():
                continue
            await hand_over(
                deliver,
                IncomingMessage(
                    sender=self.sender, room=self.room, text=line, bot_name=self.bot_name
                ),
            )
        self.link.down("stopped")

    async def send(self, reply: Reply) -> None:
        """Print each line of ``reply``."""
        for line in reply.lines:
            self._write(f"{self.bot_name}> {line}")

    async def stop(self) -> None:
        """Stop reading."""
        self._stopped.set()

    def mention_address(self, person: Handles) -> str | None:
        """The console has nobody else to highlight."""
        return None

    async def private_address(self, person: Handles) -> str | None:
        """The inventory records no console handles: nobody is reached here in private."""
        return None

    def is_person(self, sender: Sender, person: Handles) -> bool:
        """The inventory records no console handles: a console user is nobody in it."""
        return False

    def is_operator(self, sender: Sender) -> bool:
        """Whoever types at the console runs the process: an admin by position."""
        return sender.network == self.network

    def _write(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    async def _plain_reader(self) -> str | None:
        line = await asyncio.to_thread(self._stdin.readline)
        return line.rstrip("\n") if line else None

    def _prompt_reader(self) -> _PromptReader:
        return _PromptReader()


class _PromptReader:
    """prompt_toolkit with persistent history; None at end of input."""

    def __init__(self) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        path = _history_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            history: FileHistory | InMemoryHistory = FileHistory(str(path))
        except OSError:
            history = InMemoryHistory()
        self._session: PromptSession[str] = PromptSession(history=history)

    async def __call__(self) -> str | None:
        try:
            return await self._session.prompt_async("you> ")
        except (EOFError, KeyboardInterrupt):
            return None


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"
