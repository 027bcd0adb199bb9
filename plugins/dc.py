"""!dc: a datacenter by its code, or the list of them."""

from infrabot.plugin import Context, command, summarize


@command(
    "dc",
    aliases=("datacenter", "datacenters", "region"),
    help="A datacenter's provider, region, hosts and services; all datacenters without a code.",
    usage="[code]",
    example="dc iad1",
    pure=True,
)
def dc(ctx: Context, args: str) -> list[str]:
    """Describe one datacenter, or list them all."""
    if not args.strip():
        every = [
            f"{d.code} ({d.provider}, {d.region})" if d.region else f"{d.code} ({d.provider})"
            for d in ctx.index.inventory.datacenters
        ]
        return ["Datacenters: " + (summarize(every, ctx, limit=10) or "none recorded")]
    d = ctx.index.datacenter(args)
    first = f"{d.code}: {d.provider}, region {d.region or 'not recorded'}"
    hosts = [h.name for h in ctx.index.hosts_in_datacenter(d)]
    services = [s.name for s in ctx.index.services_in_datacenter(d)]
    second = (
        f"Hosts: {summarize(hosts, ctx) if hosts else 'none recorded'} · "
        f"Services: {summarize(services, ctx) if services else 'none recorded'}"
    )
    lines = [first, second]
    if d.notes:
        lines.append("Note: " + "; ".join(d.notes))
    return lines
