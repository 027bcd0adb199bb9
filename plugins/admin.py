"""!whoami, !reload and !audit: how the bot sees you, and what admins can do."""

import datetime

from infrabot.errors import CommandError
from infrabot.messages import Reply
from infrabot.plugin import Context, command, private


@command(
    "whoami",
    help="How the bot sees you: network, authenticated account, and whether you are an admin.",
    example="whoami",
)
def whoami(ctx: Context, args: str) -> str:
    """Tell the sender what identity the network vouches for."""
    sender = ctx.message.sender
    account = f"account {sender.account}" if sender.account else "not identified"
    admin = "an admin" if ctx.is_admin else "not an admin"
    return f"{sender.name} on {sender.network}: {account}, {admin}"


@command(
    "reload",
    help="Reload the inventory (or the plugins) from disk; a broken file changes nothing.",
    usage="[plugins]",
    example="reload",
    admin_only=True,
)
async def reload(ctx: Context, args: str) -> list[Reply] | str:
    """Reload the inventory, or the plugins with ``!reload plugins``."""
    if ctx.reloads is None:
        raise CommandError("reloading is not available here")
    what = args.strip().lower()
    if what in ("plugins", "plugin"):
        result = await ctx.reloads.reload_plugins()
    elif what in ("", "inventory"):
        result = await ctx.reloads.reload_inventory()
    else:
        raise CommandError(f"reload what? '{ctx.prefix}reload' or '{ctx.prefix}reload plugins'")
    answer = Reply(room=ctx.message.room, lines=(result.summary,), in_reply_to=ctx.message)
    if result.ok or ctx.message.room.private:
        return [answer] if result.ok else [answer, private(ctx, result.problems)]
    pointer = f"{result.summary} (full list sent to you privately)"
    return [
        Reply(room=ctx.message.room, lines=(pointer,), in_reply_to=ctx.message),
        private(ctx, result.problems),
    ]


@command(
    "audit",
    help="The latest admin actions and refused attempts.",
    usage="[N]",
    example="audit 5",
    admin_only=True,
)
def audit(ctx: Context, args: str) -> list[str]:
    """Show the newest ``N`` audit entries (default 5, at most 50)."""
    if ctx.audit is None:
        raise CommandError("there is no audit trail here")
    text = args.strip() or "5"
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise CommandError("give a number from 1 to 50")
    entries = ctx.audit.recent_audit(int(text))
    if not entries:
        return ["no admin actions recorded yet"]
    lines = []
    for e in entries:
        when = datetime.datetime.fromtimestamp(e.at, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        who = f"{e.name} ({e.account or 'not identified'}) on {e.network}"
        verdict = "" if e.allowed else "REFUSED "
        lines.append(f"{when} {who}: {e.command} → {verdict}{e.result}")
    return lines
