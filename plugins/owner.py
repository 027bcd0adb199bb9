"""!owner: who maintains a service, and how to reach them."""

from infrabot.describe import and_join, owner_names, reach_line, service_label
from infrabot.inventory.model import Group
from infrabot.plugin import Context, command


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
    service = ctx.index.service(args)
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
