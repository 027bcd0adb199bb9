"""The ``infrabot`` command: ``console``, ``query``, ``check``, ``diff``, ``schema``, ``config``,
``run``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from infrabot.app import App, build_transports
from infrabot.config import Config, GitInventory, load_config
from infrabot.errors import ConfigError, InventoryError, StoreError
from infrabot.inventory.git_source import FetchError
from infrabot.inventory.index import Index
from infrabot.inventory.model import Inventory
from infrabot.inventory.review import FORMATS, diff_sides, github_annotations, open_side
from infrabot.inventory.source import SourceError, load_inventory_at
from infrabot.logs import setup_logging
from infrabot.messages import IncomingMessage, Network, Room, Sender
from infrabot.store import Store, StoreInUse, StoreLock
from infrabot.transports.console import ConsoleTransport

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    # The options are accepted before and after the subcommand; SUPPRESS keeps a subcommand
    # that does not repeat them from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--inventory",
        type=Path,
        default=argparse.SUPPRESS,
        help="inventory file or folder of parts (default: the shipped one)",
    )
    common.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="configuration file (YAML)"
    )
    common.add_argument(
        "--log-libraries",
        action="store_true",
        default=argparse.SUPPRESS,
        help="let libraries (irc, nio, aiohttp, ...) log below WARNING too; secrets stay hidden",
    )
    parser = argparse.ArgumentParser(
        prog="infrabot", description="A chat bot for an infrastructure team.", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("console", parents=[common], help="talk to the bot in this terminal")
    query = sub.add_parser("query", parents=[common], help="answer one message and exit")
    query.add_argument("text", help="what a user would type, e.g. '!owner pypi'")
    query.add_argument(
        "--channel", action="store_true", help="answer as in a channel (short lists)"
    )
    check = sub.add_parser("check", parents=[common], help="validate an inventory file or folder")
    check.add_argument(
        "file", nargs="?", type=Path, help="the file or folder (default: the configured one)"
    )
    check.add_argument(
        "--format",
        choices=FORMATS,
        default="plain",
        help="plain: file:line: reason; github: GitHub Actions annotations on those lines",
    )
    _add_diff(sub, common)
    sub.add_parser("schema", parents=[common], help="print the inventory's JSON Schema")
    sub.add_parser(
        "config",
        parents=[common],
        help="print the effective configuration, secrets masked; exit 1 listing its problems",
    )
    run = sub.add_parser(
        "run", parents=[common], help="connect to the configured networks and serve"
    )
    run.add_argument(
        "--standby",
        action="store_true",
        help="if another bot runs on this store, wait and take over when it stops",
    )
    return parser


def _add_diff(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """``infrabot diff OLD NEW``, for a review comment on a change to the inventory."""
    diff = sub.add_parser(
        "diff", parents=[common], help="what changing one inventory to another does, as !reload"
    )
    diff.add_argument("old", help="a file, a folder, or a git revision of this repository")
    diff.add_argument("new", help="a file, a folder, or a git revision of this repository")
    diff.add_argument(
        "--path",
        help="the folder of parts in the repository, for revisions (default: the configured "
        "git path, or the repository's top)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``infrabot`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(
            getattr(args, "config", None), inventory=getattr(args, "inventory", None)
        )
    except ConfigError as exc:
        if args.command == "config":
            return _config_problems(exc)
        print(f"infrabot: {exc}", file=sys.stderr)
        return 2
    logs = setup_logging(
        config,
        quiet=args.command != "run",
        libraries=getattr(args, "log_libraries", False),
    )
    try:
        return _command(args, config)
    except Exception:  # logged, so that it is redacted like every other line
        log.critical("infrabot stopped on an unexpected error", exc_info=True)
        return 1
    finally:
        logs.close()


def _command(args: argparse.Namespace, config: Config) -> int:
    if args.command == "schema":
        print(json.dumps(Inventory.model_json_schema(), indent=2))
        return 0
    if args.command == "config":
        # JSON mode shows every secret as "**********": what is set, never its value
        print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), end="")
        return 0
    if args.command == "check":
        target = args.file or config.inventory
        if not isinstance(target, Path):
            print("infrabot: the inventory is in git; give the folder to check", file=sys.stderr)
            return 2
        return _check(target, args.format)
    if args.command == "diff":
        return _diff(args, config)
    if args.command == "run":
        return _serve(config, standby=args.standby)
    # console and query keep their state in memory; a running bot keeps it on disk
    try:
        app = App(config, store=Store(":memory:"))
    except InventoryError as exc:
        _print_problems(exc)
        return 1
    except FetchError as exc:
        print(f"infrabot: {exc}", file=sys.stderr)
        return 1
    app.router.limiter = None  # the person at the terminal runs the process: no rate limit
    if args.command == "query":
        return asyncio.run(_query(app, args.text, private=not args.channel))
    asyncio.run(_console(app))
    return 0


def _serve(config: Config, *, standby: bool) -> int:
    """``infrabot run``: take the store (or wait for it), open it, and serve until stopped."""
    if config.irc is None and config.matrix is None:
        print(
            "infrabot: no network configured (add an 'irc' or 'matrix' section to the config); "
            "try 'infrabot console'",
            file=sys.stderr,
        )
        return 2
    lock = StoreLock(config.store)
    waited: list[int | None] = []
    try:
        lock.acquire(wait=standby, waiting=lambda pid: _standing_by(config.store, pid, waited))
    except StoreInUse as exc:
        print(
            f"infrabot: the store {exc.store} is in use by another infrabot{_pid(exc.pid)}; "
            "stop it, or start this one with --standby",
            file=sys.stderr,
        )
        return 1
    except StoreError as exc:
        print(f"infrabot: cannot use the store {exc}", file=sys.stderr)
        return 1
    with lock:
        if waited:
            log.warning("the other infrabot%s stopped; taking over", _pid(waited[0]))
        return _serve_store(config)


def _standing_by(store: Path, pid: int | None, waited: list[int | None]) -> None:
    waited.append(pid)
    log.warning("the store %s is in use by another infrabot%s; standing by", store, _pid(pid))


def _pid(pid: int | None) -> str:
    return f" (PID {pid})" if pid is not None else ""


def _serve_store(config: Config) -> int:
    try:
        store = Store(config.store)
    except StoreError as exc:
        print(f"infrabot: cannot use the store {exc}", file=sys.stderr)
        return 1
    try:
        app = App(config, store=store)
        return asyncio.run(_run(app, config))
    except InventoryError as exc:
        _print_problems(exc)
        return 1
    except FetchError as exc:
        print(f"infrabot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the bot had installed its own handler
        return 130
    finally:
        store.close()


def _config_problems(exc: ConfigError) -> int:
    """``infrabot config`` on a configuration that cannot be used: every problem, then 1."""
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    count = len(exc.problems)
    print(f"{count} problem{'s' if count != 1 else ''}", file=sys.stderr)
    return 1


def _check(path: Path, form: str = "plain") -> int:
    try:
        inventory = load_inventory_at(path)
    except InventoryError as exc:
        if form == "github":  # annotations are read from the standard output
            print("\n".join(github_annotations(exc.problems)))
        _print_problems(exc)
        return 1
    index = Index(inventory)
    counts = ", ".join(
        f"{len(kind)} {label}"
        for label, kind in (
            ("services", index.services),
            ("hosts", index.hosts),
            ("providers", index.providers),
            ("datacenters", index.datacenters),
            ("people", index.people),
            ("groups", index.groups),
        )
    )
    print(f"{path}: OK ({counts})")
    return 0


def _diff(args: argparse.Namespace, config: Config) -> int:
    """``infrabot diff OLD NEW``: the change in ``!reload``'s words, every part of it."""
    path = args.path
    if path is None:
        path = config.inventory.path if isinstance(config.inventory, GitInventory) else "."
    try:
        with open_side(args.old, path=path) as old, open_side(args.new, path=path) as new:
            found = diff_sides(old, new)
    except InventoryError as exc:
        _print_problems(exc)
        return 1
    except SourceError as exc:
        print(f"infrabot: {exc}", file=sys.stderr)
        return 2
    print(found.summary(limit=len(found.parts)))
    return 0


def _print_problems(exc: InventoryError) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    count = len(exc.problems)
    print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)


async def _query(app: App, text: str, *, private: bool) -> int:
    console = Network("console")
    sender = Sender(network=console, name="you", account=None, address="you")
    room = Room(network=console, id="console" if private else "#console", private=private)
    replies = await app.router.handle(IncomingMessage(sender=sender, room=room, text=text))
    for reply in replies:
        for line in reply.lines:
            print(line)
    return 0 if replies else 1


async def _console(app: App) -> None:
    console = ConsoleTransport()
    await app.run([console])


async def _run(app: App, config: Config) -> int:
    await app.run(build_transports(config, app.store))
    return 0


if __name__ == "__main__":
    sys.exit(main())
