"""The Matrix transport against a fake nio client: login, exactly once, invites, backoff."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_nio import ALIAS, BOT, ROOM, FakeClient, sync, text
from nio import SyncError

from infrabot.config import MatrixConfig
from infrabot.errors import TransportError
from infrabot.messages import IncomingMessage, Reply, Room
from infrabot.transports.matrix import MATRIX, MatrixTransport
from infrabot.transports.matrix_store import MatrixStateStore


def config(tmp_path: Path, **extra: Any) -> MatrixConfig:
    settings: dict[str, Any] = {
        "homeserver": "http://127.0.0.1:1",
        "user_id": BOT,
        "password": "pw",
        "rooms": [ALIAS],
        "store_path": tmp_path / "store",
    }
    return MatrixConfig(**{**settings, **extra})


class Harness:
    """A transport on a fake client, answering every message with 'ok'."""

    def __init__(self, tmp_path: Path, client: FakeClient, **extra: Any) -> None:
        self.client = client
        self.sleeps: list[float] = []
        self.seen: list[IncomingMessage] = []
        self.transport = MatrixTransport(
            config(tmp_path, **extra), client_factory=lambda _: client, sleep=self._sleep
        )

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def deliver(self, message: IncomingMessage) -> None:
        self.seen.append(message)
        await self.transport.send(Reply(room=message.room, lines=("ok",), in_reply_to=message))

    async def run_until_drained(self) -> None:
        task = asyncio.create_task(self.transport.run(self.deliver))
        drained = asyncio.create_task(self.client.drained.wait())
        done, _ = await asyncio.wait({task, drained}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            drained.cancel()
            task.result()
        await self.transport.answered()  # rooms are answered beside the sync loop
        await self.transport.stop()
        await asyncio.wait_for(task, 5)


async def test_first_start_answers_nothing_already_in_the_room(tmp_path: Path) -> None:
    client = FakeClient([sync("s1", [text("$old", "!owner pypi")]), sync("s2", [text("$e", "!x")])])
    harness = Harness(tmp_path, client)
    await harness.run_until_drained()
    assert [m.event_id for m in harness.seen] == ["$e"]
    assert client.joined == [ALIAS]
    assert client.closed


async def test_the_sender_is_the_authenticated_user_id(tmp_path: Path) -> None:
    spoof = text("$e", "!whoami", sender="@mallory:x.org")
    client = FakeClient([sync("s1"), sync("s2", [spoof])])
    client.rooms[ROOM].users["@mallory:x.org"] = type("U", (), {"display_name": "Alice"})()
    harness = Harness(tmp_path, client)
    await harness.run_until_drained()
    [message] = harness.seen
    assert message.sender.account == "@mallory:x.org"
    assert message.sender.name == "Alice"
    assert message.sender.address == "@mallory:x.org"
    assert message.room.id == ROOM
    assert message.bot_name == "infrabot"


async def test_replies_are_threaded_notices_with_stable_transaction_ids(tmp_path: Path) -> None:
    client = FakeClient([sync("s1"), sync("s2", [text("$e", "!x")])])
    harness = Harness(tmp_path, client)
    await harness.run_until_drained()
    [(room, content, tx_id)] = client.sent
    assert room == ROOM
    assert content["msgtype"] == "m.notice"
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$e"}}
    assert "m.mentions" not in content

    # The same answer sent again (after a crash) carries the same transaction ID.
    other = FakeClient([sync("s1"), sync("s2", [text("$e", "!x")])])
    await Harness(tmp_path / "again", other).run_until_drained()
    assert other.sent[0][2] == tx_id


async def test_restart_resumes_the_token_the_device_and_answers_once(tmp_path: Path) -> None:
    first = FakeClient([sync("s1"), sync("s2", [text("$a", "!x")])])
    await Harness(tmp_path, first).run_until_drained()
    assert first.logins == [None]

    # Down for a while: the next sync brings $a again (a crash before the token was saved)
    # and $b, sent while the bot was away.
    second = FakeClient([sync("s3", [text("$a", "!x"), text("$b", "!y")])])
    harness = Harness(tmp_path, second)
    await harness.run_until_drained()
    assert second.logins == []  # the saved device was reused, no new login
    assert second.device_id == "NEWDEVICE"
    assert second.since_seen[0] == ("s2", True)  # resumed, with full state for names
    assert [m.event_id for m in harness.seen] == ["$b"]

    third = FakeClient([sync("s4", [text("$a", "!x"), text("$b", "!y")])])
    harness = Harness(tmp_path, third)
    await harness.run_until_drained()
    assert harness.seen == []


async def test_a_refused_saved_token_logs_in_again_on_the_same_device(tmp_path: Path) -> None:
    await Harness(tmp_path, FakeClient([sync("s1")])).run_until_drained()
    client = FakeClient([sync("s2")], token_valid=False)
    await Harness(tmp_path, client).run_until_drained()
    assert client.logins == ["NEWDEVICE"]


async def test_old_commands_are_ignored_after_a_restart(tmp_path: Path) -> None:
    await Harness(tmp_path, FakeClient([sync("s1")]), max_age=60).run_until_drained()
    stale, fresh = text("$stale", "!x", age=61_000), text("$fresh", "!x", age=59_000)
    harness = Harness(tmp_path, FakeClient([sync("s2", [stale, fresh])]), max_age=60)
    await harness.run_until_drained()
    assert [m.event_id for m in harness.seen] == ["$fresh"]


async def test_own_messages_and_notices_are_not_answered(tmp_path: Path) -> None:
    own = text("$own", "!x", sender=BOT)
    notice = {**text("$n", "!x", sender="@otherbot:x.org")}
    notice["content"] = {"msgtype": "m.notice", "body": "!x"}
    harness = Harness(tmp_path, FakeClient([sync("s1"), sync("s2", [own, notice])]))
    await harness.run_until_drained()
    assert harness.seen == []


async def test_messages_in_rooms_not_configured_are_ignored(tmp_path: Path) -> None:
    elsewhere = sync("s2", [text("$e", "!x")], room="!elsewhere:x.org")
    harness = Harness(tmp_path, FakeClient([sync("s1"), elsewhere]))
    await harness.run_until_drained()
    assert harness.seen == []


async def test_invites_are_accepted_only_to_configured_rooms(tmp_path: Path) -> None:
    alias_state = [{"type": "m.room.canonical_alias", "content": {"alias": ALIAS}}]
    invites = {"!configured:x.org": alias_state, "!spam:x.org": []}
    client = FakeClient([sync("s1", invites=invites)])
    await Harness(tmp_path, client).run_until_drained()
    assert "!configured:x.org" in client.joined
    assert "!spam:x.org" not in client.joined
    assert client.left == ["!spam:x.org"]


async def test_sync_errors_back_off_exponentially_within_the_bound(tmp_path: Path) -> None:
    down = aiohttp.ClientConnectionError("refused")
    failures: list[Any] = [down, down, SyncError("bad gateway"), down, down, down, down]
    client = FakeClient([sync("s1"), *failures, sync("s2", [text("$e", "!x")])])
    harness = Harness(tmp_path, client, backoff_initial=1.0, backoff_max=8.0)
    await harness.run_until_drained()
    assert len(harness.sleeps) == len(failures)  # one wait per failure: never a tight loop
    assert all(0.9 <= s <= 8.0 for s in harness.sleeps)
    assert harness.sleeps[3] > harness.sleeps[0] * 4
    assert [m.event_id for m in harness.seen] == ["$e"]


async def test_a_rate_limited_sync_waits_as_asked(tmp_path: Path) -> None:
    limited = SyncError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=2500)
    harness = Harness(tmp_path, FakeClient([sync("s1"), limited, sync("s2")]))
    await harness.run_until_drained()
    assert harness.sleeps == [2.51]


async def test_stop_ends_a_long_poll_at_once(tmp_path: Path) -> None:
    client = FakeClient([sync("s1")])
    transport = MatrixTransport(config(tmp_path), client_factory=lambda _: client)
    task = asyncio.create_task(transport.run(lambda m: asyncio.sleep(0)))
    await asyncio.wait_for(transport.ready.wait(), 5)
    await client.drained.wait()
    await transport.stop()
    await asyncio.wait_for(task, 1)
    assert client.closed


async def test_an_access_token_needs_no_login_and_stores_no_session(tmp_path: Path) -> None:
    client = FakeClient([sync("s1"), sync("s2", [text("$e", "!x")])])
    harness = Harness(tmp_path, client, access_token="configured-token", password=None)
    await harness.run_until_drained()
    assert client.logins == []
    assert client.access_token == "configured-token"
    assert [m.event_id for m in harness.seen] == ["$e"]
    store = MatrixStateStore(tmp_path / "store")
    assert store.session is None
    assert store.sync_token == "s2"


async def test_logged_out_mid_sync_crashes_then_logs_in_again_on_its_device(
    tmp_path: Path,
) -> None:
    client = FakeClient([sync("s1"), SyncError("logged out", "M_UNKNOWN_TOKEN")])
    transport = MatrixTransport(config(tmp_path), client_factory=lambda _: client)
    with pytest.raises(TransportError):
        await transport.run(lambda m: asyncio.sleep(0))
    assert client.closed

    # The supervisor runs the same transport again; the saved token is now refused.
    again = FakeClient([sync("s2", [text("$e", "!x")])], token_valid=False)
    harness = Harness(tmp_path, again)
    await harness.run_until_drained()
    assert again.logins == ["NEWDEVICE"]
    assert [m.event_id for m in harness.seen] == ["$e"]


async def test_long_output_goes_out_as_several_threaded_events(tmp_path: Path) -> None:
    client = FakeClient([sync("s1"), sync("s2", [text("$e", "!x")])])
    harness = Harness(tmp_path, client)
    lines = tuple(f"{n}: " + "y" * 900 for n in range(60))

    async def long_answer(message: IncomingMessage) -> None:
        await harness.transport.send(Reply(room=message.room, lines=lines, in_reply_to=message))

    harness.deliver = long_answer  # type: ignore[method-assign]
    await harness.run_until_drained()
    assert len(client.sent) > 1
    assert len({tx_id for _, _, tx_id in client.sent}) == len(client.sent)
    assert all(c["m.relates_to"]["m.in_reply_to"]["event_id"] == "$e" for _, c, _ in client.sent)
    assert "\n".join(c["body"] for _, c, _ in client.sent) == "\n".join(lines)


async def test_a_question_in_a_thread_is_answered_in_the_thread(tmp_path: Path) -> None:
    asked = text("$q", "!x")
    asked["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": "$root"}
    client = FakeClient([sync("s1"), sync("s2", [asked])])
    await Harness(tmp_path, client).run_until_drained()
    [(_, content, _)] = client.sent
    assert content["m.relates_to"]["rel_type"] == "m.thread"
    assert content["m.relates_to"]["event_id"] == "$root"
    assert content["m.relates_to"]["m.in_reply_to"] == {"event_id": "$q"}


def direct_invite() -> dict[str, list[dict[str, Any]]]:
    member = {
        "type": "m.room.member",
        "state_key": BOT,
        "content": {"membership": "invite", "is_direct": True},
    }
    return {"!dm:x.org": [member]}


async def test_direct_chats_are_declined_unless_enabled(tmp_path: Path) -> None:
    client = FakeClient([sync("s1", invites=direct_invite())])
    await Harness(tmp_path, client).run_until_drained()
    assert client.left == ["!dm:x.org"]


async def test_an_enabled_direct_chat_is_a_private_conversation(tmp_path: Path) -> None:
    said_before_join = text("$early", "owner pypi")
    client = FakeClient(
        [
            sync("s1", invites=direct_invite()),
            sync("s2", [said_before_join, join_event(BOT)], room="!dm:x.org"),
        ]
    )
    harness = Harness(tmp_path, client, direct_messages=True)
    await harness.run_until_drained()
    assert client.joined[-1] == "!dm:x.org"
    [message] = harness.seen
    assert message.room.private
    assert message.event_id == "$early"

    # Still a direct chat after a restart.
    later = FakeClient([sync("s3", [text("$later", "host")], room="!dm:x.org")])
    harness = Harness(tmp_path, later, direct_messages=True)
    await harness.run_until_drained()
    assert [m.room.private for m in harness.seen] == [True]


def join_event(user: str) -> dict[str, Any]:
    return {
        "type": "m.room.member",
        "state_key": user,
        "sender": user,
        "content": {"membership": "join"},
    }


class AliasResolvingClient(FakeClient):
    """Resolves one more alias than the configured room's."""

    async def room_resolve_alias(self, alias: str) -> Any:
        from nio import RoomResolveAliasError, RoomResolveAliasResponse

        if alias == "#announce:x.org":
            return RoomResolveAliasResponse(alias, "!announce:x.org", [])
        return RoomResolveAliasError("no such alias", "M_NOT_FOUND")


