"""Read an inventory file, validate it fully, and report every problem with file and line.

Only a regular file is read, and its text is checked for nesting depth and alias expansion
(:mod:`infrabot.inventory.limits`) before any parser sees it: a parser in C or Rust that runs
out of stack takes the whole process down, so the bounds have to come first.

Parsing uses ``yaml_rs`` (YAML 1.2, so ``no`` stays a string; duplicate keys are errors; alias
expansion is bounded). Line numbers are only needed when something is wrong, so only then is
the text read again, as a stream of libyaml's events (:mod:`infrabot.inventory.locate`): a
valid inventory pays for one fast parse.

A large text (over 2 MiB: tens of thousands of entries) is parsed in pieces on a worker thread
while the main thread validates them; see the section on pieces below. It gives the same
inventory, and the same problems: a problem in an entry sends the whole text through the plain
path, so errors read the same.
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import yaml_rs
from pydantic import BaseModel, ValidationError

from infrabot.errors import InventoryError, InventoryProblem
from infrabot.heap import gc_paused
from infrabot.inventory.fields_sets import inner_model, share_fields_sets
from infrabot.inventory.limits import MAX_ALIAS_NODES, check_structure
from infrabot.inventory.locate import (
    collection_key_line,
    duplicate_key_line,
    first_alias_line,
    lines_of,
)
from infrabot.inventory.model import Inventory
from infrabot.inventory.names import best_matches
from infrabot.inventory.references import Location, check_references

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_ALIAS_NODES",
    "SPLIT_ABOVE_CHARS",
    "inventory_text",
    "load_inventory",
    "locate_problems",
    "parse_inventory",
    "read_inventory_bytes",
    "read_inventory_text",
    "validate_parsed",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused unread."""

SPLIT_ABOVE_CHARS = 2 * 1024 * 1024
"""Texts at least this long are parsed in pieces, on two threads, when they allow it."""

_FREEZE_ABOVE_CHARS = 2 * 1024 * 1024  # see gc_paused
_PIECE_CHARS = 512 * 1024
_PIECES_AHEAD = 4

