"""From one incoming message to the replies it deserves.

Transports hand over everything users say; the router alone decides what is meant for the
bot (the prefix, addressed by name, or a private message), asks the network who the sender is
only then, applies one rate limit and one set of line limits for every network, finds the
command by name or alias (suggesting the nearest on a typo), runs the handler, and turns
whatever happens into short, clean reply lines. A channel answer longer than
``channel_lines`` goes to the asker in private, with a pointer in the channel. It fails
closed: an admin-only command runs only for an identified admin, and no exception escapes.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz import fuzz, process

from infrabot import metrics
from infrabot.errors import CommandError
from infrabot.inventory.index import Index
from infrabot.loader import PluginSet
from infrabot.messages import IncomingMessage, Reply, Room, Sender
from infrabot.paging.pager import Pager
from infrabot.plugin import COMMAND_NAME, CommandSpec, Context, HandlerResult, Reloads
from infrabot.questions import looks_like_question, not_understood, understand
from infrabot.rate_limit import UserRateLimiter, Verdict
from infrabot.store import AuditEntry, Store
from infrabot.text import CleanLines, clean_line, clean_lines

__all__ = ["ParsedCommand", "Router", "RouterLimits"]

log = logging.getLogger(__name__)

_ANSWER_MEMO = 512  # pure answers remembered per inventory
_NOT_UNDERSTOOD = ""  # the command of text said to the bot that it cannot map
_SORRY = "sorry, something went wrong (logged)"


@dataclass(frozen=True, slots=True)
class RouterLimits:
    """Bounds that keep any one message from flooding a channel or stalling the bot."""

    max_input_chars: int = 2000
    channel_lines: int = 4
    """A channel answer longer than this goes to the asker in private, with a pointer."""
    private_lines: int = 60
    handler_seconds: float = 20.0


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A message that is a command: the name typed and the rest of the line."""

    name: str
    args: str


_UNSEEN = ParsedCommand("", "")
"""A text whose meaning is not remembered (compared by identity: None is a meaning)."""


