"""A small inventory where people have chat handles, and fake networks that record deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infrabot.config import PagingConfig
from infrabot.inventory import Index, parse_inventory
from infrabot.loader import builtin_plugin_dir, load_plugins
from infrabot.messages import IncomingMessage, Network, Reply
from infrabot.paging import Pager
from infrabot.router import Router
from infrabot.store import Store
from infrabot.testing import FakeTransport
from tests.conftest import message

HANDLES = """\
version: 1
team: Infra
people:
  - name: Ada
    contact: {irc_nick: ada, irc_account: ada, matrix_id: "@ada:example.org", email: ada@example.org}
  - name: Bob
    contact: {irc_nick: bob, matrix_id: "@bob:example.org"}
  - name: Cy
    contact: {matrix_id: "@cy:example.org"}
  - name: Dee
  - name: Lead
    contact: {irc_nick: lead, irc_account: lead}
groups:
  - name: Infra
    kind: team
    lead: Lead
    members: [{person: Lead}, {person: Ada}, {person: Cy}]
    mailing_list: infra@example.org
    channels: ["#infra"]
  - name: Crowd
    kind: team
    members: [{person: Ada}, {person: Bob}, {person: Cy}, {person: Dee}, {person: Lead}]
services:
  - name: PyPI
    domains: [pypi.example.org]
    owners: [Ada, Bob, Dee]
    escalation: [Cy]
  - name: Wiki
  - name: Everything
    owners: [Crowd]
"""


class RecordingNetworks:
    """Every reply the pager sends, on fake IRC and Matrix transports that share one record."""

    def __init__(self, networks: tuple[str, ...] = ("irc", "matrix")) -> None:
        self.networks = networks
        self.sent: list[Reply] = []
        self.logged_out: set[str] = set()
        self.transports = {
            Network(n): FakeTransport(n, sent=self.sent, logged_out=self.logged_out)
            for n in networks
        }

    def people(self) -> dict[Network, FakeTransport]:
        return self.transports

    async def send(self, reply: Reply) -> None:
        await self.transports[reply.room.network].send(reply)

    def private(self) -> list[tuple[str, str]]:
        return [(r.room.network, r.room.id) for r in self.sent if r.room.private]

    def public(self) -> list[str]:
        return [line for r in self.sent if not r.room.private for line in r.lines]


@pytest.fixture
def handles_index() -> Index:
    return Index(parse_inventory(HANDLES))


def said(text: str, **kw: Any) -> IncomingMessage:
    """A message in #python-infra (or elsewhere, with ``room=`` and ``network=``)."""
    return message(text, **kw)


def make_pager(
    index: Index, nets: RecordingNetworks, store: Store | None = None, **options: Any
) -> Pager:
    """A pager over ``index`` delivering to ``nets``; ``email``/``webhook``/``prefix`` pass
    through, the rest are :class:`PagingConfig` fields."""
    email = options.pop("email", None)
    webhook = options.pop("webhook", None)
    prefix = options.pop("prefix", "!")
    return Pager(
        store=store or Store(":memory:"),
        index=lambda: index,
        send=nets.send,
        people=nets.people,
        config=PagingConfig(**options),
        prefix=prefix,
        email=email,
        webhook=webhook,
    )


class Chat:
    """The paging commands as people use them: the shipped plugins, through the router.

    ``admins`` are the accounts the router treats as admins.
    """

    def __init__(
        self,
        index: Index,
        pager: Pager,
        nets: RecordingNetworks,
        *,
        prefix: str = "!",
        admins: tuple[str, ...] = ("root",),
    ) -> None:
        plugins = load_plugins([builtin_plugin_dir()], installed=False)
        self.pager = pager
        self.nets = nets
        self.prefix = prefix
        self.router = Router(
            plugins=plugins,
            index=lambda: index,
            prefix=prefix,
            is_admin=lambda sender: sender.account in admins,
            pager=pager,
        )

    async def replies(self, text: str, **kw: Any) -> list[Reply]:
        """The replies to ``text`` said in #python-infra (see :func:`said` for ``kw``)."""
        return await self.router.handle(said(text, **kw))

    async def lines(self, text: str, **kw: Any) -> list[str]:
        """The lines of every reply to ``text``."""
        return [line for reply in await self.replies(text, **kw) for line in reply.lines]

    async def page(self, args: str, **kw: Any) -> tuple[Reply, str]:
        """``!page args``: the highlight (the pager sends it, as the answer) and the ID."""
        sent = len(self.nets.sent)
        answer = await self.lines(f"{self.prefix}page {args}", **kw)
        assert answer == [], answer
        (reply,) = [r for r in self.nets.sent[sent:] if not r.room.private]
        return reply, reply.lines[0].split()[1]


def make_chat(
    index: Index, nets: RecordingNetworks, store: Store | None = None, **options: Any
) -> Chat:
    """A :class:`Chat` over a pager made by :func:`make_pager` with the same options."""
    prefix = options.get("prefix", "!")
    return Chat(index, make_pager(index, nets, store, **options), nets, prefix=prefix)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "infrabot.db"
