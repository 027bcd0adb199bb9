"""!service: everything recorded about one service."""

from infrabot.describe import (
    NOT_RECORDED,
    contact_text,
    hosting_text,
    owner_names,
    service_label,
)
from infrabot.errors import CommandError
from infrabot.lookups import needs_name, other_kind
from infrabot.plugin import Context, command, summarize


@command(
    "service",
    aliases=("svc", "info"),
    help="Everything recorded about a service: hosting, owners, contacts, repositories, notes.",
    usage="<service>",
    example="service docs",
    pure=True,
)
def service(ctx: Context, args: str) -> list[str]:
    """Describe the named service in up to three lines."""
    query = needs_name(ctx, args, "service")
    try:
        s = ctx.index.service(query)
    except CommandError:
        other = other_kind(ctx, query, "service")
        if other is None:
            raise
        return other
    first = service_label(s)
    if s.description:
        first += f": {s.description}"
    if s.part_of:
        first += f" (part of {s.part_of})"
    hosting = "; ".join(hosting_text(ctx.index, h) for h in s.hosting) or NOT_RECORDED
    owners = owner_names(ctx.index, s)
    second = f"Hosting: {hosting} · Owners: {', '.join(owners) or NOT_RECORDED}"
    extra = []
    if s.contacts:
        extra.append("Contacts: " + ", ".join(contact_text(c) for c in s.contacts))
    if s.repositories:
        extra.append("Repos: " + ", ".join(s.repositories))
    parts = ctx.index.parts_of(s)
    if parts:
        extra.append("Includes: " + summarize([p.name for p in parts], ctx))
    if s.notes:
        extra.append("Notes: " + "; ".join(s.notes))
    return [first, second, " · ".join(extra)] if extra else [first, second]