@dataclass(slots=True)
class Router:
    """Turns incoming messages into replies using the current plugins and inventory index."""

    plugins: PluginSet
    index: Callable[[], Index]
    prefix: str = "!"
    is_admin: Callable[[Sender], bool] = lambda sender: False
    reloads: Reloads | None = None
    store: Store | None = None
    pager: Pager | None = None
    limits: RouterLimits = RouterLimits()
    limiter: UserRateLimiter | None = None
    # answers of pure commands for the current index, cleaned, most recent last; bounded
    _answers: OrderedDict[tuple[str, str, bool], CleanLines] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _answers_index: Index | None = field(default=None, init=False, repr=False)
    # what texts meant to the bot, for the same index and plugins; bounded
    _meanings: OrderedDict[tuple[str, str, bool], ParsedCommand | None] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _meanings_of: tuple[Index, PluginSet] | None = field(default=None, init=False, repr=False)

    def parse(self, message: IncomingMessage) -> ParsedCommand | None:
        """The command in ``message``, or None when the message is not meant for the bot.

        Text addressed to the bot without the prefix may be a plain question ("who owns
        pypi?"): it becomes the command that answers it. Addressed text that is neither gets
        a command named ``""``, which answers that it was not understood. What a text meant is
        remembered: people ask the same things, and the meaning depends only on the text, the
        bot's name, whether it was said in private, the index and the plugins.
        """
        index, plugins = self.index(), self.plugins
        of = self._meanings_of
        if of is None or of[0] is not index or of[1] is not plugins:
            self._meanings.clear()  # a reload: names may mean other things now
            self._meanings_of = (index, plugins)
        meanings = self._meanings
        key = (message.text, message.bot_name, message.room.private)
        parsed = meanings.get(key, _UNSEEN)
        if parsed is not _UNSEEN:
            meanings.move_to_end(key)
            return parsed
        text = clean_line(message.text, self.limits.max_input_chars)
        prefixed = bool(self.prefix) and text.startswith(self.prefix)
        if prefixed:
            rest: str | None = text[len(self.prefix) :]
        else:
            rest = _strip_address(text, message.bot_name)
            if rest is not None:
                rest = _strip_prefix(rest, self.prefix)
            elif message.room.private:
                rest = _strip_prefix(text, self.prefix)
        if rest is None:
            return None  # talk not meant for the bot: not remembered, there is too much of it
        parsed = self._meaning(rest, prefixed, message)
        if len(message.text) <= self.limits.max_input_chars:  # the memo's size stays bounded
            meanings[key] = parsed
            if len(meanings) > _ANSWER_MEMO:
                meanings.popitem(last=False)
        return parsed

    def _meaning(self, rest: str, prefixed: bool, message: IncomingMessage) -> ParsedCommand | None:
        """What ``rest`` (the text after the prefix or the bot's name) asks for."""
        commands = self.plugins.commands
        word, _, args = rest.strip().partition(" ")
        name = word.lower()
        if prefixed and name in commands:  # the most common: a command, typed
            return ParsedCommand(name, args.strip())
        # "!where does pypi run?" too
        meaning = understand(rest, self.index(), commands, bot=message.bot_name)
        if meaning is not None and meaning.command in commands:
            return ParsedCommand(meaning.command, meaning.args)
        if not COMMAND_NAME.fullmatch(name) or (
            not prefixed and name not in commands and looks_like_question(rest)
        ):
            # "!!!" or "! " in a channel is not a command; said to the bot, it is answered
            if prefixed and not message.room.private:
                return None
            return ParsedCommand(_NOT_UNDERSTOOD, rest.strip())
        return ParsedCommand(name, args.strip())

    def answer(self, message: IncomingMessage) -> list[Reply] | Coroutine[Any, Any, list[Reply]]:
        """Every reply ``message`` calls for, at once when they need no waiting: none when it
        is not a command, the notice of the rate limit, a remembered answer. Otherwise a
        coroutine that finds them: the network is asked who the sender is, or a handler runs.
        Never raises, and neither does the coroutine.
        """
        try:
            parsed = self.parse(message)
            if parsed is None:
                return []
            if message.vouch is None:
                ready = self._ready(message, parsed)
                if ready is not None:
                    return ready
        except Exception:  # the last line of defence: the bot keeps serving
            log.exception("router failed on %r", message.text[:200])
            return self._replies(message, [_SORRY])
        return self._later(message, parsed)

    async def handle(self, message: IncomingMessage) -> list[Reply]:
        """Every reply ``message`` calls for (none when it is not a command). Never raises."""
        answer = self.answer(message)
        return answer if isinstance(answer, list) else await answer

    async def _later(self, message: IncomingMessage, parsed: ParsedCommand) -> list[Reply]:
        """The replies that need a wait: for the network's word on the sender, or a handler."""
        result: list[str] | list[Reply] | CleanLines
        try:
            if message.vouch is not None:
                message = await _vouched(message)
                ready = self._ready(message, parsed)
                if ready is not None:
                    return ready
            with metrics.command_timer(message):
                result = await self._run(message, parsed)
        except Exception:  # the last line of defence: the bot keeps serving
            log.exception("router failed on %r", message.text[:200])
            result = [_SORRY]
        return self._replies(message, result)

    def _ready(self, message: IncomingMessage, parsed: ParsedCommand) -> list[Reply] | None:
        """The replies to a command from a known sender that need no handler: the notice of
        the rate limit (or nothing), or a remembered answer; None when the handler must run."""
        refusal = self._over_limit(message)
        if refusal is not None:
            return refusal
        started = time.perf_counter()
        remembered = self._remembered(parsed, message.room.private)
        if remembered is None:
            return None
        metrics.command_done(message, remembered[0], "cached", time.perf_counter() - started)
        return self._replies(message, remembered[1])

    def _over_limit(self, message: IncomingMessage) -> list[Reply] | None:
        """None when ``message`` may run; else what to say (once, in private) or nothing."""
        if self.limiter is None:
            return None
        sender = message.sender
        verdict = self.limiter.check(f"{sender.network}:{sender.account or sender.address}")
        if verdict == Verdict.ALLOW:
            return None
        metrics.held_back(sender.network)
        if verdict == Verdict.IGNORE:
            return []
        log.warning("%s on %s is sending commands too fast", sender.name, sender.network)
        quiet = f"{self.limiter.quiet_seconds:g} s"
        notice = f"you are sending commands too fast; I'll ignore them for {quiet}"
        room = Room(network=sender.network, id=sender.address, private=True)
        return [Reply(room=room, lines=(notice,), in_reply_to=message)]

    def _remembered(self, parsed: ParsedCommand, private: bool) -> tuple[str, CleanLines] | None:
        """The command's name and the answer of a pure command asked before with the same
        words (in private, or not), if remembered."""
        spec = self.plugins.commands.get(parsed.name)
        if spec is None or not spec.pure or spec.admin_only:
            return None
        index = self.index()
        if index is not self._answers_index:
            self._answers.clear()  # a reload: every remembered answer may be stale
            self._answers_index = index
            return None
        key = (spec.name, parsed.args, private)
        cached = self._answers.get(key)
        if cached is None:
            return None
        self._answers.move_to_end(key)
        return spec.name, cached

    async def _run(
        self, message: IncomingMessage, parsed: ParsedCommand
    ) -> list[str] | list[Reply] | CleanLines:
        commands = self.plugins.commands
        if parsed.name == _NOT_UNDERSTOOD:
            return [not_understood(self.prefix)]
        spec = commands.get(parsed.name)
        if spec is None:
            metrics.note_command(metrics.UNKNOWN_COMMAND, "unknown")
            return [self._unknown(parsed.name, commands)]
        if spec.admin_only and not (message.sender.account and self.is_admin(message.sender)):
            log.warning(
                "refused %s%s to %s on %s (account %s)",
                self.prefix,
                spec.name,
                message.sender.name,
                message.sender.network,
                message.sender.account,
            )
            metrics.note_command(spec.name, "refused")
            not_admin = f"sorry, {self.prefix}{spec.name} is for admins only"
            self._audit(message, parsed, allowed=False, result=not_admin)
            return [not_admin]
        index = self.index()
        ctx = Context(
            message=message,
            index=index,
            prefix=self.prefix,
            full=message.room.private,
            commands=self.plugins.specs,
            is_admin=bool(message.sender.account) and self.is_admin(message.sender),
            reloads=self.reloads,
            audit=self.store,
            pager=self.pager,
        )
        result, answered = await self._call(spec, ctx, parsed)
        metrics.note_command(spec.name, "answered" if answered else "failed")
        if spec.pure and answered and all(isinstance(line, str) for line in result):
            clean = clean_lines(str(line) for line in result)
            if index is self._answers_index:  # not an answer from before a reload
                self._answers[(spec.name, parsed.args, message.room.private)] = clean
                if len(self._answers) > _ANSWER_MEMO:
                    self._answers.popitem(last=False)
            return clean
        if spec.admin_only:
            self._audit(message, parsed, allowed=True, result=_first_line(result))
        return result

    async def _call(
        self, spec: CommandSpec, ctx: Context, parsed: ParsedCommand
    ) -> tuple[list[str] | list[Reply], bool]:
        """Run the handler; any failure becomes a short line for the user.

        The flag says whether the handler answered (an answer or a :class:`CommandError`),
        as opposed to failing or timing out: only answers are worth remembering.
        """
        try:
            async with asyncio.timeout(self.limits.handler_seconds):
                result = spec.handler(ctx, parsed.args)
                if inspect.isawaitable(result):
                    result = await result
        except CommandError as exc:
            return [str(exc)], True
        except TimeoutError:
            log.error("%s%s timed out", self.prefix, spec.name)
            return [f"sorry, {self.prefix}{spec.name} took too long"], False
        except Exception:
            log.exception(
                "plugin %s failed on %s%s %s",
                spec.plugin,
                self.prefix,
                spec.name,
                parsed.args[:200],
            )
            return [
                f"sorry, {self.prefix}{spec.name} failed with an internal error (logged)"
            ], False
        return _normalize(result), True

    def _audit(
        self, message: IncomingMessage, parsed: ParsedCommand, *, allowed: bool, result: str
    ) -> None:
        if self.store is None:
            return
        sender = message.sender
        try:
            self.store.audit(
                AuditEntry(
                    network=sender.network,
                    name=sender.name,
                    account=sender.account,
                    command=clean_line(f"{self.prefix}{parsed.name} {parsed.args}".strip(), 200),
                    allowed=allowed,
                    result=clean_line(result, 300),
                )
            )
        except Exception:  # an audit failure must not turn into a command failure
            log.exception("could not write the audit trail")

    def _unknown(self, name: str, commands: dict[str, CommandSpec]) -> str:
        hit = process.extractOne(name, list(commands), scorer=fuzz.ratio, score_cutoff=60)
        help_hint = f"{self.prefix}help lists them"
        if hit is None:
            return f"no command '{name}'; {help_hint}"
        return (
            f"no command '{name}'; did you mean {self.prefix}{commands[hit[0]].name}? ({help_hint})"
        )

    def _replies(
        self, message: IncomingMessage, result: Sequence[str] | Sequence[Reply] | CleanLines
    ) -> list[Reply]:
        """Clean, bounded replies: a plugin's own :class:`Reply` keeps its room and mentions.

        Every line is cleaned once here (a remembered answer was cleaned when first given),
        and the replies carry :class:`~infrabot.text.CleanLines`: transports need not clean
        them again.
        """
        if isinstance(result, CleanLines):
            return self._answer(message, result) if result else []
        own = [r for r in result if isinstance(r, Reply)]
        lines = clean_lines(item for item in result if isinstance(item, str))
        replies = [b for r in own if (b := self._bounded(r, _clean_lines(r))) is not None]
        if lines:
            replies[:0] = self._answer(message, lines)
        return replies

    def _answer(self, message: IncomingMessage, lines: CleanLines) -> list[Reply]:
        """The answer where it was asked, bounded; in private, with a pointer, when too long
        for a channel."""
        if message.room.private or len(lines) <= self.limits.channel_lines:
            room = message.room
            return [Reply(room, self._fit(lines, room), message)]  # room, lines, in_reply_to
        sender = message.sender
        private = Room(network=sender.network, id=sender.address, private=True)
        pointer = clean_lines([f"that answer is {len(lines)} lines; I sent it to you in private"])
        return [
            Reply(room=private, lines=self._fit(lines, private), in_reply_to=message),
            Reply(room=message.room, lines=pointer, in_reply_to=message),
        ]

    def _bounded(self, reply: Reply, clean: CleanLines) -> Reply | None:
        """``reply`` with its ``clean`` lines, at most as many as its room allows."""
        if not clean:
            return None
        lines = self._fit(clean, reply.room)
        return (
            reply
            if type(reply.lines) is CleanLines and lines == reply.lines
            else replace(reply, lines=lines)
        )

    def _fit(self, lines: CleanLines, room: Room) -> CleanLines:
        """``lines``, at most as many as ``room`` allows (the last saying how many more)."""
        limit = self.limits.private_lines if room.private else self.limits.channel_lines
        if len(lines) <= limit:
            return lines
        hidden = len(lines) - (limit - 1)
        where = "" if room.private else ": ask me in private"
        return clean_lines([*lines[: limit - 1], f"({hidden} more lines{where})"])


