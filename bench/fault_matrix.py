"""The fault row "Synapse restarts": the homeserver stopped and started again under commands.

The bot (``infrabot run``, Matrix only) serves a room of a real Synapse; Alice is in the room
on a matrix-nio client that keeps syncing through the outages. Each round Alice sends three
commands, Synapse is stopped at once (while the bot may still be reading or answering them),
two more are sent while it is down (the client keeps trying them until it is back), it starts
again, and three more follow. Every command the homeserver stored (its send returned an
event ID) must get exactly one reply, which the bot marks as a reply to that event.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from fault_kit import Bot, Row, many_services
from matrix_harness import PASSWORD, Person, Synapse, start_synapse
from nio import AsyncClient, AsyncClientConfig, ErrorResponse

from infrabot.testing import until


class Asker:
    """Alice: sends ``!owner svcN``, keeps the event ID of each command stored."""

    def __init__(self, person: Person, room_id: str) -> None:
        self.person = person
        self.room_id = room_id
        self.stored: list[str] = []
        self.refused = 0
        self._next = 0
        # a second client for sending, one that retries through an outage as a person's
        # client does (the recording one gives up on a request at the first failure)
        self.sender = AsyncClient(
            person.homeserver,
            person.user_id,
            config=AsyncClientConfig(request_timeout=10, max_timeouts=30, backoff_factor=0.1),
        )

    async def login(self) -> None:
        response = await self.sender.login(PASSWORD)
        assert not isinstance(response, ErrorResponse), response

    async def ask(self) -> None:
        text = f"!owner svc{self._next}"
        self._next += 1
        try:
            response = await self.sender.room_send(
                self.room_id, "m.room.message", {"msgtype": "m.text", "body": text}
            )
        except Exception:  # gave up while the homeserver was away: never stored
            self.refused += 1
            return
        if isinstance(response, ErrorResponse):
            self.refused += 1
        else:
            self.stored.append(response.event_id)

    def replies(self, bot: str) -> dict[str, int]:
        """Replies seen so far by the syncing client (a sync after an outage may skip some)."""
        return {e: len(self.person.replies_to(e, bot)) for e in self.stored}

    async def stored_replies(self, bot: str) -> dict[str, int]:
        """Replies as the homeserver stored them: the room's whole history, paged back.

        The count that decides the row: a client's sync after an outage may come back
        ``limited`` and skip events that are stored all the same.
        """
        counts = dict.fromkeys(self.stored, 0)
        start: str | None = None
        while True:
            page = await self.sender.room_messages(self.room_id, start=start, limit=500)
            if isinstance(page, ErrorResponse):
                raise AssertionError(f"cannot read the room's history: {page}")
            for event in page.chunk:
                source = event.source
                replied = source.get("content", {}).get("m.relates_to", {})
                target = replied.get("m.in_reply_to", {}).get("event_id")
                if source.get("sender") == bot and target in counts:
                    counts[target] += 1
            if not page.chunk or not page.end:
                return counts
            start = page.end


async def one_round(server: Synapse, asker: Asker) -> None:
    for _ in range(3):
        await asker.ask()
    await asyncio.to_thread(server.stop)
    down = [asyncio.create_task(asker.ask()) for _ in range(2)]
    await asyncio.sleep(0.5)
    await asyncio.to_thread(server.start)
    await asyncio.gather(*down)
    for _ in range(3):
        await asker.ask()


async def row_synapse(python: Path, workdir: Path, rounds: int) -> Row:
    """The row: ``rounds`` restarts of Synapse."""
    server, users = await asyncio.to_thread(start_synapse, python, workdir / "synapse")
    folder = workdir / "bot-matrix"
    folder.mkdir()
    boss, alice = Person(server.url, users.boss), Person(server.url, users.alice)
    bot: Bot | None = None
    asker: Asker | None = None
    try:
        await asyncio.gather(boss.login(), alice.login())
        room_id, alias = await boss.create_room()
        await alice.join(room_id)
        matrix: dict[str, Any] = {
            "homeserver": server.url,
            "user_id": users.bot,
            "password": PASSWORD,
            "rooms": [alias],
            "store_path": str(folder / "matrix"),
            "backoff_initial": 0.1,
            "backoff_max": 1.0,
            "sync_timeout": 5.0,
        }
        bot = Bot(
            folder,
            {
                "inventory": str(many_services(folder / "inventory.yaml")),
                "rate_limit": {"rate": 0},
                "matrix": matrix,
            },
        )
        bot.start()
        asker = Asker(alice, room_id)
        await asker.login()

        def joined() -> bool:
            room = alice.client.rooms.get(room_id)
            return room is not None and users.bot in room.users

        await until(joined, 60, "the bot joins")
        await asker.ask()
        await until(lambda: asker.replies(users.bot)[asker.stored[0]] > 0, 60, "a first answer")
        began = time.monotonic()
        for _ in range(rounds):
            await one_round(server, asker)
        deadline = time.monotonic() + 60  # what is still unanswered then is counted as lost
        while 0 in (await asker.stored_replies(users.bot)).values():
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(2)  # an answer sent twice would be stored by now
        counts = (await asker.stored_replies(users.bot)).values()
        row = Row("Synapse restarts (Matrix)", rounds)
        row.sent = len(asker.stored)
        row.answered = sum(1 for n in counts if n > 0)
        row.twice = sum(1 for n in counts if n > 1)
        row.lost = row.sent - row.answered
        limited = bot.log().count("M_LIMIT_EXCEEDED")
        row.note = (
            f"{asker.refused} commands not stored (the sender gave up while Synapse was away); "
            f"rate-limit answers to the bot: {limited}; "
            f"the rounds took {time.monotonic() - began:.0f} s"
        )
        row.peak_mb = bot.peak_mb()
        return row
    finally:
        if bot is not None:
            bot.stop()
        if asker is not None:
            await asker.sender.close()
        await asyncio.gather(boss.close(), alice.close(), return_exceptions=True)
        await asyncio.to_thread(server.stop)
