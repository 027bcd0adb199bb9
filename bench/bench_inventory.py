"""Benchmarks of the inventory at scale: load, memory, exact and fuzzy lookups, and ``!owner``.

Usage::

    python bench/bench_inventory.py                       # generates bench/out/ if needed
    python bench/bench_inventory.py --runs 5 --markdown bench/results/inventory.md
    python bench/bench_inventory.py --inventory FILE      # any inventory file

Every measure is run in one go and printed as a table with its bar and PASS or MISS.

- **load** is timed in a fresh child process per run (file to :class:`Index`, imports not
  included), so nothing is warm in memory but the operating system's file cache. It is
  reported cold (no inventory cache) and, if the loader has a cache, warm (the cache filled by
  an earlier run on the same file) on separate rows.
- **peak memory** is the ``ru_maxrss`` of that child: interpreter, imports, file, inventory
  and index; the benchmark's own data does not count.
- **exact lookup**, **fuzzy suggestion** and **router** are timed call by call in this process
  with ``perf_counter_ns`` on one loaded index, over queries drawn with a fixed seed.

Timings on a shared machine are noisy: each load measure runs ``--runs`` times and shows the
best and the median; the per-call measures show p50 and p99 of the whole sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from infrabot.errors import CommandError  # noqa: E402
from infrabot.inventory.index import Index  # noqa: E402
from infrabot.inventory.load import load_inventory  # noqa: E402
from infrabot.inventory.model import Service  # noqa: E402
from infrabot.loader import load_plugins  # noqa: E402
from infrabot.messages import IncomingMessage, Network, Room, Sender  # noqa: E402
from infrabot.router import Router  # noqa: E402

DEFAULT_INVENTORY = HERE / "out" / "inventory-100k.yaml"

# The child that loads one file and reports its time and peak memory as JSON on stdout.
_CHILD = """
import json, resource, sys, time
began = time.perf_counter()
sys.path.insert(0, sys.argv[2])
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory
start = time.perf_counter()
inventory = load_inventory(sys.argv[1])
loaded = time.perf_counter()
index = Index(inventory)
done = time.perf_counter()
print(json.dumps({
    "load": loaded - start,
    "index": done - loaded,
    "total": done - start,
    "imports": start - began,
    "services": len(index.services),
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    figure: str
    bar: str
    ok: bool | None
    note: str = ""

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


def _child_load(path: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(ROOT / "src")],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def _time_calls(calls: Sequence[Callable[[], object]]) -> list[float]:
    """Seconds taken by each call, one by one."""
    clock = time.perf_counter_ns
    times = []
    for call in calls:
        start = clock()
        call()
        times.append((clock() - start) / 1e9)
    return times


def _typo(rng: random.Random, text: str) -> str:
    """``text`` with one or two random edits (substitution, deletion, insertion, swap)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    chars = list(text)
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.randrange(len(chars))
        op = rng.choice(("sub", "del", "ins", "swap"))
        if op == "sub":
            chars[i] = rng.choice(letters)
        elif op == "del" and len(chars) > 3:
            del chars[i]
        elif op == "ins":
            chars.insert(i, rng.choice(letters))
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _keys_of(service: Service) -> list[str]:
    return [service.name, *service.aliases, *service.domains]


def bench_load(path: Path, runs: int, env: dict[str, str], label: str) -> list[Row]:
    """Cold (or warm, per ``env``) load in fresh processes: time and peak memory."""
    results = [_child_load(path, env) for _ in range(runs)]
    totals = [r["total"] for r in results]
    rss = [r["maxrss_mb"] for r in results]
    best, median = min(totals), statistics.median(totals)
    parts = min(results, key=lambda r: r["total"])
    note = (
        f"best of {runs} (median {median:.2f} s); of the best: load+validate "
        f"{parts['load']:.2f} s, Index {parts['index']:.2f} s; imports before it, not "
        f"counted: {parts['imports']:.2f} s"
    )
    return [
        Row(
            f"load and validate, file → Index ({label})",
            f"{best:.2f} s",
            "≤ 3 s",
            best <= 3.0,
            note,
        ),
        Row(
            f"peak memory ({label})",
            f"{max(rss):.0f} MB",
            "≤ 400 MB",
            max(rss) <= 400,
            f"ru_maxrss of the child, max of {runs} (min {min(rss):.0f} MB)",
        ),
    ]


def bench_exact(index: Index, rng: random.Random, count: int) -> Row:
    """``Index.services.find`` on names, aliases and domains, typed in various ways."""
    services = index.services.entries
    queries = []
    for _ in range(count):
        key = rng.choice(_keys_of(rng.choice(services)))
        form = rng.random()
        queries.append(key.upper() if form < 0.2 else key.replace("-", " ") if form < 0.4 else key)
    find = index.services.find
    hits = sum(find(q) is not None for q in queries)
    times = _time_calls([lambda q=q: find(q) for q in queries])
    p99 = _percentile(times, 99)
    return Row(
        "exact lookup `Index.services.find`, p99",
        f"{p99 * 1e6:.1f} µs",
        "≤ 50 µs",
        p99 <= 50e-6,
        f"p50 {_percentile(times, 50) * 1e6:.1f} µs over {count} queries, {hits} found",
    )


def bench_fuzzy(index: Index, rng: random.Random, count: int) -> list[Row]:
    """Typos: ``Index.service`` raising a suggestion, and ``Index.services.suggest``."""
    services = index.services.entries
    cases: list[tuple[str, Service]] = []
    while len(cases) < count:
        service = rng.choice(services)
        typo = _typo(rng, rng.choice(_keys_of(service)))
        if index.services.find(typo) is None:
            cases.append((typo, service))
    suggested: list[str | None] = []

    def ask(query: str) -> None:
        try:  # a typo in a domain's last label still names the service by its other words
            suggested.append(index.service(query).name)
        except CommandError as exc:
            text = str(exc)
            suggested.append(text.partition("did you mean ")[2].rstrip("?") or None)

    times = _time_calls([lambda q=q: ask(q) for q, _ in cases])
    right = sum(s == svc.name for s, (_, svc) in zip(suggested, cases, strict=True))
    p99 = _percentile(times, 99)
    suggest = index.services.suggest
    raw = _time_calls([lambda q=q: suggest(q) for q, _ in cases])
    junk = ["".join(rng.choice("bdfhjkmpqvwxz") for _ in range(rng.randint(4, 30))) for _ in cases]
    far = _time_calls([lambda q=q: suggest(q) for q in junk])
    return [
        Row(
            "fuzzy suggestion `Index.service('typo')`, p99",
            f"{p99 * 1e3:.2f} ms",
            "≤ 20 ms",
            p99 <= 20e-3,
            f"p50 {_percentile(times, 50) * 1e3:.2f} ms over {count} typos of 1-2 edits; "
            f"{right} suggested the service the typo came from",
        ),
        Row(
            "fuzzy suggestion `Index.services.suggest`, p99",
            f"{_percentile(raw, 99) * 1e3:.2f} ms",
            "≤ 20 ms",
            _percentile(raw, 99) <= 20e-3,
            f"p50 {_percentile(raw, 50) * 1e3:.2f} ms",
        ),
        Row(
            "fuzzy `Index.services.suggest`, nothing close, p99",
            f"{_percentile(far, 99) * 1e3:.2f} ms",
            "",
            None,
            f"p50 {_percentile(far, 50) * 1e3:.2f} ms over {len(junk)} random strings of rare "
            "letters (no length can be skipped); for information, no bar",
        ),
    ]


def bench_router(index: Index, rng: random.Random, count: int) -> list[Row]:
    """``await Router.handle`` of ``!owner <service>`` in process, with the shipped plugins."""
    plugins = load_plugins([ROOT / "plugins"], installed=False)
    router = Router(plugins=plugins, index=lambda: index)
    console = Network("console")
    sender = Sender(network=console, name="bench", account=None, address="bench")
    room = Room(network=console, id="#bench")
    services = index.services.entries

    def message(text: str) -> IncomingMessage:
        return IncomingMessage(sender=sender, room=room, text=text)

    hits = [message(f"!owner {rng.choice(_keys_of(rng.choice(services)))}") for _ in range(count)]
    typos = [message(f"!owner {_typo(rng, rng.choice(services).name)}") for _ in range(count // 50)]

    async def run(messages: list[IncomingMessage]) -> tuple[list[float], int]:
        clock = time.perf_counter_ns
        times = []
        answered = 0
        for m in messages:
            start = clock()
            replies = await router.handle(m)
            times.append((clock() - start) / 1e9)
            answered += bool(replies) and "maintained by" in replies[0].lines[0]
        return times, answered

    times, answered = asyncio.run(run(hits))
    typo_times, _ = asyncio.run(run(typos))
    p99 = _percentile(times, 99)
    return [
        Row(
            "router `!owner <service>`, in process, p99",
            f"{p99 * 1e6:.0f} µs",
            "≤ 200 µs",
            p99 <= 200e-6,
            f"p50 {_percentile(times, 50) * 1e6:.0f} µs over {count} messages, "
            f"{answered} answered with owners",
        ),
        Row(
            "router `!owner <typo>` (fuzzy path), p99",
            f"{_percentile(typo_times, 99) * 1e3:.2f} ms",
            "",
            None,
            f"p50 {_percentile(typo_times, 50) * 1e3:.2f} ms over {len(typos)} messages; "
            "for information, no bar",
        ),
    ]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"
    )


def _table(rows: list[Row]) -> str:
    head = "| measure | figure | bar | verdict | notes |\n|---|---|---|---|---|\n"
    return head + "".join(
        f"| {r.measure} | {r.figure} | {r.bar or '—'} | {r.verdict or '—'} | {r.note} |\n"
        for r in rows
    )


def _print(rows: list[Row]) -> None:
    width = max(len(r.measure) for r in rows)
    for r in rows:
        print(f"{r.measure:<{width}}  {r.figure:>10}  {r.bar or '':>9}  {r.verdict:<4}  {r.note}")


def main(argv: list[str] | None = None) -> int:
    """Run every measure and print the table; optionally write it as markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    parser.add_argument("--runs", type=int, default=3, help="fresh-process loads per measure")
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--typos", type=int, default=300)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--markdown", type=Path, help="also write the table here (markdown)")
    args = parser.parse_args(argv)

    path: Path = args.inventory
    if not path.exists() and path == DEFAULT_INVENTORY:
        subprocess.run([sys.executable, str(HERE / "gen_inventory.py"), str(path)], check=True)
    size = path.stat().st_size
    lines = path.read_bytes().count(b"\n")
    print(f"inventory: {path.name}, {size / 1e6:.1f} MB, {lines} lines", file=sys.stderr)

    rows: list[Row] = []
    env = dict(os.environ)
    rows += bench_load(path, args.runs, env, "cold")

    start = time.perf_counter()
    index = Index(load_inventory(path))
    print(f"loaded here in {time.perf_counter() - start:.2f} s", file=sys.stderr)
    # lookups are measured as the bot serves them once settled, not while the full-text index
    # is still being built on its thread (which shares the interpreter for those seconds)
    index.search_ready(120)
    print(f"search index ready {time.perf_counter() - start:.2f} s after", file=sys.stderr)
    rng = random.Random(args.seed)
    rows.append(bench_exact(index, rng, args.lookups))
    rows += bench_fuzzy(index, rng, args.typos)
    rows += bench_router(index, rng, args.messages)

    _print(rows)
    if args.markdown:
        counts = (
            f"{len(index.services)} services, {len(index.hosts)} hosts, {len(index.people)} "
            f"people, {len(index.groups)} groups, {len(index.providers)} providers, "
            f"{len(index.datacenters)} datacenters"
        )
        text = (
            "# Inventory benchmarks\n\n"
            f"Machine: {_machine()}, shared with other work (load average "
            f"{os.getloadavg()[0]:.1f} at the end of the run). Measured "
            f"{time.strftime('%Y-%m-%d', time.gmtime())} with "
            f"`python bench/bench_inventory.py --runs {args.runs}`; see `bench/README.md` for "
            "how each figure is taken.\n\n"
            f"Inventory: `{path.name}` ({size / 1e6:.1f} MB, {lines} lines; {counts}).\n\n"
            + _table(rows)
        )
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text, encoding="utf-8")
        print(f"wrote {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