def _clean_lines(reply: Reply) -> CleanLines:
    """A plugin's own reply, split on line breaks and cleaned like every answer."""
    return clean_lines(str(raw) for raw in reply.lines)


async def _vouched(message: IncomingMessage) -> IncomingMessage:
    """``message`` with the account its network vouches for, asked now."""
    assert message.vouch is not None
    account = await message.vouch()
    return replace(message, sender=replace(message.sender, account=account), vouch=None)


def _normalize(result: HandlerResult) -> list[str] | list[Reply]:
    """A handler's result as lines, or as replies when it built its own."""
    if result is None:
        return []
    if isinstance(result, str):
        return [result]
    if isinstance(result, Reply):
        return [result]
    items = list(result)
    if items and all(isinstance(item, Reply) for item in items):
        return [item for item in items if isinstance(item, Reply)]
    return [str(item) for item in items]


def _first_line(result: Sequence[str] | Sequence[Reply]) -> str:
    for item in result:
        if isinstance(item, Reply):
            if item.lines:
                return item.lines[0]
        elif item:
            return item
    return ""


def _strip_address(text: str, bot_name: str) -> str | None:
    """``owner pypi`` from ``infrabot: owner pypi`` (or ``infrabot, ...``), else None."""
    if not bot_name:
        return None
    match = re.match(rf"\s*{re.escape(bot_name)}\s*[:,]\s*", text, re.IGNORECASE)
    return text[match.end() :] if match else None


def _strip_prefix(text: str, prefix: str) -> str:
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text
