"""Every kind of broken inventory is refused with the file, the line and a precise reason."""

from __future__ import annotations

import resource
import textwrap
from pathlib import Path

import pytest

from infrabot.errors import InventoryError
from infrabot.inventory import load_inventory, parse_inventory

GOOD = """\
version: 1
team: Infra
people:
  - name: Ernest W. Durbin III
    aliases: [Ernest W. Durbin]
  - name: Donald Stufft
groups:
  - name: Infra
    kind: team
    lead: Donald Stufft
    members: [{person: Donald Stufft}]
providers:
  - name: Rackspace
    uses: [cloud]
  - name: Fastly
    uses: [cdn]
datacenters:
  - {code: iad1, provider: Rackspace, region: IAD}
hosts:
  - name: web1
    provider: Rackspace
    datacenter: iad1
    kind: vm
services:
  - name: PyPI
    aliases: [Python Package Index]
    domains: [pypi.python.org]
    hosting:
      - {provider: Rackspace, cdn: Fastly, host: web1}
    owners: [Ernest W. Durbin III, Donald Stufft]
"""


def errors_of(text: str, file: str = "inventory.yaml") -> list[str]:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, file)
    return [str(p) for p in caught.value.problems]


def broken(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def test_the_good_fixture_loads() -> None:
    inv = parse_inventory(GOOD)
    assert [s.name for s in inv.services] == ["PyPI"]


CASES = [
    pytest.param(
        broken("  - name: Donald Stufft\ngroups", "  - name: [Donald Stufft\ngroups"),
        ["inventory.yaml:7: YAML syntax error: illegal placement of ':' indicator"],
        id="yaml-syntax-error",
    ),
    pytest.param(
        broken("    kind: vm", "    kind: container"),
        [
            "inventory.yaml:23: hosts[web1].kind: input should be 'physical' or 'vm' (got 'container')"
        ],
        id="wrong-enum-value",
    ),
    pytest.param(
        broken("  - name: Donald Stufft\ngroups", "  - name: 42\ngroups"),
        ["inventory.yaml:6: people[1].name: input should be a valid string (got 42)"],
        id="wrong-type-number-for-name",
    ),
    pytest.param(
        broken("    aliases: [Python Package Index]", "    aliases: Python Package Index"),
        ["inventory.yaml:26: services[PyPI].aliases: input should be a valid tuple"],
        id="wrong-type-string-for-list",
    ),
    pytest.param(
        broken(
            "    aliases: [Python Package Index]",
            "    aliases: [Python Package Index]\n    owner: x",
        ),
        ["inventory.yaml:27: services[PyPI].owner: unknown key 'owner'; did you mean 'owners'?"],
        id="unknown-key-with-suggestion",
    ),
    pytest.param(
        GOOD + "colour: blue\n",
        ["inventory.yaml:31: colour: unknown key 'colour' (known keys: version, team,"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        broken(
            "owners: [Ernest W. Durbin III, Donald Stufft]",
            "owners: [Donald Stufft, Ernest Durbin]",
        ),
        [
            "inventory.yaml:30: services[PyPI].owners[1]: no person or group 'Ernest Durbin'; "
            "did you mean 'Ernest W. Durbin III'?"
        ],
        id="dangling-owner-with-suggestion",
    ),
    pytest.param(
        broken("host: web1}", "host: web2}"),
        ["inventory.yaml:29: services[PyPI].hosting[0].host: no host 'web2'; did you mean 'web1'?"],
        id="dangling-host",
    ),
    pytest.param(
        broken("    datacenter: iad1", "    datacenter: ord1"),
        ["inventory.yaml:22: hosts[web1].datacenter: no datacenter 'ord1'"],
        id="dangling-datacenter",
    ),
    pytest.param(
        broken(
            "{code: iad1, provider: Rackspace, region: IAD}",
            "{code: iad1, provider: Rackspac, region: IAD}",
        ),
        [
            "inventory.yaml:18: datacenters[iad1].provider: no provider 'Rackspac'; did you mean 'Rackspace'?"
        ],
        id="dangling-provider",
    ),
    pytest.param(
        broken("cdn: Fastly,", "cdn: Akamai,"),
        ["inventory.yaml:29: services[PyPI].hosting[0].cdn: no provider 'Akamai'"],
        id="dangling-cdn",
    ),
    pytest.param(
        broken("    lead: Donald Stufft", "    lead: Infra"),
        ["inventory.yaml:10: groups[Infra].lead: 'Infra' is a group; a person is needed here"],
        id="group-where-person-needed",
    ),
    pytest.param(
        broken("team: Infra", "team: Infar"),
        ["inventory.yaml:2: team: no group 'Infar'; did you mean 'Infra'?"],
        id="dangling-team",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups",
            "  - name: Donald Stufft\n  - name: donald  stufft\ngroups",
        ),
        [
            "inventory.yaml:7: people[donald  stufft].name: duplicate person or group name 'donald  stufft'"
        ],
        id="duplicate-person-name",
    ),
    pytest.param(
        GOOD + "  - name: pypi\n",
        ["inventory.yaml:31: services[pypi].name: duplicate service name 'pypi'"],
        id="duplicate-service-name",
    ),
    pytest.param(
        GOOD + "  - name: PyPI\n",
        ["inventory.yaml:31: services[PyPI].name: duplicate service name 'PyPI'"],
        id="duplicate-service-name-exactly-the-same",
    ),
    pytest.param(
        GOOD + "  - name: Warehouse\n    domains: [pypi.python.org]\n",
        [
            "inventory.yaml:32: services[Warehouse].domains[0]: 'pypi.python.org' of Warehouse "
            "clashes with PyPI, which has the same name"
        ],
        id="alias-clash-between-services",
    ),
    pytest.param(
        broken("    kind: team\n", "    kind: team\n    aliases: [Donald Stufft]\n"),
        [
            "inventory.yaml:10: groups[Infra].aliases[0]: 'Donald Stufft' of Infra clashes with Donald Stufft"
        ],
        id="alias-clash-person-and-group",
    ),
    pytest.param(
        broken("    kind: vm", "    kind: vm\n    status: down"),
        [
            "inventory.yaml:24: hosts[web1].status: input should be 'active', 'legacy' or 'unreachable'"
        ],
        id="bad-host-status",
    ),
    pytest.param(
        broken("  - name: Fastly\n    uses: [cdn]\n", "  - uses: [cdn]\n"),
        ["inventory.yaml:15: providers[1].name: missing required key 'name'"],
        id="missing-required-name",
    ),
    pytest.param(
        broken("  - name: Donald Stufft\ngroups", "  - name: '  '\ngroups"),
        ["inventory.yaml:6: people[1].name: string should have at least 1 character"],
        id="blank-name",
    ),
    pytest.param(
        "version: 2\n" + GOOD.partition("\n")[2],
        ["inventory.yaml:1: version: input should be 1 (got 2)"],
        id="unsupported-version",
    ),
    pytest.param(
        broken("    uses: [cloud]", "    uses: [cloud, catering]"),
        ["inventory.yaml:14: providers[Rackspace].uses[1]: input should be 'cloud', 'vm-hosting'"],
        id="unknown-provider-use",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups",
            "  - name: Donald Stufft\n    contact: {matrix_id: donald}\ngroups",
        ),
        [
            "inventory.yaml:7: people[Donald Stufft].contact.matrix_id: not a Matrix user ID, which reads @localpart:server such as @ada:example.org (got 'donald')"
        ],
        id="bad-matrix-id",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups",
            "  - name: Donald Stufft\n    contact: {irc_nick: '#python-infra :SPOOFED'}\ngroups",
        ),
        [
            "inventory.yaml:7: people[Donald Stufft].contact.irc_nick: not an IRC nick, which "
            "starts with a letter or one of [ ] \\ ` _ ^ { | } and holds only letters, digits, "
            "those and - (got '#python-infra :SPOOFED')"
        ],
        id="irc-nick-that-is-a-channel-and-more",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups",
            "  - name: Donald Stufft\n    contact:\n      irc_nick: 'a,b'\ngroups",
        ),
        ["inventory.yaml:8: people[Donald Stufft].contact.irc_nick: not an IRC nick"],
        id="irc-nick-that-is-two-targets",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups",
            "  - name: Donald Stufft\n    contact: {irc_account: 'dstufft PRIVMSG'}\ngroups",
        ),
        [
            "inventory.yaml:7: people[Donald Stufft].contact.irc_account: not an IRC services account"
        ],
        id="irc-account-with-a-space",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups",
            "  - name: Donald Stufft\n    contact: {matrix_id: '@donald:example.org x'}\ngroups",
        ),
        ["inventory.yaml:7: people[Donald Stufft].contact.matrix_id: not a Matrix user ID"],
        id="matrix-id-with-a-space",
    ),
    pytest.param(
        broken(
            "  - name: Donald Stufft\ngroups", "  - name: Donald Stufft\n    name: Donald\ngroups"
        ),
        ["inventory.yaml:7: duplicate key 'name'"],
        id="duplicate-yaml-key",
    ),
    pytest.param(
        broken(
            "    aliases: [Python Package Index]",
            "    aliases: [Python Package Index]\n    ? {a: [b]}\n    : c",
        ),
        ["inventory.yaml:27: YAML error: a key that is a list or a mapping (unhashable type"],
        id="unhashable-key",
    ),
    pytest.param("", ["inventory.yaml: the file is empty"], id="empty-file"),
    pytest.param(
        "# just a comment\n", ["inventory.yaml: the file holds no data"], id="only-comments"
    ),
    pytest.param(
        "- a\n- b\n", ["inventory.yaml:1: the top level must be a mapping"], id="top-level-list"
    ),
    pytest.param(
        broken("services:\n", "services:\n\t- name: x\n"),
        ["inventory.yaml:25: YAML syntax error: tabs disallowed"],
        id="tab-indentation",
    ),
    pytest.param(
        broken("owners: [Ernest W. Durbin III, Donald Stufft]", "owners: [*nobody]"),
        ["inventory.yaml:30: YAML syntax error: while parsing node, found unknown anchor"],
        id="unknown-yaml-alias",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_malformed_inventory_is_refused_precisely(text: str, expected: list[str]) -> None:
    found = errors_of(text)
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        assert got.startswith(want), f"{got!r} does not start with {want!r}"


def test_there_are_at_least_twenty_kinds() -> None:
    assert len(CASES) >= 20


def test_every_problem_is_reported_in_one_pass() -> None:
    text = broken("    kind: vm", "    kind: cloud")
    text = text.replace("cdn: Fastly,", "cdn: Akamai,").replace(
        "    uses: [cdn]", "    uses: [cdn]\n    colour: red"
    )
    found = errors_of(text)
    # shape errors come first in one pass; references are checked once shapes are valid
    assert [p.split(": ")[1] for p in found] == ["providers[Fastly].colour", "hosts[web1].kind"]


def test_all_reference_problems_are_reported_together() -> None:
    text = GOOD.replace("cdn: Fastly,", "cdn: Akamai,").replace("host: web1}", "host: nowhere}")
    text = text.replace(
        "owners: [Ernest W. Durbin III, Donald Stufft]", "owners: [Nobody, Donald Stufft]"
    )
    found = errors_of(text)
    assert len(found) == 3
    assert {f.split(": ")[1] for f in found} == {
        "services[PyPI].owners[0]",
        "services[PyPI].hosting[0].cdn",
        "services[PyPI].hosting[0].host",
    }


def test_alias_bomb_is_refused_without_expanding() -> None:
    levels = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    bomb = "version: 1\nnotes:\n" + textwrap.indent("\n".join(levels), "  ") + "\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = errors_of(bomb)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert found == [
        "inventory.yaml:7: YAML aliases expand to more than 100000 nodes; refusing (alias bomb?)"
    ]
    assert grown_kib < 100_000  # ten billion nodes expanded would need far more


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: costs no disk, and must cost no memory
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InventoryError) as caught:
        load_inventory(big, max_bytes=1024 * 1024)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert str(caught.value.problems[0]) == (
        f"{big}: file is 52428800 bytes, over the limit of 1048576 bytes"
    )
    assert grown_kib < 10_000


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "nope.yaml")
    assert "cannot read the file: No such file or directory" in str(caught.value.problems[0])


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\npeople:\n  - name: Marc-Andr\xe9\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(caught.value.problems[0]) == f"{path}:3: the file is not valid UTF-8"


def test_error_summary_names_the_count() -> None:
    text = GOOD.replace("host: web1}", "host: a}").replace("cdn: Fastly,", "cdn: b,")
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inventory.yaml")
    assert str(caught.value).startswith("2 errors: inventory.yaml:29: services[PyPI].hosting[0]")
