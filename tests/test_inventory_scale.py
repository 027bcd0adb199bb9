"""The fast paths for large inventories give exactly what the plain paths give.

A large text is parsed in pieces on a worker thread; a large index searches typos by length.
These tests force both paths on small inputs and compare them with the plain ones.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

import infrabot.inventory.kind as kind_module
import infrabot.inventory.load as load_module
from infrabot.errors import InventoryError
from infrabot.inventory.index import Index
from infrabot.inventory.load import parse_inventory
from infrabot.inventory.names import normalize, normalize_all

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen_inventory import generate  # noqa: E402


@pytest.fixture(scope="module")
def synthetic() -> str:
    return "\n".join(generate(services=1500, hosts=300, people=200, seed=3)) + "\n"


@pytest.fixture
def in_pieces(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Parse every text in pieces of about 4,000 characters; records whether they were used
    (to give the inventory, or to report its problems)."""
    used: list[bool] = []
    original = load_module._parse_in_pieces

    def traced(text: str, file: str, references: bool = True) -> object:
        try:
            result = original(text, file, references)
        except InventoryError:
            used.append(True)
            raise
        used.append(result is not None)
        return result

    monkeypatch.setattr(load_module, "SPLIT_ABOVE_CHARS", 0)
    monkeypatch.setattr(load_module, "_PIECE_CHARS", 4000)
    monkeypatch.setattr(load_module, "_parse_in_pieces", traced)
    return used


def _problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inv.yaml")
    return [str(p) for p in caught.value.problems]


def test_pieces_give_the_same_inventory(synthetic: str, in_pieces: list[bool]) -> None:
    whole = load_module._parse_whole(synthetic, "inv.yaml")
    pieced = parse_inventory(synthetic, "inv.yaml")
    assert in_pieces == [True]
    assert pieced == whole
    assert pieced.model_dump_json() == whole.model_dump_json()
    for a, b in zip(pieced.services, whole.services, strict=True):
        assert a.model_fields_set == b.model_fields_set


def test_pieces_with_items_at_column_zero(synthetic: str, in_pieces: list[bool]) -> None:
    flush = "\n".join(line[2:] if line.startswith("  ") else line for line in synthetic.split("\n"))
    assert parse_inventory(flush) == load_module._parse_whole(synthetic, "x")
    assert in_pieces == [True]


def _first_service_again(text: str) -> str:
    first = re.search(r"\nservices:\n  - name: (.+)\n", text)
    assert first is not None and text.endswith("\n")
    return text + f"  - name: {first.group(1)}\n"


# problems between valid entries are reported by the pieces' path itself
_REFERENCES = [
    lambda t: t.replace("    owners:\n      - ", "    owners:\n      - Nobody Atall\n      - ", 3),
    lambda t: t.replace("        host: ", "        host: x", 2),
    _first_service_again,
]


@pytest.mark.parametrize("change", _REFERENCES)
def test_pieces_report_reference_problems_like_the_whole_text(
    synthetic: str, in_pieces: list[bool], change: object
) -> None:
    broken = change(synthetic)  # type: ignore[operator]
    pieced = _problems(broken)
    assert in_pieces == [True]
    with pytest.raises(InventoryError) as caught:
        load_module._parse_whole(broken, "inv.yaml")
    assert pieced == [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("    description: ", "    descriptoin: ", 2),
        lambda t: t + "\nhosts:\n  - name: zzz-host\n",
        lambda t: t + "\nteam: Other\n",
        lambda t: t.replace("version: 1", 'version: 1\nx: "abc\n  - name: def"', 1),
        lambda t: t.replace("version: 1", "version: 1\nx-tmpl: &t {kind: email, value: a@b.c}", 1),
        lambda t: t.replace("\n  - name: ", "\n  - name:\t", 5),
        lambda t: t.replace("    kind: vm\n", "    kind: vm\n    kind: vm\n", 1),
        lambda t: "\ufeff" + t,
    ],
)
def test_pieces_report_problems_like_the_whole_text(
    synthetic: str, in_pieces: list[bool], change: object
) -> None:
    broken = change(synthetic)  # type: ignore[operator]
    pieced = _problems(broken)
    assert in_pieces == [False]
    with pytest.raises(InventoryError) as caught:
        load_module._parse_whole(broken, "inv.yaml")
    assert pieced == [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace(
            "\nhosts:\n", "\n# the machines\n\nhosts:   # all of them\n\n  # first\n", 1
        ),
        lambda t: t.replace("team: Infrastructure Team\n", "", 1) + "team: Infrastructure Team\n",
        lambda t: t.replace("\n  - name: ", "\n\n  - name: "),
        lambda t: t.replace("\ndatacenters:\n", "\ndatacenters: # block\n", 1),
        lambda t: t + "# the end\n",
    ],
)
def test_pieces_of_valid_variants(synthetic: str, in_pieces: list[bool], change: object) -> None:
    text = change(synthetic)  # type: ignore[operator]
    assert parse_inventory(text) == load_module._parse_whole(synthetic, "x")
    assert in_pieces == [True]


def test_unusual_files_are_parsed_whole(synthetic: str, in_pieces: list[bool]) -> None:
    crlf = synthetic.replace("\n", "\r\n")
    anchored = synthetic.replace("version: 1", "version: 1\nteam: &t Infrastructure Team", 1)
    anchored = anchored.replace("team: Infrastructure Team\n", "", 1)
    for text in (crlf, anchored):
        assert parse_inventory(text) == load_module._parse_whole(synthetic, "x")
    assert in_pieces == [False, False]


def test_shared_field_sets_stay_right(synthetic: str, in_pieces: list[bool]) -> None:
    inventory = parse_inventory(synthetic)
    first = inventory.services[0]
    copy = first.model_copy(update={"notes": ("changed",)})
    assert "notes" in copy.model_fields_set
    assert (
        first.model_fields_set
        == load_module._parse_whole(synthetic, "x").services[0].model_fields_set
    )


def test_normalize_all_matches_normalize() -> None:
    rng = random.Random(4)
    for alphabet in ("abcXYZ -._1", "abcXYZ -._é\0ß1Å"):
        texts = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(9000)
        ]
        assert normalize_all(texts) == [normalize(t) for t in texts]


def test_suggest_by_length_matches_the_full_scan(
    synthetic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = parse_inventory(synthetic)
    plain = Index(inventory)
    monkeypatch.setattr(kind_module, "BY_LENGTH_ABOVE", 0)
    by_length = Index(inventory)
    assert plain.services._lengths is None and by_length.services._lengths is not None
    rng = random.Random(5)
    choices = plain.services._choices
    queries = ["pypu", "x", "zzzzzzzzzzzzzzzzzzzz", "api", "payments"]
    for _ in range(300):
        chars = list(rng.choice(choices))
        for _ in range(rng.choice((1, 2, 3))):
            chars[rng.randrange(len(chars))] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        queries.append("".join(chars))
    for query in queries:
        assert by_length.services.suggest(query) is plain.services.suggest(query), query
