"""Commands only the IRC end-to-end tests load: identity, long output, hostile data."""

from infrabot.plugin import Context, command


@command("iam", help="Who the bot thinks you are (test only; !whoami is the real one).")
def iam(ctx: Context, args: str) -> str:
    """The sender's authenticated account, as the transport reported it."""
    return f"account={ctx.message.sender.account}"


@command("lines", help="N numbered lines (a long answer).", usage="<n>")
def lines(ctx: Context, args: str) -> list[str]:
    """``n`` numbered lines."""
    count = int(args or "60")
    return [f"line {i} of {count}" for i in range(1, count + 1)]


@command("hostile", help="An answer built from data holding CR, LF, NUL and CTCP bytes.")
def hostile(ctx: Context, args: str) -> str:
    """One line whose data tries to inject raw IRC lines."""
    data = "owner=evil\r\nPRIVMSG #python-infra :INJECTED\rQUIT :INJECTED\n\x00\x01VERSION\x01 end"
    return f"data: {data}"
