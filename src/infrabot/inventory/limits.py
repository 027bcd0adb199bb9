"""How much structure an inventory's YAML may hold, checked on the text before any parser runs.

A parser that recurses once per level of nesting (``yaml_rs``'s, in Rust) overflows its stack
on 40 KB of ``- - - - … x`` and takes the process down: no ``except`` catches that. Aliases
replay their anchor wherever they appear, so a few hundred kilobytes can stand for gigabytes.
Both are bounded here, on the text:

- **Block nesting.** Each level of block nesting costs at least one column at the start of the
  line it begins on: more indentation, or a ``- ``, ``? `` or ``: `` indicator before it. A line
  that starts with more than :data:`MAX_INDENT` such columns is refused. One regular expression
  finds the candidates (a pass in C over the text: about 50 ms for 54 MB); flow collections
  (``[[[…]]]``) are bounded by ``yaml_rs`` itself, which refuses more than 256 levels with a
  syntax error.
- **Aliases.** Only a text with an alias in it pays for this (a few seconds for tens of
  megabytes): libyaml's event stream (iterative, no tree built) gives each anchored node its
  size in nodes and characters and its depth, and each alias adds its anchor's. The aliases
  together may replay at most :data:`MAX_ALIAS_NODES` nodes and as many characters as the
  file holds (or :data:`ALIAS_CHARS_FLOOR`, if that is more), and no alias may bring the
  nesting deeper than :data:`MAX_DEPTH` levels.
"""

from __future__ import annotations

import re

import yaml

from infrabot.errors import InventoryError, InventoryProblem

__all__ = [
    "ALIAS_CHARS_FLOOR",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_INDENT",
    "check_structure",
    "line_at",
]

MAX_INDENT = 200
"""Columns of indentation and block indicators a line may start with (an inventory needs 20)."""

MAX_DEPTH = 200
"""Levels of nesting, aliases expanded, that a text with aliases may reach."""

MAX_ALIAS_NODES = 100_000
"""How many nodes YAML aliases may replay in total; more is treated as an alias bomb."""

ALIAS_CHARS_FLOOR = 1024 * 1024
"""Characters aliases may always replay, however small the file."""

# A candidate line: a line break, then MAX_INDENT characters that could all be structure. The
# exact test (_STRUCTURE: an indicator counts only when a space follows it) runs on candidates
# alone, so a ruler of dashes in a description is not mistaken for nesting.
_CANDIDATE = re.compile(rf"\n[ \t?:-]{{{MAX_INDENT}}}")
_CANDIDATE_CR = re.compile(rf"[\r\n][ \t?:-]{{{MAX_INDENT}}}")
_STRUCTURE = re.compile(r"(?:---[ \t])?(?:[ \t]|[-?:][ \t])*")
# an alias starts a node: after a space, a line break or a flow indicator
_ALIAS = re.compile(r"(?:^|[\s\[{,])\*")
_MARKING_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_structure(text: str, file: str) -> None:
    """Refuse ``text`` if it nests too deeply or its aliases expand too far.

    Raises :class:`InventoryError` with the line of the first offending place.
    """
    at = _too_deep(text)
    if at is not None:
        raise _refusal(
            file,
            line_at(text, at),
            f"YAML nested too deeply: the line starts with more than {MAX_INDENT} columns of "
            "indentation and '- ' indicators; refusing it before parsing",
        )
    if "*" in text and _ALIAS.search(text) is not None:
        _check_aliases(text, file)


def line_at(text: str, offset: int) -> int:
    """The line number (from 1) of ``offset`` in ``text``, counting CR, LF and CRLF breaks."""
    line = text.count("\n", 0, offset) + 1
    if "\r" in text:
        line += text.count("\r", 0, offset) - text.count("\r\n", 0, offset)
    return line


def _too_deep(text: str) -> int | None:
    """Where the first line starting with over MAX_INDENT columns of structure begins."""
    start = 1 if text.startswith("\ufeff") else 0
    if _structure_width(text, start) > MAX_INDENT:
        return start
    candidates = _CANDIDATE_CR if "\r" in text else _CANDIDATE
    for found in candidates.finditer(text):
        if _structure_width(text, found.start() + 1) > MAX_INDENT:
            return found.start() + 1
    return None


def _structure_width(text: str, at: int) -> int:
    found = _STRUCTURE.match(text, at, at + 2 * MAX_INDENT + 4)
    return found.end() - at if found else 0


def _refusal(file: str, line: int | None, reason: str) -> InventoryError:
    return InventoryError([InventoryProblem(file, line, "", reason)])


class _Node:
    """What a node (or the part of a collection read so far) expands to."""

    __slots__ = ("anchor", "chars", "depth", "nodes")

    def __init__(self, anchor: str | None, nodes: int = 0, chars: int = 0, depth: int = 0):
        self.anchor = anchor
        self.nodes = nodes
        self.chars = chars
        self.depth = depth


def _check_aliases(text: str, file: str) -> None:
    """Walk libyaml's events, adding each alias's expansion; refuse at the first excess."""
    max_chars = max(len(text), ALIAS_CHARS_FLOOR)
    anchors: dict[str, _Node] = {}
    open_nodes = [_Node(None)]
    replayed_nodes = replayed_chars = 0
    parser = _MARKING_LOADER(text)
    try:
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                open_nodes.append(_Node(event.anchor))
                continue
            if kind is yaml.ScalarEvent:
                node = _Node(event.anchor, 1, len(event.value))
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                node = open_nodes.pop()
                node.nodes += 1
                node.depth += 1
            elif kind is yaml.AliasEvent:
                node = anchors.get(event.anchor) or _Node(None, 1)  # unknown: yaml_rs says so
                replayed_nodes += node.nodes
                replayed_chars += node.chars
                reason = _excess(replayed_nodes, replayed_chars, max_chars, text)
                if reason is None and len(open_nodes) - 1 + node.depth > MAX_DEPTH:
                    reason = f"YAML aliases nest more than {MAX_DEPTH} levels deep; refusing"
                if reason is not None:
                    raise _refusal(file, event.start_mark.line + 1, reason)
                node = _Node(None, node.nodes, node.chars, node.depth)
            else:
                continue  # stream and document boundaries
            if node.anchor is not None:
                anchors[node.anchor] = node
            parent = open_nodes[-1]
            parent.nodes += node.nodes
            parent.chars += node.chars
            parent.depth = max(parent.depth, node.depth)
    except yaml.YAMLError as exc:
        # libyaml stops here; past this point nothing could be counted, so nothing is parsed
        raise _refusal(file, *_syntax_error(text, exc)) from None
    finally:
        parser.dispose()


def _syntax_error(text: str, exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line and the reason of a problem libyaml found."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return exc.problem_mark.line + 1, f"YAML syntax error: {exc.problem}"
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        return line_at(text, exc.position), f"YAML syntax error: {str(exc).splitlines()[0]}"
    return None, f"YAML syntax error: {str(exc).splitlines()[0]}"


def _excess(nodes: int, chars: int, max_chars: int, text: str) -> str | None:
    if nodes > MAX_ALIAS_NODES:
        return f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing (alias bomb?)"
    if chars > max_chars:
        return (
            f"YAML aliases repeat more than {max_chars} characters of text (the file itself "
            f"has {len(text)}); refusing (alias bomb?)"
        )
    return None
