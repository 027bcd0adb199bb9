"""``IrcTransport.send``: returns once written, refuses bad targets, answers the quiet first."""

from __future__ import annotations

import asyncio

import pytest
from irc_harness import Harness, settle

from infrabot.errors import TransportError
from infrabot.messages import IncomingMessage, Mention, Reply, Room, Sender
from infrabot.text import clean_line, clean_lines
from infrabot.transports import irc as irc_module
from infrabot.transports import irc_lines
from infrabot.transports.irc import IRC
from infrabot.transports.irc_queue import OutLine


def reply(
    lines: list[str], room: Room | None = None, asker: str | None = "alice", key: str | None = None
) -> Reply:
    room = room or Room(IRC, "#python-infra")
    asked = (
        IncomingMessage(Sender(IRC, asker, None, asker), room=room, text="!x", bot_name="infrabot")
        if asker
        else None
    )
    return Reply(room=room, lines=tuple(lines), in_reply_to=asked, delivery_key=key)


async def paced(**config: object) -> Harness:
    """Flood control at one line a second, a burst of one, on the harness's clock."""
    h = await Harness.start(flood_rate=1.0, flood_burst=1, **config)
    h.register()
    h.clock.now += 10  # whatever registration spent is back
    return h


def pace(h: Harness, seconds: float = 1.0) -> list[str]:
    """Let ``seconds`` pass and send what the bucket allows then; the lines written."""
    h.clock.now += seconds
    h.transport.output.flush()
    return h.sent()


# --- item: send returns only once the lines are written


async def test_send_returns_only_after_every_line_is_written() -> None:
    h = await paced()
    send = asyncio.create_task(h.transport.send(reply(["l0", "l1", "l2"], Room(IRC, "bob", True))))
    await settle()
    assert h.sent() == ["PRIVMSG bob :l0"]
    assert not send.done()  # two lines still wait for the bucket
    assert pace(h) == ["PRIVMSG bob :l1"]
    await settle()
    assert not send.done()
    assert pace(h) == ["PRIVMSG bob :l2"]
    await asyncio.wait_for(send, 5)


async def test_send_waits_for_a_write_the_kernel_has_not_taken() -> None:
    h = await Harness.start()
    h.register()
    h.wire.buffered = 100  # written, but still in asyncio's buffer
    send = asyncio.create_task(h.transport.send(reply(["hello"])))
    await asyncio.sleep(0.02)
    assert h.sent() == ["PRIVMSG #python-infra :alice: hello"] and not send.done()
    h.wire.buffered = 0
    await asyncio.wait_for(send, 5)


async def test_fast_path_returns_without_waiting() -> None:
    h = await Harness.start()
    h.register()
    await h.transport.send(reply(["one", "two"]))
    assert h.sent() == ["PRIVMSG #python-infra :alice: one", "PRIVMSG #python-infra :alice: two"]


async def test_lines_to_a_nick_are_withdrawn_when_the_connection_is_lost() -> None:
    h = await paced()
    h.transport.output.submit("x", [OutLine("PRIVMSG", "#python-infra", "busy")], 10)
    send = asyncio.create_task(h.transport.send(reply(["PAGE"], Room(IRC, "ada", True), None)))
    await settle()
    h.drop()
    with pytest.raises(TransportError, match="connection lost"):
        await asyncio.wait_for(send, 5)


async def test_channel_lines_wait_for_the_next_connection() -> None:
    h = await paced()
    h.transport.output.submit("x", [OutLine("PRIVMSG", "#python-infra", "busy")], 10)
    send = asyncio.create_task(h.transport.send(reply(["answer"])))
    await settle()
    h.drop()
    h.sent()
    assert pace(h, 5) == []  # nowhere to write
    await h.connected()
    h.register()  # connected again: the answer goes out there
    assert pace(h, 5) == ["PRIVMSG #python-infra :alice: answer"]
    await asyncio.wait_for(send, 5)


async def test_stop_fails_what_still_waits() -> None:
    h = await paced()
    send = asyncio.create_task(h.transport.send(reply(["a", "b"], Room(IRC, "bob", True))))
    await settle()
    await h.transport.stop()
    with pytest.raises(TransportError, match="stopping"):
        await asyncio.wait_for(send, 5)


