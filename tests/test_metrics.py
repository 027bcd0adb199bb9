"""Metrics at GET /metrics: what the bot did and what state it is in, with bounded labels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from infrabot import metrics
from infrabot.app import App
from infrabot.config import Config, RateLimitConfig, WebConfig
from infrabot.inventory import Index, parse_inventory
from infrabot.inventory.current import CurrentIndex
from infrabot.store import PageRecord, Store
from infrabot.testing import FakeTransport, until
from infrabot.transports.base import Link
from infrabot.web import AlertServer
from tests.conftest import PSF_INVENTORY, message
from tests.paging.conftest import HANDLES, RecordingNetworks, make_pager
from tests.test_web import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(got: Samples, name: str, **labels: str) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


class LinkedFake(FakeTransport):
    """A fake network that says whether it is connected."""

    def __init__(self, network: str) -> None:
        super().__init__(network)
        self.link = Link()


@dataclass
class Running:
    app: App
    irc: LinkedFake
    url: str

    async def scrape(self) -> Samples:
        async with aiohttp.ClientSession() as session, session.get(self.url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=")
            return samples(await resp.text())


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    port = free_port()
    config = Config(
        inventory=PSF_INVENTORY,
        store=tmp_path / "infrabot.db",
        web=WebConfig(port=port),
        rate_limit=RateLimitConfig(rate=0.001, burst=2),
    )
    store = Store(config.store)
    app = App(config, store=store)
    irc = LinkedFake("irc")
    task = asyncio.create_task(app.run([irc]))
    url = f"http://127.0.0.1:{port}/metrics"
    await until(lambda: irc.running.is_set())
    bot = Running(app, irc, url)

    async def answering() -> bool:
        try:
            await bot.scrape()
        except aiohttp.ClientConnectionError:
            return False
        return True

    for _ in range(200):
        if await answering():
            break
        await asyncio.sleep(0.02)
    yield bot
    await app.stop()
    await asyncio.wait_for(task, 5)
    store.close()


async def test_commands_are_counted_by_name_and_outcome_never_by_what_was_typed(
    running: Running,
) -> None:
    before = await running.scrape()
    await running.irc.receive(message("!owner pypi", account="alice"))
    await running.irc.receive(message("!owner pypi", account="bob"))  # a remembered answer
    await running.irc.receive(message("!nosuchcommand-Zq9", account="carol"))
    after = await running.scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("infrabot_commands_total", command="owner", outcome="answered") == 1
    assert delta("infrabot_commands_total", command="owner", outcome="cached") == 1
    assert delta("infrabot_commands_total", command="(unknown)", outcome="unknown") == 1
    assert delta("infrabot_command_duration_seconds_count", command="owner") == 2
    assert delta("infrabot_replies_sent_total", network="irc") == 3
    labels = {value for (_, pairs) in after for _, value in pairs}
    assert not any("nosuch" in label or "alice" in label for label in labels)


async def test_users_held_back_by_the_rate_limit_are_counted(running: Running) -> None:
    before = await running.scrape()
    for _ in range(4):  # a burst of 2, then held back
        await running.irc.receive(message("!owner pypi", account="mallory", nick="mallory"))
    after = await running.scrape()
    held = value(after, "infrabot_rate_limited_commands_total", network="irc") - value(
        before, "infrabot_rate_limited_commands_total", network="irc"
    )
    assert held == 2


async def test_state_is_read_when_scraped(running: Running) -> None:
    got = await running.scrape()
    assert value(got, "infrabot_transport_connected", network="irc") == 0
    running.irc.link.up()
    running.irc.link.down("disconnected")
    running.irc.link.up()
    got = await running.scrape()
    assert value(got, "infrabot_transport_connected", network="irc") == 1
    assert value(got, "infrabot_transport_reconnects_total", network="irc") == 1
    index = running.app.index
    assert value(got, "infrabot_inventory_entities", kind="services") == len(index.services)
    assert value(got, "infrabot_inventory_entities", kind="people") == len(index.people)
    assert 0 <= value(got, "infrabot_inventory_age_seconds") < 60
    assert value(got, "infrabot_pages", state="open") == 0
    assert ("process_resident_memory_bytes", frozenset()) in got


async def test_reloads_are_counted_and_timed(running: Running) -> None:
    before = await running.scrape()
    await running.app.reload_inventory("SIGHUP")
    after = await running.scrape()
    ok = ("infrabot_reloads_total", frozenset({("what", "inventory"), ("outcome", "ok")}))
    assert after[ok] - before.get(ok, 0) == 1
    assert value(after, "infrabot_reload_duration_seconds_count", what="inventory") >= 1


async def test_pages_by_state_escalations_and_deliveries() -> None:
    index = Index(parse_inventory(HANDLES))
    nets = RecordingNetworks()
    store = Store(":memory:")
    pager = make_pager(index, nets, store, escalate_after=0.2)
    state = metrics.StateCollector(nets.people, CurrentIndex(index), store)
    registry = metrics.registry(state)

    def scrape() -> Samples:
        return samples(generate_latest(registry).decode())

    before = scrape()
    outcome = await pager.page(message("!page pypi down", account="alice"), ["pypi", "down"])
    assert outcome is not None
    runner = asyncio.create_task(pager.run())
    try:
        await until(lambda: any("escalating" in line for line in nets.public()))
    finally:
        runner.cancel()
    after = scrape()
    assert value(after, "infrabot_pages", state="open") == 1
    escalated = value(after, "infrabot_page_escalations_total", kind="escalated")
    assert escalated - value(before, "infrabot_page_escalations_total", kind="escalated") >= 1
    for channel in ("announce", "irc", "matrix"):
        made = value(after, "infrabot_page_deliveries_total", channel=channel, outcome="ok")
        assert made > value(before, "infrabot_page_deliveries_total", channel=channel, outcome="ok")


def test_store_counts_pages_by_state() -> None:
    store = Store(":memory:")
    for number, state in enumerate(("open", "open", "acked", "resolved")):
        record = PageRecord(
            id=f"P{number}",
            target="PyPI",
            target_kind="service",
            reason="down",
            requester="alice",
            requester_account="alice",
            origin_network="irc",
            origin_room="#x",
            state=state,
            level=0,
            created_at=0.0,
            next_at=None,
        )
        store.add_page(record, "opened")
    assert store.page_counts() == {"open": 2, "acked": 1, "resolved": 1}


async def test_metrics_can_be_turned_off() -> None:
    port = free_port()
    registry = metrics.registry()
    server = AlertServer(WebConfig(port=port, metrics=False), None, metrics=registry)
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            assert resp.status == 404
    finally:
        await server.stop()


def test_command_durations_fall_in_prometheus_buckets() -> None:
    """Each duration counts in every bucket whose bound it does not exceed (le), and +Inf."""
    tally = metrics._CommandTally((0.001, 0.01, 0.1))
    for seconds in (0.0005, 0.001, 0.05, 3.0):
        tally.note("owner", "answered", seconds)
    tally.note("owner", "cached", 0.002)
    registry = CollectorRegistry()
    registry.register(tally)
    got = samples(generate_latest(registry).decode())
    bucket = "infrabot_command_duration_seconds_bucket"
    assert value(got, bucket, command="owner", le="0.001") == 2  # 0.0005 and 0.001 itself
    assert value(got, bucket, command="owner", le="0.01") == 3
    assert value(got, bucket, command="owner", le="0.1") == 4
    assert value(got, bucket, command="owner", le="+Inf") == 5
    assert value(got, "infrabot_command_duration_seconds_count", command="owner") == 5
    assert value(got, "infrabot_command_duration_seconds_sum", command="owner") == pytest.approx(
        3.0535
    )
    assert value(got, "infrabot_commands_total", command="owner", outcome="answered") == 4
    assert value(got, "infrabot_commands_total", command="owner", outcome="cached") == 1
