"""The output side: a send is confirmed only once its lines are written (or acknowledged)."""

from __future__ import annotations

import asyncio

import pytest
from irc_harness import Clock, settle

from infrabot.errors import TransportError
from infrabot.rate_limit import TokenBucket
from infrabot.transports.irc_output import Output
from infrabot.transports.irc_queue import FairQueue, OutLine


class FakeLink:
    """A connection whose buffer and acknowledgements a test holds back and releases."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.buffered = False
        self.acked: bool | None = True
        self.nudged = 0

    def frame(self, line: str) -> bytes:
        if "\n" in line:
            raise ValueError("line break")
        return line.encode() + b"\r\n"

    def write(self, data: bytes) -> bool:
        if self.closing:
            return False
        self.writes.append(data)
        return True

    def flushed(self) -> bool:
        return not self.buffered

    def acknowledged(self) -> bool | None:
        return False if self.buffered else self.acked

    def nudge(self) -> None:
        self.nudged += 1

    def lines(self) -> list[str]:
        return [line for data in self.writes for line in data.decode().split("\r\n") if line]


def make(rate: float = 1.0, burst: int = 2, timeout: float = 30.0) -> tuple[Output, Clock]:
    clock = Clock()
    output = Output(TokenBucket(rate, burst, clock), FairQueue(clock=clock), timeout=timeout)
    return output, clock


def out(target: str, n: int, tag: str = "") -> list[OutLine]:
    return [OutLine("PRIVMSG", target, f"{tag}{i}") for i in range(n)]


async def test_fast_path_writes_at_once_in_one_write() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    output.attach(link)
    ticket = output.submit("alice", out("#c", 3), limit=10)
    assert ticket.settled and len(link.writes) == 1
    await output.confirm([ticket])  # returns without waiting


async def test_confirm_waits_for_the_pacing() -> None:
    output, clock = make(burst=1)
    link = FakeLink()
    output.attach(link)
    ticket = output.submit("bob", out("bob", 3), limit=10)
    confirm = asyncio.create_task(output.confirm([ticket]))
    await settle()
    assert link.lines() == ["PRIVMSG bob :0"] and not confirm.done()
    clock.now += 2
    output.flush()
    await settle()
    assert not confirm.done()  # one line still waits for its token
    clock.now += 1
    output.flush()
    await asyncio.wait_for(confirm, 5)
    assert link.lines() == [f"PRIVMSG bob :{i}" for i in range(3)]


async def test_confirm_waits_until_our_buffer_is_empty() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    link.buffered = True  # the kernel did not take it all: asyncio holds the rest
    output.attach(link)
    ticket = output.submit("bob", out("bob", 1), limit=10)
    confirm = asyncio.create_task(output.confirm([ticket]))
    await asyncio.sleep(0.02)
    assert not confirm.done()
    link.buffered = False
    await asyncio.wait_for(confirm, 5)


async def test_acknowledged_waits_for_the_servers_ack() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    link.acked = False
    output.attach(link)
    ticket = output.submit("bob", out("bob", 1), limit=10)
    confirm = asyncio.create_task(output.confirm([ticket], acknowledged=True))
    await asyncio.sleep(0.02)
    assert not confirm.done()
    assert link.nudged == 1  # the server was asked for an answer, once, to hurry its ACK
    link.acked = True
    await asyncio.wait_for(confirm, 5)
    assert link.nudged == 1


async def test_a_plain_reply_does_not_ask_the_server_for_anything() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    link.buffered = True
    output.attach(link)
    ticket = output.submit("bob", out("bob", 1), limit=10)
    confirm = asyncio.create_task(output.confirm([ticket]))
    await asyncio.sleep(0.01)
    link.buffered = False
    await asyncio.wait_for(confirm, 5)
    assert link.nudged == 0


async def test_connection_lost_before_the_ack_is_an_error() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    link.acked = False
    output.attach(link)
    ticket = output.submit("bob", out("bob", 1), limit=10)
    confirm = asyncio.create_task(output.confirm([ticket], acknowledged=True))
    await asyncio.sleep(0.01)
    output.detach()
    output.attach(FakeLink())  # a new connection does not vouch for the old one's bytes
    with pytest.raises(TransportError, match="connection lost"):
        await asyncio.wait_for(confirm, 5)


async def test_lost_connection_withdraws_private_lines_and_keeps_channel_lines() -> None:
    output, clock = make(burst=1)
    first = FakeLink()
    output.attach(first)
    output.submit("x", out("#c", 1, "first"), limit=10)  # takes the only token
    private = output.submit("alice", out("alice", 1, "private"), limit=10)
    channel = output.submit("bob", out("#c", 1, "channel"), limit=10)
    output.detach()
    with pytest.raises(TransportError, match="connection lost"):
        await output.confirm([private])
    second = FakeLink()
    output.attach(second)
    clock.now += 5
    output.flush()
    await output.confirm([channel])
    assert second.lines() == ["PRIVMSG #c :channel0"]


async def test_close_withdraws_everything() -> None:
    output, _ = make(burst=1)
    output.attach(FakeLink())
    output.submit("x", out("#c", 1), limit=10)
    waiting = output.submit("bob", out("bob", 2), limit=10)
    confirm = asyncio.create_task(output.confirm([waiting]))
    await settle()
    output.close("stopping")
    with pytest.raises(TransportError, match="stopping"):
        await asyncio.wait_for(confirm, 5)
    assert len(output.queue) == 0


async def test_bounded_wait_withdraws_what_is_left() -> None:
    output, clock = make(burst=1, timeout=0.05)
    link = FakeLink()
    output.attach(link)
    output.submit("x", out("#c", 1), limit=10)
    late = output.submit("bob", out("bob", 2, "late"), limit=10)
    with pytest.raises(TransportError):
        await output.confirm([late])
    clock.now += 10
    output.flush()
    assert not [line for line in link.lines() if "late" in line]  # nothing after giving up


async def test_nobody_attached_then_timeout() -> None:
    output, _ = make(timeout=0.05)
    ticket = output.submit("bob", out("#c", 1), limit=10)
    with pytest.raises(TransportError, match="not written within"):
        await output.confirm([ticket])


async def test_a_line_that_cannot_be_framed_is_an_error() -> None:
    output, _ = make(burst=5)
    output.attach(FakeLink())
    ticket = output.submit("bob", [OutLine("PRIVMSG", "bob", "a\nb")], limit=10)
    with pytest.raises(TransportError, match="cannot be sent"):
        await output.confirm([ticket])


async def test_the_lines_that_can_go_go_in_one_write_beside_one_that_cannot() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    output.attach(link)
    lines = [OutLine("PRIVMSG", "bob", text) for text in ("one", "a\nb", "three")]
    ticket = output.submit("bob", lines, limit=10)
    assert link.writes == [b"PRIVMSG bob :one\r\nPRIVMSG bob :three\r\n"]
    assert ticket.settled and ticket.lost == 1
    with pytest.raises(TransportError, match=r"1 line.* not sent: cannot be sent"):
        await output.confirm([ticket])


async def test_closing_connection_is_an_error() -> None:
    output, _ = make(burst=5)
    link = FakeLink()
    link.closing = True
    output.attach(link)
    ticket = output.submit("bob", out("bob", 1), limit=10)
    with pytest.raises(TransportError, match="closing"):
        await output.confirm([ticket])


async def test_withdraw_to_a_nick_that_left() -> None:
    output, _ = make(burst=1)
    output.attach(FakeLink())
    output.submit("x", out("#c", 1), limit=10)
    ticket = output.submit("page", out("Donald", 1), limit=10)
    output.withdraw_to("donald", "donald quit")
    with pytest.raises(TransportError, match="donald quit"):
        await output.confirm([ticket])


async def test_pacer_runs_while_attached() -> None:
    output = Output(TokenBucket(200.0, 1), FairQueue())
    link = FakeLink()
    output.attach(link)
    pacer = asyncio.create_task(output.run())
    try:
        ticket = output.submit("bob", out("bob", 4), limit=10)
        await asyncio.wait_for(output.confirm([ticket]), 5)
        assert link.lines() == [f"PRIVMSG bob :{i}" for i in range(4)]
    finally:
        pacer.cancel()


async def test_lines_to_a_nick_are_refused_while_not_connected() -> None:
    output, _ = make()
    ticket = output.submit("page", out("ada", 1), limit=10)
    with pytest.raises(TransportError, match="not connected"):
        await output.confirm([ticket])
    assert len(output.queue) == 0
