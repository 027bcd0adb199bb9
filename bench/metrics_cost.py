"""What metrics cost: ``!owner pypi`` round trips through a real InspIRCd, metrics on and off.

Three ``infrabot run`` processes on one server, flood limits off, asked in turn request by
request, in a new random order each round, so that all see the same machine:

- **on**: as deployed, with ``web:`` serving ``/metrics``, scraped every second meanwhile;
- **off**: the same bot with every instrumentation call of :mod:`infrabot.metrics` replaced
  by a no-op (started through this script's ``--off``) and no web server;
- **counting**: instrumentation on, but no web server and nobody scraping;
- **off-b**: a second "off" bot, so that the spread between two identical processes shows.

Prints p50/p99 of each and the bar: on's p50 within 5% of off's. Needs InspIRCd and Atheme
(``scripts/install-irc-servers``). Usage::

    python bench/metrics_cost.py [--requests 2000] [--markdown bench/results/metrics_cost.md]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "e2e" / "irc"), str(ROOT / "src")]

from irc_e2e_servers import IrcServers, servers_installed  # noqa: E402
from irc_roundtrip import User, percentile, wait_joined  # noqa: E402

BOTS = ("on", "counting", "off", "off-b")
BLOCKS = 10  # blocks of rounds whose ratios are compared (see _blocks)


def run_bot(config: str, counting: bool) -> int:
    """``infrabot run --config config``; unless ``counting``, every instrumentation call is a
    no-op. Every bot starts this way, so that they differ in nothing else."""
    from infrabot import metrics
    from infrabot.cli import main

    def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    if not counting:
        metrics.command_timer = lambda message: contextlib.nullcontext()  # type: ignore[assignment,misc,return-value]
        for name in ("note_command", "reply_sent", "held_back", "escalated", "delivered"):
            setattr(metrics, name, nothing)
    return main(["run", "--config", config])


def _config(workdir: Path, bot: str, port: int, web_port: int | None) -> Path:
    web = f"web: {{host: 127.0.0.1, port: {web_port}}}\n" if web_port else ""
    path = workdir / f"{bot}.yaml"
    path.write_text(
        f"store: {workdir / bot}.db\nlog_level: WARNING\nrate_limit: {{rate: 0}}\n{web}"
        f"irc: {{port: {port}, nick: bot-{bot}, channels: ['#cost-{bot}'], flood_rate: 0}}\n"
    )
    return path


async def _scrape_forever(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as resp:
                    await resp.read()
            await asyncio.sleep(1)


async def measure(requests: int, servers: IrcServers, workdir: Path) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    web_port = 18000 + os.getpid() % 1000
    procs = []
    for bot in BOTS:
        cfg = _config(workdir, bot, servers.port, web_port if bot == "on" else None)
        mode = "--counting" if bot in ("on", "counting") else "--off"
        command = [sys.executable, __file__, mode, str(cfg)]
        procs.append(subprocess.Popen(command, env=env, cwd=workdir))  # noqa: ASYNC220
    user = User("asker")
    scraper: asyncio.Task[None] | None = None
    try:
        await user.connect(servers.port, [f"#cost-{bot}" for bot in BOTS])
        for bot in BOTS:
            await wait_joined(user, f"bot-{bot}", f"#cost-{bot}")
        scraper = asyncio.create_task(_scrape_forever(f"http://127.0.0.1:{web_port}/metrics"))
        results: dict[str, list[float]] = {bot: [] for bot in BOTS}
        for _ in range(50):  # warm up
            for bot in BOTS:
                await user.ask(f"bot-{bot}", f"#cost-{bot}", 2)
        order = list(BOTS)
        for _ in range(requests):
            random.shuffle(order)  # no bot always first after the pause of a round
            for bot in order:
                took, _ = await user.ask(f"bot-{bot}", f"#cost-{bot}", 2)
                results[bot].append(took)
        return results
    finally:
        if scraper is not None:
            scraper.cancel()
        await user.close()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def report(results: dict[str, list[float]]) -> str:
    """The results as a markdown table, with the bar."""
    rows = ["| bot | requests | p50 (ms) | p99 (ms) |", "|---|---:|---:|---:|"]
    p50 = {bot: percentile(times, 50) * 1000 for bot, times in results.items()}
    for bot, times in results.items():
        p99 = percentile(times, 99) * 1000
        rows.append(f"| {bot} | {len(times)} | {p50[bot]:.3f} | {p99:.3f} |")
    ratio, spread = p50["on"] / p50["off"], p50["off-b"] / p50["off"]
    verdict = "PASS" if ratio <= 1.05 else "MISS"
    rows.append("")
    rows.append(
        f"on / off p50: {ratio:.3f} (bar <= 1.05: {verdict}); "
        f"counting / off: {p50['counting'] / p50['off']:.3f}; off-b / off: {spread:.3f}"
    )
    rows += ["", *_blocks(results)]
    return "\n".join(rows)


def _blocks(results: dict[str, list[float]]) -> list[str]:
    """The p50 ratios block by block: the bots were asked in the same rounds, so block ``i``
    of each covers the same minutes. The median over blocks beside the same figure for two
    identical bots (off-b / off) tells a cost from the machine's drift."""
    size = min(len(times) for times in results.values()) // BLOCKS
    if size < 50:
        return []

    def ratios(a: str, b: str) -> list[float]:
        return [
            percentile(results[a][i * size : (i + 1) * size], 50)
            / percentile(results[b][i * size : (i + 1) * size], 50)
            for i in range(BLOCKS)
        ]

    lines = [f"p50 ratios over {BLOCKS} blocks of {size} rounds: median (lowest-highest)", ""]
    lines += ["| pair | median | range |", "|---|---:|---|"]
    for a, b in (("on", "off"), ("on", "off-b"), ("counting", "off"), ("off-b", "off")):
        values = sorted(ratios(a, b))
        lines.append(
            f"| {a} / {b} | {statistics.median(values):.3f} | {values[0]:.3f}-{values[-1]:.3f} |"
        )
    return lines


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("--off", "--counting"):
        return run_bot(sys.argv[2], counting=sys.argv[1] == "--counting")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    if not servers_installed():
        print("needs InspIRCd and Atheme: run scripts/install-irc-servers", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        servers = IrcServers(Path(tmp) / "ircd")
        servers.start()
        try:
            results = asyncio.run(measure(args.requests, servers, Path(tmp)))
        finally:
            servers.stop()
    table = report(results)
    print(table)
    if args.markdown:
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        args.markdown.write_text(f"# Metrics cost: `!owner pypi` on IRC\n\n{machine}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