async def test_bounded_wait_then_an_error_and_nothing_written_later() -> None:
    h = await Harness.start(transport={"send_timeout": 0.05}, flood_rate=1.0, flood_burst=1)
    h.register()
    h.clock.now += 10
    h.transport.output.submit("x", [OutLine("PRIVMSG", "#python-infra", "busy")], 10)
    with pytest.raises(TransportError, match="not written within"):
        await h.transport.send(reply(["late"], Room(IRC, "bob", True)))
    h.sent()
    assert pace(h, 10) == []


async def test_lines_left_out_of_a_full_queue_are_an_error() -> None:
    h = await paced(max_private_lines=3)
    send = asyncio.create_task(
        h.transport.send(reply([f"l{i}" for i in range(6)], Room(IRC, "bob", True)))
    )
    await settle()
    assert h.sent() == ["PRIVMSG bob :l0"]
    assert pace(h) == ["PRIVMSG bob :l1"]
    await settle()
    assert not send.done()  # what fits still goes out first
    assert pace(h) == ["PRIVMSG bob :(4 more lines not sent: narrow the question)"]
    with pytest.raises(TransportError, match=r"4 line\(s\) to bob not sent"):
        await asyncio.wait_for(send, 5)


async def test_a_delivery_waits_for_the_servers_acknowledgement() -> None:
    h = await Harness.start()
    h.register()
    acked = False
    h.conn.acknowledged = lambda: acked  # type: ignore[method-assign]
    page = reply(["PAGE 1"], Room(IRC, "ada", True), None, key="page-1/0/ada/irc")
    send = asyncio.create_task(h.transport.send(page))
    await asyncio.sleep(0.02)
    # a PING after it: the server's PONG brings its ACK at once, not after its delayed-ACK wait
    assert h.sent() == ["PRIVMSG ada :PAGE 1", "PING :infrabot-ack"] and not send.done()
    acked = True
    await asyncio.wait_for(send, 5)


# --- item: only one valid nick or channel is ever a target

BAD_ROOMS = [
    Room(IRC, "#python-infra :SPOOFED"),
    Room(IRC, "a,b", private=True),
    Room(IRC, "a,b"),
    Room(IRC, "#python-infra", private=True),  # a channel is not a private conversation
    Room(IRC, "bob\r\nQUIT :bye", private=True),
    Room(IRC, "bob\x00", private=True),
    Room(IRC, "", private=True),
    Room(IRC, "bob smith", private=True),
    Room(IRC, "9lives", private=True),
    Room(IRC, "-dash", private=True),
    Room(IRC, ":bob", private=True),
    Room(IRC, "b" * 40, private=True),
    Room(IRC, "#" + "c" * 70),
    Room(IRC, "#chan\x07"),
    Room(IRC, "#"),
    Room(IRC, "$*"),
]


@pytest.mark.parametrize("room", BAD_ROOMS, ids=repr)
async def test_an_invalid_target_is_refused_and_nothing_is_written(room: Room) -> None:
    h = await Harness.start()
    h.register()
    with pytest.raises(TransportError, match="refusing to send"):
        await h.transport.send(reply(["PAGE 1: db down"], room, None))
    assert h.sent() == []


async def test_server_lengths_and_channel_types_are_used() -> None:
    h = await Harness.start()
    h.register()
    h.feed(":irc.test 005 infrabot CHANTYPES=# NICKLEN=9 :are supported")
    for room in (Room(IRC, "&local"), Room(IRC, "tenletters", private=True)):
        with pytest.raises(TransportError):
            await h.transport.send(reply(["x"], room, None))
    assert h.sent() == []


@pytest.mark.parametrize(
    "room",
    [
        Room(IRC, "#python-infra"),
        Room(IRC, "alice", private=True),
        Room(IRC, "[m]x^|_`{}", private=True),
        Room(IRC, "alice"),  # a page asked for in private: its highlight goes back there
        Room(IRC, "#café"),
    ],
    ids=repr,
)
async def test_valid_targets_are_sent_to(room: Room) -> None:
    h = await Harness.start()
    h.register()
    await h.transport.send(reply(["hi"], room, None))
    assert h.sent() == [f"PRIVMSG {room.id} :hi"]


# --- item: a flood delays no one who asks once


