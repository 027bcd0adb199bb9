"""Nesting depth and alias expansion are bounded on the text, before any parser runs."""

from __future__ import annotations

import textwrap

import pytest

from infrabot.errors import InventoryError
from infrabot.inventory import parse_inventory
from infrabot.inventory.limits import MAX_INDENT, check_structure

DEEP_REASON = (
    "YAML nested too deeply: the line starts with more than 200 columns of indentation and "
    "'- ' indicators; refusing it before parsing"
)


def refusal(text: str) -> str:
    with pytest.raises(InventoryError) as caught:
        check_structure(text, "inv.yaml")
    (problem,) = caught.value.problems
    return str(problem)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("- " * 20_000 + "x\n", 1, id="compact-sequences"),
        pytest.param("? " * 20_000 + "x\n", 1, id="explicit-keys"),
        pytest.param("- : " * 10_000 + "x\n", 1, id="explicit-values"),
        pytest.param("-\t" * 20_000 + "x\n", 1, id="tabs-after-indicators"),
        pytest.param("\ufeff" + "- " * 20_000 + "x\n", 1, id="after-a-byte-order-mark"),
        pytest.param("version: 1\nnotes:\n  - a\n" + "- " * 20_000 + "x\n", 4, id="later-line"),
        pytest.param("version: 1\r\nx:\r\n" + "- " * 20_000 + "x\r\n", 3, id="crlf"),
        pytest.param("version: 1\rx:\r" + "- " * 20_000 + "x\r", 3, id="cr-alone"),
        pytest.param(
            "".join(" " * i + "a:\n" for i in range(MAX_INDENT + 2)), MAX_INDENT + 2, id="indent"
        ),
    ],
)
def test_deep_block_nesting_is_refused_with_its_line(text: str, line: int) -> None:
    assert refusal(text) == f"inv.yaml:{line}: {DEEP_REASON}"


def test_the_limit_is_in_columns() -> None:
    check_structure("- " * (MAX_INDENT // 2) + "x\n", "inv.yaml")
    assert refusal("- " * (MAX_INDENT // 2) + " x\n").endswith(DEEP_REASON)


def test_a_ruler_of_dashes_is_not_nesting() -> None:
    text = "services:\n  - name: a\n    description: |\n      " + "-" * 500 + "\n"
    assert parse_inventory(text).services[0].description == "-" * 500


def test_deep_flow_nesting_is_refused_by_the_parser() -> None:
    with pytest.raises(InventoryError) as caught:
        parse_inventory("notes: " + "[" * 20_000 + "]" * 20_000 + "\n", "inv.yaml")
    assert str(caught.value.problems[0]).startswith("inv.yaml:1: YAML syntax error:")


def test_aliases_may_not_repeat_more_text_than_the_file_holds() -> None:
    text = (
        f'version: 1\nx-big: &big "{"x" * 100_000}"\n'
        "people:\n  - name: A\n    notes: [" + ", ".join(["*big"] * 20) + "]\n"
    )
    assert refusal(text) == (
        f"inv.yaml:5: YAML aliases repeat more than 1048576 characters of text (the file "
        f"itself has {len(text)}); refusing (alias bomb?)"
    )


def test_aliases_may_not_nest_deeper_than_the_limit() -> None:
    # a1 holds a0, 100 brackets deeper: 201 levels in all
    text = "a0: &a0 " + "[" * 100 + "x" + "]" * 100 + "\na1: " + "[" * 100 + "*a0" + "]" * 100
    assert refusal(text + "\n") == (
        "inv.yaml:2: YAML aliases nest more than 200 levels deep; refusing"
    )


def test_aliases_used_as_intended_are_fine() -> None:
    hosting = "{provider: Rackspace, kind: vm, description: " + "the main cluster " * 20 + "}"
    services = "".join(
        f"  - name: s{i}\n    hosting: [*main]\n"
        if i
        else f"  - name: s0\n    hosting: [&main {hosting}]\n"
        for i in range(200)
    )
    text = "providers:\n  - name: Rackspace\nservices:\n" + services
    inventory = parse_inventory(text)
    assert len(inventory.services) == 200
    assert inventory.services[199].hosting == inventory.services[0].hosting


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a: &a [x]\nb: [*a, *a]\nc: {d: e\n", "inv.yaml:4: YAML syntax error: did not find"),
        ("a: &a [x]\nb: [*a]\nc: '\x07'\n", "inv.yaml:3: YAML syntax error: unacceptable char"),
    ],
)
def test_a_text_libyaml_cannot_read_is_refused_before_counting_its_aliases(
    text: str, error: str
) -> None:
    assert refusal(text).startswith(error)


def test_the_alias_bomb_of_old_is_still_refused() -> None:
    levels = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    bomb = "notes:\n" + textwrap.indent("\n".join(levels), "  ") + "\n"
    assert refusal(bomb) == (
        "inv.yaml:6: YAML aliases expand to more than 100000 nodes; refusing (alias bomb?)"
    )
