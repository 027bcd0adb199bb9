"""Test-only commands that show what the bot believes about the asker."""

import asyncio

from infrabot.messages import Mention, Reply
from infrabot.plugin import Context, command


@command("iam", help="Who the bot thinks you are (test only).")
def iam(ctx: Context, args: str) -> str:
    """The asker's display name, authenticated account, and admin standing."""
    sender = ctx.message.sender
    admin = "yes" if ctx.is_admin else "no"
    return f"name={sender.name} account={sender.account} admin={admin}"


@command("sesame", help="An admin-only command.", admin_only=True)
def sesame(ctx: Context, args: str) -> str:
    """Answers admins only; the router refuses everyone else."""
    return "the vault is open"


@command("echo", help="Says the text back.")
def echo(ctx: Context, args: str) -> str:
    """Echo ``args``, to check that markup in user input is escaped."""
    return f"you said: {args}"


@command("hail", help="Greets the asker with a mention.")
def hail(ctx: Context, args: str) -> Reply:
    """A reply that mentions the asker by name, as the pager does."""
    sender = ctx.message.sender
    return Reply(
        room=ctx.message.room,
        lines=(f"hello {sender.name}, you are on call",),
        in_reply_to=ctx.message,
        mentions=(Mention(address=sender.address, name=sender.name),),
    )


@command("nap", help="Takes as many seconds as asked (at most 15) to answer (test only).")
async def nap(ctx: Context, args: str) -> str:
    """A slow command, to show that other rooms are answered meanwhile."""
    seconds = min(float(args or "1"), 15.0)
    await asyncio.sleep(seconds)
    return f"slept {seconds:g} s"
