"""From a reply's text to the IRC lines of one connection: nicks, targets, bytes.

What a line may be depends on what this server said (``ISUPPORT``: ``LINELEN``,
``CHANTYPES``, ``NICKLEN``, ``CHANNELLEN``) and on the prefix it adds when relaying (our own
``nick!user@host``). A :class:`LineShaper` keeps those facts for one connection, refuses any
target that is not one nick or channel, and splits text by bytes with room for that prefix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from infrabot.errors import TransportError
from infrabot.messages import Reply
from infrabot.text import CleanLines
from infrabot.transports.irc_names import (
    DEFAULT_CHANNELLEN,
    DEFAULT_CHANTYPES,
    DEFAULT_NICKLEN,
    is_channel,
    is_nick,
)
from infrabot.transports.irc_queue import OutLine
from infrabot.transports.irc_text import DEFAULT_LINELEN, payload_bytes, split_bytes

__all__ = ["LineShaper", "with_nicks"]

_REMEMBERED = 1000  # checked targets, split widths and shaped answers kept, each

_Shape = tuple[str, str, str | None, str | None, int]
"""What the shape of a line depends on: target, our nick, user and host, the line length."""


class LineShaper:
    """The limits of one connection's lines, as its server announced them."""

    def __init__(self) -> None:
        self.isupport: dict[str, str] = {}
        """What the server announced in ``ISUPPORT`` (005), by upper-case name."""
        self.user: str | None = None
        self.host: str | None = None
        self._good_targets: set[tuple[str, bool]] = set()  # checked under these limits
        self._widths: dict[_Shape, int] = {}
        self._shaped: dict[tuple[CleanLines, str | None, _Shape], tuple[OutLine, ...]] = {}

    def announce(self, tokens: list[str]) -> int | None:
        """Take in ``ISUPPORT`` tokens; the server's ``LINELEN`` when it gives a usable one."""
        for token in tokens:
            name, _, value = token.partition("=")
            self.isupport[name.upper()] = value
        self._good_targets.clear()
        linelen = self.isupport.get("LINELEN", "")
        return int(linelen) if linelen.isdigit() and int(linelen) >= DEFAULT_LINELEN else None

    def check_target(self, target: str, *, private: bool) -> None:
        """Refuse (:class:`TransportError`) any target that is not one nick or, for a room,
        one channel of this server."""
        if (target, private) in self._good_targets:
            return
        chantypes = self.isupport.get("CHANTYPES") or DEFAULT_CHANTYPES
        channellen = self._number("CHANNELLEN", DEFAULT_CHANNELLEN)
        if not (
            is_nick(target, self._number("NICKLEN", DEFAULT_NICKLEN))
            or (not private and is_channel(target, chantypes, channellen))
        ):
            wanted = "nick" if private else "nick or channel"
            raise TransportError(
                f"irc: refusing to send to {target[:80]!r}: not one valid {wanted}"
            )
        if len(self._good_targets) > _REMEMBERED:
            self._good_targets.clear()
        self._good_targets.add((target, private))

    def privmsgs(
        self,
        target: str,
        lines: Sequence[str],
        *,
        asker: str | None = None,
        nick: str,
        linelen: int,
    ) -> Sequence[OutLine]:
        """``lines`` as PRIVMSGs to ``target``, each addressed to ``asker`` when given
        (``asker: text``) and split so the relayed line fits.

        :class:`~infrabot.text.CleanLines` are shaped once per asker and target (the same
        object comes back for a remembered answer), and the shaped lines kept.
        """
        key = (target, nick, self.user, self.host, linelen)
        clean = lines if isinstance(lines, CleanLines) else None
        if clean is not None:
            shaped = self._shaped.get((clean, asker, key))
            if shaped is not None:
                return shaped
        width = self._widths.get(key)
        if width is None:
            if len(self._widths) > _REMEMBERED:
                self._widths.clear()
            width = self._widths[key] = payload_bytes(
                command="PRIVMSG",
                target=target,
                nick=nick,
                user=self.user,
                host=self.host,
                linelen=linelen,
            )
        texts = [f"{asker}: {line}" for line in lines] if asker else lines
        out = tuple(
            OutLine("PRIVMSG", target, piece)
            for text in texts
            for piece in split_bytes(text, width)
        )
        if clean is not None:
            if len(self._shaped) > _REMEMBERED:
                self._shaped.clear()
            self._shaped[(clean, asker, key)] = out
        return out

    def _number(self, name: str, default: int) -> int:
        value = self.isupport.get(name, "")
        return int(value) if value.isdigit() and int(value) > 0 else default


def with_nicks(reply: Reply) -> list[str]:
    """The reply's lines with each mentioned person's name replaced by their nick: on IRC a
    highlight is the nick in the text (Matrix pills the name instead)."""
    mentions = [m for m in reply.mentions if m.name and m.address != m.name]
    if not mentions:
        return list(reply.lines)
    by_name = {m.name: m.address for m in mentions}
    names = sorted(by_name, key=len, reverse=True)  # "Ada Lovelace" before "Ada"
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
    return [pattern.sub(lambda match: by_name[match.group(0)], line) for line in reply.lines]
