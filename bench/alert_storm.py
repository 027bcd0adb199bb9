"""An alert storm over HTTP: what reaches the rooms, how many pages open, how long it takes.

Starts an ``AlertServer`` in this process, on 127.0.0.1, with a real pager and store (SQLite in
a temporary folder) over a synthetic inventory of 40 services, each owned by one person with
an IRC nick and a Matrix ID. The transports are fakes that record every message the bot hands
them (``infrabot.testing.FakeTransport``).

The storm: 1000 alerts, 25 for each service, all with distinct fingerprints; the alerts of
two services are ``critical`` (they page), the rest ``warning``. Each alert is its own
Alertmanager notification, and all are posted at once (as Alertmanager does, one request per
group, in parallel). It prints one markdown table row. Usage::

    python bench/alert_storm.py [--alerts 1000] [--services 40] [--paging 2] [--label after]

Run it against other code with ``PYTHONPATH=<checkout>/src``; the code from before alert
batches (no ``infrabot.paging.alerts``) is driven through its ``AlertServer(config, pager)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from infrabot.config import PagingConfig, RoomRef, WebConfig
from infrabot.inventory import Index, parse_inventory
from infrabot.messages import Network, Reply
from infrabot.paging import Pager
from infrabot.store import Store
from infrabot.testing import FakeTransport
from infrabot.web import AlertServer

try:
    from infrabot.paging.alerts import AlertIntake
except ImportError:  # the code from before alert batches
    AlertIntake = None  # type: ignore[assignment,misc]

CHANNEL = "#python-infra"
ROOMS = [RoomRef(network="irc", room=CHANNEL), RoomRef(network="matrix", room="!ops:example.org")]


def inventory(services: int) -> str:
    people = "\n".join(
        f"  - name: Owner {i}\n    contact: {{irc_nick: owner{i}, irc_account: owner{i}, "
        f'matrix_id: "@owner{i}:x.org"}}'
        for i in range(services)
    )
    owned = "\n".join(f"  - name: svc{i}\n    owners: [Owner {i}]" for i in range(services))
    return (
        "version: 1\nteam: Infra\npeople:\n  - name: Lead\n    contact: {irc_nick: lead}\n"
        f"{people}\ngroups:\n  - name: Infra\n    kind: team\n    lead: Lead\n"
        f"    members: [{{person: Lead}}]\nservices:\n{owned}\n"
    )


class Rooms:
    """Every message the bot hands the fake transports (each person logged in everywhere)."""

    def __init__(self) -> None:
        self.sent: list[Reply] = []
        self.transports = {Network(n): FakeTransport(n, sent=self.sent) for n in ("irc", "matrix")}

    async def send(self, reply: Reply) -> None:
        await self.transports[reply.room.network].send(reply)

    def channel_lines(self) -> list[str]:
        """What the IRC channel is sent. Since IRC sends raise when a line would not fit
        the channel's queue, nothing is dropped silently there any more: this is all of it."""
        return [
            line
            for r in self.sent
            if r.room.id == CHANNEL and not r.room.private
            for line in r.lines
        ]


def accounted(lines: list[str]) -> int:
    """How many alerts the announcement lines speak of."""
    total = 0
    for line in lines:
        if m := re.match(r"ALERT \S+: (\d+) firing", line):
            total += int(m[1])
        elif line.startswith("ALERT ["):
            total += 1
        elif m := re.match(r"… and (\d+) more alert", line):
            total += int(m[1])
    return total


