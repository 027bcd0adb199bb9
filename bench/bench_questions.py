"""Benchmarks of plain questions, names by their words and search, at 100,000 services.

Usage::

    python bench/bench_questions.py                       # generates bench/out/ if needed
    python bench/bench_questions.py --markdown bench/results/questions.md

Measured, against the bars of the issue on asking like a person:

- **search index**: in a fresh child process, the time from the inventory index being ready to
  its full-text index being ready (it is built on a thread of its own), and the child's peak
  memory once both are built (``ru_maxrss``); the index's own load is ``bench_inventory.py``'s.
- **plain question**: ``await Router.handle(msg)`` of questions addressed to the bot
  ("infrabot: who owns <service>?" in several phrasings, with names, aliases and domains),
  in process, each timed; p99.
- **search**: ``Index.search`` of one word and of three words drawn from descriptions; p99.
- **name by its words** (for information): two words of a service's name, looked up as a
  name; and **typos** through ``Index.service`` (the "did you mean" path, now after the
  words): p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from infrabot.errors import CommandError  # noqa: E402
from infrabot.inventory.index import Index  # noqa: E402
from infrabot.inventory.load import load_inventory  # noqa: E402
from infrabot.loader import load_plugins  # noqa: E402
from infrabot.messages import IncomingMessage, Network, Room, Sender  # noqa: E402
from infrabot.router import Router  # noqa: E402

DEFAULT_INVENTORY = HERE / "out" / "inventory-100k.yaml"
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory
began = time.perf_counter()
index = Index(load_inventory(sys.argv[1]))
ready = time.perf_counter()
index._search.wait()
searchable = time.perf_counter()
print(json.dumps({"index": ready - began, "search": searchable - ready,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
_PHRASINGS = (
    "infrabot: who owns {}?",
    "infrabot, who maintains {}",
    "infrabot: where does {} run?",
    "infrabot: who do I talk to about {} being down",
    "infrabot: what is {}?",
    "infrabot: how is {} configured?",
)
Row = tuple[str, str, str, str]


def _p(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def _timed(calls: Sequence[Callable[[], object]]) -> list[float]:
    out = []
    for call in calls:
        began = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - began) / 1e6)
    return out


def _row(name: str, times: list[float], bar: float | None, note: str = "") -> Row:
    p99 = _p(times, 99)
    verdict = "—" if bar is None else ("PASS" if p99 <= bar else "MISS")
    shown = "—" if bar is None else f"≤ {bar:g} ms"
    return (name, f"{p99:.2f} ms", shown, f"{verdict}; p50 {_p(times, 50):.2f} ms. {note}")


def bench_child(path: Path, runs: int) -> list[Row]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), str(ROOT / "src")],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout))
    best = min(results, key=lambda r: r["search"])
    rss = max(r["rss_mb"] for r in results)
    return [
        (
            "search index ready after the index",
            f"{best['search']:.2f} s",
            "—",
            f"best of {runs}; built on its own thread, searches say so until then",
        ),
        (
            "peak memory with the search index",
            f"{rss:.0f} MB",
            "≤ 400 MB",
            ("PASS" if rss <= 400 else "MISS") + f"; max of {runs}",
        ),
    ]


def _message(text: str) -> IncomingMessage:
    net = Network("irc")
    return IncomingMessage(
        sender=Sender(network=net, name="alice", account="alice", address="alice"),
        room=Room(network=net, id="#infra", private=False),
        text=text,
        bot_name="infrabot",
    )


def bench_questions(index: Index, rng: random.Random, count: int) -> Row:
    plugins = load_plugins([ROOT / "plugins"], installed=False)
    router = Router(plugins=plugins, index=lambda: index)
    services = index.inventory.services
    texts = []
    for _ in range(count):
        s = rng.choice(services)
        name = rng.choice([s.name, *s.aliases, *s.domains])
        texts.append(rng.choice(_PHRASINGS).format(name))
    loop = asyncio.new_event_loop()
    answered = 0

    def ask(text: str) -> Callable[[], object]:
        def call() -> object:
            nonlocal answered
            replies = loop.run_until_complete(router.handle(_message(text)))
            answered += bool(replies) and not replies[0].lines[0].startswith("sorry")
            return replies

        return call

    times = _timed([ask(t) for t in texts])
    loop.close()
    note = f"over {count} questions, {answered} answered by a command"
    return _row("plain question through the router", times, 2.0, note)


def bench_search(index: Index, rng: random.Random, count: int) -> list[Row]:
    services = index.inventory.services
    rows = []
    for words, bar in ((1, 10.0), (3, 20.0)):
        queries = []
        for _ in range(count):
            description = (rng.choice(services).description or "x").split()
            queries.append(" ".join(rng.choice(description).strip(".") for _ in range(words)))
        times = _timed([lambda q=q: index.search(q) for q in queries])
        rows.append(_row(f"!search, {words} word{'s' if words > 1 else ''}", times, bar))
    return rows


def bench_names(index: Index, rng: random.Random, count: int) -> list[Row]:
    services = index.inventory.services
    partial = [
        " ".join(rng.choice(services).name.replace("-", " ").split()[:2]) for _ in range(count)
    ]
    times = _timed([lambda q=q: index.services.resolve(q) for q in partial])
    rows = [_row("a name by two of its words", times, None, "for information")]
    typos = []
    for _ in range(count):
        name = list(rng.choice(services).name.lower())
        at = rng.randrange(len(name))
        name[at] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        typos.append("".join(name))

    def typo(q: str) -> Callable[[], object]:
        def call() -> object:
            try:
                return index.service(q)
            except CommandError as exc:
                return exc

        return call

    times = _timed([typo(q) for q in typos])
    rows.append(_row("typo through Index.service (words, then fuzzy)", times, 20.0))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run every measure and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    if not args.inventory.exists():
        subprocess.run([sys.executable, str(HERE / "gen_inventory.py"), str(args.inventory)])
    rows = bench_child(args.inventory, args.runs)
    index = Index(load_inventory(args.inventory))
    index._search.wait()
    rng = random.Random(args.seed)
    rows.append(bench_questions(index, rng, args.count))
    rows += bench_search(index, rng, args.count)
    rows += bench_names(index, rng, min(args.count, 300))
    table = ["| measure | figure | bar | verdict |", "|---|---|---|---|"]
    table += [f"| {' | '.join(row)} |" for row in rows]
    print("\n".join(table))
    if args.markdown:
        machine = f"{platform.python_version()}, {platform.system()}"
        head = (
            "# Questions, names and search at scale\n\n"
            f"Python {machine}; `python bench/bench_questions.py`; inventory "
            f"`{args.inventory.name}`. See the docstring of `bench/bench_questions.py`.\n\n"
        )
        args.markdown.write_text(head + "\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
