"""IRCv3 capability negotiation and SASL PLAIN, as a state machine: lines in, lines out.

It knows nothing of sockets or the ``irc`` library: the transport hands it what the server
said (``CAP``, ``AUTHENTICATE``, the SASL numerics) and sends the lines it returns. So every
exchange can be tested on recorded lines, and the next mechanisms slot in here.

Registration waits for ``CAP END``: it goes out once the wanted capabilities are settled and
SASL has succeeded or failed (or was never possible). A server that offers SASL only later
(services linking after us: ``CAP NEW sasl``) gets a login then.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

__all__ = ["CapNegotiation"]

log = logging.getLogger(__name__)

_CHUNK = 400  # AUTHENTICATE carries at most 400 bytes of payload


class CapNegotiation:
    """One connection's capabilities and SASL login; start a new one per connection.

    ``sasl`` is (account, password) when the bot logs in with SASL PLAIN.
    """

    def __init__(self, wanted: Sequence[str], sasl: tuple[str, str] | None) -> None:
        self.wanted = tuple(wanted)
        self.caps: set[str] = set()
        """Capabilities the server acknowledged."""
        self.offered: dict[str, str] = {}
        """Capabilities the server offers, with their values."""
        self.sasl_state = "none"
        """none | started | sent | done | failed"""
        self.done = False
        """Whether ``CAP END`` went out (registration may go on)."""
        self._sasl = sasl
        self._pending = 0
        self.retries = 0
        """SASL logins tried again after a failure on this connection."""

    @property
    def wants_sasl(self) -> bool:
        """Whether the bot is configured to log in with SASL."""
        return self._sasl is not None

    def on_cap(self, args: Sequence[str], *, registered: bool, logged_in: bool) -> list[str]:
        """The lines answering ``CAP <args>`` (LS, ACK, NAK, NEW, DEL)."""
        sub = args[0].upper() if args else ""
        if sub == "LS":
            self.offered.update(_items(args[-1]))
            more = len(args) > 2 and args[1] == "*"
            return [] if more else self._request()
        if sub in ("ACK", "NAK"):
            names = args[-1].split()
            if sub == "ACK":
                self.caps.update(n.lstrip("-~=") for n in names if not n.startswith("-"))
                self.caps.difference_update(n[1:] for n in names if n.startswith("-"))
            else:
                log.info("server refused capabilities: %s", " ".join(names))
            self._pending -= 1
            return self._settled() if self._pending <= 0 else []
        if sub == "NEW":
            return self._new(_items(args[-1]), registered=registered, logged_in=logged_in)
        if sub == "DEL":
            for name in args[-1].split():
                self.caps.discard(name)
                self.offered.pop(name, None)
        return []

    def on_authenticate(self, arg: str) -> list[str]:
        """The SASL PLAIN payload, once the server says ``AUTHENTICATE +``."""
        if arg != "+" or self.sasl_state != "started" or self._sasl is None:
            return []
        account, password = self._sasl
        payload = base64.b64encode(f"{account}\0{account}\0{password}".encode()).decode()
        lines = [
            f"AUTHENTICATE {payload[at : at + _CHUNK]}" for at in range(0, len(payload), _CHUNK)
        ]
        if len(payload) % _CHUNK == 0:  # an exact multiple ends with a lone "+"
            lines.append("AUTHENTICATE +")
        self.sasl_state = "sent"
        return lines

    def on_sasl_result(self, success: bool, reason: str = "") -> list[str]:
        """The lines after the server's SASL verdict (903, or 902/904/905/906)."""
        if success:
            self.sasl_state = "done"
        else:
            log.error("SASL login failed: %s", reason)
            self.sasl_state = "failed"
        return self.end()

    def retry_sasl(self, limit: int = 3) -> list[str]:
        """Try the SASL login once more after a failure (at most ``limit`` times): services
        that have only just linked refuse logins until they know every user."""
        if self.sasl_state != "failed" or "sasl" not in self.caps or self.retries >= limit:
            return []
        self.retries += 1
        self.sasl_state = "started"
        return ["AUTHENTICATE PLAIN"]

    def end(self) -> list[str]:
        """``CAP END``, unless it went out already (also when negotiation stalls)."""
        if self.done:
            return []
        self.done = True
        return ["CAP END"]

    def should_ask_again(self, logged_in: bool) -> bool:
        """Whether a fresh ``CAP LS`` could find SASL now: it was not offered at connect time
        and the bot is not logged in yet (servers without cap-notify)."""
        return (
            self.wants_sasl
            and not logged_in
            and self.sasl_state == "none"
            and "sasl" not in self.offered
        )

    def _request(self) -> list[str]:
        lines = []
        wanted = [c for c in self.wanted if c in self.offered and c not in self.caps]
        if wanted:
            self._pending += 1
            lines.append("CAP REQ :" + " ".join(wanted))
        if self.wants_sasl and "sasl" in self.offered and "sasl" not in self.caps:
            mechanisms = self.offered["sasl"]
            if not mechanisms or "PLAIN" in mechanisms.upper().split(","):
                # The sasl request goes alone, so a refusal cannot take the others with it.
                self._pending += 1
                lines.append("CAP REQ :sasl")
            else:
                log.error("server offers SASL %s, not PLAIN", mechanisms)
        elif self.wants_sasl and not self.done:
            log.error("server does not offer SASL (services down?); will retry when it does")
        return lines if self._pending else [*lines, *self.end()]

    def _new(self, new: dict[str, str], *, registered: bool, logged_in: bool) -> list[str]:
        """Capabilities that appeared later (cap-notify), e.g. SASL once services link."""
        self.offered.update(new)
        if not registered:
            self.done = False  # a CAP REQ during registration holds it until another CAP END
        lines = []
        wanted = [c for c in self.wanted if c in new and c not in self.caps]
        if wanted:
            self._pending += 1
            lines.append("CAP REQ :" + " ".join(wanted))
        if "sasl" in new and self.wants_sasl and not logged_in:
            log.info("services offer SASL now; logging in")
            self.sasl_state = "none"
            self._pending += 1
            lines.append("CAP REQ :sasl")
        return lines if self._pending else [*lines, *self.end()]

    def _settled(self) -> list[str]:
        if "sasl" in self.caps and self.sasl_state == "none":
            self.sasl_state = "started"
            return ["AUTHENTICATE PLAIN"]
        return [] if self.sasl_state == "started" else self.end()


def _items(text: str) -> dict[str, str]:
    """``a b=1 c`` as {name: value}."""
    return {name: value for name, _, value in (item.partition("=") for item in text.split())}
