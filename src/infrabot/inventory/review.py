"""Checks for the inventory's own CI: problems as annotations, and what a change would do.

``infrabot check --format github`` prints each problem as a GitHub Actions annotation on the
line that caused it; ``infrabot diff OLD NEW`` prints the change between two inventories in the
words ``!reload`` would use. Either side of a diff is a file, a folder of parts, or a git
revision of the repository in the current folder (its folder of parts read from git's objects,
never from the work tree, so uncommitted edits do not leak in).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from infrabot.errors import InventoryProblem
from infrabot.inventory.diff import InventoryDiff, diff_inventories
from infrabot.inventory.load import DEFAULT_MAX_BYTES
from infrabot.inventory.parts import load_parts
from infrabot.inventory.source import SourceError, is_folder, load_inventory_at, parts_diff
from infrabot.text import clean_line

__all__ = ["FORMATS", "Side", "diff_sides", "github_annotations", "open_side"]

FORMATS = ("plain", "github")
"""How ``infrabot check`` prints problems."""

_TIMEOUT = 60.0
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~^@{}-]{0,199}")


def github_annotations(
    problems: Iterable[InventoryProblem], *, root: Path | None = None
) -> list[str]:
    """Each problem as a GitHub Actions error annotation, ``::error file=F,line=L::reason``.

    Files are made relative to ``root`` (the current folder by default) when under it, as
    GitHub places annotations by the path in the repository."""
    here = (root or Path.cwd()).resolve()
    lines = []
    for p in problems:
        props = [f"file={_property(_relative(p.file, here))}"]
        if p.line is not None:
            props.append(f"line={p.line}")
        props.append(f"title={_property('infrabot check')}")
        message = f"{p.path}: {p.reason}" if p.path else p.reason
        lines.append(f"::error {','.join(props)}::{_data(message)}")
    return lines


def _relative(file: str, root: Path) -> str:
    path = Path(file)
    if not path.is_absolute():
        return PurePosixPath(file).as_posix()
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return file


def _data(text: str) -> str:
    """Escaped as GitHub reads a workflow command's message: no line can end it early."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff on disk: a file or folder, and how its problems name it (the path
    in the repository for a git revision; None for its path on disk)."""

    path: Path
    label: str | None = None


@contextmanager
def open_side(
    spec: str, *, path: str = ".", repo: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Side]:
    """The file or folder ``spec`` names: itself when it exists, otherwise the folder ``path``
    of the git revision ``spec`` in ``repo`` (the current folder), written out to a temporary
    folder for as long as the context lasts. :class:`SourceError` when it is neither."""
    given = Path(spec)
    if given.exists():
        yield Side(given)
        return
    with tempfile.TemporaryDirectory(prefix="infrabot-diff-") as temp:
        out = Path(temp) / "tree"
        _export(spec, PurePosixPath(path), repo or Path.cwd(), out, max_bytes)
        shown = str(PurePosixPath(path))
        yield Side(out / path, shown if shown != "." else "")


def _export(spec: str, path: PurePosixPath, repo: Path, out: Path, max_bytes: int) -> None:
    """Write the files under ``path`` at revision ``spec`` into ``out``, from git's objects."""
    if not _REVISION.fullmatch(spec) or ".." in spec:
        raise SourceError(f"{clean_line(spec, 60)}: no such file, folder or git revision")
    commit = _git(repo, ["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"], spec).strip()
    listing = _git(repo, ["ls-tree", "-r", "-z", "--full-tree", commit, "--", str(path)], spec)
    blobs: list[tuple[str, str, str]] = []  # mode, object, path in the repository
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        mode, kind, obj = meta.split()
        if kind == "blob":
            blobs.append((mode, obj, name))
    if not blobs:
        raise SourceError(f"{spec}: no folder or file {path} in that revision")
    total = 0
    for mode, obj, name in blobs:
        data = _blob(repo, obj, spec)
        total += len(data)
        if total > max_bytes:
            raise SourceError(f"{spec}: {path} holds over {max_bytes} bytes, the limit")
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":  # kept a link, so that the loader refuses it as it would on disk
            os.symlink(data.decode("utf-8", "replace"), target)
        else:
            target.write_bytes(data)


def _blob(repo: Path, obj: str, spec: str) -> bytes:
    done = subprocess.run(
        ["git", "cat-file", "blob", obj], cwd=repo, capture_output=True, timeout=_TIMEOUT
    )
    if done.returncode != 0:
        raise SourceError(f"{spec}: cannot read {obj[:7]} from git")
    return done.stdout


def _git(repo: Path, args: list[str], spec: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"{clean_line(spec, 60)}: cannot run git: {exc}") from None
    if done.returncode != 0:
        raise SourceError(f"{clean_line(spec, 60)}: no such file, folder or git revision")
    return done.stdout


def diff_sides(old: Side, new: Side, *, max_bytes: int = DEFAULT_MAX_BYTES) -> InventoryDiff:
    """What changing the inventory ``old`` to ``new`` does, as ``!reload`` words it.

    Both are validated (:class:`~infrabot.errors.InventoryError` lists every problem of a
    side). Between two folders whose parts are named alike (two revisions), the parts of
    ``new`` that did not change are not parsed again, and only the changed ones compared."""
    if is_folder(old.path) and is_folder(new.path):
        before = load_parts(old.path, max_bytes=max_bytes, label=old.label)
        after = load_parts(new.path, max_bytes=max_bytes, label=new.label, previous=before)
        found = parts_diff(before, after)
        assert found is not None  # there is a previous load
        return found
    return diff_inventories(
        load_inventory_at(old.path, max_bytes=max_bytes),
        load_inventory_at(new.path, max_bytes=max_bytes),
    )
