"""The public plugin API: the ``@command`` decorator and the ``Context`` a handler receives.

A plugin is a plain module::

    from infrabot.plugin import Context, command

    @command("owner", aliases=("owners",), help="Who owns a service", usage="<service>",
             example="owner pypi")
    def owner(ctx: Context, args: str) -> str:
        service = ctx.index.service(args)   # raises CommandError with suggestions
        return f"{service.name}: ..."

The decorator only attaches metadata; the loader collects decorated functions per module, so a
plugin can be reloaded or removed as a whole. Handlers may be plain or ``async`` functions and
return a string, a sequence of lines, a :class:`~infrabot.messages.Reply`, or None.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

from infrabot.errors import CommandError
from infrabot.messages import IncomingMessage, Reply, Room
from infrabot.text import fit_list

if TYPE_CHECKING:
    from infrabot.inventory.index import Index
    from infrabot.inventory.source import Serving
    from infrabot.paging.pager import Pager
    from infrabot.store import AuditEntry

__all__ = [
    "COMMAND_NAME",
    "AuditTrail",
    "CommandError",
    "CommandSpec",
    "Context",
    "Handler",
    "HandlerResult",
    "ReloadOutcome",
    "Reloads",
    "command",
    "private",
    "summarize",
]

HandlerResult: TypeAlias = str | Sequence[str] | Reply | Sequence[Reply] | None
Handler: TypeAlias = Callable[["Context", str], HandlerResult | Awaitable[HandlerResult]]

_SPEC_ATTR = "__infrabot_command__"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What a plugin declares about one command."""

    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    help: str = ""
    usage: str = ""
    example: str = ""
    admin_only: bool = False
    pure: bool = False
    plugin: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The command's name followed by its aliases."""
        return (self.name, *self.aliases)


class ReloadOutcome(Protocol):
    """How a reload ended: a one-line summary, and every problem when it failed."""

    @property
    def ok(self) -> bool: ...

    @property
    def summary(self) -> str: ...

    @property
    def problems(self) -> tuple[str, ...]: ...


class Reloads(Protocol):
    """Reloading the inventory or the plugins; the running ones stay unless the new are whole."""

    async def reload_inventory(self, revision: str | None = None) -> ReloadOutcome:
        """Load and validate the inventory again (at ``revision``, a commit of a git
        inventory); install it only if it is valid."""
        ...

    def serving(self) -> Serving:
        """What inventory is answering now."""
        ...

    async def reload_plugins(self) -> ReloadOutcome:
        """Import every plugin again; install them only if all of them load."""
        ...


class AuditTrail(Protocol):
    """The record of admin actions and refused attempts."""

    def recent_audit(self, limit: int = 10) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first."""
        ...


@dataclass(slots=True)
class Context:
    """Everything a handler may use to answer one message.

    ``full`` is true where long answers may be given whole (private conversations and the
    console); in a channel, handlers summarize and point to a private message.
    ``reloads``, ``audit`` and ``pager`` are there when the bot runs with them (not in a
    one-off query).
    """

    message: IncomingMessage
    index: Index
    prefix: str
    full: bool
    commands: Sequence[CommandSpec] = ()
    is_admin: bool = False
    reloads: Reloads | None = None
    audit: AuditTrail | None = None
    pager: Pager | None = None

    def private_room(self) -> Room:
        """The private conversation with the sender, on the network they wrote from."""
        sender = self.message.sender
        return Room(network=sender.network, id=sender.address, private=True)

    @property
    def bot_name(self) -> str:
        """The bot's name on the network the message came from."""
        return self.message.bot_name


COMMAND_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
"""What a command's name (or alias) is: one word that can be typed after the prefix."""


def command(
    name: str,
    *,
    aliases: Sequence[str] = (),
    help: str = "",
    usage: str = "",
    example: str = "",
    admin_only: bool = False,
    pure: bool = False,
) -> Callable[[Handler], Handler]:
    """Declare ``name`` as a chat command handled by the decorated function.

    ``pure`` promises that the answer depends only on the inventory, the words typed and
    whether the conversation is private: the router then reuses answers until the inventory
    changes. A name or alias is one word (:data:`COMMAND_NAME`: what people can type after
    the prefix); anything else is refused with :class:`ValueError`.
    """
    for word in (name, *aliases):
        if not COMMAND_NAME.fullmatch(word.lower()):
            raise ValueError(
                f"command name {word!r} is not one word: a letter, then up to 31 letters, "
                "digits, '-' or '_'"
            )

    def attach(func: Handler) -> Handler:
        spec = CommandSpec(
            name=name.lower(),
            handler=func,
            aliases=tuple(a.lower() for a in aliases),
            help=help,
            usage=usage,
            example=example,
            admin_only=admin_only,
            pure=pure,
        )
        setattr(func, _SPEC_ATTR, spec)
        return func

    return attach


def private(ctx: Context, lines: Sequence[str]) -> Reply:
    """A reply with ``lines`` sent privately to the sender."""
    return Reply(room=ctx.private_room(), lines=tuple(lines), in_reply_to=ctx.message)


def spec_of(obj: object) -> CommandSpec | None:
    """The command declared on ``obj`` by :func:`command`, if any."""
    spec = getattr(obj, _SPEC_ATTR, None)
    return spec if isinstance(spec, CommandSpec) else None


def summarize(items: Sequence[str], ctx: Context, limit: int = 6) -> str:
    """Join ``items`` for a reply: all of them where ``ctx.full``, else the first ``limit``."""
    if ctx.full or len(items) <= limit:
        # even in private, one line holds only so much: say how many did not fit
        fits = fit_list(items)
        shown = ", ".join(items[:fits])
        return shown if fits == len(items) else f"{shown} … and {len(items) - fits} more"
    shown = ", ".join(items[:limit])
    return f"{shown} … and {len(items) - limit} more (ask me in private for all)"
