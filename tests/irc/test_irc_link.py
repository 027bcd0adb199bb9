"""The IRC transport says whether it is connected: up once registered, down when the
connection is lost and once stopped."""

from __future__ import annotations

from irc_harness import Harness


async def test_the_link_is_up_while_registered() -> None:
    h = await Harness.start()
    assert (h.transport.link.connected, h.transport.link.reason) == (False, "not connected yet")
    h.register()
    assert h.transport.link.connected
    h.drop()
    await h.connected()  # the next connection is being made
    assert (h.transport.link.connected, h.transport.link.reason) == (False, "disconnected")
    h.register()
    assert h.transport.link.connected and h.transport.link.connections == 2
    await h.stop()
    assert (h.transport.link.connected, h.transport.link.reason) == (False, "stopped")
