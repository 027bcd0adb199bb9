"""Hostile inventory files: how long each takes to refuse, and at what peak memory.

Usage::

    python bench/bench_hostile_inventory.py                    # writes bench/out/hostile/
    python bench/bench_hostile_inventory.py --markdown bench/results/hostile_inventory.md
    python bench/bench_hostile_inventory.py --before OTHER/src --markdown FILE  # before/after

Each file is given twice, each time to a fresh process, timed and measured (peak RSS from
``wait4``, which counts the process and every child it waited for):

- **check**: ``infrabot check FILE``, as a person runs it; the exit status and the first line
  it prints say how it ended (a signal, a hang killed after ``--timeout`` seconds).
- **reload**: a bot holding the shipped inventory runs :meth:`Reloader.reload_inventory` on
  the file, as ``!reload`` does; then the process's resident memory once the reload is over,
  which index it serves (the previous one after a refusal) and whether that answers a lookup,
  and whether a thread was left stuck on the file.

Each hostile file sits beside a valid file of about its size, loaded in the same run, so that
the figures compare with a floor measured on the same machine at the same moment. With
``--before``, each file is measured with the other checkout's code and then with this one's,
in turn, so that the load of a shared machine weighs on both alike; ``--runs`` repeats each
measure and keeps the fastest (and the highest peak). The children run under an
address-space limit (``--memory-limit``) so that a file that would take all the memory of the
machine fails there instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen_inventory import generate  # noqa: E402

OUT = HERE / "out" / "hostile"

# The bot's side: hold the shipped inventory, reload from the file, say what happened.
_RELOAD_CHILD = """
import asyncio, gc, json, os, resource, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from infrabot.inventory import Index, load_inventory
from infrabot.reload import Reloader

current = [Index(load_inventory(sys.argv[3]))]
reloader = Reloader(
    inventory_path=Path(sys.argv[2]), max_bytes=64 * 1024 * 1024,
    current_index=lambda: current[0], install_index=lambda index: current.__setitem__(0, index),
    plugin_folders=[], current_plugins=lambda: None, install_plugins=lambda plugins: None,
)
reloader.grace = 0.0

def resident_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1.0

def busy_threads():  # threads still in infrabot's code once the reload is over
    busy = 0
    for ident, frame in sys._current_frames().items():
        while ident != threading.get_ident() and frame is not None:
            if "/infrabot/" in frame.f_code.co_filename:
                busy += 1
                break
            frame = frame.f_back
    return busy

async def main():
    before = current[0]
    start = time.perf_counter()
    try:
        result = await asyncio.wait_for(reloader.reload_inventory(), float(sys.argv[4]))
        outcome = result.summary
    except TimeoutError:
        outcome = "reload timed out"
    took = time.perf_counter() - start
    await asyncio.sleep(0.2)  # a retired index is freed in the background
    gc.collect()
    print(json.dumps({
        "took": took,
        "outcome": outcome,
        "after_mb": resident_mb(),
        "self_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "serving": "previous" if current[0] is before else "new",
        "answers": current[0].services.find(current[0].services.entries[0].name) is not None,
        "stuck": busy_threads(),
    }), flush=True)
    os._exit(0)  # a thread stuck on the file would keep an orderly exit waiting for ever

asyncio.run(main())
"""


@dataclass
class Run:
    """How one child process ended."""

    took: float
    peak_mb: float
    status: str
    output: str
    stdout: str = ""
    report: dict[str, object] | None = None


def _limit(memory_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return apply


def _run(command: list[str], timeout: float, memory_bytes: int) -> Run:
    """Run ``command``, killing it after ``timeout`` s; its peak RSS comes from ``wait4``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=out, stderr=err, cwd=ROOT, preexec_fn=_limit(memory_bytes)
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        took = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if code < 0:
        name = signal.Signals(-code).name
        state = f"killed after {timeout:.0f} s (hung)" if took >= timeout else f"died: {name}"
    else:
        state = f"exit {code}"
    lines = [line for line in (stderr + stdout).splitlines() if line.strip()]
    return Run(took, usage.ru_maxrss / 1024, state, lines[0] if lines else "", stdout)


def _reload(src: Path, path: Path, timeout: float, memory_bytes: int) -> Run:
    where = str(path.relative_to(ROOT))
    command = [sys.executable, "-c", _RELOAD_CHILD, str(src), where, "inventory.yaml", str(timeout)]
    run = _run(command, timeout + 30, memory_bytes)
    last = run.stdout.strip().splitlines()[-1:] or [""]
    try:
        run.report = json.loads(last[0]) if last[0].startswith("{") else None
    except json.JSONDecodeError:
        run.report = None
    return run


def _check(src: Path, path: Path, timeout: float, memory_bytes: int) -> Run:
    env_path = f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    command = ["env", f"PYTHONPATH={env_path}", sys.executable, "-m", "infrabot", "check"]
    return _run([*command, str(path.relative_to(ROOT))], timeout, memory_bytes)


# --- the files -------------------------------------------------------------------------------


