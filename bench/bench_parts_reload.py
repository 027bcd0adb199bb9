"""A 100,000-service inventory as a folder of about 1,000 parts: a cold load, a full reload,
and a reload after one part changed, in the same run, with commands answered meanwhile.

The synthetic inventory of bench/gen_inventory.py is cut into parts of ``--per-part`` entries
(one section a part: ``services/0412.yaml``), with ``team`` and ``version`` in ``head.yaml``.
Measured, each from the call to the swap:

- the cold load of every part (the bot starting), in a fresh child process per run (``--runs``,
  imports not counted): best and median, with the child's peak memory (``ru_maxrss``);
- a reload that reads every part again (no previous load to reuse: what a folder would cost
  without the content hashes);
- a reload after one part changed (an owner added to a service), which parses only that part;
- while that reload runs, ``!owner <service>`` every 10 ms through the router, and each
  request's delay.

The one-part reload starts once the full reload's work beside the bot is done (its full-text
index built, the index it replaced taken apart), as edits to an inventory are far apart.

Bars (issue): a one-part reload <= 500 ms; no command waits more than 100 ms; a cold load
<= 3 s and <= 400 MB.

Usage: python bench/bench_parts_reload.py [INVENTORY] [--per-part 130] [--runs 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from infrabot.app import App  # noqa: E402
from infrabot.config import Config  # noqa: E402
from infrabot.inventory.source import FolderSource  # noqa: E402
from infrabot.store import Store  # noqa: E402

sys.path.insert(0, str(HERE))
from bench_reload import _client  # noqa: E402  (the same steady asker, every 10 ms)

SECTIONS = ("people", "groups", "providers", "datacenters", "hosts", "services")


def split_text(text: str, folder: Path, per_part: int) -> int:
    """Cut the generated block YAML into parts by its item lines; returns the part count."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    head: list[str] = []
    section: str | None = None
    items: list[list[str]] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if section is None:
            return
        (folder / section).mkdir(exist_ok=True)
        for n in range(0, len(items), per_part):
            body = "".join(line for item in items[n : n + per_part] for line in item)
            (folder / section / f"{n // per_part:04d}.yaml").write_text(f"{section}:\n{body}")
            count += 1

    for line in text.splitlines(keepends=True):
        key = line.split(":", 1)[0]
        if not line.startswith((" ", "#", "\n")) and key in SECTIONS:
            flush()
            section, items = key, []
        elif section is not None and line.startswith("  - "):
            items.append([line])
        elif section is not None and items:
            items[-1].append(line)
        elif not line.startswith(" "):
            head.append(line)
    flush()
    (folder / "head.yaml").write_text("".join(head))
    return count + 1


def cold_load(folder: Path) -> dict[str, float]:
    """The bot starting on ``folder`` (this process is fresh): seconds, and peak memory."""
    started = time.perf_counter()
    App(Config(inventory=folder), store=Store(":memory:"))
    seconds = time.perf_counter() - started
    return {"s": seconds, "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def cold_loads(folder: Path, runs: int) -> list[dict[str, float]]:
    """``runs`` cold loads, each in a fresh child process."""
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, __file__, "--cold", str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def _change_one_part(folder: Path) -> Path:
    part = folder / "services" / "0400.yaml"
    text = part.read_text()
    part.write_text(text.replace("    description: ", "    description: (edited) ", 1))
    return part


async def measure(folder: Path) -> dict[str, object]:
    """Cold load, full reload, one-part reload with a client asking meanwhile."""
    started = time.perf_counter()
    app = App(Config(inventory=folder), store=Store(":memory:"))
    cold = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    app.reloader.grace = 0.5
    app.router.limiter = None  # one client asking 100 times a second is the point here
    source = app.reloader.source
    assert isinstance(source, FolderSource)
    served = source.serving
    source._serving = None  # forget the previous load: every part is read again
    started = time.perf_counter()
    full = await app.reloader.reload_inventory()
    full_s = time.perf_counter() - started
    assert full.ok and served is not None, full.summary
    # edits are far apart: what the full reload left to do beside the bot (the full-text
    # index, the old index taken apart) is done before the part changes
    async with asyncio.timeout(60):
        while app.reloader._retiring or not app.index.search_ready(0):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    services = app.index.inventory.services
    names = [s.name for s in services[:: max(1, len(services) // 500)]]
    await asyncio.to_thread(_change_one_part, folder)
    stop = asyncio.Event()
    samples: list[tuple[float, float]] = []
    client = asyncio.create_task(_client(app, names, stop, samples))
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    one = await app.reloader.reload_inventory()
    one_s = time.perf_counter() - started
    await asyncio.sleep(1.5)
    stop.set()
    await client
    assert one.ok, one.summary
    during = sorted(delay * 1000 for due, delay in samples if due >= started)
    return {
        "cold": cold,
        "peak_mb": peak_mb,
        "full": full_s,
        "one": one_s,
        "summary": one.summary,
        "count": len(during),
        "p50": statistics.median(during),
        "p99": during[int(len(during) * 0.99) - 1],
        "max": during[-1],
    }


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    """Split, measure, print (or write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = HERE / "out" / "inventory-100k.yaml"
    parser.add_argument("inventory", nargs="?", type=Path, default=default)
    parser.add_argument("--per-part", type=int, default=130)
    parser.add_argument("--runs", type=int, default=5, help="fresh-process cold loads")
    parser.add_argument("--out", type=Path, help="write the result table (markdown) here")
    parser.add_argument("--cold", type=Path, help=argparse.SUPPRESS)  # a child's one load
    args = parser.parse_args()
    if args.cold:
        print(json.dumps(cold_load(args.cold)))
        return 0
    if not args.inventory.exists():
        args.inventory.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(HERE / "gen_inventory.py"), str(args.inventory)], check=True
        )
    folder = HERE / "out" / "inventory-100k-parts"
    parts = split_text(args.inventory.read_text(), folder, args.per_part)
    colds = cold_loads(folder, args.runs)
    r = asyncio.run(measure(folder))
    one, worst = float(r["one"]), float(r["max"])  # type: ignore[arg-type]
    times = sorted(c["s"] for c in colds)
    cold, median, peak = times[0], statistics.median(times), max(c["mb"] for c in colds)
    table = "\n".join(
        [
            f"{parts} parts of about {args.per_part} entries, 100,000 services in all.",
            "",
            "| measure | result | bar |",
            "|---|---|---|",
            f"| cold load of every part (start to serving), best of {args.runs} fresh processes "
            f"(median {median:.2f} s) | {cold:.2f} s | ≤ 3 s: {_verdict(cold <= 3)} |",
            f"| peak memory after the cold load (max of those) | {peak:.0f} MB | ≤ 400 MB: "
            f"{_verdict(peak <= 400)} |",
            f"| the same in the benchmark's process, before the reloads | {r['cold']:.2f} s, "
            f"{r['peak_mb']:.0f} MB | |",
            f"| reload reading every part again | {r['full']:.2f} s | (peer) |",
            f"| reload after one part changed | {one:.2f} s | ≤ 0.5 s: {_verdict(one <= 0.5)} |",
            f"| `!owner` every 10 ms during it: answered, p50 / p99 | {r['count']}, "
            f"{r['p50']:.1f} ms / {r['p99']:.1f} ms | none dropped |",
            f"| worst delay of those | {worst:.1f} ms | ≤ 100 ms: {_verdict(worst <= 100)} |",
        ]
    )
    print(table)
    print(f"reload said: {r['summary']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# Reloading a folder of parts (2 cores)\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
