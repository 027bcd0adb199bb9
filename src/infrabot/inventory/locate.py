"""Finding the lines of problems in an inventory's text, in a single pass over libyaml's events.

``yaml_rs`` keeps no line numbers, so a file with problems is read again to locate them. No
node tree is built for that: for a 60 MB file PyYAML's tree took 36 s and gigabytes, where the
events, read once and forgotten as they go, cost a few seconds and no memory beyond the path
being read. The walk stops as soon as every problem has been located.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import yaml

__all__ = [
    "Location",
    "collection_key_line",
    "duplicate_key_line",
    "first_alias_line",
    "lines_of",
]

Location = tuple[str | int, ...]

# libyaml gives the same marks as PyYAML's own parser, several times faster
_MARKING_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_ENDS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class _Open:
    """A collection being read, on the way to a location: its path, and where its next
    child goes."""

    __slots__ = ("index", "is_mapping", "key", "key_line", "path", "wants_key")

    def __init__(self, path: Location, is_mapping: bool) -> None:
        self.path = path
        self.is_mapping = is_mapping
        self.wants_key = is_mapping
        self.key: str | None = None
        self.key_line = 0
        self.index = 0


def lines_of(text: str, locs: Sequence[Location]) -> list[int | None]:
    """For each location, the line of its value, or of the nearest enclosing node found.

    A mapping value is reported at its key's line: for a block value that is where a person
    reads "the key", and for an unknown key the value may not matter. A text libyaml cannot
    read gives the lines found before the place it stopped at.
    """
    under: dict[Location, list[Location]] = {}  # every prefix of a location: the locations
    for loc in locs:
        for depth in range(len(loc) + 1):
            under.setdefault(loc[:depth], []).append(loc)
    found: dict[Location, int] = {}
    pending = set(locs)
    stack: list[_Open] = []
    parser = _MARKING_LOADER(text)
    get_event = parser.get_event
    try:
        while pending and (event := get_event()) is not None:
            if isinstance(event, _ENDS):  # whatever was wanted inside is as found as it gets
                pending.difference_update(under[stack.pop().path])
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            here = _place(stack, event)
            if here is None or here not in under:
                if isinstance(event, _STARTS):
                    _skip(get_event)  # nothing wanted inside: read past it, quickly
                continue
            parent = stack[-1] if stack else None
            found[here] = parent.key_line if parent and parent.is_mapping else _line(event)
            pending.discard(here)
            if isinstance(event, _STARTS):
                stack.append(_Open(here, isinstance(event, yaml.MappingStartEvent)))
    except yaml.YAMLError:
        pass
    finally:
        parser.dispose()
    return [_deepest(found, loc) for loc in locs]


def _place(stack: list[_Open], event: yaml.NodeEvent) -> Location | None:
    """Where the node starting with ``event`` sits; None for a mapping's key."""
    if not stack:
        return ()
    parent = stack[-1]
    if parent.is_mapping:
        if parent.wants_key:
            parent.wants_key = False
            parent.key = str(event.value) if isinstance(event, yaml.ScalarEvent) else None
            parent.key_line = _line(event)
            return None
        parent.wants_key = True
        return None if parent.key is None else (*parent.path, parent.key)
    parent.index += 1
    return (*parent.path, parent.index - 1)


def _skip(get_event: Callable[[], yaml.Event | None]) -> None:
    """Read the events of a collection whose start was just read, up to its end."""
    depth = 1
    while depth and (event := get_event()) is not None:
        kind = type(event)
        if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            depth += 1
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            depth -= 1


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0  # libyaml marks every event


def _deepest(found: dict[Location, int], loc: Location) -> int | None:
    line = None
    for depth in range(len(loc) + 1):
        if loc[:depth] not in found:
            break
        line = found[loc[:depth]]
    return line


def duplicate_key_line(text: str) -> int | None:
    """The line of the first key repeated within one mapping."""
    return _first_bad_key(text, collections=False)


def collection_key_line(text: str) -> int | None:
    """The line of the first mapping key that is itself a list or a mapping."""
    return _first_bad_key(text, collections=True)


def _first_bad_key(text: str, *, collections: bool) -> int | None:
    keys: list[set[str] | None] = []  # per open collection; None for a sequence
    expecting_key: list[bool] = []
    parser = _MARKING_LOADER(text)
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, _ENDS):
                keys.pop()
                expecting_key.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            seen = keys[-1] if keys else None
            if seen is not None:
                is_key = expecting_key[-1]
                expecting_key[-1] = not is_key
                if is_key and isinstance(event, _STARTS) and collections:
                    return _line(event)
                if is_key and isinstance(event, yaml.ScalarEvent) and not collections:
                    if event.value in seen:
                        return _line(event)
                    seen.add(event.value)
            if isinstance(event, _STARTS):
                is_mapping = isinstance(event, yaml.MappingStartEvent)
                keys.append(set() if is_mapping else None)
                expecting_key.append(is_mapping)
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return None


def first_alias_line(text: str) -> int | None:
    """The line of the first alias in ``text``."""
    parser = _MARKING_LOADER(text)
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, yaml.AliasEvent):
                return _line(event)
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return None
