"""One connection to an IRC server: the asyncio client with the gaps a bot cannot live with
filled, and the :class:`~infrabot.transports.irc_output.Link` the output side writes to."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import socket
import ssl
import sys
import termios
from collections.abc import Callable
from typing import Any, TypeAlias

from irc.client import Event, MessageTooLong  # type: ignore[import-untyped]
from irc.client_aio import AioConnection, AioReactor  # type: ignore[import-untyped]

from infrabot.config import IrcConfig
from infrabot.transports.irc_privmsg import UserLine, parse_user_line
from infrabot.transports.irc_text import DEFAULT_LINELEN

__all__ = ["IrcConnection", "Received", "ReceivedLines", "fingerprint", "tls_context"]

log = logging.getLogger(__name__)

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
# SIOCOUTQ, the bytes a TCP socket has sent but not had acknowledged, is TIOCOUTQ on Linux.
_OUTQ: int | None = getattr(termios, "TIOCOUTQ", None) if sys.platform == "linux" else None

Received: TypeAlias = Event | UserLine
"""What the connection hands over for each line read: a user's message read by the quick
path, or the library's events (the first of them ``all_raw_messages``) for any other line."""


class ReceivedLines:
    """Bytes from the server cut into lines, as ``jaraco.stream``'s lenient line buffer cuts
    them: a line ends at LF (and a CR just before it), and is UTF-8 or else read as Latin-1,
    so undecodable bytes from other users never kill the connection."""

    def __init__(self) -> None:
        self._rest = b""

    def lines(self, data: bytes) -> list[str]:
        """The lines completed by ``data``; an unfinished one waits for the next bytes."""
        if self._rest:
            data = self._rest + data
        *raw, self._rest = data.split(b"\n")
        lines = []
        for line in raw:
            if line.endswith(b"\r"):
                line = line[:-1]
            try:
                lines.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                lines.append(line.decode("latin-1"))
        return lines


