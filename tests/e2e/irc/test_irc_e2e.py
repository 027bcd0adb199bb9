"""infrabot against a real InspIRCd with Atheme services (see conftest.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from irc_e2e_bot import ALICE, BOT_ACCOUNT, CHANNEL, BotFactory
from irc_e2e_client import IrcClient, from_bot
from irc_e2e_servers import IrcServers

from infrabot.config import RateLimitConfig

pytestmark = pytest.mark.e2e

SRC = Path(__file__).resolve().parents[3] / "src"
OWNER_PYPI = "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III"


def _bot_says(client: IrcClient, prefix: str, target: str = CHANNEL):  # type: ignore[no-untyped-def]
    return from_bot(target, prefix)


async def test_owner_pypi_answered_in_channel(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    bot, user = await asyncio.gather(start_bot(irc_servers.port), clients("bob", irc_servers.port))
    await user.join(CHANNEL)
    user.say(CHANNEL, "!owner pypi")
    line = await user.wait_for(_bot_says(user, "bob: "))
    assert line.text.startswith(f"bob: {OWNER_PYPI}")
    second = await user.wait_for(_bot_says(user, "bob: Reach:"))
    assert "infrastructure-staff@python.org" in second.text
    assert bot.transport.connections == 1


async def test_bot_logs_in_with_sasl(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    bot, user = await asyncio.gather(
        start_bot(irc_servers.port), clients("carol", irc_servers.port)
    )
    assert bot.transport.account == "infrabot"
    # The server vouches for it too: WHOIS shows the account (330).
    user.send("WHOIS infrabot")
    line = await user.wait_for(lambda ln: ln.command in ("330", "318"))
    assert line.command == "330"
    assert line.params[1:3] == ["infrabot", "infrabot"]


async def test_account_seen_for_logged_in_user_and_none_for_impostor(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    _bot, alice = await asyncio.gather(
        start_bot(irc_servers.port), clients("alice", irc_servers.port, sasl=ALICE)
    )
    await alice.join(CHANNEL)
    alice.say(CHANNEL, "!iam")
    assert (await alice.wait_for(_bot_says(alice, "alice: "))).text == "alice: account=alice"
    alice.say("infrabot", "iam")
    line = await alice.wait_for(_bot_says(alice, "account=", target="alice"))
    assert line.text == "account=alice"
    await alice.close()

    impostor = await clients("alice", irc_servers.port)
    await impostor.join(CHANNEL)
    impostor.say(CHANNEL, "!iam")
    assert (await impostor.wait_for(_bot_says(impostor, "alice: "))).text == "alice: account=None"
    impostor.say("infrabot", "iam")
    line = await impostor.wait_for(_bot_says(impostor, "account=", target="alice"))
    assert line.text == "account=None"


async def test_no_raw_line_injected_from_hostile_data(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    bot, user, watcher = await asyncio.gather(
        start_bot(irc_servers.port),
        clients("dave", irc_servers.port),
        clients("watcher", irc_servers.port),
    )
    await asyncio.gather(user.join(CHANNEL), watcher.join(CHANNEL))
    user.say(CHANNEL, "!hostile")
    await user.wait_for(_bot_says(user, "dave: "))
    user.say(CHANNEL, "!owner pypi")  # a later answer proves the bot is still there
    await user.wait_for(_bot_says(user, f"dave: {OWNER_PYPI}"))
    from_bot = [ln for ln in watcher.lines if ln.nick == "infrabot"]
    assert from_bot, "the watcher saw nothing from the bot"
    for line in from_bot:
        assert line.command in ("PRIVMSG", "JOIN", "MODE"), line.raw
        assert "\x00" not in line.raw and "\x01" not in line.raw
        if line.command == "PRIVMSG":
            assert line.text.startswith("dave: "), line.raw
    assert not any(ln.text == "INJECTED" for ln in watcher.lines)
    assert bot.transport.connections == 1


async def test_tls_with_self_signed_certificate(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    _bot, user = await asyncio.gather(
        start_bot(irc_servers.tls_port, tls=True, tls_ca_file=irc_servers.cert, nick="infrabot"),
        clients("erin", irc_servers.port),
    )
    await user.join(CHANNEL)
    user.send("WHOIS infrabot")
    secure = await user.wait_for(lambda ln: ln.command in ("671", "318"))
    assert secure.command == "671", "the server should see the bot on a TLS connection"
    user.say(CHANNEL, "!owner pypi")
    await user.wait_for(_bot_says(user, f"erin: {OWNER_PYPI}"))


async def test_tls_refuses_unverified_certificate(
    irc_servers: IrcServers, start_bot: BotFactory
) -> None:
    bot = await start_bot(irc_servers.tls_port, wait=False, tls=True, nick="infrabot_v")
    await asyncio.sleep(1.5)
    assert not bot.transport.registered.is_set()
    assert bot.transport.connections == 0


async def test_comes_back_after_five_server_restarts(
    own_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    from irc_e2e_client import register_account

    register_account(own_servers.port, *BOT_ACCOUNT)
    bot = await start_bot(own_servers.port)
    for round_ in range(1, 6):
        await asyncio.to_thread(own_servers.restart_ircd)
        user = await clients(f"user{round_}", own_servers.port)
        await bot.in_channel(within=30)
        assert bot.transport.connections == round_ + 1
        await user.join(CHANNEL)
        user.say(CHANNEL, "!owner pypi")
        await user.wait_for(_bot_says(user, f"user{round_}: {OWNER_PYPI}"), within=15)
        # Logged in again too: at once with SASL, or as soon as the services relink.
        async with asyncio.timeout(10):
            while bot.transport.account != "infrabot":
                await asyncio.sleep(0.05)
        mark = len(user.lines)
        user.send("WHOIS infrabot")
        whois = await user.wait_for(lambda ln: ln.command in ("330", "318"), start=mark)
        assert whois.command == "330"
        await user.close()


async def test_default_flood_limits_long_answer_and_twenty_users(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    """InspIRCd's default flood settings, the bot's default flood control: no kick, all answered."""
    # The bot keeps its default per-user limit here; only the bot's port has default limits.
    bot, observer, big, *users = await asyncio.gather(
        start_bot(
            irc_servers.flood_port, nick="infrabot", config={"rate_limit": RateLimitConfig()}
        ),
        clients("observer", irc_servers.port),
        clients("biguser", irc_servers.port),
        *(clients(f"asker{i}", irc_servers.port) for i in range(20)),
    )
    await asyncio.gather(*(c.join(CHANNEL) for c in (observer, *users)))
    # 30 lines: long enough that every asker's answer goes out before its end (the fair
    # queue), short enough at the server's default pace (the bench's flood row runs longer)
    big.say("infrabot", "lines 30")
    for user in users:
        user.say(CHANNEL, "!owner pypi")
    answered = await asyncio.gather(
        *(u.wait_for(_bot_says(u, f"{u.nick}: {OWNER_PYPI}"), within=150) for u in users)
    )
    assert len(answered) == 20
    # Fair queuing: every asker is answered while the long answer is still going out.
    long_so_far = len(big.messages_from("infrabot", "biguser"))
    assert long_so_far < 30
    await big.wait_for(_bot_says(big, "line 30 of 30", target="biguser"), within=150)
    got = [ln.text for ln in big.messages_from("infrabot", "biguser")]
    assert got == [f"line {i} of 30" for i in range(1, 31)]
    assert bot.transport.connections == 1
    assert not any(
        ln.command in ("QUIT", "KICK") and "infrabot" in (ln.nick, *ln.params)
        for ln in observer.lines
    )


async def test_rejoins_after_kick_and_answers_ctcp(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    op = await clients("chanop", irc_servers.port)
    await op.join("#kicktest")  # first in: the server makes them channel operator
    bot = await start_bot(
        irc_servers.port, wait=False, channels=["#kicktest"], rejoin_delay=0.2, nick="infrabot"
    )
    await bot.in_channel("#kicktest")
    mark = len(op.lines)
    op.send("KICK #kicktest infrabot :testing rejoin")
    await op.wait_for(lambda ln: ln.command == "KICK", start=mark)
    await op.wait_for(lambda ln: ln.command == "JOIN" and ln.nick == "infrabot", start=mark)
    op.say("infrabot", "\x01VERSION\x01")
    version = await op.wait_for(lambda ln: ln.command == "NOTICE" and "VERSION" in ln.text)
    assert version.text == "\x01VERSION infrabot\x01"
    op.say("infrabot", "\x01PING 424242\x01")
    ping = await op.wait_for(lambda ln: ln.command == "NOTICE" and "PING" in ln.text)
    assert ping.text == "\x01PING 424242\x01"


async def test_alternate_nick_then_regains_main_nick(
    irc_servers: IrcServers, start_bot: BotFactory, clients
) -> None:
    holder = await clients("infrabot", irc_servers.port)
    bot = await start_bot(irc_servers.port, regain_nick_interval=0.3)
    assert bot.transport.nick == "infrabot_"
    await holder.close()
    async with asyncio.timeout(10):
        while bot.transport.nick != "infrabot":
            await asyncio.sleep(0.05)
    user = await clients("frank", irc_servers.port)
    await user.join(CHANNEL)
    user.say(CHANNEL, "infrabot: owner pypi")
    await user.wait_for(_bot_says(user, f"frank: {OWNER_PYPI}"))


async def test_infrabot_run_with_yaml_config_and_secret_from_env(
    irc_servers: IrcServers, clients, tmp_path
) -> None:
    """``infrabot run --config bot.yaml``, the SASL password only in the environment."""
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"""
prefix: "!"
store: infrabot.db
admins: {{irc: [infrabot]}}
irc: {{host: 127.0.0.1, port: {irc_servers.port}, tls: false, nick: clibot,
       sasl_username: {BOT_ACCOUNT[0]}, channels: ["#cli-test"]}}
"""
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "INFRABOT_IRC__SASL_PASSWORD": BOT_ACCOUNT[1],
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "infrabot", "run", "--config", str(config), env=env, cwd=tmp_path
    )
    try:
        user = await clients("grace", irc_servers.port)
        await user.join("#cli-test")
        await user.wait_for(lambda ln: ln.command == "JOIN" and ln.nick == "clibot", within=20)
        user.say("#cli-test", "!owner pypi")
        line = await user.wait_for(
            lambda ln: ln.nick == "clibot" and ln.text.startswith("grace: PyPI")
        )
        assert line.text.startswith(f"grace: {OWNER_PYPI}")
        user.send("WHOIS clibot")
        whois = await user.wait_for(lambda ln: ln.command in ("330", "318"))
        assert whois.command == "330" and whois.params[2] == "infrabot"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
