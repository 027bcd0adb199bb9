"""Checking names and references across parts from each part's facts: sound (it never passes
what the full check refuses), and what lets a one-part reload skip the walk over every entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrabot.errors import InventoryError
from infrabot.inventory import parts as parts_module
from infrabot.inventory.load import parse_inventory
from infrabot.inventory.part_facts import consistent
from infrabot.inventory.parts import Part, load_parts, merge_entries
from infrabot.inventory.references import check_references
from tests.conftest import PSF_INVENTORY
from tests.inventory.folders import split

BASE = {
    "people.yaml": """\
team: Infra
people:
  - name: Alice
    aliases: [ali]
  - name: Bob
groups:
  - name: Infra
    kind: team
    lead: Alice
    members:
      - person: Alice
""",
    "providers.yaml": """\
providers:
  - name: Acme
  - name: Other
datacenters:
  - code: AC1
    provider: Acme
hosts:
  - name: box
    provider: Acme
    datacenter: AC1
""",
    "services/web.yaml": """\
services:
  - name: Web
    owners: [Bob, Infra]
    hosting:
      - {provider: Acme, host: box, datacenter: AC1, cdn: Other}
""",
}

# each breaks the folder in one way the full check names; the facts must not pass any of them
BROKEN = {
    "a service's owner": ("services/web.yaml", "[Bob, Infra]", "[Bobby, Infra]"),
    "an escalation": (
        "services/web.yaml",
        "    hosting:",
        "    escalation: [Nobody]\n    hosting:",
    ),
    "a part_of": ("services/web.yaml", "    hosting:", "    part_of: Nothing\n    hosting:"),
    "a hosting provider": ("services/web.yaml", "{provider: Acme,", "{provider: Nope,"),
    "a cdn": ("services/web.yaml", "cdn: Other", "cdn: Nope"),
    "a hosting host": ("services/web.yaml", "host: box", "host: crate"),
    "a hosting datacenter": ("services/web.yaml", "datacenter: AC1, cdn", "datacenter: XX, cdn"),
    "a datacenter's provider": (
        "providers.yaml",
        "    provider: Acme\nhosts",
        "    provider: Z\nhosts",
    ),
    "a host's provider": (
        "providers.yaml",
        "  - name: box\n    provider: Acme",
        "  - name: box\n    provider: Nope",
    ),
    "a host at another's datacenter": (
        "providers.yaml",
        "  - name: box\n    provider: Acme",
        "  - name: box\n    provider: Other",
    ),
    "a group's lead": ("people.yaml", "lead: Alice", "lead: Carol"),
    "a group as a member": ("people.yaml", "person: Alice", "person: Infra"),
    "the team": ("people.yaml", "team: Infra", "team: Nobody"),
    "a name in two parts": ("services/web.yaml", "services:", "people:\n  - name: Ali\nservices:"),
    "a service twice across parts": (
        "providers.yaml",
        "hosts:",
        "services:\n  - name: web\nhosts:",
    ),
    "an empty key": ("services/web.yaml", "    owners:", "    aliases: ['--']\n    owners:"),
}


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_a_sound_folder_is_consistent_by_its_facts(tmp_path: Path) -> None:
    loaded = load_parts(write(tmp_path / "inv", BASE))
    assert consistent([p.facts for p in loaded.parts])


@pytest.mark.parametrize("what", list(BROKEN))
def test_the_facts_never_pass_what_the_full_check_refuses(what: str, tmp_path: Path) -> None:
    name, old, new = BROKEN[what]
    files = dict(BASE)
    assert old in files[name]
    files[name] = files[name].replace(old, new, 1)
    folder = write(tmp_path / "inv", files)
    with pytest.raises(InventoryError) as raised:
        load_parts(folder)
    assert raised.value.problems  # placed in its part by the full check
    good = load_parts(write(tmp_path / "good", BASE))
    others = [p for p in good.parts if p.name != name]
    entries = parse_inventory(files[name], name, references=False)
    mixed = [*others, Part.of(name, name, "", entries)]
    assert check_references(merge_entries(mixed))
    assert not consistent([p.facts for p in mixed])


def test_a_one_part_reload_of_a_sound_folder_skips_the_full_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "inv"
    split(PSF_INVENTORY, folder, per_part=4)
    first = load_parts(folder)

    def walked(*_args: object) -> None:
        raise AssertionError("the full reference check ran")

    monkeypatch.setattr(parts_module, "check_references", walked)
    part = next(p for p in sorted(folder.rglob("*.yaml")) if "name: PyPI" in p.read_text())
    part.write_text(part.read_text().replace("  - Richard Jones\n", "", 1))
    again = load_parts(folder, previous=first)
    assert again.changed == {part.relative_to(folder).as_posix()}


def test_a_broken_reload_still_names_the_line(tmp_path: Path) -> None:
    folder = write(tmp_path / "inv", BASE)
    first = load_parts(folder)
    web = folder / "services" / "web.yaml"
    web.write_text(web.read_text().replace("[Bob, Infra]", "[Bobby, Infra]"))
    with pytest.raises(InventoryError) as raised:
        load_parts(folder, previous=first)
    (problem,) = raised.value.problems
    assert (problem.file, problem.line) == (str(web), 3)
    assert "no person or group 'Bobby'; did you mean 'Bob'?" in problem.reason
