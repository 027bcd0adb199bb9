"""The ``infrabot`` command: ``console``, ``query``, ``check``, ``schema`` and ``run``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from infrabot.app import App, build_transports
from infrabot.config import Config, load_config
from infrabot.errors import ConfigError, InventoryError
from infrabot.inventory.index import Index
from infrabot.inventory.load import load_inventory
from infrabot.inventory.model import Inventory
from infrabot.messages import IncomingMessage, Network, Room, Sender
from infrabot.store import Store
from infrabot.transports.console import ConsoleTransport

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    # The options are accepted before and after the subcommand; SUPPRESS keeps a subcommand
    # that does not repeat them from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--inventory",
        type=Path,
        default=argparse.SUPPRESS,
        help="inventory file (default: the shipped one)",
    )
    common.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="configuration file (YAML)"
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
    check = sub.add_parser("check", parents=[common], help="validate an inventory file")
    check.add_argument("file", nargs="?", type=Path, help="the file (default: the configured one)")
    sub.add_parser("schema", parents=[common], help="print the inventory's JSON Schema")
    sub.add_parser("run", parents=[common], help="connect to the configured networks and serve")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``infrabot`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(
            getattr(args, "config", None), inventory=getattr(args, "inventory", None)
        )
    except ConfigError as exc:
        print(f"infrabot: {exc}", file=sys.stderr)
        return 2
    quiet = args.command in ("console", "query", "check", "schema")
    logging.basicConfig(
        level=logging.WARNING if quiet else config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "schema":
        print(json.dumps(Inventory.model_json_schema(), indent=2))
        return 0
    if args.command == "check":
        return _check(args.file or config.inventory)
    # console and query keep their state in memory; a running bot keeps it on disk
    store = Store(config.store if args.command == "run" else ":memory:")
    try:
        app = App(config, store=store)
    except InventoryError as exc:
        _print_problems(exc)
        return 1
    if args.command == "query":
        return asyncio.run(_query(app, args.text, private=not args.channel))
    if args.command == "console":
        asyncio.run(_console(app))
        return 0
    try:
        return asyncio.run(_run(app, config))
    except KeyboardInterrupt:  # Ctrl-C before the bot had installed its own handler
        return 130


def _check(path: Path) -> int:
    try:
        inventory = load_inventory(path)
    except InventoryError as exc:
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
    transports = build_transports(config)
    if not transports:
        print(
            "infrabot: no network configured (add an 'irc' or 'matrix' section to the config); "
            "try 'infrabot console'",
            file=sys.stderr,
        )
        return 2
    await app.run(transports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
