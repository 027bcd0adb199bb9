"""What a name typed by a person resolves to, the way people say names.

A query resolves, in this order: exactly (case, spaces and punctuation aside), exactly once
its leading articles are dropped ("the wiki"), by its words ("oregon state" is OSUOSL, as every
word is a word of its alias; "pypi.org" is PyPI, as both labels are words of PyPI's domain),
and last by a "did you mean" for typos. Words that match several entities are a choice shown
to the person, never resolved silently (``www`` is www.python.org or www.jython.org).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from infrabot.inventory.names import normalize
from infrabot.inventory.words import FILLER, MAX_HOLDERS, NameWords, fold_words

__all__ = ["Resolution", "bare_name", "by_words", "refusal", "word_hits"]

T = TypeVar("T")

_ARTICLES = frozenset({"the", "a", "an", "our", "my", "your", "their", "this", "that"})
_SHOWN = 5  # candidates named in a choice


@dataclass(frozen=True, slots=True)
class Resolution(Generic[T]):
    """What a query names in one kind: one entity, a choice of several, or nothing (with the
    closest name as a suggestion, if any is close)."""

    found: T | None = None
    choices: tuple[T, ...] = ()
    total: int = 0
    suggestion: T | None = None


def bare_name(query: str) -> str:
    """``query`` without the articles before it: ``"the wiki"`` → ``"wiki"``."""
    words = query.split()
    while len(words) > 1 and words[0].lower() in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def word_hits(words: NameWords[T], query: str, *, loose: bool = False) -> list[tuple[T, int]]:
    """The entities (with a line of their texts) whose names, aliases or domains hold every
    significant word of ``query``: cheap, a search in C.

    With ``loose``, every word but the last label of each domain-like token ("bunnycdn.com"
    for BunnyCDN: a domain's last label may be anything), and nothing when there is no such
    label: a weaker match than a close spelling of one name.
    """
    significant = [w for w in fold_words(query) if w not in FILLER]
    if loose:
        endings = {fold_words(token)[-1] for token in query.split() if "." in token.strip(".")}
        significant = [w for w in significant if w not in endings]
        if not endings:
            return []
    return words.matching(significant) if significant else []


def by_words(
    words: NameWords[T],
    query: str,
    part_of: Callable[[T], str | None],
    hits: list[tuple[T, int]],
) -> Resolution[T]:
    """What ``hits`` (see :func:`word_hits`) make of ``query``: one entity or a choice.

    A candidate that is part of another candidate gives way to it (``www`` is not also
    www.python.org/ftp); among several, one that the query's words name whole wins ("the
    pypy website" names the alias "PyPy website" whole, "pypy" alone does not name "pypi").
    This looks at every hit (up to :data:`MAX_HOLDERS`): it costs what the search did not.
    """
    names = {normalize(getattr(e, "name", "")) for e, _line in hits}
    hits = [hit for hit in hits if normalize(part_of(hit[0]) or "") not in names] or hits
    if len(hits) == 1:
        return Resolution(found=hits[0][0])
    allowed = set(fold_words(query))
    whole = [entity for entity, line in hits if words.named_whole(line, allowed)]
    if len(whole) == 1:
        return Resolution(found=whole[0])
    found = [entity for entity, _line in hits]
    total = len(found) if len(found) < MAX_HOLDERS else MAX_HOLDERS
    return Resolution(choices=tuple(found[:_SHOWN]), total=total)


def refusal(label: str, query: str, resolution: Resolution[T], name: Callable[[T], str]) -> str:
    """The answer to a query that did not resolve to one entity of kind ``label``."""
    shown = query if len(query) <= 40 else query[:37] + "..."
    if resolution.choices:
        names = [name(e) for e in resolution.choices]
        if resolution.total <= len(names):
            listed = ", ".join(names[:-1]) + f" or {names[-1]}"
            return f"'{shown}' could be the {label} {listed}: which one?"
        more = "more than " if resolution.total >= MAX_HOLDERS else ""
        many = f"{more}{resolution.total} {_plural(label)}"
        return f"'{shown}' matches {many}, e.g. {', '.join(names)}: which one?"
    if resolution.suggestion is not None:
        return f"no {label} '{shown}'; did you mean {name(resolution.suggestion)}?"
    return f"no {label} '{shown}'"


def _plural(label: str) -> str:
    return "people" if label == "person" else f"{label}s"
