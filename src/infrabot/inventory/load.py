"""Read an inventory file, validate it fully, and report every problem with file and line.

Parsing uses ``yaml_rs`` (YAML 1.2, so ``no`` stays a string; duplicate keys are errors; alias
expansion is bounded). Line numbers are only needed when something is wrong, so the file is
parsed a second time with PyYAML's composer, which keeps marks, only on failure: a valid
inventory pays for one fast parse.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
import yaml_rs
from pydantic import BaseModel, ValidationError

from infrabot.errors import InventoryError, InventoryProblem
from infrabot.inventory.model import Inventory
from infrabot.inventory.names import best_matches
from infrabot.inventory.references import Location, check_references

__all__ = ["DEFAULT_MAX_BYTES", "MAX_ALIAS_NODES", "load_inventory", "parse_inventory"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused unread."""

MAX_ALIAS_NODES = 100_000
"""How many nodes YAML aliases may replay in total; more is treated as an alias bomb."""

_SECTIONS = ("people", "groups", "providers", "datacenters", "hosts", "services")
_LINE_IN_MESSAGE = re.compile(r"at line (\d+), column (\d+)")


def load_inventory(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Inventory:
    """Load and validate the inventory at ``path``.

    Raises :class:`InventoryError` listing every problem found.
    """
    file = Path(path)
    name = str(path)
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise _single(name, None, f"file is {size} bytes, over the limit of {max_bytes} bytes")
        with file.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _single(name, None, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:  # it grew between stat and read
        raise _single(name, None, f"file is over the limit of {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _single(name, line, "the file is not valid UTF-8") from None
    return parse_inventory(text, name)


def parse_inventory(text: str, file: str = "<inventory>") -> Inventory:
    """Validate inventory ``text``; ``file`` names it in error messages."""
    if not text.strip():
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
        raise InventoryError(_locate(text, file, data, found)) from None
    problems = check_references(inventory)
    if problems:
        raise InventoryError(_locate(text, file, data, [(p.loc, p.reason) for p in problems]))
    return inventory


def _single(file: str, line: int | None, reason: str) -> InventoryError:
    return InventoryError([InventoryProblem(file, line, "", reason)])


def _parse_yaml(text: str, file: str) -> Any:
    limits = yaml_rs.AliasLimits(max_total_replayed_events=MAX_ALIAS_NODES)
    try:
        return yaml_rs.loads(text, parse_datetime=False, alias_limits=limits)
    except yaml_rs.YAMLDecodeError as exc:
        message = str(exc)
    match = _LINE_IN_MESSAGE.search(message)
    if match:
        reason = message.strip().splitlines()[-1].strip()
        raise _single(file, int(match.group(1)), f"YAML syntax error: {reason}") from None
    if message.startswith("alias replay limit"):
        raise _single(
            file,
            _first_alias_line(text),
            f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing (alias bomb?)",
        ) from None
    if message.startswith("duplicate mapping key"):
        key = message.partition(":")[2].strip()
        raise _single(file, _duplicate_key_line(text), f"duplicate key {key}") from None
    raise _single(file, None, f"YAML error: {message}") from None


def _first_alias_line(text: str) -> int | None:
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) and event.start_mark is not None:
                return int(event.start_mark.line) + 1
    except yaml.YAMLError:
        return None
    return None


def _compose(text: str) -> yaml.Node | None:
    """PyYAML's node tree with marks. Aliases share nodes, so a bomb costs no memory here."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _duplicate_key_line(text: str) -> int | None:
    root = _compose(text)
    stack = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        return int(key.start_mark.line) + 1
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


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
    message = str(error["msg"])
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
        model = _inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The model inside ``tuple[X, ...]`` or ``X | None``, or the annotation itself."""
    origin = typing.get_origin(annotation)
    if origin in (tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation


def _locate(
    text: str, file: str, data: dict[str, Any], found: list[tuple[Location, str]]
) -> list[InventoryProblem]:
    root = _compose(text)
    return [
        InventoryProblem(file, _line_of(root, loc), _display_path(data, loc), reason)
        for loc, reason in found
    ]


def _line_of(root: yaml.Node | None, loc: Location) -> int | None:
    """The line of the value at ``loc``, or of the nearest enclosing node that exists.

    A mapping key is reported at the key's own line: for a block value that is the line a
    person reads as "where the key is", and for an unknown key the value may not matter.
    """
    node = root
    line = int(root.start_mark.line) + 1 if root is not None else None
    for part in loc:
        if node is None:
            break
        found = _child(node, part)
        if found is None:
            break
        key, node = found
        line = int((key or node).start_mark.line) + 1
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """The (key, value) nodes under ``node`` at ``part``; the key is None in a sequence."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key, value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return (None, node.value[part]) if 0 <= part < len(node.value) else None
    return None


def _display_path(data: dict[str, Any], loc: Location) -> str:
    """``services[PyPI].owners[2]``: list items of a section by name, other items by index."""
    out = ""
    parent: Any = data
    for depth, part in enumerate(loc):
        if isinstance(part, int):
            item = parent[part] if isinstance(parent, list) and 0 <= part < len(parent) else None
            label = _entry_label(item) if depth == 1 else None
            out += f"[{label}]" if label else f"[{part}]"
            parent = item
        else:
            out += f".{part}" if out else str(part)
            parent = parent.get(part) if isinstance(parent, dict) else None
    return out


def _entry_label(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in ("name", "code"):
            value = item.get(key)
            if isinstance(value, str) and value.strip() and len(value) <= 60:
                return value.strip()
    return None


def iter_problems(error: InventoryError) -> Iterator[str]:
    """Each problem of ``error`` as one printable line."""
    for problem in error.problems:
        yield str(problem)
