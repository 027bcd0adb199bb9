"""A folder's parts parsed on the second core while this process validates them.

Parsing a part's YAML is half of what loading it costs, and a thread cannot do it beside the
event loop's thread (the parser holds the GIL). So for a load of many parts a child process
(:mod:`.yaml_worker`) parses them from the last while this process goes from the first, and
parses them itself. Where they meet, the child sends what it parsed, in order, as JSON, which
pydantic validates straight into the model without building the dictionaries in between.
The child keeps its JSON until then, so this process holds one part's at a time.

Nothing the child says is trusted beyond what validation checks anyway: a part is taken from
the child only if the child read the very bytes this process read (by SHA-256), and every
problem (YAML that does not parse, entries that do not validate) is found again here, from
the text, so that it is worded with its line as in a load without the child. A child that
fails to start, dies or is slow only means this process parses more parts itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from infrabot.inventory import yaml_worker
from infrabot.inventory.limits import MAX_ALIAS_NODES

__all__ = ["AHEAD_FROM_PARTS", "ParseAhead", "second_core"]

AHEAD_FROM_PARTS = 64
"""Parts to parse from which a child is worth starting (it costs about 50 ms to start)."""

_PIPE_BYTES = 1024 * 1024
_WAIT_S = 2.0  # for the child's next frame, once it is sending: a part takes milliseconds


def second_core() -> bool:
    """Whether this process may run on more than one core (a child on one core would only
    take turns with it)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # no affinity on this system: count its cores
        return (os.cpu_count() or 1) > 1


class ParseAhead:
    """The child parsing ``names`` (parts of ``folder``), last first; :meth:`take` each part's
    JSON in order, :meth:`close` when done (the child is stopped by its PID); as a context,
    it closes on leaving. With no names, no child is started."""

    def __init__(self, folder: Path, names: Sequence[str], max_bytes: int) -> None:
        self._buffer = bytearray()
        self._fd = -1
        self._lowest = len(names)  # the child has parsed every part from here on
        self._streaming = False
        self._child: subprocess.Popen[bytes] | None = None
        if not names:
            return
        try:
            child = subprocess.Popen(  # this interpreter, our own script, no shell
                [
                    sys.executable,
                    "-I",
                    yaml_worker.__file__,
                    str(folder),
                    str(max_bytes),
                    str(MAX_ALIAS_NODES),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
            )
        except OSError:
            return  # no child: every part is parsed here
        self._child = child
        assert child.stdin is not None and child.stdout is not None
        self._fd = child.stdout.fileno()
        os.set_blocking(self._fd, False)
        blob = "\0".join(names).encode("utf-8", "surrogateescape")
        try:  # the child reads every name before it writes anything: this cannot block long
            child.stdin.write(yaml_worker.POSITION.pack(len(blob)) + blob)
            child.stdin.flush()
        except OSError:
            self.close()

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The child's process ID while it runs."""
        return self._child.pid if self._child is not None else None

    def parsed_from(self) -> int:
        """The first position of the parts the child has parsed so far (all from there to
        the last); the number of parts when it has parsed none, or has stopped."""
        if self._fd >= 0 and not self._streaming:
            self._read(wait=0)
        return self._lowest

    def take(self, at: int, raw: bytes, sha256: str | None = None) -> bytes | None:
        """The JSON of part ``at`` if the child parsed it from the same bytes as ``raw``
        (whose SHA-256, in hex, the caller may know already). Parts are taken in order, each
        once."""
        if self._fd < 0:
            return None
        if not self._streaming:
            if at < self.parsed_from():
                return None  # the child has not come down this far: parsed here
            self._stream_from(at)
        found = self._next_json()
        if found is None or found[0] != at:
            self.close()  # the child is gone, or slow: the rest is parsed here
            return None
        _at, digest, payload = found
        if not payload:
            return None
        ours = bytes.fromhex(sha256) if sha256 is not None else hashlib.sha256(raw).digest()
        return payload if ours == digest else None

    def _stream_from(self, at: int) -> None:
        """Ask the child for the JSON of every part from ``at`` on."""
        child = self._child
        assert child is not None and child.stdin is not None
        try:
            child.stdin.write(yaml_worker.POSITION.pack(at))
            child.stdin.close()
        except OSError:
            self.close()
        self._streaming = True

    def _next_json(self) -> tuple[int, bytes, bytes] | None:
        """The next part's JSON from the child (position, SHA-256, payload), waiting for it
        a while; None when it does not come."""
        head = yaml_worker.FRAME
        while self._fd >= 0:
            buffer = self._buffer
            if len(buffer) >= head.size:
                kind, at, size, digest = head.unpack_from(buffer)
                if kind == yaml_worker.PARSED:
                    del buffer[: head.size]  # a word sent before the child heard us
                    continue
                if len(buffer) >= head.size + size:
                    payload = bytes(buffer[head.size : head.size + size])
                    del buffer[: head.size + size]
                    return at, digest, payload
            if not self._read(wait=_WAIT_S):
                return None
        return None

    def _read(self, *, wait: float) -> bool:
        """Add what the child has written to the buffer (waiting up to ``wait`` seconds for
        something), and note how far down it has parsed; False when nothing came."""
        if wait and not select.select([self._fd], [], [], wait)[0]:
            return False
        came = False
        while self._fd >= 0:
            try:
                chunk = os.read(self._fd, _PIPE_BYTES)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # the child has ended
                self._fd = -1
                break
            self._buffer += chunk
            came = True
        if not self._streaming:
            self._note_parsed()
        return came

    def _note_parsed(self) -> None:
        """Take the child's words on the parts it parsed (frames without payloads)."""
        head, buffer = yaml_worker.FRAME, self._buffer
        whole = len(buffer) - len(buffer) % head.size
        for start in range(0, whole, head.size):
            self._lowest = min(self._lowest, head.unpack_from(buffer, start)[1])
        del buffer[:whole]

    def close(self) -> None:
        """Stop the child (it may still be parsing parts this process has done)."""
        child, self._child = self._child, None
        self._fd = -1
        self._buffer.clear()
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
