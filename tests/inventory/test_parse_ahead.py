"""Parts parsed by a child process while this one validates: the same inventory and the same
problems, with their lines, as a load without the child; a child that lies about bytes, dies
or goes silent only means this process parses the rest itself."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import yaml_rs

from infrabot.errors import InventoryError
from infrabot.inventory import parts as parts_module
from infrabot.inventory.parse_ahead import ParseAhead
from infrabot.inventory.parts import load_parts, part_names
from infrabot.testing import until_blocking
from tests.conftest import PSF_INVENTORY
from tests.inventory.folders import split

LIMIT = 1024 * 1024


class _Patient(ParseAhead):
    """A child waited for until it has parsed every part: each part then comes from it."""

    def __init__(self, folder: Path, names: list[str], max_bytes: int) -> None:
        super().__init__(folder, names, max_bytes)
        until_blocking(lambda: self.parsed_from() == 0, what="the child to parse every part")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    split(PSF_INVENTORY, tmp_path / "inv", per_part=1)
    return tmp_path / "inv"


def _through_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part of a load from the child, whatever the folder's size and the machine's."""
    monkeypatch.setattr(parts_module, "AHEAD_FROM_PARTS", 2)
    monkeypatch.setattr(parts_module, "second_core", lambda: True)
    monkeypatch.setattr(parts_module, "ParseAhead", _Patient)


def _problems(folder: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(InventoryError) as raised:
        load_parts(folder)
    return [(p.file, p.line, p.reason) for p in raised.value.problems]


def test_the_child_parses_each_part_last_first_into_its_json(folder: Path) -> None:
    names = part_names(folder)
    assert len(names) > 20
    ahead = ParseAhead(folder, names, LIMIT)
    try:
        until_blocking(lambda: ahead.parsed_from() == 0, what="every part parsed")
        for at, name in enumerate(names):
            raw = (folder / name).read_bytes()
            payload = ahead.take(at, raw)
            assert payload is not None
            assert json.loads(payload) == yaml_rs.loads(raw.decode(), parse_datetime=False)
    finally:
        ahead.close()


def test_a_part_whose_bytes_differ_from_the_childs_is_not_taken(folder: Path) -> None:
    names = part_names(folder)
    ahead = ParseAhead(folder, names, LIMIT)
    try:
        until_blocking(lambda: ahead.parsed_from() == 0, what="every part parsed")
        first = (folder / names[0]).read_bytes()
        assert ahead.take(0, first + b"\n# edited since\n") is None
        assert ahead.take(1, (folder / names[1]).read_bytes()) is not None
    finally:
        ahead.close()


def test_a_load_through_the_child_gives_the_same_inventory(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = load_parts(folder)
    taken: list[bytes] = []
    validate = parts_module.validate_parsed

    def counted(text: str, file: str, parsed: bytes) -> object:
        taken.append(parsed)
        return validate(text, file, parsed)

    _through_the_child(monkeypatch)
    monkeypatch.setattr(parts_module, "validate_parsed", counted)
    ahead = load_parts(folder)
    assert len(taken) == len(ahead.parts)  # every part from the child
    assert ahead.inventory == alone.inventory
    assert [p.digest for p in ahead.parts] == [p.digest for p in alone.parts]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("name: ", "name: [unclosed\n"),  # YAML that does not parse
        ("name: ", "nmae: "),  # a key the model does not know
        ("name: ", "name: .nan\n  note: "),  # not plain JSON: a float that is not a number
    ],
)
def test_problems_are_worded_with_their_lines_as_without_the_child(
    folder: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> None:
    part = folder / part_names(folder)[-3]  # among the first the child parses
    part.write_text(part.read_text().replace(old, new, 1))
    alone = _problems(folder)
    _through_the_child(monkeypatch)
    assert _problems(folder) == alone
    assert alone[0][0] == str(part) and alone[0][1] is not None


def test_a_child_that_dies_leaves_the_rest_to_this_process(folder: Path) -> None:
    names = part_names(folder)
    ahead = ParseAhead(folder, names, LIMIT)
    try:
        until_blocking(lambda: ahead.parsed_from() < len(names), what="a first part parsed")
        assert ahead.pid is not None
        os.kill(ahead.pid, signal.SIGKILL)
        got = [ahead.take(at, (folder / n).read_bytes()) for at, n in enumerate(names)]
        assert got == [None] * len(names)  # each part parsed here, none waited for long
    finally:
        ahead.close()
    assert ahead.pid is None


def test_a_folder_loads_when_the_child_cannot_start(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = load_parts(folder)
    monkeypatch.setattr(parts_module, "AHEAD_FROM_PARTS", 2)
    monkeypatch.setattr(parts_module, "second_core", lambda: True)
    monkeypatch.setattr("infrabot.inventory.parse_ahead.sys.executable", "/nonexistent/python")
    assert load_parts(folder).inventory == alone.inventory
