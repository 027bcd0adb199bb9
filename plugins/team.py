"""!team and !who: the infrastructure team (or any group), and what is known of a person."""

from infrabot.describe import handles_text
from infrabot.errors import CommandError
from infrabot.inventory.model import Group
from infrabot.lookups import needs_name, other_kind
from infrabot.plugin import Context, command, summarize


@command(
    "team",
    aliases=("group", "list"),
    help="The infrastructure team with roles, mailing list and channels; or any named group.",
    usage="[group]",
    example="team",
    pure=True,
)
def team(ctx: Context, args: str) -> list[str]:
    """Describe the infrastructure team, or the named group."""
    if args.strip():
        try:
            group: Group = ctx.index.group(args)
        except CommandError:
            other = other_kind(ctx, args.strip(), "group")
            if other is None:
                raise
            return other
    else:
        team_group = ctx.index.team
        if team_group is None:
            raise CommandError("the inventory does not say which group is the team")
        group = team_group
    members = [f"{m.person} ({m.role})" if m.role else m.person for m in group.members]
    if group.lead and not any(m.person == group.lead for m in group.members):
        members.insert(0, f"{group.lead} (lead)")
    first = f"{group.name}: " + (
        summarize(members, ctx, limit=10) if members else "members not recorded"
    )
    ways = []
    if group.mailing_list:
        ways.append(f"Mailing list: {group.mailing_list}")
    if group.channels:
        ways.append(f"Channels: {', '.join(group.channels)}")
    lines = [first]
    if ways:
        lines.append(" · ".join(ways))
    if group.description:
        lines.append(group.description)
    return lines


@command(
    "who",
    aliases=("person", "whois"),
    help="A person's roles, groups, the services they own, and their handles.",
    usage="<person>",
    example="who donald stufft",
    pure=True,
)
def who(ctx: Context, args: str) -> list[str]:
    """Describe the named person."""
    query = needs_name(ctx, args, "who")
    try:
        person = ctx.index.person(query)
    except CommandError:
        other = other_kind(ctx, query, "person")
        if other is None:
            raise
        return other
    roles = ", ".join(person.roles) or "roles not recorded"
    groups = [g.name for g in ctx.index.groups_of(person)]
    first = f"{person.name}: {roles}"
    if groups:
        first += f" · member of {', '.join(groups)}"
    owned = [s.name for s in ctx.index.services_owned_by(person)]
    handles = handles_text(person) or "no handles recorded"
    second = f"Owns: {summarize(owned, ctx) if owned else 'nothing recorded'} · Reach: {handles}"
    lines = [first, second]
    if person.notes:
        lines.append("Note: " + "; ".join(person.notes))
    return lines
