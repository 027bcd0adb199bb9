"""A list too long for one line says how many it left out, in a channel and in private."""

from __future__ import annotations

import re

import pytest

from infrabot.inventory import Index, parse_inventory
from infrabot.loader import builtin_plugin_dir, load_plugins
from infrabot.router import Router
from infrabot.text import MAX_LINE_CHARS, fit_list
from tests.conftest import message

OWNERS = 10_000


@pytest.fixture(scope="module")
def crowded() -> Router:
    people = "".join(f"  - name: Maintainer {i:05d}\n" for i in range(OWNERS))
    owners = ", ".join(f"Maintainer {i:05d}" for i in range(OWNERS))
    text = f"people:\n{people}services:\n  - name: Busy\n    owners: [{owners}]\n"
    index = Index(parse_inventory(text))
    return Router(plugins=load_plugins([builtin_plugin_dir()]), index=lambda: index)


@pytest.mark.parametrize("private", [False, True])
async def test_ten_thousand_owners_end_in_and_n_more(crowded: Router, private: bool) -> None:
    (reply,) = await crowded.handle(message("!owner busy", private=private))
    first = reply.lines[0]
    assert len(first) <= MAX_LINE_CHARS
    match = re.search(r", Maintainer (\d{5}) … and (\d+) more$", first)
    assert match is not None, first
    shown = int(match.group(1)) + 1
    assert shown + int(match.group(2)) == OWNERS  # every owner is either named or counted


def test_a_list_that_fits_is_shown_whole_and_one_name_always_shows() -> None:
    assert fit_list(["a", "b", "c"], limit=7) == 3
    assert fit_list(["a", "b", "c"], limit=6) == 1
    assert fit_list(["x" * 50], limit=10) == 1