def storm(alerts: int, services: int, paging: int) -> list[dict[str, Any]]:
    bodies = []
    for i in range(alerts):
        n = i % services
        severity = "critical" if n < paging else "warning"
        item = {
            "status": "firing",
            "labels": {"alertname": "Probe", "service": f"svc{n}", "severity": severity},
            "annotations": {"summary": f"probe {i} failing"},
            "fingerprint": f"fp{i}",
        }
        bodies.append({"version": "4", "status": "firing", "alerts": [item]})
    return bodies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(args: argparse.Namespace) -> dict[str, Any]:
    index = Index(parse_inventory(inventory(args.services)))
    rooms = Rooms()
    folder = tempfile.TemporaryDirectory()
    store = Store(Path(folder.name) / "infrabot.db")
    options: dict[str, Any] = {"announce": ROOMS}
    if AlertIntake is not None:
        options["alert_window"] = args.window
    pager = Pager(
        store=store,
        index=lambda: index,
        send=rooms.send,
        people=lambda: rooms.transports,
        config=PagingConfig(**options),
    )
    port = free_port()
    web = WebConfig(port=port, token=SecretStr("t"))
    if AlertIntake is None:
        server = AlertServer(web, pager)  # type: ignore[arg-type]
    else:
        server = AlertServer(web, AlertIntake(pager, index=lambda: index, send=rooms.send))
    await server.start()
    url = f"http://127.0.0.1:{port}/alerts"
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    results: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    waits: list[float] = []

    async def post(session: aiohttp.ClientSession, body: dict[str, Any]) -> None:
        sent = time.perf_counter()
        async with session.post(url, data=json.dumps(body), headers=headers) as resp:
            waits.append(time.perf_counter() - sent)
            statuses[resp.status] += 1
            for r in (await resp.json()).get("results", []):
                results[re.sub(r"(page|as|resolved) [a-z2-9]{4}$", r"\1 X", r["result"])] += 1

    bodies = storm(args.alerts, args.services, args.paging)
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(post(session, b) for b in bodies))
    elapsed = time.perf_counter() - started
    await server.stop()
    public = [r for r in rooms.sent if not r.room.private]
    announced = [
        line
        for r in public
        if r.room.id == CHANNEL and r.in_reply_to is None
        for line in r.lines
        if line.startswith(("ALERT", "…"))
    ]
    channel = rooms.channel_lines()
    private = Counter((r.room.network, r.room.id) for r in rooms.sent if r.room.private)
    pages = store.pages(limit=100_000)
    store.close()
    folder.cleanup()
    return {
        "label": args.label,
        "alerts": args.alerts,
        "statuses": dict(statuses),
        "seconds": round(elapsed, 2),
        "answer_p50": round(statistics.median(waits), 2),
        "answer_max": round(max(waits), 2),
        "channel_handed": sum(len(r.lines) for r in public if r.room.id == CHANNEL),
        "announce_lines": len(announced),
        "accounted_handed": accounted(announced),
        "channel_kept": len(channel),
        "accounted_kept": accounted(channel),
        "matrix_events": sum(1 for r in public if r.room.network == "matrix"),
        "pages": len(pages),
        "private": sum(private.values()),
        "most_to_one": max(private.values(), default=0),
        "answers": dict(results.most_common(6)),
    }


def row(r: dict[str, Any]) -> str:
    answers = "; ".join(f"{n} x {text}" for text, n in r["answers"].items())
    return (
        f"| {r['label']} | {r['alerts']} | {r['seconds']} s | {r['answer_p50']} / "
        f"{r['answer_max']} s | {r['channel_handed']} "
        f"({r['announce_lines']} announcing {r['accounted_handed']}) | {r['channel_kept']} "
        f"(announcing {r['accounted_kept']}) | {r['matrix_events']} | {r['pages']} | "
        f"{r['private']} (at most {r['most_to_one']} to one) | {answers} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--paging", type=int, default=2, help="services whose alerts page")
    parser.add_argument("--window", type=float, default=2.0, help="paging.alert_window")
    parser.add_argument("--label", default="this code")
    parser.add_argument("--json", action="store_true", help="print the raw figures too")
    args = parser.parse_args()
    # every alert is its own connection, all at once: client and server ends in this process
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * args.alerts + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=1), file=sys.stderr)
    print(row(result))


if __name__ == "__main__":
    main()
