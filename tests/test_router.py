"""The router: addressing, isolation of plugins, guards, and output that can never flood or inject."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrabot.inventory import Index
from infrabot.loader import builtin_plugin_dir, load_plugins
from infrabot.messages import IncomingMessage
from infrabot.rate_limit import UserRateLimiter
from infrabot.router import Router, RouterLimits
from infrabot.text import CleanLines
from tests.conftest import message

MISC = Path(__file__).parent / "fixtures" / "plugins_misc"


@pytest.fixture(scope="module")
def router(psf_index: Index) -> Router:
    plugins = load_plugins([builtin_plugin_dir(), MISC], installed=False)
    return Router(
        plugins=plugins,
        index=lambda: psf_index,
        is_admin=lambda s: s.account == "admin-account",
        limits=RouterLimits(handler_seconds=0.2),
    )


async def lines(router: Router, text: str, **kw: object) -> list[str]:
    return [line for r in await router.handle(message(text, **kw)) for line in r.lines]  # type: ignore[arg-type]


def test_broken_plugins_are_reported_and_skipped(router: Router) -> None:
    errors = router.plugins.errors
    assert any(
        "plugin broken_import: ImportError: this plugin is broken on purpose" in e for e in errors
    )
    assert any("command name 'boom' is already taken by plugin boom" in e for e in errors)
    assert "owner" in router.plugins.commands  # the others still load


async def test_exception_in_plugin_gives_short_error(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    assert await lines(router, "!boom") == ["sorry, !boom failed with an internal error (logged)"]
    assert "kaboom" in caplog.text  # the traceback goes to the log
    assert await lines(router, "!owner docs") == [
        "docs.python.org is maintained by Benjamin Peterson and Georg Brandl",
        "Reach: no contact recorded for them; ask the Infrastructure Team: "
        "infrastructure-staff@python.org, #python-infra on Freenode",
    ]


async def test_a_remembered_answer_is_the_first_one_cleaned_once(router: Router) -> None:
    """A pure command runs once per inventory; its answer is kept as the clean lines it gave,
    marked clean so no transport cleans it again."""
    first = await router.handle(message("!remembered x"))
    again = await router.handle(message("!remembered x", nick="bob", account="bob"))
    (answer,) = first
    (repeat,) = again
    assert answer.lines == repeat.lines == ("run 1", "PRIVMSG #python-infra :pwned", "a b")
    assert type(answer.lines) is CleanLines and type(repeat.lines) is CleanLines
    assert repeat.in_reply_to is not None and repeat.in_reply_to.sender.name == "bob"
    assert (await router.handle(message("!remembered y")))[0].lines[0] == "run 2"


async def test_a_remembered_answer_is_ready_without_waiting(router: Router) -> None:
    """What needs no handler comes back at once (a transport can write it in the same turn);
    a command whose handler must run comes back as a coroutine, started by nobody yet."""
    first = router.answer(message("!remembered ready"))
    assert not isinstance(first, list)
    (answer,) = await first
    again = router.answer(message("!remembered ready", nick="bob", account="bob"))
    assert isinstance(again, list)
    assert [r.lines for r in again] == [answer.lines]
    assert router.answer(message("lunch, anyone?")) == []
    asked = router.answer(replace(message("!remembered ready", account=None), vouch=_nobody))
    assert not isinstance(asked, list)  # the network must be asked who the sender is first
    assert [r.lines for r in await asked] == [answer.lines]


async def _nobody() -> str | None:
    return None


async def test_command_error_is_shown_as_is(router: Router) -> None:
    assert await lines(router, "!refuse") == ["not today"]


async def test_slow_handler_times_out(router: Router) -> None:
    assert await lines(router, "!slow") == ["sorry, !slow took too long"]


async def test_injected_line_breaks_and_controls_are_removed(router: Router) -> None:
    out = await lines(router, "!inject", private=True)
    assert out == ["hi", "PRIVMSG #python-infra :pwned", "a b c [31md", "x", "y"]
    for line in out:
        assert not set(line) & {"\r", "\n", "\x00"}


async def test_a_long_channel_answer_goes_in_private_with_a_pointer(router: Router) -> None:
    private, pointer = await router.handle(message("!many"))
    assert (private.room.id, private.room.private) == ("alice", True)
    assert len(private.lines) == 60 and private.lines[-1] == "(41 more lines)"
    assert (pointer.room.id, pointer.room.private) == ("#python-infra", False)
    assert pointer.lines == ("that answer is 100 lines; I sent it to you in private",)
    assert pointer.in_reply_to is not None and pointer.address_asker


@pytest.mark.parametrize("network", ["irc", "matrix"])
async def test_the_long_answer_rule_is_the_same_on_every_network(
    psf_index: Index, network: str
) -> None:
    short = Router(
        plugins=load_plugins([builtin_plugin_dir(), MISC], installed=False),
        index=lambda: psf_index,
        limits=RouterLimits(channel_lines=2),
    )
    (answer,) = await short.handle(message("!owner docs", network=network))
    assert len(answer.lines) == 2 and not answer.room.private
    private, pointer = await short.handle(message("!many", network=network))
    assert private.room.private and pointer.lines[0].startswith("that answer is 100 lines")


async def test_a_plugins_own_channel_reply_is_capped_where_it_goes(router: Router) -> None:
    private = await lines(router, "!many", private=True)
    assert len(private) == 60 and private[-1] == "(41 more lines)"


async def test_admin_only_fails_closed(router: Router) -> None:
    refused = ["sorry, !secret is for admins only"]
    assert await lines(router, "!secret", account=None, nick="admin-account") == refused
    assert await lines(router, "!secret", account="someone") == refused
    assert await lines(router, "!secret", account="admin-account") == ["the secret"]


async def test_nick_is_not_identity(router: Router) -> None:
    assert await lines(router, "!whoami", nick="admin-account", account=None) == [
        "admin-account on irc: not identified, not an admin"
    ]


async def test_configurable_prefix(psf_index: Index) -> None:
    plugins = load_plugins([builtin_plugin_dir()], installed=False)
    router = Router(plugins=plugins, index=lambda: psf_index, prefix=".")
    assert (await lines(router, ".dc iad1"))[0] == "iad1: Rackspace, region IAD"
    assert await lines(router, "!dc iad1") == []
    assert (await lines(router, "infrabot: .dc iad1"))[0] == "iad1: Rackspace, region IAD"


async def test_case_of_command_and_address(router: Router) -> None:
    assert (await lines(router, "!DC iad1"))[0] == "iad1: Rackspace, region IAD"
    assert (await lines(router, "InfraBot:   dc iad1"))[0] == "iad1: Rackspace, region IAD"
    assert await lines(router, "infrabotx: dc iad1") == []


async def test_overlong_input_is_cut(router: Router) -> None:
    out = await lines(router, "!echo " + "x" * 10_000)
    assert len(out) == 1 and len(out[0]) < 2100


texts = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda p, cmd, arg: f"{p}{cmd} {arg}",
        st.sampled_from(["!", "infrabot: ", "infrabot,", "", "!!"]),
        st.sampled_from(
            [
                "owner",
                "host",
                "provider",
                "service",
                "dc",
                "team",
                "who",
                "search",
                "help",
                "echo",
                "inject",
                "boom",
                "many",
                "secret",
                "OWNER",
                "nope",
                "",
            ]
        ),
        st.text(max_size=200),
    ),
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts, private=st.booleans(), account=st.none() | st.text(max_size=20))
def test_fuzz_router_never_raises_or_injects(
    router: Router, text: str, private: bool, account: str | None
) -> None:
    # a plain function with its own loop: hypothesis then drives every example for certain
    replies = asyncio.run(router.handle(message(text, private=private, account=account)))
    for reply in replies:
        assert 0 < len(reply.lines) <= 60
        for line in reply.lines:
            assert line
            assert not set(line) & {"\r", "\n", "\x00"}


async def test_a_user_over_the_rate_limit_is_told_once_in_private_then_ignored(
    psf_index: Index,
) -> None:
    plugins = load_plugins([builtin_plugin_dir()], installed=False)
    now = [0.0]
    limiter = UserRateLimiter(rate=0.1, burst=2, quiet_seconds=60, clock=lambda: now[0])
    router = Router(plugins=plugins, index=lambda: psf_index, limiter=limiter)
    for network in ("irc", "matrix"):  # one rule for every network
        answers = [await router.handle(message("!dc iad1", network=network)) for _ in range(4)]
        assert [len(a) for a in answers] == [1, 1, 1, 0]
        assert answers[0][0].lines[0] == "iad1: Rackspace, region IAD"
        (notice,) = answers[2]
        assert notice.room.private and notice.room.id == "alice"
        assert notice.lines == ("you are sending commands too fast; I'll ignore them for 60 s",)
    assert await router.handle(message("!dc iad1", account="bob", nick="bob"))  # others answered
    assert await router.handle(message("not a command")) == []  # chatter costs nothing
    now[0] += 10.0  # a token back: answered again
    assert (await router.handle(message("!dc iad1")))[0].lines[0].startswith("iad1")


async def test_the_network_is_asked_who_the_sender_is_only_for_a_command(router: Router) -> None:
    asked: list[str] = []

    async def vouch() -> str | None:
        asked.append("who?")
        return "admin-account"

    def said(text: str) -> IncomingMessage:
        return replace(message(text, account=None), vouch=vouch)

    assert await router.handle(said("lunch, anyone?")) == []
    assert await router.handle(said("infrabot is great")) == []
    assert asked == []  # channel talk costs the network nothing
    (reply,) = await router.handle(said("!secret"))
    assert reply.lines == ("the secret",) and asked == ["who?"]
    assert reply.in_reply_to is not None and reply.in_reply_to.sender.account == "admin-account"


async def test_what_a_question_meant_is_remembered_until_the_index_changes(
    psf_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import infrabot.router as router_module

    calls: list[str] = []
    real = router_module.understand

    def counted(text: str, *args: object, **kw: object) -> object:
        calls.append(text)
        return real(text, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(router_module, "understand", counted)
    current = [psf_index]
    asking = Router(plugins=load_plugins([builtin_plugin_dir()]), index=lambda: current[0])
    first = await asking.handle(message("infrabot: who owns pypi?"))
    again = await asking.handle(message("infrabot: who owns pypi?"))
    assert [r.lines for r in first] == [r.lines for r in again] and len(calls) == 1
    current[0] = Index(psf_index.inventory)  # a reload
    await asking.handle(message("infrabot: who owns pypi?"))
    assert len(calls) == 2
    long = "infrabot: who owns pypi? " + "x" * 2000  # longer than any input kept
    await asking.handle(message(long))
    await asking.handle(message(long))
    assert len(calls) == 4  # not remembered: the memo never holds more than that per text
    for _ in range(3):
        assert await asking.handle(message("lunch, anyone?")) == []
    assert asking._meanings.get(("lunch, anyone?", "infrabot", False)) is None  # chatter: no
    assert len(asking._meanings) == 1


async def test_what_a_text_means_depends_on_where_it_was_said(router: Router) -> None:
    """The same words mean a command in private and nothing in a channel: the remembered
    meaning is per place, not per text alone."""
    (private,) = await router.handle(message("owner pypi", private=True))
    assert private.lines[0].startswith("PyPI (pypi.python.org) is maintained by")
    assert await router.handle(message("owner pypi")) == []  # remembered in private only
    (again,) = await router.handle(message("owner pypi", private=True))
    assert again.lines == private.lines
