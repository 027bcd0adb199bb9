"""The fair queue: who goes next, the caps, and what each push's ticket learns."""

from __future__ import annotations

import pytest
from irc_harness import Clock

from infrabot.errors import TransportError
from infrabot.transports.irc_queue import FairQueue, OutLine, Queued


def lines(target: str, n: int, tag: str = "") -> list[OutLine]:
    return [OutLine("PRIVMSG", target, f"{tag}{i}") for i in range(n)]


def drain(queue: FairQueue) -> list[str]:
    texts = []
    while (item := queue.pop()) is not None:
        texts.append(item.line.text)
    return texts


def test_least_used_flow_goes_first() -> None:
    queue = FairQueue(per_key=100, clock=Clock())
    queue.push("long", lines("bob", 5, "long"))
    queue.push("a", lines("#c", 1, "a"))
    queue.push("b", lines("#c", 2, "b"))
    # a 60-line answer to one person never holds back a one-line answer to another
    assert drain(queue) == ["a0", "b0", "b1", "long0", "long1", "long2", "long3", "long4"]
    assert len(queue) == 0


def test_flows_that_use_as_much_take_turns() -> None:
    queue = FairQueue(per_key=100, clock=Clock())
    queue.push("alice", lines("#c", 3, "a"))
    queue.push("bob", lines("#c", 3, "b"))
    assert drain(queue) == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_one_question_goes_before_a_thirty_asker_flood() -> None:
    """30 askers flood (an answer every 2 s each, one line a second goes out); a quiet user
    asks once: that answer is the next line out, not the 31st."""
    clock = Clock()
    queue = FairQueue(per_key=10, total=1500, clock=clock)
    for second in range(120):
        for asker in range(30):
            if (second + asker) % 2 == 0:
                queue.push(f"flooder{asker}", lines("#python-infra", 2, f"f{asker}-"))
        assert queue.pop() is not None
        clock.now += 1
    assert len(queue) > 250  # a real backlog: every flooder has lines waiting
    queue.push("quiet", lines("#python-infra", 2, "quiet"))
    item = queue.pop()
    assert item is not None and item.line.text == "quiet0"
    item = queue.pop()
    assert item is not None and item.line.text == "quiet1"


def test_a_quiet_asker_stays_ahead_when_asking_again_later() -> None:
    clock = Clock()
    queue = FairQueue(per_key=10, total=1500, clock=clock)
    for second in range(200):
        for asker in range(30):
            queue.push(f"flooder{asker}", lines("#python-infra", 1))
        if second >= 20 and second % 20 == 0:  # once the flood is under way, every 20 s
            queue.push("quiet", lines("#python-infra", 2, f"q{second}-"))
            first = queue.pop()
            assert first is not None and first.line.text == f"q{second}-0"
        assert queue.pop() is not None
        clock.now += 1


def test_use_fades_with_time() -> None:
    clock = Clock()
    queue = FairQueue(per_key=100, clock=clock, half_life=30)
    queue.push("busy", lines("#c", 40, "busy"))
    for _ in range(30):
        queue.pop()
    clock.now += 600  # ten minutes later, busy is as quiet as a newcomer
    queue.push("new", lines("#c", 1, "new"))
    assert drain(queue)[0] == "busy30"  # it has waited longer: ties go to the older line


def test_caps_lines_with_a_summary_and_the_ticket_knows() -> None:
    queue = FairQueue(per_key=10, clock=Clock())
    ticket = queue.push("k", lines("#python-infra", 25))
    assert ticket.lost == 16 and ticket.waiting == 10
    out = drain(queue)
    assert out[:9] == [str(i) for i in range(9)]
    assert out[9] == "(16 more lines: ask me in private)"


def test_private_summary_and_explicit_limit() -> None:
    queue = FairQueue(per_key=4, clock=Clock())
    assert queue.push("k", lines("bob", 60), limit=60).lost == 0
    assert queue.push("k2", lines("carol", 70), limit=60).lost == 11
    assert "(11 more lines not sent: narrow the question)" in drain(queue)


def test_when_full_new_lines_are_left_out() -> None:
    queue = FairQueue(per_key=3, clock=Clock())
    queue.push("k", lines("#c", 5))
    ticket = queue.push("k", lines("#c", 2))
    assert ticket.lost == 2 and ticket.settled
    with pytest.raises(TransportError, match="too many lines waiting"):
        ticket.check()
    assert len(queue) == 3


def test_total_cap() -> None:
    queue = FairQueue(per_key=5, total=6, clock=Clock())
    queue.push("a", lines("#c", 5))
    assert queue.push("b", lines("#c", 5)).lost == 5  # one slot left: the summary takes it
    assert len(queue) == 6


def test_ticket_settles_when_every_line_is_written() -> None:
    queue = FairQueue(clock=Clock())
    ticket = queue.push("k", lines("bob", 2))
    link = object()
    for _ in range(2):
        item = queue.pop()
        assert item is not None and not ticket.settled
        item.ticket.written(link, flushed=True)
    assert ticket.settled and ticket.lost == 0 and not ticket.unflushed
    ticket.check()


def test_withdraw_takes_lines_out_and_tells_their_tickets() -> None:
    queue = FairQueue(clock=Clock())
    private = queue.push("alice", lines("alice", 2))
    channel = queue.push("alice", lines("#c", 1))
    assert queue.withdraw(lambda item: item.line.target == "alice", "alice quit") == 2
    assert private.settled and private.lost == 2
    with pytest.raises(TransportError, match="alice quit"):
        private.check()
    assert not channel.settled
    assert [item.line.text for item in iter(queue.pop, None) if isinstance(item, Queued)] == ["0"]


def test_flows_that_faded_are_forgotten() -> None:
    clock = Clock()
    queue = FairQueue(clock=clock)
    for i in range(300):
        queue.push(f"u{i}", lines("#c", 1))
        queue.pop()
    clock.now += 3600
    queue.push("late", lines("#c", 1))
    assert len(queue._usage) < 10
