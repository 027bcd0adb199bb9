"""!search: find anything in the inventory by words."""

from infrabot.errors import CommandError
from infrabot.plugin import Context, command, summarize


@command(
    "search",
    aliases=("find", "grep"),
    help="Search names, aliases, domains and descriptions across the whole inventory.",
    usage="<words>",
    example="search mail",
    pure=True,
)
def search(ctx: Context, args: str) -> str:
    """List what matches every word of ``args``."""
    words = args.strip()
    if not words:
        raise CommandError("search for what? Give me a word or two.")
    hits = ctx.index.search(words)
    if not hits:
        hint = ctx.index.services.suggest(words)
        suffix = f"; did you mean {hint.name}?" if hint else ""
        return f"nothing matches '{words[:40]}'{suffix}"
    found = [f"{hit.kind} {hit.name}" for hit in hits]
    count = f"{len(hits)} match{'es' if len(hits) != 1 else ''}"
    return f"{count}: " + summarize(found, ctx, limit=8)
