"""A bot process for the SIGKILL test: pages go to a file, one slow delivery at a time.

Usage: crash_worker.py DB INVENTORY OUT [--page]
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from infrabot.app import App
from infrabot.config import Config, PagingConfig
from infrabot.messages import IncomingMessage, Network, Reply, Room, Sender
from infrabot.store import Store
from infrabot.testing import FakeTransport
from infrabot.transports.base import hand_over


class FileNetwork(FakeTransport):
    """Writes every reply to a file, slowly, so a kill can land in the middle of a step."""

    def __init__(self, network: str, out: Path) -> None:
        super().__init__(network)
        self.out = out

    async def send(self, reply: Reply) -> None:
        await asyncio.sleep(0.15)
        with self.out.open("a") as handle:
            handle.write(json.dumps([reply.room.network, reply.room.id, reply.lines[0]]) + "\n")


async def main(db: str, inventory: str, out: str, page: bool) -> None:
    config = Config(inventory=Path(inventory), paging=PagingConfig(escalate_after=1.0))
    app = App(config, store=Store(db))
    networks = [FileNetwork("irc", Path(out)), FileNetwork("matrix", Path(out))]
    app.transports = {n.network: n for n in networks}
    if page:
        net = Network("irc")
        message = IncomingMessage(
            sender=Sender(network=net, name="alice", account="alice", address="alice"),
            room=Room(network=net, id="#python-infra"),
            text="!page pypi down",
        )
        await hand_over(app.deliver, message)
    await app.run(networks)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], "--page" in sys.argv))
