"""!whoami, !reload and !audit: how the bot sees you, and what admins can do."""

import datetime
import re

from infrabot.errors import CommandError
from infrabot.messages import Reply
from infrabot.plugin import Context, command, private

_COMMIT = re.compile(r"[0-9a-f]{4,40}")


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
    help="Reload the inventory (from git: its branch's newest commit, or the commit given) or "
    "the plugins; a broken inventory changes nothing.",
    usage="[plugins | COMMIT]",
    example="reload",
    admin_only=True,
)
async def reload(ctx: Context, args: str) -> list[Reply] | str:
    """Reload the inventory (at a commit, for a git inventory), or the plugins with
    ``!reload plugins``."""
    if ctx.reloads is None:
        raise CommandError("reloading is not available here")
    what = args.strip().lower()
    if what in ("plugins", "plugin"):
        result = await ctx.reloads.reload_plugins()
    elif what in ("", "inventory"):
        result = await ctx.reloads.reload_inventory()
    elif _COMMIT.fullmatch(what):
        result = await ctx.reloads.reload_inventory(what)
    else:
        raise CommandError(
            f"reload what? '{ctx.prefix}reload', '{ctx.prefix}reload COMMIT' or "
            f"'{ctx.prefix}reload plugins'"
        )
    answer = Reply(room=ctx.message.room, lines=(result.summary,), in_reply_to=ctx.message)
    if not result.problems:  # nothing more to tell than the one line
        return [answer]
    if ctx.message.room.private:
        return [answer, private(ctx, result.problems)]
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
