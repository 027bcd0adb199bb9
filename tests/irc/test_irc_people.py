"""What a person's recorded handles mean on IRC: only a services account is vouched for."""

from __future__ import annotations

import asyncio

from irc_harness import Harness, settle

from infrabot.messages import Handles, Sender
from infrabot.transports.irc import IRC

DONALD = Handles(irc_nick="dstufft", irc_account="donald")


async def test_private_address_of_an_account_holder_in_a_channel_needs_no_lookup() -> None:
    h = await Harness.start()
    h.register()
    h.feed(":dstufft!i@h JOIN #python-infra * :impostor")  # the recorded nick, not logged in
    h.feed(":dw!d@h JOIN #python-infra donald :Donald")  # the account, under another nick
    assert await h.transport.private_address(DONALD) == "dw"
    assert h.sent() == []


async def test_private_address_asks_the_server_about_the_nick_and_the_account_name() -> None:
    h = await Harness.start()
    h.register()
    lookup = asyncio.create_task(h.transport.private_address(DONALD))
    await settle()
    assert h.sent() == ["WHO dstufft %tna,72", "WHO donald %tna,72"]
    h.feed(":irc.test 354 infrabot 72 dstufft 0", ":irc.test 315 infrabot dstufft :End")
    h.feed(":irc.test 354 infrabot 72 donald donald", ":irc.test 315 infrabot donald :End")
    assert await asyncio.wait_for(lookup, 5) == "donald"


async def test_a_nick_held_by_an_unidentified_client_gets_nothing() -> None:
    h = await Harness.start()
    h.register()
    lookup = asyncio.create_task(h.transport.private_address(DONALD))
    await settle()
    h.feed(":irc.test 354 infrabot 72 dstufft 0", ":irc.test 315 infrabot dstufft :End")
    h.feed(":irc.test 315 infrabot donald :End")  # nobody online under the account's name
    assert await asyncio.wait_for(lookup, 5) is None


async def test_a_nick_logged_in_to_another_account_gets_nothing() -> None:
    h = await Harness.start()
    h.register()
    lookup = asyncio.create_task(h.transport.private_address(DONALD))
    await settle()
    h.feed(":irc.test 354 infrabot 72 dstufft mallory", ":irc.test 315 infrabot dstufft :End")
    h.feed(":irc.test 315 infrabot donald :End")
    assert await asyncio.wait_for(lookup, 5) is None


async def test_the_recorded_nick_is_used_when_its_account_matches() -> None:
    h = await Harness.start()
    h.register()
    lookup = asyncio.create_task(h.transport.private_address(DONALD))
    await settle()
    h.feed(":irc.test 354 infrabot 72 dstufft Donald", ":irc.test 315 infrabot dstufft :End")
    h.feed(":irc.test 315 infrabot donald :End")
    assert await asyncio.wait_for(lookup, 5) == "dstufft"


async def test_whois_when_the_server_has_no_whox() -> None:
    h = await Harness.start()
    h.feed(":irc.test 001 infrabot :Welcome")
    h.sent()
    lookup = asyncio.create_task(h.transport.private_address(DONALD))
    await settle()
    assert h.sent() == ["WHOIS dstufft", "WHOIS donald"]
    h.feed(":irc.test 318 infrabot dstufft :End of /WHOIS list.")
    h.feed(":irc.test 330 infrabot donald donald :is logged in as")
    assert await asyncio.wait_for(lookup, 5) == "donald"


async def test_no_account_recorded_means_no_private_address() -> None:
    h = await Harness.start()
    h.register()
    assert await h.transport.private_address(Handles(irc_nick="dstufft")) is None
    assert h.sent() == []  # a nick alone is not even looked up


async def test_handles_that_are_not_nicks_are_never_looked_up() -> None:
    h = await Harness.start()
    h.register()
    lookup = asyncio.create_task(
        h.transport.private_address(Handles(irc_nick="#python-infra :x", irc_account="donald"))
    )
    await settle()
    assert h.sent() == ["WHO donald %tna,72"]
    h.feed(":irc.test 315 infrabot donald :End")
    assert await asyncio.wait_for(lookup, 5) is None


async def test_mention_address_is_the_nick_when_it_is_one() -> None:
    h = await Harness.start()
    assert h.transport.mention_address(DONALD) == "dstufft"
    assert h.transport.mention_address(Handles(irc_nick="a,b")) is None
    assert h.transport.mention_address(Handles(irc_account="donald")) is None


async def test_is_person_compares_accounts_only() -> None:
    h = await Harness.start()

    def sender(nick: str, account: str | None) -> Sender:
        return Sender(IRC, nick, account, nick)

    assert h.transport.is_person(sender("whoever", "donald"), DONALD)
    assert h.transport.is_person(sender("x", "DONALD"), DONALD)  # services fold case
    assert not h.transport.is_person(sender("dstufft", None), DONALD)  # the nick: no
    # an account named like the recorded nick is someone else's account
    assert not h.transport.is_person(sender("dstufft", "dstufft"), DONALD)
    assert not h.transport.is_person(sender("x", "donald"), Handles(irc_nick="donald"))
    brackets = Handles(irc_account="[ops]")
    assert h.transport.is_person(sender("x", "{OPS}"), brackets)  # rfc1459 folding


async def test_nicks_already_seen_in_a_channel_are_not_asked_about() -> None:
    h = await Harness.start()
    h.register()
    h.feed(":dstufft!i@h JOIN #python-infra * :impostor")  # known: not logged in
    lookup = asyncio.create_task(h.transport.private_address(DONALD))
    await settle()
    assert h.sent() == ["WHO donald %tna,72"]  # each WHO costs a line of the flood budget
    h.feed(":irc.test 315 infrabot donald :End")
    assert await asyncio.wait_for(lookup, 5) is None
