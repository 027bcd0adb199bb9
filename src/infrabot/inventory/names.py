"""How names are compared: people type fast, so case, spaces, punctuation and accents
don't count."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process

__all__ = ["best_matches", "normalize"]

# str.translate with a deletion table is the fastest way to drop ASCII punctuation: a 100,000
# service inventory normalizes about half a million keys on every load.
_ASCII_DROP = {c: None for c in range(128) if not chr(c).isalnum()}


def normalize(text: str) -> str:
    """Fold ``text`` to a lookup key: lower case, no accents, letters and digits only.

    ``"PyPI"``, ``"py pi"`` and ``"Py-PI"`` share one key; so do ``"Marc-André"`` and
    ``"marcandre"``.
    """
    folded = text.casefold()
    if folded.isascii():
        return folded.translate(_ASCII_DROP)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def best_matches(
    query: str, choices: Sequence[str] | Iterable[str], limit: int = 1, cutoff: float = 60.0
) -> list[str]:
    """The choices closest to ``query`` by edit distance on normalized text, best first."""
    key = normalize(query)
    if not key:
        return []
    found = process.extract(
        key,
        list(choices),
        scorer=fuzz.ratio,
        processor=normalize,
        limit=limit,
        score_cutoff=cutoff,
    )
    return [choice for choice, _score, _pos in found]
