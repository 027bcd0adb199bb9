"""The sentences a page sends by itself: its highlight, its private text, its escalations.

These go out from the escalation loop and the alert intake as well as from a command, so they
are worded here, once, with the configured command prefix; answers to commands are worded by
the ``page`` plugin from the facts in :mod:`infrabot.paging.facts`.
"""

from __future__ import annotations

from collections.abc import Sequence

from infrabot.store import PageRecord

__all__ = ["Notices", "ago", "duration"]


def duration(seconds: float) -> str:
    """``15 min`` or ``30 s``."""
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def ago(seconds: float) -> str:
    """``12 s ago``, ``5 min ago``, ``1.5 h ago``."""
    if seconds < 90:
        return f"{int(seconds)} s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    return f"{seconds / 3600:.1f} h ago"


class Notices:
    """Paging's own notices, suggesting commands with ``prefix``."""

    def __init__(self, prefix: str = "!") -> None:
        self.prefix = prefix

    def highlight(self, page: PageRecord, label: str, who: str, preface: str | None) -> str:
        """The room's line for one step of a page: who is paged, and how to acknowledge."""
        first = preface or f"PAGE {page.id} for {page.target}: {page.reason}"
        return f"{first} · {label}: {who} · {self.prefix}ack {page.id} to acknowledge"

    def unreachable(self, names: Sequence[str], fallbacks: Sequence[str]) -> str:
        """Who of a step has no way to be reached, and where to try instead."""
        fallback = ", ".join(fallbacks) or "no other contact recorded"
        return f"No chat handle recorded for {', '.join(names) or 'anyone'}; try {fallback}"

    def private_text(self, page: PageRecord) -> str:
        """What each paged person is sent in private (and by email)."""
        return (
            f"PAGE {page.id} for {page.target}: {page.reason} (asked by {page.requester} "
            f"in {page.origin_room}). Reply {self.prefix}ack {page.id} to acknowledge."
        )

    def escalation(self, page: PageRecord, waited: float, detail: str) -> str:
        """The preface of a step after nobody acknowledged in time."""
        return f"{page.id} ({page.target}) not acknowledged after {duration(waited)}: {detail}"

    def closed(self, page: PageRecord, detail: str) -> str:
        """The room's line when a page is acknowledged or resolved."""
        return f"{page.id} ({page.target}) {detail}"
