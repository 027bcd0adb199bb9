"""!page, !ack, !resolve, !pages and !page-info: reach the people who can fix it."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from infrabot.errors import CommandError, PagingError
from infrabot.messages import Reply
from infrabot.paging import Pager
from infrabot.plugin import Context, command

T = TypeVar("T")


def _pager(ctx: Context) -> Pager:
    if ctx.pager is None:
        raise CommandError("paging is not available here (it needs the bot's store)")
    return ctx.pager


async def _user_facing(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except PagingError as exc:
        raise CommandError(str(exc)) from None


@command(
    "page",
    aliases=("alert",),
    help="Page a service's maintainers (or a person, or a group) on every network; "
    "escalates until someone acknowledges.",
    usage="<service|person|group> <what is wrong>",
    example="page pypi uploads failing",
)
async def page(ctx: Context, args: str) -> list[Reply]:
    """Create a page, or confirm one that reaches many people (``!page confirm``)."""
    pager = _pager(ctx)
    if args.strip().lower() == "confirm":
        return await _user_facing(lambda: pager.confirm(ctx.message))
    return await _user_facing(lambda: pager.page(ctx.message, args))


@command(
    "ack",
    aliases=("acknowledge",),
    help="Acknowledge a page: stops its escalation.",
    usage="<page id>",
    example="ack k7m2",
)
async def ack(ctx: Context, args: str) -> str:
    """Acknowledge the page named in ``args``."""
    pager = _pager(ctx)
    if not args.strip():
        raise CommandError("acknowledge which page? !pages lists them")
    return await _user_facing(
        lambda: pager.ack(ctx.message, args.split()[0], is_admin=ctx.is_admin)
    )


@command(
    "resolve",
    help="Close a page, with an optional note.",
    usage="<page id> [note]",
    example="resolve k7m2 fixed by restarting the workers",
)
async def resolve(ctx: Context, args: str) -> str:
    """Resolve the page named first in ``args``; the rest is a note."""
    pager = _pager(ctx)
    page_id, _, note = args.strip().partition(" ")
    if not page_id:
        raise CommandError("resolve which page? !pages lists them")
    return await _user_facing(
        lambda: pager.resolve(ctx.message, page_id, note.strip(), is_admin=ctx.is_admin)
    )


@command("pages", help="The open pages.", example="pages")
def pages(ctx: Context, args: str) -> list[str]:
    """List open and acknowledged pages."""
    return _pager(ctx).listing()


@command(
    "page-info",
    aliases=("pageinfo",),
    help="A page and its history.",
    usage="<page id>",
    example="page-info k7m2",
)
def page_info(ctx: Context, args: str) -> list[str]:
    """Show one page and every event in its history."""
    if not args.strip():
        raise CommandError("which page? !pages lists them")
    try:
        return _pager(ctx).info(args.split()[0])
    except PagingError as exc:
        raise CommandError(str(exc)) from None
