"""One process on IRC and Matrix at once: a page reaches a maintainer on both networks."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).parent / "irc"), str(Path(__file__).parent / "matrix")]

from irc_e2e_client import IrcClient, from_bot, register_account  # noqa: E402
from irc_e2e_servers import IrcServers, servers_installed  # noqa: E402
from matrix_harness import PASSWORD, Person, start_synapse, synapse_python  # noqa: E402

from infrabot.app import App, build_transports  # noqa: E402
from infrabot.config import (  # noqa: E402
    Config,
    IrcConfig,
    MatrixConfig,
    PagingConfig,
    RateLimitConfig,
)
from infrabot.store import Store  # noqa: E402
from infrabot.transports.irc import IrcTransport  # noqa: E402
from infrabot.transports.matrix import MatrixTransport  # noqa: E402

pytestmark = pytest.mark.e2e

CHANNEL = "#python-infra"


def _servers_or_skip() -> Path:
    python = synapse_python()
    if servers_installed() and python is not None:
        return python
    message = "needs InspIRCd, Atheme and Synapse: run scripts/install-irc-servers, install-synapse"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def test_page_reaches_a_maintainer_on_irc_and_matrix(tmp_path: Path) -> None:
    python = _servers_or_skip()
    irc = IrcServers(tmp_path / "ircd")
    irc.start()
    synapse, users = start_synapse(python, tmp_path / "synapse")
    clients: list[IrcClient] = []
    people: list[Person] = []
    task: asyncio.Task[None] | None = None
    transports: list[object] = []
    try:
        await asyncio.gather(
            asyncio.to_thread(register_account, irc.port, "infrabot", "bot-pw"),
            asyncio.to_thread(register_account, irc.port, "ada", "ada-pw"),
        )
        boss, alice = Person(synapse.url, users.boss), Person(synapse.url, users.alice)
        people += [boss, alice]
        await asyncio.gather(boss.login(), alice.login())
        room_id, alias = await boss.create_room()
        inventory = tmp_path / "on-call.yaml"
        inventory.write_text(
            "people:\n"
            f"  - name: Ada\n    contact: {{irc_nick: ada, irc_account: ada, matrix_id: '{users.alice}'}}\n"
            "services:\n  - name: PyPI\n    owners: [Ada]\n"
        )
        config = Config(
            inventory=inventory,
            store=tmp_path / "infrabot.db",
            paging=PagingConfig(require_identified=False),
            rate_limit=RateLimitConfig(rate=0),
            irc=IrcConfig(
                port=irc.port,
                sasl_username="infrabot",
                sasl_password="bot-pw",
                channels=[CHANNEL],
            ),
            matrix=MatrixConfig(
                homeserver=synapse.url,
                user_id=users.bot,
                password=PASSWORD,
                rooms=[alias],
                store_path=tmp_path / "matrix",
                sync_timeout=5.0,
            ),
        )
        app = App(config, store=Store(config.store))
        transports = build_transports(config)
        task = asyncio.create_task(app.run(transports))  # type: ignore[arg-type]
        ada, bob = IrcClient("ada"), IrcClient("bob")
        clients += [ada, bob]
        await asyncio.gather(ada.connect(irc.port, sasl=("ada", "ada-pw")), bob.connect(irc.port))
        await asyncio.gather(ada.join(CHANNEL), bob.join(CHANNEL))
        irc_bot, matrix_bot = transports
        assert isinstance(irc_bot, IrcTransport) and isinstance(matrix_bot, MatrixTransport)
        async with asyncio.timeout(30):
            await matrix_bot.ready.wait()
            while CHANNEL not in irc_bot.channels:
                await asyncio.sleep(0.05)

        bob.say(CHANNEL, "!page pypi uploads failing")
        highlight = await ada.wait_for(from_bot(CHANNEL, "PAGE "), within=15)
        page_id = highlight.text.split()[1]
        assert "the owners of PyPI: ada" in highlight.text
        on_irc = await ada.wait_for(from_bot("ada", f"PAGE {page_id} "), within=15)
        assert on_irc.text.startswith(f"PAGE {page_id} for PyPI: uploads failing (asked by bob")
        await alice.accept_direct_from(users.bot, f"PAGE {page_id} for PyPI")
        # and the Matrix room is served by the same process
        await boss.join(room_id)
        asked = await boss.say(room_id, "!pages")
        body = (await boss.reply_to(asked, users.bot))["content"]["body"]
        assert body.startswith(f"{page_id} PyPI: uploads failing · open")
    finally:
        for transport in transports:
            await transport.stop()  # type: ignore[attr-defined]
        if task is not None:
            try:
                async with asyncio.timeout(10):
                    await task
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)
        synapse.stop()
        irc.stop()
