"""A folder of parts is one inventory: references cross parts, every problem names its part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infrabot.errors import InventoryError
from infrabot.inventory import load_inventory
from infrabot.inventory.parts import load_parts, part_names
from infrabot.inventory.source import load_inventory_at, parts_diff
from tests.conftest import PSF_INVENTORY
from tests.inventory.folders import split

PEOPLE = """\
team: Infra
people:
  - name: Alice
  - name: Bob
groups:
  - name: Infra
    kind: team
    members:
      - person: Alice
"""
PYPI = """\
services:
  - name: PyPI
    owners: [Alice]
  - name: Docs
    owners: [Bob, Infra]
"""
WEB = """\
services:
  - name: Web
    owners: [Bob]
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture
def inv(tmp_path: Path) -> Path:
    return write(
        tmp_path / "inv",
        {"people.yaml": PEOPLE, "teams/pypi.yaml": PYPI, "teams/web.yaml": WEB},
    )


def problems(folder: Path) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        load_parts(folder)
    return [str(p) for p in caught.value.problems]


def test_the_parts_make_one_inventory(inv: Path) -> None:
    parts = load_parts(inv)
    assert [p.name for p in parts.parts] == ["people.yaml", "teams/pypi.yaml", "teams/web.yaml"]
    assert [s.name for s in parts.inventory.services] == ["PyPI", "Docs", "Web"]
    assert parts.inventory.team == "Infra"
    assert load_inventory_at(inv) == parts.inventory


def test_the_shipped_inventory_split_into_parts_is_the_same_inventory(tmp_path: Path) -> None:
    split(PSF_INVENTORY, tmp_path / "psf", per_part=3)
    assert load_parts(tmp_path / "psf").inventory == load_inventory(PSF_INVENTORY)


def test_a_reference_to_nothing_names_its_part_and_line(inv: Path) -> None:
    (inv / "teams/web.yaml").write_text(WEB + "  - name: Wiki\n    owners: [Bob, Carol]\n")
    assert problems(inv) == [
        f"{inv}/teams/web.yaml:5: services[Wiki].owners[1]: no person or group 'Carol'"
    ]


def test_a_duplicate_name_in_two_parts_names_both(inv: Path) -> None:
    (inv / "teams/web.yaml").write_text(WEB + "  - name: pypi\n    owners: [Bob]\n")
    assert problems(inv) == [
        f"{inv}/teams/web.yaml:4: services[pypi].name: duplicate service name 'pypi' "
        f"(first given in {inv}/teams/pypi.yaml:2)"
    ]


def test_a_shape_error_names_its_part_and_every_part_is_checked(inv: Path) -> None:
    (inv / "teams/pypi.yaml").write_text(PYPI.replace("owners: [Alice]", "owner: [Alice]"))
    (inv / "teams/web.yaml").write_text("services:\n  - name: Web\n    kind: vm\n")
    assert problems(inv) == [
        f"{inv}/teams/pypi.yaml:3: services[PyPI].owner: unknown key 'owner'; "
        "did you mean 'owners'?",
        f"{inv}/teams/web.yaml:3: services[Web].kind: unknown key 'kind' (known keys: name, "
        "aliases, domains, description, part_of, hosting, owners, escalation, contacts, "
        "repositories, notes)",
    ]


def test_a_deleted_part_breaks_the_references_into_it(inv: Path) -> None:
    (inv / "people.yaml").unlink()
    assert problems(inv)[0] == f"{inv}/teams/pypi.yaml:3: services[PyPI].owners[0]: " + (
        "no person or group 'Alice'"
    )


def test_team_may_be_set_in_one_part_only(inv: Path) -> None:
    (inv / "teams/web.yaml").write_text("team: Infra\n" + WEB)
    assert problems(inv) == [
        f"{inv}/teams/web.yaml: team: 'team' is set in 2 parts ({inv}/people.yaml, "
        f"{inv}/teams/web.yaml); set it in one"
    ]


def test_an_unknown_team_is_located_in_the_part_that_sets_it(inv: Path) -> None:
    (inv / "people.yaml").write_text(PEOPLE.replace("team: Infra", "team: Infr"))
    assert problems(inv) == [f"{inv}/people.yaml:1: team: no group 'Infr'; did you mean 'Infra'?"]


