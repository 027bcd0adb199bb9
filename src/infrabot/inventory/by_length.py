"""A kind's fuzzy choices grouped by length, for a typo to search only the lengths that could
score best, assembled from the groups of each part without walking every key again.

``fuzz.ratio`` of strings of lengths m and n is at most 200 * min(m, n) / (m + n), so the
choices are grouped by length and searched from the lengths that could score highest; once a
length cannot reach the best score found, neither can the rest. A typo of a 20-letter name
searches about a third of 300,000 keys instead of all.

Each group is the groups of the same length of every part (each part's keys grouped once, see
:attr:`.keys.KeySet.lengths`), one after the other. A choice's position among all choices (its
rank and the order of equal scores go by it) is found only for the few choices a search
returns: the part it came from (a bisection) gives the offset of that part's keys.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from infrabot.inventory.keys import Lengths

__all__ = ["ByLength"]


class _Group:
    """The choices of one length, part after part, and where each part's run starts."""

    __slots__ = ("bases", "choices", "locals", "starts")

    def __init__(self) -> None:
        self.choices: list[str] = []
        self.starts: list[int] = []  # where each part's run begins in ``choices``
        self.bases: list[int] = []  # the position of that part's first key among all choices
        self.locals: list[array[int]] = []  # each run's positions within its part

    def position(self, at: int) -> int:
        """The position among all choices of ``choices[at]``."""
        run = bisect_right(self.starts, at) - 1
        return self.bases[run] + self.locals[run][at - self.starts[run]]


class ByLength:
    """Choices by length, each findable at its position among all choices of the kind."""

    __slots__ = ("_groups",)

    def __init__(self, runs: Iterable[tuple[int, Lengths]]) -> None:
        """``runs``: each part's choices grouped by length, with the position among all
        choices of that part's first one, in order."""
        groups: dict[int, _Group] = {}
        for base, lengths in runs:
            for n, (choices, positions) in lengths.items():
                group = groups.get(n)
                if group is None:
                    group = groups[n] = _Group()
                group.starts.append(len(group.choices))
                group.bases.append(base)
                group.locals.append(positions)
                group.choices += choices
        self._groups = groups

    def closest(self, key: str, cutoff: float) -> list[tuple[str, float, int]]:
        """What ``process.extract(key, choices, limit=5)`` would return first, as far as the
        best score goes: every choice with the best score (the first five by position), each
        with its score and position."""
        size = len(key)
        groups = self._groups
        reachable = sorted(((200 * min(size, n) / (size + n), n) for n in groups), reverse=True)
        best = cutoff
        hits: list[tuple[str, float, int]] = []
        for most, n in reachable:
            if most < best - 1e-9:
                break
            group = groups[n]
            for choice, score, at in process.extract(
                key, group.choices, scorer=fuzz.ratio, limit=5, score_cutoff=best
            ):
                hits.append((choice, score, group.position(at)))
                best = max(best, score)
        top = [hit for hit in hits if hit[1] >= best]
        top.sort(key=lambda hit: hit[2])
        return top[:5]

    def clear(self) -> None:
        """Drop every choice (see :meth:`.kind.Kind.dismantle`)."""
        self._groups = {}
