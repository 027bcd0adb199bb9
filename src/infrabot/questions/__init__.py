"""Plain questions to the bot, mapped to the command that answers them, deterministically.

"who owns pypi?" is ``owner PyPI``; "where does the wiki run?" is ``service wiki.python.org``;
"what's on dinsdale" is ``host dinsdale``. A sentence is cleaned (case, apostrophes,
contractions, greetings and polite openings), matched against the phrasings of each intent
(:mod:`.phrases`), and the name it asks about is looked up in the inventory index, first whole
and then word by word inside it, so "who do I talk to about pypi being down" is about PyPI.
What the name is decides the command: "who owns dinsdale" asks about a host. A name that is
not in the inventory goes to the command as typed, which says so (with a "did you mean");
a sentence no phrasing matches maps to nothing: the bot says it did not understand, never
guesses. No language model, no network, no word list of any inventory.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from infrabot.inventory.index import Index, Kind
from infrabot.inventory.lookup import bare_name
from infrabot.inventory.words import FILLER, fold_words
from infrabot.questions.phrases import INTENTS, captured, clean, trim_name

__all__ = ["Meaning", "looks_like_question", "not_understood", "understand"]

# the command describing each kind of entity
_DESCRIBE = {
    "service": "service",
    "host": "host",
    "provider": "provider",
    "datacenter": "dc",
    "person": "who",
    "group": "team",
}
# per intent: the commands that differ from the describing one, and the command for a name
# the inventory does not hold (it then answers "no service 'x'", with a suggestion)
_INTENTS: dict[str, tuple[dict[str, str], str]] = {
    "owner": ({"service": "owner", "host": "owner"}, "owner"),
    "contact": ({"service": "owner"}, "owner"),
    "where": ({}, "service"),
    "config": ({}, "service"),
    "source": ({}, "service"),
    "on": ({}, "host"),
    "status": ({}, "host"),
    "person": ({}, "who"),
    "what": ({}, "search"),
    "team": ({}, "team"),
}
_THE_TEAM = frozenset({"", "team", "the team", "our team", "this team", "it", "us", "you"})
_QUESTION_WORDS = frozenset(
    {"who", "whom", "whose", "what", "which", "where", "when", "why", "how", "is", "are"}
    | {"does", "do", "can", "could", "should", "will", "would", "any", "anyone"}
)
_MAX_GRAM = 6  # words in a name found inside a sentence
_GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "howdy", "yo", "there", "all"})
_BLANK = "x"  # put where a question lacks its name, to see which phrasing it begins


@dataclass(frozen=True, slots=True)
class Meaning:
    """The command a question means, and its argument."""

    command: str
    args: str = ""


def understand(
    text: str, index: Index, commands: Collection[str] = (), bot: str = ""
) -> Meaning | None:
    """The command ``text`` means, or None when it is not a question the bot knows.

    ``commands`` are the command names: a text that starts with one and matches no phrasing
    (``owner pypi``) is a command, not a question, and maps to nothing here. ``bot`` is the
    bot's own name, dropped where it is said ("hey infrabot, who owns pypi?").
    """
    words = set(fold_words(text)) - set(fold_words(bot))
    if words and words <= _GREETINGS:  # "hi", "hello infrabot": what the bot can do
        return Meaning("help")
    sentence = clean(text, bot)
    if not sentence:
        return None
    for intent, pattern in INTENTS:
        match = pattern.match(sentence)
        if match is not None:
            return _meaning(intent, captured(match), index)
    for intent, pattern in INTENTS:  # "who owns?": the question without its name
        match = pattern.match(f"{sentence} {_BLANK}")
        if match is not None and captured(match) == _BLANK:
            return Meaning(_INTENTS.get(intent, ("", intent))[1])
    if sentence.split()[0] in commands:
        return None
    found = _whole(index, sentence)  # a bare name: "pypi?" is a question about PyPI
    return Meaning(_DESCRIBE[found[0]], found[1]) if found else None


def looks_like_question(text: str) -> bool:
    """Whether ``text`` reads as a question or a sentence rather than a mistyped command."""
    words = clean(text).split()
    if text.rstrip().endswith("?") or len(words) >= 3:
        return True
    return bool(words) and words[0] in _QUESTION_WORDS


def not_understood(prefix: str) -> str:
    """The one line for a question the bot cannot map."""
    return (
        f"sorry, I don't know how to answer that; {prefix}help lists what I can do "
        f'(or ask e.g. "who owns <service>?")'
    )


def _meaning(intent: str, x: str, index: Index) -> Meaning:
    if intent == "help":
        return Meaning("help")
    name = trim_name(x)
    if intent == "search":
        return Meaning("search", name)
    if name in _THE_TEAM:  # "how do I reach the team", "who leads it", "what is the team"
        return Meaning("team")
    overrides, unknown = _INTENTS[intent]
    found = _whole(index, name) or _inside(index, name) or _by_words(index, name)
    if found is None:
        return Meaning(unknown, name)
    label, canonical = found
    return Meaning(overrides.get(label, _DESCRIBE[label]), canonical)


def _kinds(index: Index) -> tuple[Kind[Any], ...]:
    return index.kinds()


def _whole(index: Index, name: str) -> tuple[str, str] | None:
    """The entity ``name`` names exactly (its articles aside), of any kind."""
    if not name:
        return None
    bare = bare_name(name)
    for kind in _kinds(index):
        found = kind.find(name) or kind.find(bare)
        if found is not None:
            return kind.label, found.name
    return None


def _inside(index: Index, name: str) -> tuple[str, str] | None:
    """The longest run of words inside ``name`` that names an entity exactly: "pypi being
    down" is about PyPI."""
    words = name.split()
    for size in range(min(len(words) - 1, _MAX_GRAM), 0, -1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start : start + size])
            if all(w in FILLER for w in fold_words(gram)):
                continue
            found = _whole(index, gram)
            if found is not None:
                return found
    return None


def _by_words(index: Index, name: str) -> tuple[str, str] | None:
    """The one entity whose names hold every word of ``name`` ("oregon state")."""
    for kind in _kinds(index):
        found = kind.resolve(name, suggest=False).found
        if found is not None:
            return kind.label, found.name
    return None
