"""!host: where a machine is, what it is, and what runs on it."""

from infrabot.describe import NOT_RECORDED
from infrabot.errors import CommandError
from infrabot.lookups import needs_name, other_kind
from infrabot.plugin import Context, command, summarize


@command(
    "host",
    aliases=("server", "machine"),
    help="Provider, datacenter, kind, status and what runs on a host (a service's name gives "
    "where the service runs).",
    usage="<host>",
    example="host dinsdale",
    pure=True,
)
def host(ctx: Context, args: str) -> list[str]:
    """Describe the named host."""
    query = needs_name(ctx, args, "host")
    try:
        h = ctx.index.host(query)
    except CommandError:
        other = other_kind(ctx, query, "host")
        if other is None:
            raise
        return other
    kind = {"physical": "physical server", "vm": "VM"}.get(h.kind or "", "kind not recorded")
    facts = [
        kind,
        f"provider {h.provider or NOT_RECORDED}",
        f"datacenter {h.datacenter or NOT_RECORDED}",
        f"status {h.status}",
    ]
    if h.owner:
        facts.append(f"owned by {h.owner}")
    first = f"{h.name}: " + ", ".join(facts)
    if h.description:
        first += f". {h.description}"
    runs = [s.name for s in ctx.index.services_on_host(h)] + list(h.runs)
    lines = [first, "Runs: " + (summarize(runs, ctx) if runs else NOT_RECORDED)]
    if h.notes:
        lines.append("Note: " + "; ".join(h.notes))
    return lines
