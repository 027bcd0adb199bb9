"""How names are compared: people type fast, so case, spaces, punctuation and accents
don't count."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process

__all__ = [
    "best_matches",
    "fold_case",
    "normalize",
    "normalize_all",
    "spell_plain",
]

# bytes.translate with a deletion set is the fastest way to drop ASCII punctuation (about five
# times faster than str.translate with a table, which looks each character up in a dict): a
# 100,000 service inventory normalizes about a million keys on every load.
_ASCII_DROP = bytes(c for c in range(128) if not chr(c).isalnum())
_ASCII_DROP_BUT_NUL = _ASCII_DROP.replace(b"\0", b"")
_BATCH = 4096
# Letters that Unicode gives no decomposition, so dropping accents leaves them as they are,
# spelled as people without them on their keyboard type them: "soren" is Søren.
_PLAIN = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ħ": "h",
        "Ħ": "H",
        "\u0131": "i",  # dotless i
    }
)


def spell_plain(text: str) -> str:
    """``text`` with the letters that have no accent-free decomposition spelled plainly
    (``"Søren Łukasz"`` → ``"Soren Lukasz"``); other accents are left to the folding."""
    return text.translate(_PLAIN)


def fold_case(text: str) -> str:
    """``text`` case-folded and decomposed, its plain spellings applied (the non-ASCII part
    of every fold: accents are combining marks afterwards, for the caller to drop)."""
    return unicodedata.normalize(
        "NFKD", unicodedata.normalize("NFKD", spell_plain(text)).casefold()
    )


def normalize(text: str) -> str:
    """Fold ``text`` to a lookup key: lower case, no accents, letters and digits only.

    ``"PyPI"``, ``"py pi"`` and ``"Py-PI"`` share one key; so do ``"Marc-André"`` and
    ``"marcandre"``; and ``"PyPI"`` written in fullwidth letters or in mathematical bold
    ones (U+FF30 or U+1D40F for its "P") is ``"pypi"`` too. The compatibility forms are
    decomposed before the case is folded, as some of them (the mathematical letters) have no
    case of their own to fold; and again after, as folding can compose (Unicode's
    NFKC_Casefold does the same).
    """
    if text.isascii():
        return text.lower().encode("ascii").translate(None, _ASCII_DROP).decode("ascii")
    return "".join(c for c in fold_case(text) if c.isalnum() and not unicodedata.combining(c))


def normalize_all(texts: Sequence[str]) -> list[str]:
    """``[normalize(t) for t in texts]``, a few thousand texts at a time folded in one pass
    over their joined text when they are ASCII (about twenty times faster on the hundreds of
    thousands of keys of a large inventory)."""
    keys: list[str] = []
    for start in range(0, len(texts), _BATCH):
        batch = texts[start : start + _BATCH]
        joined = "\0".join(batch)
        if joined.isascii():
            bare = joined.lower().encode("ascii").translate(None, _ASCII_DROP_BUT_NUL)
            parts = bare.decode("ascii").split("\0")
            if len(parts) == len(batch):  # else some text had a NUL of its own
                keys += parts
                continue
            keys += [normalize(t) for t in batch]
        else:  # a name with an accent among them: the others still go in bulk
            plain = [t.isascii() for t in batch]
            folded = iter(
                normalize_all([t for t, ascii in zip(batch, plain, strict=True) if ascii])
            )
            keys += [
                next(folded) if ascii else normalize(t)
                for t, ascii in zip(batch, plain, strict=True)
            ]
    return keys


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
