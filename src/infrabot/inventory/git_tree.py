"""A commit's folder of parts written out from git's objects into a fresh folder of its own.

``git ls-tree`` lists the commit's files under the folder, each with its blob id, which is a
hash of its content: a file the serving commit's tree holds with the same id is linked from
there (the same bytes, nothing read or written), and only the others are read from git (one
``git cat-file --batch`` for all of them) and written. A commit that changed one part of a
thousand costs that part, where a git work tree would write all thousand. The blob ids and
sizes also tell the loader which parts are unchanged without reading them
(:func:`~.parts.load_parts` ``known``). The bytes are the blobs' own, as ``infrabot check`` and
``infrabot diff`` read them from git in the inventory's CI (no line-ending conversion).

Git never stores a name like ``..``, but a repository is input: names with such a component
are refused, and symbolic links are written last (the loader refuses them as parts), so no file
is ever written through one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infrabot.inventory.parts import Known

__all__ = ["Blob", "Listing", "known_parts", "parse_listing", "read_blobs", "write_tree"]

_LINK, _SUBMODULE, _EXECUTABLE = "120000", "160000", "100755"


@dataclass(frozen=True, slots=True)
class Blob:
    """One file of a commit: its git mode, blob id and size in bytes."""

    mode: str
    oid: str
    size: int


Listing = dict[str, Blob]
"""A commit's files under a folder, by their path relative to it."""


def parse_listing(out: bytes, folder: str) -> Listing:
    """The files of ``git ls-tree -r -z -l --full-tree COMMIT -- FOLDER`` output, by their
    path relative to ``folder`` (``.`` for the whole tree)."""
    prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
    files: Listing = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        head, _, raw_path = record.partition(b"\t")
        mode, _kind, oid, size = head.decode("ascii").split()
        path = raw_path.decode("utf-8", "surrogateescape")
        if not path.startswith(prefix):
            continue
        name = path[len(prefix) :]
        if not _safe(name):
            raise ValueError(f"the commit holds a file named {name[:100]!r}; refusing it")
        files[name] = Blob(mode, oid, int(size) if size.isdigit() else 0)
    return files


def _safe(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def known_parts(files: Listing) -> dict[str, Known]:
    """What the listing vouches for each regular file: its content hash and size."""
    return {
        name: Known(blob.oid, blob.size)
        for name, blob in files.items()
        if blob.mode not in (_LINK, _SUBMODULE)
    }


def read_blobs(out: bytes, wanted: Sequence[str]) -> dict[str, bytes]:
    """The content of each blob of ``wanted`` from ``git cat-file --batch`` output."""
    blobs: dict[str, bytes] = {}
    at = 0
    for oid in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].decode("ascii").split()
        if len(header) != 3:
            raise ValueError(f"git has no object {oid[:12]}")
        size = int(header[2])
        blobs[header[0]] = out[end + 1 : end + 1 + size]
        at = end + 1 + size + 1  # the content, then a newline
    return blobs


def write_tree(
    tree: Path,
    files: Listing,
    blobs: Callable[[list[str]], Mapping[str, bytes]],
    base: tuple[Path, Listing] | None = None,
) -> None:
    """Write ``files`` under ``tree`` (a new folder): each file ``base`` (a folder written
    before, and its listing) holds with the same id is linked from it; ``blobs`` reads the
    content of the others by id."""
    tree.mkdir(parents=True)
    old_tree, old = base if base is not None else (tree, {})
    # each folder made once, before its files (a thousand parts share a few folders)
    folders = {os.path.dirname(name) for name in files} - {""}
    for folder in sorted(folders):
        os.makedirs(os.path.join(tree, folder), exist_ok=True)
    fresh: list[tuple[str, Blob]] = []
    old_root, root = os.fspath(old_tree), os.fspath(tree)
    for name, blob in files.items():
        if blob.mode == _SUBMODULE:  # as git checks one out: an empty folder
            os.makedirs(os.path.join(root, name), exist_ok=True)
        elif blob.mode == _LINK or old.get(name) != blob or not _linked(old_root, root, name):
            fresh.append((name, blob))
    content = blobs(sorted({blob.oid for _, blob in fresh}))
    links = [(name, blob) for name, blob in fresh if blob.mode == _LINK]
    for name, blob in fresh:
        if blob.mode != _LINK:
            _write(tree / name, content[blob.oid], blob.mode == _EXECUTABLE)
    for name, blob in links:  # last: nothing is written through one
        os.symlink(os.fsdecode(content[blob.oid]), tree / name)


def _linked(old_root: str, root: str, name: str) -> bool:
    """Whether the file ``name`` of ``old_root`` (a regular file) is now in ``root`` too."""
    source = os.path.join(old_root, name)
    try:
        if not stat.S_ISREG(os.lstat(source).st_mode):
            return False
        os.link(source, os.path.join(root, name), follow_symlinks=False)
    except OSError:  # gone, or a file system without hard links: written instead
        return False
    return True


def _write(path: Path, data: bytes, executable: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o755 if executable else 0o644)
    with open(fd, "wb") as handle:
        handle.write(data)
