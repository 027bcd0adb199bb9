"""Hiding secrets in text meant for people: log lines and error messages.

Two layers, because either alone misses something:

- values: every secret the bot was given (passwords, tokens, keys), in each encoding it
  travels in: as typed, URL-encoded, escaped inside JSON or a Python repr, in base64, and
  inside the base64 SASL PLAIN payload (``user\\0user\\0password``) split as IRC splits it;
- patterns: the protocol shapes that carry credentials whatever their value, for the secrets
  the bot was never given (a Matrix access token from a password login, a library's own
  headers): ``AUTHENTICATE <payload>``, ``PASS :...``, ``NickServ IDENTIFY ...``,
  ``access_token=...``, ``"password": "..."``, ``Authorization: Bearer ...``, Synapse's
  ``syt_...`` tokens and ``user:password@`` in URLs.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Redactor", "secret_key"]

REDACTED = "***"
"""What stands in the text where a secret was."""

_SASL_CHUNK = 400  # AUTHENTICATE carries at most 400 bytes of the payload a line


def secret_key(name: str) -> bool:
    """Whether a configuration or protocol key of this name holds a secret."""
    return _SECRET_KEY.fullmatch(name) is not None


_KEY = r"[A-Za-z0-9_]*(?:token|password|passwd|secret|api_?key)"
_KEY_WORDS = ("token", "passw", "secret", "api")
_SECRET_KEY = re.compile(_KEY, re.IGNORECASE)


def _keep_mechanism(match: re.Match[str]) -> str:
    # "+" (empty or continuation), "*" (abort) and mechanism names (RFC 4422: at most 20
    # upper-case letters, digits, "-" or "_") are not credentials; anything else may be
    arg = match.group(2)
    if arg in ("+", "*") or re.fullmatch(r"[A-Z0-9_-]{1,20}", arg):
        return match.group(0)
    return match.group(1) + REDACTED


_Replacement = str | Callable[[re.Match[str]], str]

# (words one of which the lower-cased text must hold, pattern, replacement): the cheap
# substring test spares most lines the regular expressions
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], _Replacement], ...] = (
    (("authenticate ",), re.compile(r"\b(AUTHENTICATE )(\S+)"), _keep_mechanism),
    # IRC commands whose last argument is a password: PASS, OPER, services logins
    (("pass ",), re.compile(r"\bPASS (?::.*|\S+)"), "PASS " + REDACTED),
    (("oper ",), re.compile(r"\b(OPER \S+ )\S+"), r"\1" + REDACTED),
    (
        ("identify", "register", "ghost", "recover", "regain", "release", "password"),
        re.compile(
            r"\b((?:NickServ|NS)\s+:?\s*"
            r"(?:IDENTIFY|REGISTER|GHOST|RECOVER|REGAIN|RELEASE|SET\s+PASSWORD)\b).*",
            re.IGNORECASE,
        ),
        r"\1 " + REDACTED,
    ),
    # "access_token": "...", 'password': '...' (JSON, Python reprs)
    (
        _KEY_WORDS,
        re.compile(rf"""(["']{_KEY}["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""", re.IGNORECASE),
        r"\1\2" + REDACTED + r"\2",
    ),
    # access_token=... (query strings, forms, key=value logs)
    (
        _KEY_WORDS,
        re.compile(r"((?:token|passw(?:or)?d|secret|api_?key)=)[^&\s\"',;)]+", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    (
        ("authorization",),
        re.compile(
            r"""(\bAuthorization["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Token)\s+)?[^\s"',}]+""",
            re.IGNORECASE,
        ),
        lambda m: m.group(1) + (f"{m.group(2)} " if m.group(2) else "") + REDACTED,
    ),
    (("bearer",), re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + REDACTED),
    (("syt_", "syr_"), re.compile(r"\bsy[tr]_[A-Za-z0-9_=-]+"), REDACTED),  # Synapse tokens
    (
        ("://",),
        re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@", re.IGNORECASE),
        r"\1***@",
    ),
)


def _encodings(secret: str) -> set[str]:
    """``secret`` as it may appear in text: raw, URL-encoded, escaped, in base64."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        repr(secret.encode())[2:-1],
        base64.b64encode(secret.encode()).decode(),
    }
    return {form for form in forms if form}


def _sasl_payloads(user: str, password: str) -> set[str]:
    """The base64 payloads that carry ``user`` and ``password``: SASL PLAIN, HTTP Basic."""
    payloads = set()
    for plain in (f"{user}\0{user}\0{password}", f"\0{user}\0{password}", f"{user}:{password}"):
        encoded = base64.b64encode(plain.encode()).decode()
        payloads.add(encoded)
        # an IRC client sends a long payload in 400-byte pieces, one AUTHENTICATE each
        payloads.update(encoded[i : i + _SASL_CHUNK] for i in range(0, len(encoded), _SASL_CHUNK))
    return payloads


class Redactor:
    """Replaces secrets in text with ``***``: known values in every encoding, and patterns."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Also hide each of ``secrets`` (empty ones are ignored)."""
        for secret in secrets:
            if secret:
                self._values |= _encodings(secret)
        self._compile()

    def add_login(self, user: str, password: str) -> None:
        """Also hide ``password`` and the base64 payloads that carry it with ``user``."""
        if password:
            self._values |= _encodings(password) | _sasl_payloads(user, password)
        self._compile()

    def _compile(self) -> None:
        # longest first, so that a secret containing another is hidden whole
        ordered = sorted(self._values, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        """``text`` with every secret it contains replaced by ``***``."""
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        lowered = text.lower()
        for words, pattern, replacement in _PATTERNS:
            if any(word in lowered for word in words):
                text = pattern.sub(replacement, text)
        return text