def _write_generated(path: Path, services: int, broken: str | None = None) -> Path:
    """A synthetic inventory of about ``services`` services; ``broken`` says how to spoil
    it: a dangling owner in the last service, or a YAML syntax error on the last line."""
    lines = list(generate(services, max(1, services // 5), max(10, services // 20), 1))
    if broken == "reference":
        at = max(i for i, line in enumerate(lines) if line == "    owners:")
        lines.insert(at + 1, "      - Nobody Known")
    elif broken == "syntax":
        lines.append("services: [unclosed")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_aliases(path: Path, aliases: int) -> Path:
    """One 200 KB anchored scalar, then ``aliases`` aliases of it: a file of a few hundred KB
    that would expand to gigabytes."""
    anchor = '"' + "x" * 200_000 + '"'
    text = (
        "version: 1\npeople:\n  - name: Anchor\n"
        f"    notes: [&a {anchor}]\n"
        "  - name: Aliases\n"
        "    notes: [" + ",".join(["*a"] * aliases) + "]\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


def files() -> list[tuple[str, Path, str]]:
    """(what it is, the file, the valid file it compares with), written if missing."""
    OUT.mkdir(parents=True, exist_ok=True)

    def made(name: str, write: Callable[[Path], Path]) -> Path:
        path = OUT / name
        return path if path.exists() else write(path)

    small, large = "valid, ~300 KB (floor)", "valid, ~60 MB (floor)"
    fifo = OUT / "fifo.yaml"
    if not fifo.exists():
        os.mkfifo(fifo)
    deep = made("deep-nesting.yaml", lambda p: (p.write_text("- " * 20_000 + "x\n"), p)[1])
    return [
        (small, made("valid-300k.yaml", lambda p: _write_generated(p, 500)), ""),
        ("deep nesting: 20,000 levels of `- `, 40 KB", deep, small),
        (
            "aliases: 200 KB anchor, 20,000 aliases, 260 KB",
            made("aliases-260k.yaml", lambda p: _write_aliases(p, 20_000)),
            small,
        ),
        (
            "aliases: 200 KB anchor, 40,000 aliases, 320 KB",
            made("aliases-320k.yaml", lambda p: _write_aliases(p, 40_000)),
            small,
        ),
        ("a FIFO as the inventory", fifo, small),
        (large, made("valid-60m.yaml", lambda p: _write_generated(p, 112_000)), ""),
        (
            "60 MB, one dangling owner in the last service",
            made("invalid-60m-reference.yaml", lambda p: _write_generated(p, 112_000, "reference")),
            large,
        ),
        (
            "60 MB, a YAML syntax error on the last line",
            made("invalid-60m-syntax.yaml", lambda p: _write_generated(p, 112_000, "syntax")),
            large,
        ),
    ]


# --- the report ------------------------------------------------------------------------------


def _size(path: Path) -> str:
    if not path.is_file():
        return "—"
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


def _cell(text: str, limit: int = 110) -> str:
    text = text.replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _best(runs: list[Run]) -> Run:
    """The fastest run, with the highest peak memory of all of them."""
    best = min(runs, key=lambda run: run.took)
    best.peak_mb = max(run.peak_mb for run in runs)
    return best


def _row(label: str, path: Path, floor: str, check: Run, reload: Run) -> str:
    got = reload.report
    if got is None:
        reload_cell = f"{reload.status}: {_cell(reload.output, 60)}"
        after, serving = "—", "— (the bot died)"
    else:
        reload_cell = _cell(str(got["outcome"]))
        after = f"{got['after_mb']:.0f} MB"
        serving = f"{got['serving']}, {'answers' if got['answers'] else 'DOES NOT ANSWER'}"
        if got["stuck"]:
            serving += f"; {got['stuck']} thread(s) left stuck on the file"
    return (
        f"| {label} | {_size(path)} | {floor or '—'} "
        f"| {check.took:.2f} s | {check.peak_mb:.0f} MB "
        f"| {check.status}: {_cell(check.output)} "
        f"| {reload.took:.2f} s | {reload.peak_mb:.0f} MB | {after} | {serving} "
        f"| {reload_cell} |"
    )


def _rows(sources: list[Path], runs: int, timeout: float, memory_bytes: int) -> list[list[str]]:
    """One table's rows per source; each file is measured with every source in turn, so that
    the machine's load at the time weighs on all of them alike."""
    rows: list[list[str]] = [[] for _ in sources]
    for label, path, floor in files():
        print(f"{label} …", file=sys.stderr, flush=True)
        for table, src in zip(rows, sources, strict=True):
            check = _best([_check(src, path, timeout, memory_bytes) for _ in range(runs)])
            reload = _best([_reload(src, path, timeout, memory_bytes) for _ in range(runs)])
            table.append(_row(label, path, floor, check, reload))
    return rows


_HEAD = [
    "| file | size | compare with | check: time | check: peak RSS | check: how it ended "
    "| reload: time | reload: peak RSS | RSS after | index served after | reload: reply |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def main(argv: list[str] | None = None) -> int:
    """Measure every hostile file and print (and optionally write) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the code to measure")
    parser.add_argument("--before", type=Path, help="another checkout's src, measured first")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a hang")
    parser.add_argument("--memory-limit", type=float, default=8.0, help="GiB of address space")
    parser.add_argument("--runs", type=int, default=1, help="runs of each; the best is shown")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    memory = int(args.memory_limit * 1024**3)
    sources = [("before", args.before)] if args.before else []
    sources.append(("after" if args.before else "measured", args.src))
    rows = _rows([src.resolve() for _, src in sources], args.runs, args.timeout, memory)
    tables = [
        f"## {label}\n\n" + "\n".join([*_HEAD, *table])
        for (label, _), table in zip(sources, rows, strict=True)
    ]
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end; best of {args.runs} run(s), "
        f"children limited to {args.memory_limit:g} GiB of address space, a hang killed after "
        f"{args.timeout:g} s"
    )
    text = "\n\n".join(tables)
    print(text)
    if args.markdown:
        args.markdown.write_text(f"# Hostile inventory files\n\n{machine}\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
