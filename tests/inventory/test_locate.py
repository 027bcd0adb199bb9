"""Problems are located from libyaml's event stream: the same lines a node tree gives, without
building one."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from infrabot.inventory.locate import Location, duplicate_key_line, lines_of
from tests.inventory.test_malformed import CASES, GOOD, errors_of


def _paths(value: Any, at: Location = ()) -> list[Location]:
    """Every location in ``value``, and a few that are not there."""
    found = [at, (*at, "missing"), (*at, 99)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*at, i))
    return found


def _tree_line(root: yaml.Node, loc: Location) -> int:
    """The line a node tree gives for ``loc`` (a key's line for a mapping value)."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        pairs = node.value if isinstance(node, yaml.MappingNode) else None
        if pairs is not None and isinstance(part, str):
            hit = next(((k, v) for k, v in pairs if k.value == part), None)
            if hit is None:
                break
            node, line = hit[1], hit[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


@pytest.mark.parametrize(
    "text",
    [GOOD, GOOD.replace("{provider: Rackspace, cdn: Fastly, host: web1}", "x: [[1, {a: b}]]")],
)
def test_lines_are_those_of_the_node_tree(text: str) -> None:
    locs = _paths(yaml.safe_load(text))
    tree = yaml.compose(text)
    assert tree is not None
    assert lines_of(text, locs) == [_tree_line(tree, loc) for loc in locs]


def test_the_lines_found_before_a_syntax_error_are_kept() -> None:
    text = "a:\n  b: 1\nc: [\n"
    assert lines_of(text, [("a", "b"), ("c", 0)]) == [2, 3]


def test_duplicate_keys_are_found_in_file_order() -> None:
    text = "a:\n  x: 1\n  y: 2\n  x: 3\nb:\n  y: 1\n  y: 2\n"
    assert duplicate_key_line(text) == 4
    assert duplicate_key_line("a: [{k: 1}, {k: 2}]\n") is None


def test_problems_are_located_without_a_node_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    # a 60 MB file's node tree took 36 s and gigabytes, only to find a line number
    def no_tree(*_args: object, **_kw: object) -> None:
        raise AssertionError("a node tree was built")

    monkeypatch.setattr(yaml, "compose", no_tree)
    monkeypatch.setattr(yaml, "compose_all", no_tree)
    for case in CASES:
        text, expected = case.values
        found = errors_of(text)  # type: ignore[arg-type]
        for got, want in zip(found, expected, strict=True):  # type: ignore[call-overload]
            assert got.startswith(want)