def test_hidden_names_and_other_suffixes_are_not_parts(inv: Path) -> None:
    write(inv, {".github/workflows/ci.yaml": "on: push\n", "notes.yml": "x: 1\n"})
    write(inv, {".draft.yaml": "services: [{name: X}]\n", "README.md": "hello\n"})
    assert part_names(inv) == ["people.yaml", "teams/pypi.yaml", "teams/web.yaml"]


def test_a_symbolic_link_is_refused(inv: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("services: [{name: Secret}]\n")
    os.symlink(outside, inv / "link.yaml")
    assert problems(inv) == [
        f"{inv}/link.yaml: a symbolic link; a part must be a file in the folder"
    ]


def test_a_fifo_part_is_refused_unread(inv: Path) -> None:
    os.mkfifo(inv / "teams/fifo.yaml")
    assert problems(inv) == [
        f"{inv}/teams/fifo.yaml: not a regular file (a FIFO); refusing to read it"
    ]


def test_an_alias_bomb_in_a_part_is_refused_with_its_line(inv: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    (inv / "bomb.yaml").write_text(bomb)
    (found,) = problems(inv)
    assert found.startswith(f"{inv}/bomb.yaml:")
    assert "alias" in found


def test_the_parts_together_are_bounded(inv: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load_parts(inv, max_bytes=len(PEOPLE) + len(PYPI))
    assert [str(p) for p in caught.value.problems] == [
        f"{inv}/teams/web.yaml: the parts hold over {len(PEOPLE) + len(PYPI)} bytes together, "
        "the limit; refusing them"
    ]


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path) == [f"{tmp_path}: the folder holds no *.yaml parts"]


def test_a_label_names_the_parts(inv: Path) -> None:
    (inv / "teams/web.yaml").write_text("services:\n  - name: Web\n    owners: [Carol]\n")
    with pytest.raises(InventoryError) as caught:
        load_parts(inv, label="inventory")
    assert str(caught.value.problems[0]).startswith("inventory/teams/web.yaml:3: ")


def test_only_changed_parts_are_read_again(inv: Path) -> None:
    first = load_parts(inv)
    (inv / "teams/web.yaml").write_text(WEB.replace("[Bob]", "[Bob, Alice]"))
    (inv / "teams/new.yaml").write_text("hosts:\n  - name: ximinez\n")
    (inv / "teams/pypi.yaml").write_text(PYPI + "  - name: Wiki\n")
    (inv / "teams/pypi.yaml").write_text(PYPI)  # written again, the same: not changed
    second = load_parts(inv, previous=first)
    assert second.changed == {"teams/web.yaml", "teams/new.yaml"}
    assert second.part("teams/pypi.yaml") is first.part("teams/pypi.yaml")
    assert second.part("people.yaml") is first.part("people.yaml")
    diff = parts_diff(first, second)
    assert diff is not None
    assert diff.summary() == "Web owners +Alice · +1 host (ximinez)"
    (inv / "teams/new.yaml").unlink()
    third = load_parts(inv, previous=second)
    assert third.removed == {"teams/new.yaml"} and not third.changed
    diff = parts_diff(second, third)
    assert diff is not None and diff.summary() == "−1 host (ximinez)"


def test_an_entry_moved_between_parts_is_no_change(inv: Path) -> None:
    first = load_parts(inv)
    (inv / "teams/web.yaml").write_text(WEB + PYPI.removeprefix("services:\n"))
    (inv / "teams/pypi.yaml").unlink()
    second = load_parts(inv, previous=first)
    diff = parts_diff(first, second)
    assert diff is not None and diff.summary() == "no changes"


def test_the_parts_share_one_fields_set_per_distinct_set(tmp_path: Path) -> None:
    split(PSF_INVENTORY, tmp_path / "psf", per_part=3)
    inventory = load_parts(tmp_path / "psf").inventory
    models = [*inventory.services, *(h for s in inventory.services for h in s.hosting)]
    models += [p.contact for p in inventory.people]
    objects = {id(m.model_fields_set) for m in models}
    assert len(objects) == len({frozenset(m.model_fields_set) for m in models})
    assert inventory == load_inventory(PSF_INVENTORY)  # the same entries, fields and all
