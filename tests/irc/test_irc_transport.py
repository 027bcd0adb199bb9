"""The IRC transport against a fake wire: negotiation, identity, CTCP, output shaping."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
from irc_harness import Harness, running, settle

from infrabot.app import App
from infrabot.config import Config
from infrabot.messages import IncomingMessage, Reply, Room, Sender
from infrabot.transports.irc import IRC


async def test_caps_then_sasl_plain_then_cap_end() -> None:
    h = await Harness.start(sasl_username="infrabot", sasl_password="s3cret")
    h.feed(":irc.test CAP * LS * :message-tags account-tag sasl=PLAIN,EXTERNAL")
    assert h.sent() == []  # multi-line LS: wait for the last line
    h.feed(":irc.test CAP * LS :extended-join account-notify multi-prefix")
    assert h.sent() == [
        "CAP REQ :message-tags account-tag extended-join account-notify multi-prefix",
        "CAP REQ :sasl",
    ]
    h.feed(
        ":irc.test CAP * ACK :message-tags account-tag extended-join account-notify multi-prefix"
    )
    assert h.sent() == []
    h.feed(":irc.test CAP * ACK :sasl")
    assert h.sent() == ["AUTHENTICATE PLAIN"]
    h.feed("AUTHENTICATE +")
    (auth,) = h.sent()
    assert base64.b64decode(auth.split()[1]) == b"infrabot\0infrabot\0s3cret"
    h.feed(":irc.test 900 infrabot infrabot!u@h infrabot :You are now logged in as infrabot")
    h.feed(":irc.test 903 infrabot :SASL authentication successful")
    assert h.sent() == ["CAP END"]
    assert h.transport.account == "infrabot"
    assert {"account-tag", "extended-join", "account-notify", "sasl"} <= h.transport.caps


async def test_sasl_failure_still_registers_and_identifies_to_nickserv() -> None:
    h = await Harness.start(
        sasl_username="infrabot", sasl_password="bad", nickserv_password="ns-pw"
    )
    h.feed(":irc.test CAP * LS :sasl")
    assert h.sent() == ["CAP REQ :sasl"]
    h.feed(":irc.test CAP * ACK :sasl", "AUTHENTICATE +")
    h.sent()
    h.feed(":irc.test 904 infrabot :SASL authentication failed")
    assert h.sent() == ["CAP END"]
    h.feed(":irc.test 001 infrabot :Welcome")
    assert h.sent() == ["PRIVMSG NickServ :IDENTIFY infrabot ns-pw", "JOIN #python-infra"]


async def test_no_caps_offered_ends_negotiation() -> None:
    h = await Harness.start()
    h.feed(":irc.test CAP * LS :away-notify")
    assert h.sent() == ["CAP END"]


async def test_channel_keys_are_used_on_join() -> None:
    h = await Harness.start(channels=["#ops"], channel_keys={"#ops": "k3y"})
    h.feed(":irc.test 001 infrabot :Welcome")
    assert "JOIN #ops k3y" in h.sent()


async def test_nick_taken_tries_alternates() -> None:
    h = await Harness.start(alt_nicks=["infrabot2"])
    h.feed(":irc.test 433 * infrabot :Nickname is already in use")
    h.feed(":irc.test 433 * infrabot2 :Nickname is already in use")
    assert h.sent() == ["NICK infrabot2", "NICK infrabot_"]
    h.feed(":irc.test 001 infrabot_ :Welcome")
    assert h.transport.nick == "infrabot_"
    h.sent()
    # The holder of the main nick leaves: take it back at once.
    h.feed(":infrabot!x@y QUIT :bye")
    assert h.sent() == ["NICK infrabot"]
    h.feed(":infrabot_!~infrabot@bot.host NICK infrabot")
    assert h.transport.nick == "infrabot"


async def test_account_from_tag_and_none_without_it() -> None:
    h = await Harness.start()
    h.register()
    h.feed("@account=alice :alice!a@h PRIVMSG #python-infra :!owner pypi")
    h.feed(":alice!b@other PRIVMSG #python-infra :!owner pypi")  # impostor: same nick, no tag
    await settle()
    assert [m.sender.account for m in h.delivered] == ["alice", None]
    assert h.delivered[0].room == Room(IRC, "#python-infra")
    assert h.delivered[0].sender.name == "alice"


async def test_extended_join_and_account_notify_without_account_tag() -> None:
    h = await Harness.start()
    h.register(caps="extended-join account-notify")
    h.feed(":bob!b@h JOIN #python-infra bobacct :Bob")
    h.feed(":bob!b@h PRIVMSG #python-infra :!whoami")
    h.feed(":bob!b@h ACCOUNT *")
    h.feed(":bob!b@h PRIVMSG #python-infra :!whoami")
    await settle()
    assert [m.sender.account for m in h.delivered] == ["bobacct", None]


async def test_unknown_user_without_caps_is_looked_up_with_whox() -> None:
    h = await Harness.start()
    h.register(caps="multi-prefix")
    h.feed(":carol!c@h PRIVMSG infrabot :whoami")
    await settle()
    assert h.sent() == ["WHO carol %tna,72"]
    assert h.delivered == []
    h.feed(":irc.test 354 infrabot 72 carol carolacct", ":irc.test 315 infrabot carol :End")
    await settle()
    assert [m.sender.account for m in h.delivered] == ["carolacct"]
    assert h.delivered[0].room == Room(IRC, "carol", private=True)


async def test_whois_fallback_when_no_whox() -> None:
    h = await Harness.start()
    h.feed(":irc.test 001 infrabot :Welcome")
    h.sent()
    h.feed(":dan!d@h PRIVMSG infrabot :whoami")
    await settle()
    assert h.sent() == ["WHOIS dan"]
    h.feed(":irc.test 318 infrabot dan :End of /WHOIS list.")
    await settle()
    assert [m.sender.account for m in h.delivered] == [None]


async def test_every_message_goes_to_the_router_and_the_server_is_asked_only_on_demand() -> None:
    """The router decides what is a command; the transport asks who the sender is only when
    the router wants to know (a WHO for every line of channel talk would flood the server)."""
    h = await Harness.start()
    h.register(caps="extended-join account-notify")
    seen: list[IncomingMessage] = []

    async def deliver(message: IncomingMessage) -> None:
        seen.append(message)

    h.transport.intake.deliver = deliver
    h.feed(":eve!e@h PRIVMSG #python-infra :hello everyone")
    await settle()
    assert [m.text for m in seen] == ["hello everyone"]
    assert h.sent() == []  # nobody asked the server anything
    assert seen[0].vouch is not None and seen[0].sender.account is None
    asking = asyncio.create_task(seen[0].vouch())
    await settle()
    assert h.sent() == ["WHO eve %tna,72"]
    h.feed(":irc.test 354 infrabot 72 eve eve-account", ":irc.test 315 infrabot eve :End")
    assert await asyncio.wait_for(asking, 5) == "eve-account"


async def test_ctcp_version_and_ping() -> None:
    h = await Harness.start(version="infrabot test")
    h.register()
    h.feed(":eve!e@h PRIVMSG infrabot :\x01VERSION\x01")
    h.feed(":eve!e@h PRIVMSG infrabot :\x01PING 12345\x01")
    h.feed(":eve!e@h PRIVMSG infrabot :\x01TIME\x01")
    assert h.sent() == [
        "NOTICE eve :\x01VERSION infrabot test\x01",
        "NOTICE eve :\x01PING 12345\x01",
    ]
    assert h.delivered == []


def _reply(text_lines: list[str], *, room: Room | None = None, asker: str = "alice") -> Reply:
    room = room or Room(IRC, "#python-infra")
    asked = IncomingMessage(
        sender=Sender(IRC, asker, None, asker), room=room, text="!x", bot_name="infrabot"
    )
    return Reply(room=room, lines=tuple(text_lines), in_reply_to=asked)


async def test_reply_in_channel_addresses_the_asker() -> None:
    h = await Harness.start()
    h.register()
    await h.transport.send(_reply(["one", "two"]))
    assert h.sent() == ["PRIVMSG #python-infra :alice: one", "PRIVMSG #python-infra :alice: two"]


async def test_reply_with_cr_lf_injects_nothing() -> None:
    h = await Harness.start()
    h.register()
    await h.transport.send(_reply(["x\r\nQUIT :bye\nPRIVMSG #python-infra :INJECTED\x00\x01"]))
    assert h.sent() == ["PRIVMSG #python-infra :alice: x QUIT :bye PRIVMSG #python-infra :INJECTED"]


async def test_long_line_split_by_bytes_within_512() -> None:
    h = await Harness.start()
    h.register()
    text = "é" * 700 + " " + "word " * 100
    await h.transport.send(_reply([text], room=Room(IRC, "alice", private=True)))
    sent = h.sent()
    assert len(sent) > 2
    for line in sent:
        relayed = f":infrabot!~infrabot@bot.host {line}\r\n".encode()
        assert len(relayed) <= 512
        line.encode().decode("utf-8")  # each line is whole UTF-8
    assert "".join(s.split(" :", 1)[1] for s in sent).replace(" ", "") == text.replace(" ", "")


async def test_kick_rejoins_after_delay() -> None:
    h = await Harness.start(rejoin_delay=0.01)
    h.register()
    h.feed(":op!o@h KICK #python-infra infrabot :out")
    assert "#python-infra" not in h.transport.channels
    await asyncio.sleep(0.05)
    assert h.sent() == ["JOIN #python-infra"]


async def test_no_rejoin_when_disabled() -> None:
    h = await Harness.start(rejoin_delay=0.01, rejoin_on_kick=False)
    h.register()
    h.feed(":op!o@h KICK #python-infra infrabot :out")
    await asyncio.sleep(0.05)
    assert h.sent() == []


async def test_server_ping_is_answered() -> None:
    h = await Harness.start()
    h.feed("PING :irc.test")
    assert h.sent() == ["PONG :irc.test"]


@pytest.mark.parametrize("raw", [b"\xff\xfe garbage\r\n", b":x!y@z PRIVMSG #c :\xc3\r\n"])
async def test_undecodable_bytes_do_not_break_the_connection(raw: bytes) -> None:
    h = await Harness.start()
    h.conn.process_data(raw)
    h.feed("PING :still-here")
    assert h.sent() == ["PONG :still-here"]


async def test_sasl_offered_later_by_cap_new_during_registration() -> None:
    h = await Harness.start(sasl_username="infrabot", sasl_password="pw")
    h.feed(":irc.test CAP * LS :account-tag")
    h.feed(":irc.test CAP * ACK :account-tag")
    assert h.sent() == ["CAP REQ :account-tag", "CAP END"]
    h.feed(":irc.test CAP infrabot NEW :sasl")  # services linked while we register
    h.feed(":irc.test CAP infrabot ACK :sasl", "AUTHENTICATE +")
    h.feed(":irc.test 900 infrabot infrabot!u@h infrabot :logged in")
    h.feed(":irc.test 903 infrabot :SASL authentication successful")
    sent = h.sent()
    assert sent[0] == "CAP REQ :sasl"
    assert sent[1] == "AUTHENTICATE PLAIN"
    assert sent[-1] == "CAP END"  # registration was held again by the REQ: release it
    assert h.transport.account == "infrabot"


async def test_sasl_offered_after_registration() -> None:
    h = await Harness.start(sasl_username="infrabot", sasl_password="pw")
    h.register(caps="account-tag")
    h.feed(":irc.test CAP infrabot NEW :sasl=PLAIN")
    h.feed(":irc.test CAP infrabot ACK :sasl", "AUTHENTICATE +")
    h.feed(":irc.test 900 infrabot infrabot!u@h infrabot :logged in")
    h.feed(":irc.test 903 infrabot :SASL authentication successful")
    sent = h.sent()
    assert sent[:2] == ["CAP REQ :sasl", "AUTHENTICATE PLAIN"]
    assert h.transport.account == "infrabot"


async def test_cap_del_drops_a_capability() -> None:
    h = await Harness.start()
    h.register()
    h.feed(":irc.test CAP infrabot DEL :account-tag")
    assert "account-tag" not in h.transport.caps


async def test_retry_login_asks_for_caps_again_without_cap_notify() -> None:
    h = await Harness.start(sasl_username="infrabot", sasl_password="pw")
    h.register(caps="account-tag")
    h.transport.upkeep(h.conn)
    assert h.sent() == ["CAP LS 302"]
    h.feed(":irc.test CAP infrabot LS :account-tag sasl")
    assert h.sent() == ["CAP REQ :sasl"]


async def test_private_asker_outside_channels_is_looked_up_every_time() -> None:
    """Without account-tag, an answer about someone we share no channel with goes stale:
    they may log out or quit and an impostor take the nick, and we would never hear of it."""
    h = await Harness.start()
    h.register(caps="extended-join account-notify")
    h.feed(":alice!a@h PRIVMSG infrabot :whoami")
    await settle()
    assert h.sent() == ["WHO alice %tna,72"]
    h.feed(":irc.test 354 infrabot 72 alice alice", ":irc.test 315 infrabot alice :End")
    await settle()
    h.feed(":alice!b@other PRIVMSG infrabot :whoami")  # the same nick, later
    await settle()
    assert h.sent() == ["WHO alice %tna,72"]  # asked again, not taken from memory
    h.feed(":irc.test 354 infrabot 72 alice 0", ":irc.test 315 infrabot alice :End")
    await settle()
    assert [m.sender.account for m in h.delivered] == ["alice", None]


async def test_missing_channels_are_joined_again_later() -> None:
    h = await Harness.start(channels=["#python-infra", "#ops"])
    h.register()  # joined #python-infra only; #ops refused (say, invite-only)
    h.feed(":irc.test 473 infrabot #ops :Cannot join channel (+i)")
    h.transport.upkeep(h.conn)
    assert h.sent() == ["JOIN #ops"]


async def test_kicked_channel_stays_left_when_rejoin_is_off() -> None:
    h = await Harness.start(rejoin_on_kick=False)
    h.register()
    h.feed(":op!o@h KICK #python-infra infrabot :out")
    h.transport.upkeep(h.conn)
    assert h.sent() == []


async def test_a_message_goes_to_the_router_before_the_read_that_brought_it_returns() -> None:
    """A remembered answer needs no waiting: it can be written in the same read callback."""
    h = await Harness.start()
    h.register()
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[list[str]] = loop.create_future()

    def read() -> None:  # as the event loop calls the connection when bytes arrive
        h.feed("@account=alice :alice!a@h PRIVMSG #python-infra :!owner pypi")
        seen.set_result([m.text for m in h.delivered])

    loop.call_soon(read)
    assert await seen == ["!owner pypi"]


async def test_a_remembered_answer_is_written_before_the_read_that_asked_returns(
    tmp_path: Path,
) -> None:
    """The whole bot on the fake wire: the first ``!owner pypi`` runs its handler beside the
    read; asked again, the remembered answer is on the wire before the read callback returns,
    with no pass of the event loop (and no task) in between."""
    app = App(Config(store=tmp_path / "bot.db", watch_inventory=False))
    h = Harness()
    app.transports = {h.transport.network: h.transport}
    h._run = asyncio.create_task(h.transport.run(app.deliver))
    running.append(h)
    await h.connected()
    h.register()
    loop = asyncio.get_running_loop()

    async def in_one_read(text: str) -> list[str]:
        """What the bot wrote by the time the read callback carrying ``text`` returned."""
        written: asyncio.Future[list[str]] = loop.create_future()

        def read() -> None:  # as the event loop calls the connection when bytes arrive
            h.feed(f"@account=alice :alice!a@h PRIVMSG #python-infra :{text}")
            written.set_result(h.sent())

        loop.call_soon(read)
        return await written

    assert await in_one_read("!owner pypi") == []  # the handler runs beside the read
    await settle()
    answer = h.sent()
    assert answer and all(line.startswith("PRIVMSG #python-infra :alice: ") for line in answer)
    assert "PyPI (pypi.python.org) is maintained by" in answer[0]
    assert await in_one_read("!owner pypi") == answer
    await in_one_read("infrabot: who owns pypi?")  # in words: its meaning found once
    await settle()
    assert h.sent() == answer
    assert await in_one_read("infrabot: who owns pypi?") == answer  # then remembered
    tasks = len(asyncio.all_tasks())
    assert await in_one_read("!owner pypi") == answer
    assert len(asyncio.all_tasks()) == tasks
