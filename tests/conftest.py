"""Shared fixtures: the shipped PSF inventory, its index, and a router over the shipped plugins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from infrabot.app import App
from infrabot.inventory import Index, load_inventory
from infrabot.loader import builtin_plugin_dir, load_plugins
from infrabot.messages import IncomingMessage, Network, Room, Sender
from infrabot.router import Router
from infrabot.testing import FakeTransport

ROOT = Path(__file__).resolve().parents[1]
PSF_INVENTORY = ROOT / "inventory.yaml"

Ask = Callable[..., Awaitable[list[str]]]


@pytest.fixture(scope="session")
def psf_index() -> Index:
    return Index(load_inventory(PSF_INVENTORY))


@pytest.fixture(scope="session")
def psf_router(psf_index: Index) -> Router:
    plugins = load_plugins([builtin_plugin_dir()], installed=False)
    assert not plugins.errors
    return Router(plugins=plugins, index=lambda: psf_index)


def message(
    text: str,
    *,
    private: bool = False,
    account: str | None = "alice",
    nick: str = "alice",
    network: str = "irc",
    room: str = "#python-infra",
) -> IncomingMessage:
    net = Network(network)
    return IncomingMessage(
        sender=Sender(network=net, name=nick, account=account, address=nick),
        room=Room(network=net, id=nick if private else room, private=private),
        text=text,
        bot_name="infrabot",
    )


@pytest.fixture
def ask(psf_router: Router) -> Ask:
    """Ask the PSF bot something in a channel (or privately) and get the reply lines."""

    async def run(text: str, *, private: bool = False) -> list[str]:
        replies = await psf_router.handle(message(text, private=private))
        return [line for reply in replies for line in reply.lines]

    return run


def with_networks(app: App) -> App:
    """``app`` as it runs on IRC and Matrix, whose transports say who is whom (admins)."""
    app.transports = {t.network: t for t in (FakeTransport("irc"), FakeTransport("matrix"))}
    return app
