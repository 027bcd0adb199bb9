"""What the paging service answers: typed facts, worded for people by the ``page`` plugin.

A fact carries the stored page (with its ID) and whatever else a sentence about it needs, so
the wording, and the command prefix it suggests, lives with the commands, and the alert
intake gets the page it created without reading a reply's text.

Refusals are :class:`~infrabot.errors.PagingError` (a ``CommandError``); the ones whose
sentence suggests a command carry their parts, so the plugin can word them with the prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from infrabot.errors import PagingError
from infrabot.messages import Reply
from infrabot.store import PageRecord

__all__ = [
    "Closed",
    "Created",
    "Merged",
    "NeedsConfirmation",
    "PageNotFound",
    "PageOutcome",
    "ReasonMissing",
]


@dataclass(frozen=True, slots=True)
class Created:
    """A new page, its first step delivered; ``highlight`` is its announcement in the room
    (already sent for a page asked for in chat, as the answer to the asking message)."""

    page: PageRecord
    highlight: Reply


@dataclass(frozen=True, slots=True)
class Merged:
    """The target was already paged recently: the note went into that page, ``age`` s old."""

    page: PageRecord
    age: float


@dataclass(frozen=True, slots=True)
class NeedsConfirmation:
    """The page would reach ``count`` people (``label``): the requester must confirm it
    within ``within`` seconds."""

    count: int
    label: str
    within: float


PageOutcome = Created | Merged | NeedsConfirmation
"""What asking for a page led to."""


@dataclass(frozen=True, slots=True)
class Closed:
    """An acknowledgement or resolution: ``already`` when the page was in that state before
    (``page`` is then as it was)."""

    page: PageRecord
    already: bool = False


class ReasonMissing(PagingError):
    """A page names its target but not what is wrong."""

    def __init__(self, target: str, typed: str) -> None:
        super().__init__(f"what is wrong with {target}?")
        self.target = target
        self.typed = typed


class PageNotFound(PagingError):
    """No page has this ID."""

    def __init__(self, page_id: str) -> None:
        super().__init__(f"no page '{page_id}'")
        self.page_id = page_id
