"""Names by some of their words: "oregon state" is OSUOSL (its alias is Oregon State University
Open Source Lab), "www" is www.python.org or www.jython.org, "pypi.org" is PyPI.

Every name, alias and domain of one kind is folded to its words (lower case, letters and digits
only, a domain's labels as words) and kept as one line of one long text. Finding the entities
that hold a word is then a substring search in C over that text, which costs a few
milliseconds on 100,000 services and almost nothing to build; a table from every word to its
entities would cost a Python step per word of every name on each load.
"""

from __future__ import annotations

import threading
import unicodedata
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from itertools import accumulate, chain
from typing import Generic, TypeVar

from infrabot.inventory.names import fold_case

__all__ = ["FILLER", "MAX_HOLDERS", "NameWords", "fold_lines", "fold_words"]

T = TypeVar("T")

# Words people put around a name that are not part of it ("the wiki", "the mercurial server",
# "our pypi box"): optional when matching, never enough on their own. English, not taken from
# any inventory.
FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "our",
        "my",
        "your",
        "their",
        "this",
        "that",
        "its",
        "of",
        "for",
        "at",
        "in",
        "on",
        "server",
        "servers",
        "service",
        "services",
        "site",
        "website",
        "web",
        "box",
        "machine",
        "host",
        "instance",
        "thing",
        "app",
        "system",
    ]
)
# ASCII letters and digits stay (lowered first); every other ASCII byte becomes a space, and
# bytes of UTF-8 sequences (128 and up) pass through whole, so a text folded in bulk is
# still valid UTF-8 with its non-ASCII letters in place.
_SPACES = bytes(c if c >= 128 or chr(c).isalnum() or c == 10 else 32 for c in range(256))
_MEMO = 256  # words whose holders are remembered, per kind
_PROBE = 100  # hits looked at first for each word of several
_SLICE = 4096  # texts folded at a time when the long text is made
MAX_HOLDERS = 2000  # holders collected for one word: beyond that a word names nothing useful


def fold_words(text: str) -> list[str]:
    """The words of ``text`` as lookups see them: ``"Marc-André"`` → ``["marc", "andre"]``,
    ``"pypi.python.org"`` → ``["pypi", "python", "org"]``."""
    return _fold(text).split()


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower().encode("ascii").translate(_SPACES).decode("ascii")
    folded = fold_case(text)
    return "".join(
        c if c.isalnum() else " " for c in folded if not unicodedata.combining(c)
    ).replace("\n", " ")


def fold_lines(texts: Sequence[str]) -> list[str]:
    """Each text folded to its words separated by single spaces, in bulk where it can be."""
    joined = "\n".join(text.replace("\n", " ") for text in texts) if texts else ""
    if joined.isascii():
        lines = joined.lower().encode("ascii").translate(_SPACES).decode("ascii").split("\n")
        if len(lines) == len(texts):
            return lines
    return [_fold(text) for text in texts]


