"""!owner: who maintains a service, and how to reach them."""

from infrabot.describe import and_join, owner_names, reach_line, service_label
from infrabot.errors import CommandError
from infrabot.inventory.model import Group, Host
from infrabot.lookups import needs_name, other_kind
from infrabot.plugin import Context, command, summarize


@command(
    "owner",
    aliases=("owners", "maintainer", "maintainers"),
    help="Who maintains a service, and how to reach them.",
    usage="<service>",
    example="owner pypi",
    pure=True,
)
def owner(ctx: Context, args: str) -> list[str]:
    """Answer with the owners of the named service and the ways to reach them."""
    query = needs_name(ctx, args, "owner")
    try:
        service = ctx.index.service(query)
    except CommandError:
        host = ctx.index.hosts.resolve(query, suggest=False).found
        if host is not None:
            return _host_owners(ctx, host)
        other = other_kind(ctx, query, "service")
        if other is None:
            raise
        return other
    shown = []
    for name in owner_names(ctx.index, service):
        found = ctx.index.owner(name)
        is_list = isinstance(found, Group) and found.kind == "list"
        shown.append(f"{name} (list)" if is_list else name)
    label = service_label(service)
    if shown:
        first = f"{label} is maintained by {and_join(shown)}"
    else:
        first = f"{label}: owners not recorded"
    return [first, reach_line(ctx.index, service)]


def _host_owners(ctx: Context, host: Host) -> list[str]:
    """Who owns a host, and who owns what runs there."""
    first = f"{host.name} is a host, not a service; owned by {host.owner or 'nobody recorded'}"
    runs = []
    for service in ctx.index.services_on_host(host):
        owners = owner_names(ctx.index, service)
        runs.append(f"{service.name} ({', '.join(owners) or 'owners not recorded'})")
    runs += host.runs
    return [first, "Runs: " + (summarize(runs, ctx) if runs else "not recorded")]
