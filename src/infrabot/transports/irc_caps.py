"""IRCv3 capability negotiation and the SASL login, as a state machine: lines in, lines out.

It knows nothing of sockets or the ``irc`` library: the transport hands it what the server
said (``CAP``, ``AUTHENTICATE``, the SASL numerics) and sends the lines it returns. So every
exchange can be tested on recorded lines. The mechanisms themselves are in :mod:`.irc_sasl`;
this module frames their bytes (base64, 400-byte chunks) and picks which to try: only those
the server lists in ``sasl=``, in the bot's order of preference.

Registration waits for ``CAP END``: it goes out once the wanted capabilities are settled and
SASL has succeeded or failed (or was never possible). A server that offers SASL only later
(services linking after us: ``CAP NEW sasl``) gets a login then. With ``required``, a login
that cannot succeed ends in ``QUIT`` instead of ``CAP END``: the transport reconnects later.
A server that fails to prove itself (SCRAM's server signature) is always left.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence

from infrabot.transports.irc_sasl import Mechanism, Plain, SaslError, SaslLogin

__all__ = ["CapNegotiation"]

log = logging.getLogger(__name__)

_CHUNK = 400  # AUTHENTICATE carries at most 400 bytes of payload
_QUIT_REQUIRED = "QUIT :SASL login required"
_QUIT_IMPOSTOR = "QUIT :server failed to prove itself"


class CapNegotiation:
    """One connection's capabilities and SASL login; start a new one per connection.

    ``sasl`` is the login (:func:`.irc_sasl.sasl_login`), or (account, password) for PLAIN.
    """

    def __init__(
        self,
        wanted: Sequence[str],
        sasl: SaslLogin | tuple[str, str] | None,
        *,
        required: bool = False,
    ) -> None:
        self.wanted = tuple(wanted)
        self.caps: set[str] = set()
        """Capabilities the server acknowledged."""
        self.offered: dict[str, str] = {}
        """Capabilities the server offers, with their values."""
        self.sasl_state = "none"
        """none | started | sent | done | failed"""
        self.done = False
        """Whether ``CAP END`` (or ``QUIT``) went out (registration may go on)."""
        if isinstance(sasl, tuple):
            account, password = sasl
            sasl = SaslLogin(((Plain.name, lambda: Plain(account, password)),))
        self._sasl = sasl
        self.required = required and sasl is not None
        """Whether a failed login ends the connection instead of registering without it."""
        self.mechanism: Mechanism | None = None
        """The login try under way (or the last one)."""
        self._tried: list[str] = []
        self._inbox = ""
        self._logged = False
        self._refused = False
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
        """The response to the server's ``AUTHENTICATE <arg>`` (a challenge, maybe chunked)."""
        if self.sasl_state not in ("started", "sent") or self.mechanism is None:
            return []
        self._inbox += "" if arg == "+" else arg
        if len(arg) == _CHUNK:
            return []  # a full chunk: more follows
        text, self._inbox = self._inbox, ""
        try:
            challenge = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return self._abort("the server's challenge is not base64")
        try:
            response = self.mechanism.respond(challenge)
        except SaslError as exc:
            return self._abort(str(exc))
        self.sasl_state = "sent"
        return _frame(response)

    def on_sasl_result(self, success: bool, reason: str = "") -> list[str]:
        """The lines after the server's SASL verdict (903, or 902/904/905/906)."""
        if self._refused:
            return []  # we left already; the verdict changes nothing
        if success and self.mechanism is not None and not self.mechanism.finished:
            # Success before the server proved itself (SCRAM): an impostor, or a broken server.
            return self._abort("server said success before proving itself")
        if success:
            self.sasl_state = "done"
            return self.end()
        name = self.mechanism.name if self.mechanism else "SASL"
        self._fail(f"SASL login ({name}) failed: {reason}")
        following = self._next_mechanism()
        return following if following else self.end()

    def retry_sasl(self, limit: int = 3) -> list[str]:
        """Try the SASL login once more after a failure (at most ``limit`` times): services
        that have only just linked refuse logins until they know every user."""
        if (
            self.sasl_state != "failed"
            or self._refused
            or "sasl" not in self.caps
            or self.retries >= limit
        ):
            return []
        self.retries += 1
        self._tried = []
        return self._next_mechanism()

    def end(self) -> list[str]:
        """``CAP END``, unless it went out already (also when negotiation stalls); ``QUIT``
        instead when the login is required and did not succeed."""
        if self.done:
            return []
        self.done = True
        if self.required and self.sasl_state != "done":
            self._fail("SASL login is required and did not succeed; disconnecting to retry later")
            return [_QUIT_REQUIRED]
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
            if self._usable():
                # The sasl request goes alone, so a refusal cannot take the others with it.
                self._pending += 1
                lines.append("CAP REQ :sasl")
            else:
                names = ", ".join(self._sasl.names if self._sasl else ())
                self._fail(f"server offers SASL {self.offered['sasl']}, not {names}")
        elif self.wants_sasl and not self.done:
            log.error("server does not offer SASL (services down?); will retry when it does")
        return lines if self._pending else [*lines, *self.end()]

    def _usable(self) -> list[str]:
        """Our mechanisms the server lists (all of ours when it lists none), not yet tried."""
        listed = {m.strip().upper() for m in self.offered.get("sasl", "").split(",") if m}
        names = self._sasl.names if self._sasl else ()
        return [n for n in names if (not listed or n in listed) and n not in self._tried]

    def _next_mechanism(self) -> list[str]:
        """``AUTHENTICATE <name>`` for the next usable mechanism; [] when none is left."""
        for name in self._usable():
            self._tried.append(name)
            try:
                self.mechanism = self._sasl.start(name) if self._sasl else None
            except SaslError as exc:
                self._fail(f"SASL login ({name}) cannot start: {exc}")
                continue
            self.sasl_state = "started"
            self._inbox = ""
            return [f"AUTHENTICATE {name}"]
        return []

    def _abort(self, reason: str) -> list[str]:
        """Give up a login because of the server: abort it, and leave a server that failed
        to prove itself (its verdict cannot be trusted)."""
        name = self.mechanism.name if self.mechanism else "SASL"
        self._fail(f"SASL login ({name}) aborted: {reason}")
        self.sasl_state = "failed"
        if self.mechanism is not None and self.mechanism.mutual:
            self._refused = True
            self.done = True
            return ["AUTHENTICATE *", _QUIT_IMPOSTOR]
        return ["AUTHENTICATE *"]

    def _fail(self, message: str) -> None:
        """Log the first failure of this connection as an error, the rest quietly."""
        self.sasl_state = "failed" if self.sasl_state != "none" else "none"
        log.log(logging.INFO if self._logged else logging.ERROR, "%s", message)
        self._logged = True

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
            self._tried = []
            self._pending += 1
            lines.append("CAP REQ :sasl")
        return lines if self._pending else [*lines, *self.end()]

    def _settled(self) -> list[str]:
        if "sasl" in self.caps and self.sasl_state == "none":
            started = self._next_mechanism()
            if started:
                return started
        return [] if self.sasl_state in ("started", "sent") else self.end()


def _frame(payload: bytes) -> list[str]:
    """``payload`` as AUTHENTICATE lines: base64 in 400-byte chunks, ``+`` for empty or to
    end an exact multiple of 400."""
    text = base64.b64encode(payload).decode()
    lines = [f"AUTHENTICATE {text[at : at + _CHUNK]}" for at in range(0, len(text), _CHUNK)]
    if len(text) % _CHUNK == 0:
        lines.append("AUTHENTICATE +")
    return lines


def _items(text: str) -> dict[str, str]:
    """``a b=1 c`` as {name: value}."""
    return {name: value for name, _, value in (item.partition("=") for item in text.split())}