class NameWords(Generic[T]):
    """The words of every lookup text of one kind, each text with the entity it belongs to."""

    def __init__(self, parts: Sequence[tuple[Sequence[T], Sequence[str]]]) -> None:
        """The words of ``parts``: each part's texts, each with its entity, in order."""
        # The long text is made on first use, or by :meth:`prepare` beside a large index's
        # full-text index (whose ``known`` says no until then): folding a 100,000-service
        # inventory's names takes about half a second that a load need not wait for.
        self._pending: Sequence[tuple[Sequence[T], Sequence[str]]] | None = parts
        self._text = ""
        self._starts = array("L")
        self._holders: list[T] = []
        self._lock = threading.Lock()
        self._memo: OrderedDict[str, list[tuple[T, int]]] = OrderedDict()
        # whether one entity's names hold all of some words, when something faster than a
        # scan can tell (the search index, once built): words no name holds together (as a
        # typo's) then cost no scan
        self.known: Callable[..., bool] | None = None

    @property
    def prepared(self) -> bool:
        """Whether the texts are folded already (see :meth:`prepare`)."""
        return self._pending is None

    def prepare(self) -> None:
        """Fold every text into the long text now, if that is not done yet."""
        with self._lock:
            if self._pending is None:
                return
            parts = self._pending
            texts = list(chain.from_iterable(texts for _, texts in parts))
            # " w1 w2 \n w3 \n": every word has a space on both sides: " w " finds whole words.
            # Folded a slice at a time: the folded lines of 100,000 services at once would
            # add tens of MB to the bot's peak, right as its search index is at its largest.
            pieces: list[str] = []
            lengths = array("L")
            for at in range(0, len(texts), _SLICE):
                lines = fold_lines(texts[at : at + _SLICE])
                pieces.append(" \n ".join(lines))
                lengths.extend(len(line) + 3 for line in lines)
            self._text = " " + " \n ".join(pieces) + " "
            self._starts = array("L", accumulate(lengths, initial=0))
            self._holders = list(chain.from_iterable(holders for holders, _ in parts))
            self._pending = None

    def holding(self, word: str) -> list[T]:
        """The distinct entities with ``word`` among the words of a name, alias or domain, in
        inventory order (at most :data:`MAX_HOLDERS`: a word that common names nothing)."""
        return [holder for holder, _line in self._hits(word)]

    def _hits(self, word: str) -> list[tuple[T, int]]:
        """Each entity holding ``word``, with the line of its first text that does."""
        memo = self._memo
        found = memo.get(word)
        if found is not None:
            memo.move_to_end(word)
            return found
        found, _reached = self._scan(word, MAX_HOLDERS)
        memo[word] = found
        if len(memo) > _MEMO:
            memo.popitem(last=False)
        return found

    def _scan(self, word: str, cap: int) -> tuple[list[tuple[T, int]], int]:
        """The first ``cap`` entities holding ``word``, and how far into the text they
        reach (the end when they are all there are)."""
        known = self.known
        if not word or " " in word or "\n" in word or (known is not None and not known(word)):
            return [], len(self._text)
        if self._pending is not None:
            self.prepare()
        text, starts, holders = self._text, self._starts, self._holders
        needle = f" {word} "
        found: list[tuple[T, int]] = []
        last: T | None = None
        at = text.find(needle)
        while at >= 0 and len(found) < cap:
            line = bisect_right(starts, at) - 1
            holder = holders[line]
            if holder is not last:  # an entity's texts are consecutive lines
                found.append((holder, line))
                last = holder
            at = text.find(needle, starts[line + 1])
        return found, len(text) if at < 0 else at

    def _block(self, line: int) -> str:
        """Every line of the entity whose text is on ``line``."""
        holders, starts = self._holders, self._starts
        entity = holders[line]
        first = last = line
        while first > 0 and holders[first - 1] is entity:
            first -= 1
        while last + 1 < len(holders) and holders[last + 1] is entity:
            last += 1
        return self._text[starts[first] : starts[last + 1] + 1]

    def matching(self, words: Sequence[str]) -> list[tuple[T, int]]:
        """The entities holding every one of ``words`` (whole words, any order), each with
        the line of one of its texts, at most :data:`MAX_HOLDERS` of them."""
        distinct = sorted(set(words))
        if not distinct:
            return []
        known = self.known
        if known is not None and not known(*distinct):
            return []  # words no name holds together, as a typo's: nothing to scan for
        if self._pending is not None:
            self.prepare()
        if len(distinct) == 1:
            return self._hits(distinct[0])
        # the rarest word drives: a short look at each finds it without scanning common ones
        probes = {w: self._scan(w, _PROBE) for w in distinct}
        done = [w for w in distinct if probes[w][1] == len(self._text)]
        if done:
            hits = min((probes[w][0] for w in done), key=len)
        else:  # all common: the one whose first hits spread the furthest
            hits = self._hits(max(distinct, key=lambda w: probes[w][1]))
        needles = [f" {w} " for w in distinct]
        return [hit for hit in hits if all(n in self._block(hit[1]) for n in needles)]

    def named_whole(self, line: int, allowed: set[str]) -> bool:
        """Whether a text of the entity on ``line`` has no word outside ``allowed``: "the pypy
        website" names the alias "PyPy website" whole, "www" names no text of
        www.python.org whole."""
        texts = (set(text.split()) for text in self._block(line).split("\n"))
        return any(words and words <= allowed for words in texts)

    def dismantle(self) -> None:
        """Drop what this holds (see :func:`infrabot.heap.retire`)."""
        with self._lock:  # not while :meth:`prepare` fills it on another thread
            self._pending = None
            self._holders.clear()
            self._memo.clear()
            self._text = ""
