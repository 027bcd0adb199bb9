"""The fault figures: the real bot against real servers, faults injected, one table of results.

Each row runs ``infrabot run`` (its own process) on fresh servers and counts, for the commands
users sent: how many were answered, answered twice, and lost; how often the server
disconnected the bot for flooding; and the bot's peak memory (VmHWM, over every process of
the row when the bot is killed and started again). Every command asks about a service of its
own (``!owner svc123``), so each answer says which command it answers.

Rows (``--quick`` runs each briefly, as a smoke test of the bench itself):

- ``restarts``: InspIRCd killed and started again 20 times (:mod:`fault_irc`);
- ``synapse``: Synapse stopped and started again 5 times, commands around each
  (:mod:`fault_matrix`);
- ``sigkill-page``: the bot SIGKILLed 10 times while pages escalate (:mod:`fault_paging`);
- ``sigkill-reload``: the bot SIGKILLed 10 times during an admin's ``!reload``
  (:mod:`fault_reload`);
- ``flood``: 20 users at InspIRCd's default flood limits for 5 minutes (:mod:`fault_irc`);
- ``fuzz``: 100,000 fuzzed messages through IRC (:mod:`fault_irc`).

Usage::

    python bench/faults.py [--quick] [--rows restarts,synapse,...] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fault_irc import run_irc_row
from fault_kit import Row
from fault_matrix import row_synapse
from fault_paging import row_sigkill_paging
from fault_reload import row_sigkill_reload
from irc_e2e_servers import servers_installed
from matrix_harness import synapse_python

ROWS = ("restarts", "synapse", "sigkill-page", "sigkill-reload", "flood", "fuzz")


async def run_row(name: str, quick: bool, workdir: Path) -> Row:
    """Run the row called ``name`` (small with ``quick``) in a folder of its own."""
    if name == "sigkill-page":
        return await row_sigkill_paging(workdir, 2 if quick else 10)
    if name == "sigkill-reload":
        return await row_sigkill_reload(workdir, 2 if quick else 10)
    if name == "synapse":
        python = synapse_python()
        assert python is not None
        return await row_synapse(python, workdir, 2 if quick else 5)
    return await run_irc_row(name, quick, workdir)


def table(rows: list[Row]) -> str:
    """The rows as one markdown table."""
    lines = [
        "| fault | injected | sent | answered | answered twice | lost | flood disconnects "
        "| peak memory (MB) | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.fault} | {r.injected} | {r.sent} | {r.answered} | {r.twice} | {r.lost} "
            f"| {r.flood_disconnects} | {r.peak_mb:.1f} | {r.note} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    names = args.rows.split(",")
    if not servers_installed():
        print("needs InspIRCd and Atheme: run scripts/install-irc-servers", file=sys.stderr)
        return 2
    if "synapse" in names and synapse_python() is None:
        print("needs Synapse: run scripts/install-synapse", file=sys.stderr)
        return 2
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            began = time.monotonic()
            (Path(tmp) / name).mkdir()
            rows.append(asyncio.run(run_row(name, args.quick, Path(tmp) / name)))
            print(f"{table(rows[-1:]).splitlines()[-1]} {time.monotonic() - began:.0f} s")
    took = time.monotonic() - started
    text = table(rows)
    print(text)
    print(f"took {took:.0f} s")
    if args.markdown:
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        args.markdown.write_text(f"{machine}; the run took {took:.0f} s.\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