async def test_a_single_question_is_answered_before_a_thirty_asker_backlog() -> None:
    h = await paced()
    floods = []
    for second in range(60):
        for asker in range(30):
            if (second + asker) % 2 == 0:
                answer = reply(["PyPI is maintained by ...", "Reach: ..."], asker=f"flood{asker}")
                floods.append(asyncio.create_task(h.transport.send(answer)))
        await settle()
        pace(h)
    assert len(h.transport.output.queue) > 250
    quiet = asyncio.create_task(h.transport.send(reply(["PyPI ...", "Reach: ..."], asker="quiet")))
    await settle()
    assert pace(h) == ["PRIVMSG #python-infra :quiet: PyPI ..."]
    assert pace(h) == ["PRIVMSG #python-infra :quiet: Reach: ..."]
    await asyncio.wait_for(quiet, 5)
    await h.transport.stop()
    await asyncio.gather(*floods, return_exceptions=True)


async def test_a_mentioned_name_is_sent_as_the_nick_that_highlights() -> None:
    h = await Harness.start()
    h.register()
    reply = Reply(
        room=Room(IRC, "#python-infra"),
        lines=("PAGE k7m2 · owners: Ada Lovelace, Ada, Adam · !ack k7m2",),
        mentions=(Mention("ada", "Ada"), Mention("lovelace", "Ada Lovelace")),
        address_asker=False,
    )
    await h.transport.send(reply)
    assert h.sent() == [
        "PRIVMSG #python-infra :PAGE k7m2 · owners: lovelace, ada, Adam · !ack k7m2"
    ]


async def test_lines_known_clean_are_not_cleaned_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The router cleans every answer once; the transport cleans only what is not known
    clean, so plain lines (a page's, a plugin's own) still cannot carry a protocol line."""
    h = await Harness.start()
    h.register()
    passes: list[str] = []

    def counted(text: str, limit: int | None = None) -> str:
        passes.append(text)
        return clean_line(text, limit)

    monkeypatch.setattr(irc_module, "clean_line", counted)
    room = Room(IRC, "#python-infra")
    await h.transport.send(Reply(room, clean_lines(["one\r\nQUIT :x", "two"]), address_asker=False))
    assert passes == []
    assert h.sent() == [
        "PRIVMSG #python-infra :one",
        "PRIVMSG #python-infra :QUIT :x",
        "PRIVMSG #python-infra :two",
    ]
    await h.transport.send(Reply(room, ("three\r\nQUIT :x",), address_asker=False))
    assert passes == ["three\r\nQUIT :x"]
    assert h.sent() == ["PRIVMSG #python-infra :three QUIT :x"]


async def test_clean_lines_are_cleaned_again_once_a_mention_changed_them() -> None:
    h = await Harness.start()
    h.register()
    reply = Reply(
        room=Room(IRC, "#python-infra"),
        lines=clean_lines(["paging Ada"]),
        mentions=(Mention("ada\r\nQUIT :bye", "Ada"),),
        address_asker=False,
    )
    await h.transport.send(reply)
    assert h.sent() == ["PRIVMSG #python-infra :paging ada QUIT :bye"]


async def test_a_remembered_answer_is_shaped_once_per_asker_until_the_server_changes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same clean lines to the same asker (a remembered answer) are addressed and split
    once; another asker, or a server that allows longer lines, shapes them anew."""
    h = await Harness.start()
    h.register()
    splits: list[str] = []
    real_split = irc_lines.split_bytes

    def counted(text: str, limit: int) -> list[str]:
        splits.append(text)
        return real_split(text, limit)

    monkeypatch.setattr(irc_lines, "split_bytes", counted)
    answer = clean_lines(["word " * 120, "short"])

    def asked_by(nick: str) -> Reply:
        room = Room(IRC, "#python-infra")
        asked = IncomingMessage(Sender(IRC, nick, nick, nick), room=room, text="!x")
        return Reply(room=room, lines=answer, in_reply_to=asked)

    await h.transport.send(asked_by("alice"))
    first = h.sent()
    assert len(first) == 3  # the long line in two pieces
    assert first[0].startswith("PRIVMSG #python-infra :alice: word")
    assert first[2] == "PRIVMSG #python-infra :alice: short"
    assert len(splits) == 2
    await h.transport.send(asked_by("alice"))
    assert h.sent() == first and len(splits) == 2  # shaped once
    await h.transport.send(asked_by("bob"))
    bob = h.sent()
    assert bob[0].startswith("PRIVMSG #python-infra :bob: word")
    assert bob[-1] == "PRIVMSG #python-infra :bob: short"
    assert len(splits) == 4
    h.feed(":irc.test 005 infrabot LINELEN=2048 :are supported")
    await h.transport.send(asked_by("alice"))
    assert len(h.sent()) == 2 and len(splits) == 6  # the long line fits in one now
