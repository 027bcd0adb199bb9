"""!page, !ack, !resolve, !pages and !page-info: reach the people who can fix it.

The paging service decides and answers with facts; every answer a person reads here is
worded from them, with the configured prefix.
"""

import time

from infrabot.errors import CommandError
from infrabot.messages import Reply
from infrabot.paging import Pager
from infrabot.paging.facts import (
    Closed,
    Created,
    Merged,
    PageNotFound,
    PageOutcome,
    ReasonMissing,
)
from infrabot.paging.notices import ago
from infrabot.plugin import Context, command


def _pager(ctx: Context) -> Pager:
    if ctx.pager is None:
        raise CommandError("paging is not available here (it needs the bot's store)")
    return ctx.pager


def _not_found(ctx: Context, exc: PageNotFound) -> CommandError:
    return CommandError(f"no page '{exc.page_id}'; {ctx.prefix}pages lists the open ones")


def _outcome(ctx: Context, outcome: PageOutcome) -> list[Reply]:
    if isinstance(outcome, Created):
        return []  # the pager has sent the highlight, as the answer, before the private texts
    if isinstance(outcome, Merged):
        page = outcome.page
        line = (
            f"{page.target} is already paged as {page.id} ({ago(outcome.age)}, {page.state}); "
            "added your note to it"
        )
    else:
        minutes = outcome.within / 60
        within = f"{minutes:g} minutes" if minutes >= 1 else f"{outcome.within:g} seconds"
        line = (
            f"this would page {outcome.count} people ({outcome.label}); say "
            f"{ctx.prefix}page confirm within {within} to go ahead"
        )
    return [Reply(room=ctx.message.room, lines=(line,), in_reply_to=ctx.message)]


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
    words = args.split()
    if not words:
        raise CommandError(f"page whom? {ctx.prefix}page <service|person|group> <what is wrong>")
    if len(words) == 1 and words[0].lower() == "confirm":
        return _outcome(ctx, await pager.confirm(ctx.message))
    try:
        return _outcome(ctx, await pager.page(ctx.message, words))
    except ReasonMissing as exc:
        raise CommandError(
            f"what is wrong with {exc.target}? {ctx.prefix}page {exc.typed} <reason>"
        ) from None


def _closed(closed: Closed, done: str) -> str:
    page = closed.page
    if closed.already:
        return f"{page.id} is already {page.state}"
    return f"{done} {page.id} ({page.target})"


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
        raise CommandError(f"acknowledge which page? {ctx.prefix}pages lists them")
    try:
        closed = await pager.ack(ctx.message, args.split()[0], is_admin=ctx.is_admin)
    except PageNotFound as exc:
        raise _not_found(ctx, exc) from None
    answer = _closed(closed, "acknowledged")
    return answer if closed.already else f"{answer}; escalation stopped"


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
        raise CommandError(f"resolve which page? {ctx.prefix}pages lists them")
    try:
        closed = await pager.resolve(ctx.message, page_id, note.strip(), is_admin=ctx.is_admin)
    except PageNotFound as exc:
        raise _not_found(ctx, exc) from None
    return _closed(closed, "resolved")


@command("pages", help="The open pages.", example="pages")
def pages(ctx: Context, args: str) -> list[str]:
    """List open and acknowledged pages."""
    pager = _pager(ctx)
    unclosed = pager.unclosed()
    if not unclosed:
        return ["no open pages"]
    now = pager.clock()
    return [
        f"{p.id} {p.target}: {p.reason} · {p.state}, step {p.level}, {ago(now - p.created_at)}"
        for p in unclosed
    ]


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
        raise CommandError(f"which page? {ctx.prefix}pages lists them")
    try:
        found, events = _pager(ctx).history(args.split()[0])
    except PageNotFound as exc:
        raise _not_found(ctx, exc) from None
    head = (
        f"{found.id} {found.target} ({found.target_kind}): {found.reason} · {found.state} · "
        f"asked by {found.requester} in {found.origin_room}"
    )
    stamps = (time.strftime("%H:%M:%S", time.gmtime(event.at)) for event in events)
    return [head, *(f"{at} {e.kind}: {e.detail}" for at, e in zip(stamps, events, strict=True))]
