"""!help: the commands, and how to use each."""

from infrabot.errors import CommandError
from infrabot.inventory.names import best_matches
from infrabot.plugin import Context, command


@command(
    "help",
    aliases=("commands",),
    help="List the commands, or show how to use one.",
    usage="[command]",
    example="help owner",
)
def help_(ctx: Context, args: str) -> list[str]:
    """List commands, or describe the one named in ``args``."""
    p = ctx.prefix
    topic = args.strip().lstrip(p).lower()
    visible = [c for c in ctx.commands if not c.admin_only or ctx.is_admin]
    if not topic:
        names = ", ".join(f"{p}{c.name}" for c in visible)
        return [f"Commands: {names}", f"{p}help <command> shows usage and an example"]
    for spec in ctx.commands:
        if topic in spec.names:
            usage = f"{p}{spec.name} {spec.usage}".strip()
            lines = [f"{usage}: {spec.help}"]
            extra = []
            if spec.example:
                extra.append(f"Example: {p}{spec.example}")
            if spec.aliases:
                extra.append("Aliases: " + ", ".join(f"{p}{a}" for a in spec.aliases))
            if spec.admin_only:
                extra.append("admins only")
            if extra:
                lines.append(" · ".join(extra))
            return lines
    hint = best_matches(topic, [n for c in ctx.commands for n in c.names], limit=1)
    suffix = f"; did you mean {p}{hint[0]}?" if hint else ""
    raise CommandError(f"no command '{topic[:30]}'{suffix}")
