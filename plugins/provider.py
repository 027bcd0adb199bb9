"""!provider: what a provider does for us, its datacenters, hosts and services."""

from infrabot.describe import NOT_RECORDED
from infrabot.errors import CommandError
from infrabot.lookups import other_kind
from infrabot.plugin import Context, command, summarize

_USES = {
    "cloud": "cloud hosting",
    "vm-hosting": "VM hosting",
    "physical-hosting": "physical hosting",
    "cdn": "CDN",
    "dns": "DNS hosting",
    "registrar": "domain registrar",
    "monitoring": "monitoring",
}


@command(
    "provider",
    aliases=("providers", "vendor"),
    help="What a provider does for us, with its datacenters, hosts and services.",
    usage="<provider>",
    example="provider rackspace",
    pure=True,
)
def provider(ctx: Context, args: str) -> list[str]:
    """Describe the named provider, or list every provider when no name is given."""
    if not args.strip():
        every = [p.name for p in ctx.index.inventory.providers]
        return ["Providers: " + summarize(every, ctx, limit=12)]
    try:
        p = ctx.index.provider(args)
    except CommandError:
        other = other_kind(ctx, args.strip(), "provider")
        if other is None:
            raise
        return other
    uses = ", ".join(_USES[u] for u in p.uses)
    first = f"{p.name}: {uses or 'what it does is ' + NOT_RECORDED}."
    if p.description:
        first += f" {p.description}"
    if p.config_management:
        cm = p.config_management
        repo = f" ({cm.repository} repository)" if cm.repository else ""
        first += f" Config management: {cm.tool}{repo}."
    dcs = [f"{d.code} ({d.region})" if d.region else d.code for d in ctx.index.datacenters_of(p)]
    hosts = [h.name for h in ctx.index.hosts_on_provider(p)]
    services = [s.name for s in ctx.index.services_on_provider(p)]
    second = (
        f"Datacenters: {', '.join(dcs) or 'none recorded'} · "
        f"Hosts: {summarize(hosts, ctx) if hosts else 'none recorded'}"
    )
    third = f"Services: {summarize(services, ctx) if services else 'none recorded'}"
    lines = [first, second, third]
    if p.notes:
        lines[0] += " Note: " + "; ".join(p.notes)
    return lines