_SECTIONS = ("people", "groups", "providers", "datacenters", "hosts", "services")
_LINE_IN_MESSAGE = re.compile(r"at line (\d+), column (\d+)")
# opening for reading never waits (a FIFO would, for a writer), nor adopts a terminal
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def load_inventory(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Inventory:
    """Load and validate the inventory at ``path``.

    Raises :class:`InventoryError` listing every problem found.
    """
    return parse_inventory(read_inventory_text(path, max_bytes=max_bytes), str(path))


def read_inventory_text(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of the file at ``path``, which must be a regular file of at most ``max_bytes``
    bytes of UTF-8 (see :func:`read_inventory_bytes`)."""
    return inventory_text(read_inventory_bytes(path, max_bytes=max_bytes), str(path))


def read_inventory_bytes(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of the file at ``path``, which must be a regular file of at most
    ``max_bytes`` bytes (not yet checked to be UTF-8: see :func:`inventory_text`).

    Anything else (a FIFO, a device, a directory) is refused without reading from it: opening a
    FIFO would wait for a writer for ever. The file's type is checked before opening it, and
    again on the opened descriptor, so that it cannot be swapped for something else in between.
    """
    name = str(path)
    try:
        _refuse_unless_regular(name, os.stat(path).st_mode)
        with open(os.open(path, _OPEN_FLAGS), "rb") as handle:
            info = os.fstat(handle.fileno())
            _refuse_unless_regular(name, info.st_mode)
            if info.st_size > max_bytes:
                raise _single(
                    name, None, f"file is {info.st_size} bytes, over the limit of {max_bytes} bytes"
                )
            # as much as fstat says, and one byte more to see whether it grew meanwhile (a
            # read of the limit itself would allocate the limit, for every part of a folder)
            raw = handle.read(info.st_size + 1)
            if len(raw) > info.st_size:
                raw += handle.read(max_bytes + 1 - len(raw))
    except OSError as exc:
        raise _single(name, None, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:  # it grew between fstat and read
        raise _single(name, None, f"file is over the limit of {max_bytes} bytes")
    return raw


def inventory_text(raw: bytes, file: str) -> str:
    """``raw`` read as UTF-8; an :class:`InventoryError` on the line where it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _single(file, line, "the file is not valid UTF-8") from None


def _refuse_unless_regular(name: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((label for test, label in _KINDS if test(mode)), "not a file")
        raise _single(name, None, f"not a regular file ({kind}); refusing to read it")


def parse_inventory(text: str, file: str = "<inventory>", *, references: bool = True) -> Inventory:
    """Validate inventory ``text``; ``file`` names it in error messages.

    With ``references=False`` only the shapes are checked: a part of a folder names entries
    in other parts, so its references are checked once all parts are read
    (:mod:`infrabot.inventory.parts`)."""
    check_structure(text, file)
    with gc_paused(freeze=len(text) >= _FREEZE_ABOVE_CHARS):
        big = len(text) >= SPLIT_ABOVE_CHARS
        inventory = _parse_in_pieces(text, file, references) if big else None
        return inventory if inventory is not None else _parse_whole(text, file, references)


def validate_parsed(text: str, file: str, parsed: bytes) -> Inventory:
    """Validate a part whose YAML ``text`` is already parsed, as JSON (:mod:`.parse_ahead`):
    its shapes only, as :func:`parse_inventory` does with ``references=False``. On any
    problem the text is parsed here again, to word each problem with its line."""
    check_structure(text, file)
    try:
        with gc_paused():
            return Inventory.model_validate_json(parsed)
    except ValidationError:
        return parse_inventory(text, file, references=False)


def _parse_whole(text: str, file: str, references: bool = True) -> Inventory:
    """Parse and validate ``text`` in one go, reporting every problem with its line."""
    if not text or text.isspace():
        raise _single(
            file,
            None,
            "the file is empty; an inventory needs at least one of " + ", ".join(_SECTIONS),
        )
    data = _parse_yaml(text, file)
    if data is None:
        raise _single(file, None, "the file holds no data (only comments?)")
    if not isinstance(data, dict):
        raise _single(
            file, 1, "the top level must be a mapping with keys such as " + ", ".join(_SECTIONS)
        )
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        found = [(tuple(e["loc"]), _explain(e)) for e in exc.errors()]
    else:
        found = [(p.loc, p.reason) for p in check_references(inventory)] if references else []
    if found:
        raise InventoryError(locate_problems(text, file, data, found))
    return inventory


def _single(file: str, line: int | None, reason: str) -> InventoryError:
    return InventoryError([InventoryProblem(file, line, "", reason)])


def _parse_yaml(text: str, file: str) -> Any:
    limits = yaml_rs.AliasLimits(max_total_replayed_events=MAX_ALIAS_NODES)
    try:
        return yaml_rs.loads(text, parse_datetime=False, alias_limits=limits)
    except yaml_rs.YAMLDecodeError as exc:
        message = str(exc)
    except TypeError as exc:  # a key Python cannot hash: a mapping holding a list, as a key
        reason = f"YAML error: a key that is a list or a mapping ({exc})"
        raise _single(file, collection_key_line(text), reason) from None
    match = _LINE_IN_MESSAGE.search(message)
    if match:
        reason = message.strip().splitlines()[-1].strip()
        raise _single(file, int(match.group(1)), f"YAML syntax error: {reason}")
    if message.startswith("alias replay limit"):
        raise _single(
            file,
            first_alias_line(text),
            f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing (alias bomb?)",
        )
    if message.startswith("duplicate mapping key"):
        key = message.partition(":")[2].strip()
        raise _single(file, duplicate_key_line(text), f"duplicate key {key}")
    raise _single(file, None, f"YAML error: {message}")


def _explain(error: Any) -> str:
    """One pydantic error as a short sentence a person editing YAML understands."""
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        hint = best_matches(str(loc[-1]), known, limit=1, cutoff=70)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        allowed = f" (known keys: {', '.join(known)})" if known and not hint else ""
        return f"unknown key '{loc[-1]}'{suggestion}{allowed}"
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    got = error.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    message = str(error["msg"]).removeprefix("Value error, ")  # our own validators' words
    return f"{message[0].lower()}{message[1:]} (got {shown})"


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` in the inventory's model, for suggestions."""
    model: Any = Inventory
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def locate_problems(
    text: str, file: str, data: dict[str, Any] | Inventory, found: list[tuple[Location, str]]
) -> list[InventoryProblem]:
    """Each ``(location, reason)`` in ``text`` as a problem with its line and a readable path;
    ``data`` is what the text parsed to, or the inventory validated from it."""
    lines = lines_of(text, [loc for loc, _reason in found])
    return [
        InventoryProblem(file, line, _display_path(data, loc), reason)
        for (loc, reason), line in zip(found, lines, strict=True)
    ]


def _display_path(data: dict[str, Any] | Inventory, loc: Location) -> str:
    """``services[PyPI].owners[2]``: list items of a section by name, other items by index.

    ``data`` is what the text parsed to, or the inventory validated from it."""
    out = ""
    parent: Any = data
    for depth, part in enumerate(loc):
        if isinstance(part, int):
            items = parent if isinstance(parent, list | tuple) else ()
            item = items[part] if 0 <= part < len(items) else None
            label = _entry_label(item) if depth == 1 else None
            out += f"[{label}]" if label else f"[{part}]"
            parent = item
        else:
            out += f".{part}" if out else str(part)
            parent = _fields(parent).get(part)
    return out


def _fields(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return value.__dict__ if isinstance(value, BaseModel) else {}


def _entry_label(item: Any) -> str | None:
    fields = _fields(item)
    for key in ("name", "code"):
        value = fields.get(key)
        if isinstance(value, str) and value.strip() and len(value) <= 60:
            return value.strip()
    return None


# --- large files: parse in pieces, on two threads --------------------------------------------
#
# yaml_rs parses with the GIL released, so pieces of one file parse in parallel while the main
# thread validates the pieces already parsed; each piece's dicts are freed as soon as it is
# validated, so they never all exist at once. On anything unusual (anchors, directives, several
# documents, CR line ends, an unknown or repeated top-level key) or on a problem in the YAML or
# in an entry, it returns None and the whole text is parsed again by the path above, which
# reports every problem with its line. Problems between valid entries (names, references) it
# reports itself, located the same way.

# a line that starts a top-level key: not indented, not a comment, not a "- " list item
_KEY_LINE = re.compile(r"\n(?:[^\s#\-]|-\S)")
_BLOCK_SECTION = re.compile(r"([a-z]+):[ \t]*(?:#[^\n]*)?")
_FIRST_ITEM = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*( *)-[ \n]")


def _top_level_starts(text: str) -> list[int] | None:
    """Where each top-level key's line starts, or None if the text is unfit for splitting."""
    if "\r" in text or text.startswith(("---", "...", "%", "&")):
        return None
    at = text.find("&")
    while at >= 0:
        if text[at - 1] in " \t\n[{,":  # an anchor: its aliases may be in another piece
            return None
        at = text.find("&", at + 1)
    starts = [] if _KEY_LINE.match("\n" + text[:2]) is None else [0]
    for line in _KEY_LINE.finditer(text):
        if text.startswith(("---", "...", "%"), line.start() + 1):
            return None  # several documents, or directives
        starts.append(line.start() + 1)
    if not starts:
        return None
    head = text[: starts[0]].lstrip("\ufeff")
    if any(line.strip() and not line.lstrip().startswith("#") for line in head.splitlines()):
        return None
    return starts


class _Piece(NamedTuple):
    """``text[begin:end]``, which parses on its own; ``section`` is the list section whose
    entries it holds, or None for a piece holding whole top-level keys."""

    section: str | None
    begin: int
    end: int
    continued: bool  # entries after the first piece of their section: the key goes first

    def of(self, text: str) -> str:
        body = text[self.begin : self.end]
        return f"{self.section}:\n{body}" if self.continued else body


def _pieces(text: str) -> list[_Piece] | None:
    """Where to cut the text into pieces, or None when it should be parsed whole."""
    starts = _top_level_starts(text)
    if starts is None:
        return None
    pieces: list[_Piece] = []
    split: set[str] = set()
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        header_end = text.find("\n", begin, end)
        header = _BLOCK_SECTION.fullmatch(text, begin, header_end) if header_end > 0 else None
        if header is None or header.group(1) not in _SECTIONS:
            pieces.append(_Piece(None, begin, end, continued=False))
            continue
        section = header.group(1)
        first = _FIRST_ITEM.match(text, header_end + 1, end)
        if section in split:
            return None  # a repeated key: the whole text's parse reports it
        split.add(section)
        if first is None:
            pieces.append(_Piece(None, begin, end, continued=False))
            continue
        item = "\n" + first.group(1) + "-"
        cut = begin
        while True:
            at = text.find(item, min(cut + _PIECE_CHARS, end), end)
            while at >= 0 and text[at + len(item) : at + len(item) + 1] not in (" ", "\n"):
                at = text.find(item, at + 1, end)
            stop = end if at < 0 else at + 1
            pieces.append(_Piece(section, cut, stop, continued=cut != begin))
            if stop == end:
                break
            cut = stop
    return pieces


def _parse_piece(piece: str) -> Any:
    limits = yaml_rs.AliasLimits(max_total_replayed_events=MAX_ALIAS_NODES)
    try:
        return yaml_rs.loads(piece, parse_datetime=False, alias_limits=limits)
    except (yaml_rs.YAMLDecodeError, TypeError):
        return None


def _parse_in_pieces(text: str, file: str, references: bool = True) -> Inventory | None:
    """The valid inventory in ``text``, parsed in pieces; None when anything is amiss.

    Only problems between entries that are each valid (names, references) are reported from
    here, as the whole text's path would report them: parsing it all again would find the same
    inventory, at several times the memory.
    """
    pieces = _pieces(text)
    if pieces is None or len(pieces) < 2:
        return None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="inventory-yaml") as pool:
        pending: deque[Future[Any]] = deque()
        try:
            merged = _validate_pieces(text, pieces, pool, pending)
        finally:
            for future in pending:
                future.cancel()
    if merged is None or set(merged) - set(Inventory.model_fields):
        return None
    try:  # the entries are validated already and pass through as they are
        inventory = Inventory.model_validate(merged)
    except ValidationError:
        return None
    found = [(p.loc, p.reason) for p in check_references(inventory)] if references else []
    if found:
        raise InventoryError(locate_problems(text, file, inventory, found))
    return inventory


def _validate_pieces(
    text: str, pieces: list[_Piece], pool: ThreadPoolExecutor, pending: deque[Future[Any]]
) -> dict[str, Any] | None:
    """Top-level keys with their values, list sections validated piece by piece as they
    come out of the parsing threads (a few pieces ahead)."""
    merged: dict[str, Any] = {}
    sections: dict[str, list[Any]] = {}
    fields_sets: dict[frozenset[str], set[str]] = {}
    queued = iter(pieces)
    for section, *_where in pieces:
        for piece in islice(queued, _PIECES_AHEAD - len(pending)):
            pending.append(pool.submit(_parse_piece, piece.of(text)))
        data = pending.popleft().result()
        if not isinstance(data, dict) or len(data) != 1:
            return None
        ((key, value),) = data.items()
        del data
        if section is None:
            if key in merged or key in sections:
                return None
            merged[key] = value
            continue
        if key != section or not isinstance(value, list) or section in merged:
            return None
        try:  # validate this piece's entries now, and let its dicts go
            part = Inventory.model_validate({section: value})
        except ValidationError:
            return None
        del value
        entries = getattr(part, section)
        share_fields_sets(entries, fields_sets)
        sections.setdefault(section, []).extend(entries)
    if merged.keys() & sections.keys():
        return None
    merged.update(sections)
    return merged
