"""A small inventory where people have chat handles, and fake networks that record deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infrabot.config import PagingConfig
from infrabot.inventory import Index, parse_inventory
from infrabot.messages import IncomingMessage, Reply
from infrabot.paging import Pager
from infrabot.store import Store
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
    contact: {irc_nick: lead}
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
    """Every reply the pager sends, by network; stands in for the transports."""

    def __init__(self, networks: tuple[str, ...] = ("irc", "matrix")) -> None:
        self.networks = networks
        self.sent: list[Reply] = []

    async def send(self, reply: Reply) -> None:
        self.sent.append(reply)

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
    """A pager over ``index`` delivering to ``nets``; ``email``/``webhook`` pass through, the
    rest are :class:`PagingConfig` fields."""
    email = options.pop("email", None)
    webhook = options.pop("webhook", None)
    return Pager(
        store=store or Store(":memory:"),
        index=lambda: index,
        send=nets.send,
        networks=lambda: nets.networks,
        config=PagingConfig(**options),
        email=email,
        webhook=webhook,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "infrabot.db"
