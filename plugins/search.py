"""!search: find anything in the inventory by words, in every field that holds text."""

from infrabot.errors import CommandError
from infrabot.plugin import Context, command, summarize


@command(
    "search",
    aliases=("find", "grep"),
    help="Search every field of the inventory (names, aliases, domains, descriptions, hosting, "
    "config management, contacts, repositories, notes) and say where each match is.",
    usage="<words>",
    example="search chef",
    pure=True,
)
def search(ctx: Context, args: str) -> str:
    """List what matches the most words of ``args``, best first, with where it matched."""
    words = args.strip()
    if not words:
        raise CommandError(f"usage: {ctx.prefix}search <words> · e.g. {ctx.prefix}search chef")
    results = ctx.index.search(words)
    if not results.ready:
        return "the search index of the new inventory is still being built; ask again shortly"
    if not results.hits:
        hint = ctx.index.services.suggest(words)
        suffix = f"; did you mean {hint.name}?" if hint else ""
        return f"nothing matches '{words[:40]}'{suffix}"
    found = [f"{hit.kind} {hit.name} ({', '.join(hit.fields[:3])})" for hit in results.hits]
    total = results.total
    count = f"{total} match{'es' if total != 1 else ''}"
    if len(found) < total:
        found.append(f"… and {total - len(found)} more")
    return f"{count}: " + summarize(found, ctx, limit=6)
