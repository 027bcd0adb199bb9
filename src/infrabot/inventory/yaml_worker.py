"""The child process of :mod:`.parse_ahead`: parses a folder's parts from YAML, last first.

Run as a script (``python -I yaml_worker.py FOLDER MAX_BYTES MAX_ALIAS_NODES``), so that it
imports nothing but the standard library and the YAML parser and starts in tens of
milliseconds. On standard input it reads the parts' names (a length, then the names,
NUL-separated); then, going from the last part, it parses each into JSON, keeps it, and
writes a frame with the part's position and no payload to say so. When the parent writes a
position (one it has reached, among those parsed here), the child writes the JSON of every
part from there to the last, in order, each in a frame with the payload's length and the
SHA-256 of the bytes it read (no payload: it could not read or parse that part, and the
parent does it itself, wording the problem with its line), and ends.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import select
import stat
import struct
import sys

import yaml_rs

FRAME = struct.Struct("<BII32s")
"""Each frame's head: its kind (:data:`PARSED` or :data:`JSON`), the part's position, the
payload's length, the read bytes' SHA-256."""
PARSED, JSON = 0, 1
POSITION = struct.Struct("<I")
"""A position, or a length, from the parent."""

# a FIFO must not block the read, nor a symbolic link lead out of the folder
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def read_part(path: str, max_bytes: int) -> bytes | None:
    """The bytes of the regular file at ``path``, or None (not one, too large, unreadable)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
                return None
            raw = handle.read(max_bytes + 1)
    except OSError:
        return None
    return raw if len(raw) <= max_bytes else None


def as_json(raw: bytes, alias_nodes: int) -> bytes:
    """The part's data as JSON; empty when it is not UTF-8, not YAML, or not plain JSON data
    (a float that is not a number, text that is not Unicode)."""
    limits = yaml_rs.AliasLimits(max_total_replayed_events=alias_nodes)
    try:
        data = yaml_rs.loads(raw.decode("utf-8"), parse_datetime=False, alias_limits=limits)
        return json.dumps(data, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except Exception:
        return b""


def main() -> int:
    """Parse the named parts, last first, until the parent says where it is."""
    gc.disable()  # a process for one load: the collector would only slow it down
    with contextlib.suppress(OSError):  # a core nobody else wants, or less of one
        os.nice(10)
    folder, max_bytes, alias_nodes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    given = sys.stdin.buffer
    (size,) = POSITION.unpack(given.read(POSITION.size))
    names = given.read(size).decode("utf-8", "surrogateescape").split("\0")
    out = sys.stdout.buffer
    done: dict[int, tuple[bytes, bytes]] = {}
    try:
        for at in range(len(names) - 1, -1, -1):
            raw = read_part(os.path.join(folder, names[at]), max_bytes)
            payload = as_json(raw, alias_nodes) if raw is not None else b""
            digest = hashlib.sha256(raw).digest() if raw is not None else bytes(32)
            done[at] = (digest, payload)
            out.write(FRAME.pack(PARSED, at, 0, bytes(32)))
            out.flush()
            if select.select([given], [], [], 0)[0]:
                break
        wanted = given.read(POSITION.size)
        if len(wanted) < POSITION.size:
            return 0  # the parent went on without these
        (start,) = POSITION.unpack(wanted)
        for at in range(start, len(names)):
            digest, payload = done.pop(at, (bytes(32), b""))
            out.write(FRAME.pack(JSON, at, len(payload), digest) + payload)
        out.flush()
    except BrokenPipeError:  # the parent has what it needs
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
