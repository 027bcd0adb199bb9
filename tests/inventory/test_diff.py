"""Exact summaries of what a reload changed."""

from __future__ import annotations

from infrabot.inventory import load_inventory, parse_inventory
from infrabot.inventory.diff import diff_inventories
from tests.conftest import PSF_INVENTORY


def psf_text() -> str:
    return PSF_INVENTORY.read_text()


def test_no_changes() -> None:
    inv = load_inventory(PSF_INVENTORY)
    assert diff_inventories(inv, inv).summary() == "no changes"


def test_the_issue_example() -> None:
    old = load_inventory(PSF_INVENTORY)
    text = psf_text()
    text = text.replace(
        "  - name: Richard Jones\n", "  - name: Richard Jones\n  - name: Dustin Ingram\n"
    )
    text = text.replace(
        "owners: [Ernest W. Durbin III, Donald Stufft, Richard Jones]",
        "owners: [Ernest W. Durbin III, Donald Stufft, Dustin Ingram]",
    )
    a, b = text.index("  - name: ximinez"), text.index("\nservices:")
    text = text[:a] + text[b + 1 :]
    a, b = text.index("  - name: www.jython.org"), text.index("  - name: www.python.org")
    jython, text = text[a:b], text[:a] + text[b:]
    text += jython
    new = parse_inventory(text)
    moved = diff_inventories(old, new).summary()
    # moving an entry within the file is no change; adding a person, changing owners and removing a host are
    assert moved == (
        "PyPI owners +Dustin Ingram −Richard Jones · −1 host (ximinez) · +1 person (Dustin Ingram)"
    )
    without_jython = parse_inventory(text.replace(jython, ""))
    assert diff_inventories(without_jython, new).summary() == "+1 service (www.jython.org)"


def test_scalar_and_long_changes() -> None:
    old = load_inventory(PSF_INVENTORY)
    new = parse_inventory(psf_text().replace("status: legacy", "status: unreachable"))
    assert diff_inventories(old, new).summary() == "dinsdale status legacy → unreachable"
    many = parse_inventory("services:\n" + "".join(f"  - name: s{i}\n" for i in range(9)))
    empty = parse_inventory("services: []\n")
    assert diff_inventories(empty, many).summary() == "+9 services (s0, s1, s2, …)"
    assert diff_inventories(old, empty).summary(limit=2) == (
        "team Infrastructure Team → unset · "
        "−16 services (Buildbot master, bugs.python.org, docs.python.org, …) · and 5 more changes"
    )