async def test_a_room_given_by_alias_is_sent_to_by_its_id(tmp_path: Path) -> None:
    client = AliasResolvingClient([sync("s1"), sync("s2", [text("$e", "!x")])])
    harness = Harness(tmp_path, client)
    outcomes: list[str] = []

    async def announce(message: IncomingMessage) -> None:
        for alias in (ALIAS, "#announce:x.org", "#announce:x.org", "#gone:x.org"):
            try:
                await harness.transport.send(Reply(room=Room(MATRIX, alias), lines=("alert",)))
                outcomes.append("sent")
            except TransportError as exc:
                outcomes.append(str(exc))

    harness.deliver = announce  # type: ignore[method-assign]
    await harness.run_until_drained()
    assert [room for room, _, _ in client.sent] == [ROOM, "!announce:x.org", "!announce:x.org"]
    assert outcomes[:3] == ["sent"] * 3
    assert outcomes[3].startswith("matrix: cannot resolve the room alias #gone:x.org")


async def test_a_stop_while_a_sync_comes_back_leaves_no_request_unawaited(
    tmp_path: Path,
) -> None:
    # The stop arrives with a sync's response: the loop must not make the next request and
    # drop it unstarted (Python warns "coroutine ... was never awaited" for such a request).
    class StoppedDuringSync(FakeClient):
        async def sync(self, *args: Any, **kwargs: Any) -> Any:
            response = await super().sync(*args, **kwargs)
            await transport.stop()
            return response

    client = StoppedDuringSync([sync("s1")])
    transport = MatrixTransport(config(tmp_path), client_factory=lambda _: client)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await asyncio.wait_for(transport.run(lambda m: asyncio.sleep(0)), 5)
        gc.collect()
    assert client.closed
    assert client.since_seen == [(None, False)]
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