class IrcConnection(AioConnection):  # type: ignore[misc]
    """The library's asyncio connection, with the gaps a bot cannot live with filled.

    - ``CAP LS 302`` goes out before NICK/USER, so registration waits for CAP END (and SASL).
    - Undecodable bytes from other users are read as Latin-1 instead of killing the
      connection.
    - Events go straight to one callback; the reactor's global handlers are not used. Users'
      messages skip the library's parser (see :meth:`process_data`).
    - Lines may be as long as the server's advertised ``LINELEN``.
    """

    buffer_class = ReceivedLines

    def __init__(self, reactor: AioReactor, on_event: Callable[[Received], None]) -> None:
        super().__init__(reactor)
        self._on_event = on_event
        self.linelen = DEFAULT_LINELEN

    async def open(
        self,
        *,
        host: str,
        port: int,
        nick: str,
        username: str,
        realname: str,
        password: str | None,
        tls: ssl.SSLContext | None,
    ) -> None:
        """Connect and start registration (CAP LS first); the answers arrive as events."""
        self.buffer = self.buffer_class()
        self.handlers: dict[str, list[Any]] = {}
        self.real_server_name = ""
        self.real_nickname = nick
        self.server = host
        self.port = port
        self.server_address = (host, port)
        self.nickname = nick
        self.username = username
        self.ircname = realname
        self.password = password
        protocol = self.protocol_class(self, self.reactor.loop)
        kwargs: dict[str, Any] = {"ssl": tls, "server_hostname": host} if tls else {}
        transport, _ = await self.reactor.loop.create_connection(
            lambda: protocol, host, port, **kwargs
        )
        self.transport = transport
        self.protocol = protocol
        self.connected = True
        self.send_raw("CAP LS 302")
        if password:
            self.send_raw(f"PASS :{password}")
        self.nick(nick)
        self.user(username, realname)

    def process_data(self, new_data: bytes) -> None:
        """Feed received bytes to the parser; one bad line never kills the connection.

        A user's PRIVMSG or NOTICE is read by :func:`.irc_privmsg.parse_user_line` and handed
        over as a :class:`~.irc_privmsg.UserLine`; every other line goes through the
        library's parser and arrives as its events. The acknowledgement of the bytes
        (:meth:`_ack_now`) follows in the same call, after the answers that are ready at
        once: it must not wait, but neither should they.
        """
        on_event = self._on_event
        for line in self.buffer.lines(new_data):
            try:
                said = parse_user_line(line) if self.real_server_name else None
                if said is not None:
                    on_event(said)
                elif line:
                    self._process_line(line)
            except Exception:
                log.exception("failed to handle line from server: %r", line[:300])
        self._ack_now()  # after the lines: the answers written above did not wait for it

    def _ack_now(self) -> None:
        """Acknowledge received data at once (Linux ``TCP_QUICKACK``; a no-op elsewhere).

        Servers write to clients with Nagle's algorithm on: a second line for us waits until
        our kernel acknowledges the first, and a delayed ACK takes 40 ms. Measured through
        InspIRCd with 10 users asking at once, that stalled 1 answer in 50 by 40 ms. The
        kernel goes back to delaying ACKs whenever we answer, so this is done after every
        read.
        """
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is not None and _QUICKACK is not None:
            with contextlib.suppress(OSError):  # a socket closing under us: nothing to ack
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def _handle_event(self, event: Event) -> None:
        self._on_event(event)

    def _prep_message(self, string: str) -> bytes:
        if "\n" in string or "\r" in string or "\0" in string:
            raise ValueError("line breaks and NUL are never sent")
        data: bytes = string.encode("utf-8") + b"\r\n"
        if len(data) > self.linelen:
            raise MessageTooLong(f"{len(data)} bytes > {self.linelen}")
        return data

    # --- the Link the output side writes to (see irc_output.Link)

    def frame(self, line: str) -> bytes:
        """``line`` as the bytes that go on the wire (CR LF added; refused if too long)."""
        return self._prep_message(line)

    def write(self, data: bytes) -> bool:
        """Write ``data``; False when the connection is closing and nothing was written."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        transport.write(data)
        return True

    def flushed(self) -> bool:
        """Whether everything written so far is in the kernel (none left in asyncio's buffer)."""
        transport = self.transport
        return transport is not None and transport.get_write_buffer_size() == 0

    def nudge(self) -> None:
        """Ask the server for a PONG (no flood penalty on common servers): the TCP ACK of
        what we wrote rides on it instead of waiting out the server's delayed ACK."""
        self.write(b"PING :infrabot-ack\r\n")

    def acknowledged(self) -> bool | None:
        """Whether the server's side acknowledged every byte written so far (Linux SIOCOUTQ:
        bytes in the kernel's send queue not acknowledged yet); None where we cannot tell."""
        if not self.flushed():
            return False
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None or _OUTQ is None:
            return None
        try:
            unacknowledged = fcntl.ioctl(sock.fileno(), _OUTQ, b"\0\0\0\0")
        except OSError:
            return None
        return int.from_bytes(unacknowledged, sys.byteorder) == 0


def tls_context(config: IrcConfig) -> ssl.SSLContext | None:
    """The TLS context ``config`` asks for, or None for plain TCP.

    By default the server's certificate is verified (CA and host name). With
    ``tls_fingerprint`` only the pinned SHA-256 fingerprints are trusted: the usual way to
    trust a private server's self-signed certificate, where neither CA nor name would help.
    A client certificate (``tls_client_cert``) is shown when configured (SASL EXTERNAL).
    """
    if not config.tls:
        return None
    context: ssl.SSLContext
    if config.tls_fingerprint:
        context = _PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
        context.pins = frozenset(config.tls_fingerprint)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the pin is checked after the handshake instead
    else:
        cafile = str(config.tls_ca_file) if config.tls_ca_file else None
        context = ssl.create_default_context(cafile=cafile)
        if not config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    if config.tls_client_cert is not None:
        password = config.tls_client_key_password
        try:
            context.load_cert_chain(
                config.tls_client_cert,
                config.tls_client_key,
                password.get_secret_value() if password else None,
            )
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise OSError(
                f"cannot load irc.tls_client_cert {config.tls_client_cert}: {exc}"
            ) from None
    return context


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate, as colon-separated hex."""
    return ":".join(f"{byte:02x}" for byte in hashlib.sha256(der).digest())


class _PinnedObject(ssl.SSLObject):
    """A TLS connection that, once the handshake is done, accepts only a pinned certificate."""

    def do_handshake(self) -> None:
        super().do_handshake()
        der = self.getpeercert(binary_form=True)
        pins: frozenset[str] = getattr(self.context, "pins", frozenset())
        if der is None:
            raise ssl.SSLCertVerificationError("the server showed no certificate")
        if hashlib.sha256(der).hexdigest() not in pins:
            raise ssl.SSLCertVerificationError(
                f"server certificate SHA-256 {fingerprint(der)} is not the pinned one"
            )


class _PinnedContext(ssl.SSLContext):
    """An SSL context whose connections check the server certificate against ``pins``
    (asyncio wraps every connection with ``sslobject_class``)."""

    pins: frozenset[str] = frozenset()
    sslobject_class = _PinnedObject
