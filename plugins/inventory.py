"""!inventory: which inventory is answering, from where, since when, and how much of it."""

import datetime

from infrabot.errors import CommandError
from infrabot.plugin import Context, command

_KINDS = (
    ("services", "service", "services"),
    ("hosts", "host", "hosts"),
    ("providers", "provider", "providers"),
    ("datacenters", "datacenter", "datacenters"),
    ("people", "person", "people"),
    ("groups", "group", "groups"),
)


@command(
    "inventory",
    help="Which inventory is answering: its commit, since when, from where, parts and counts.",
    example="inventory",
)
def inventory(ctx: Context, args: str) -> str:
    """Say what the bot serves now."""
    if ctx.reloads is None:
        raise CommandError("there is no inventory source here")
    serving = ctx.reloads.serving()
    when = datetime.datetime.fromtimestamp(serving.at, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    what = serving.origin
    if serving.revision is not None:
        rev = serving.revision
        what = f'{rev.short} "{rev.subject}" by {rev.author}, from {serving.origin}'
    parts = f"{serving.parts} parts: " if serving.parts else ""
    counted = ", ".join(
        f"{serving.counts.get(key, 0)} {one if serving.counts.get(key, 0) == 1 else many}"
        for key, one, many in _KINDS
    )
    return f"serving {what}, since {when}; {parts}{counted}"
