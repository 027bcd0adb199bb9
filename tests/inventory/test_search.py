"""Search looks through every field that holds text, ranks, and says where each matched."""

from __future__ import annotations

import pytest

from infrabot.inventory import Index, parse_inventory
from infrabot.inventory.search import SearchIndex
from tests.other_inventory import OTHER, other_index  # noqa: F401 (a fixture)


def found(index: Index, words: str) -> list[str]:
    return [f"{h.kind} {h.name} ({', '.join(h.fields)})" for h in index.search(words).hits]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            "fastly",
            [
                "provider Fastly (name)",
                "service docs.python.org (hosting)",
                "service www.python.org (hosting)",
                "service Python downloads (hosting)",
                "service PyPI (hosting)",
            ],
        ),
        ("chef", ["provider OSUOSL (config)"]),
        (
            "pypi-salt",
            ["service PyPI (name, domain, config)", "provider Rackspace (description, config)"],
        ),
        ("postmaster", ["service mail.python.org (contacts)"]),
        ("pythondotorg", ["service www.python.org (alias, contacts, repositories)"]),
        ("CHEF", ["provider OSUOSL (config)"]),
        ("marc andre", ["person Marc-André Lemburg (name)", "service wiki.python.org (owners)"]),
        ("mailin", ["service mail.python.org (alias)", "group python-dev (description)"]),
        ("xyzzy", []),
    ],
)
def test_psf_search(psf_index: Index, words: str, expected: list[str]) -> None:
    assert found(psf_index, words) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("ansible", ["provider Hetzner (config)"]),
        (
            "bunny",
            [
                "provider Bunny (name)",
                "service Storefront (hosting)",
                "service Status page (hosting)",
                "service Shop images (hosting)",
            ],
        ),
        ("rails", ["service Storefront (description)"]),
        (
            "fjord",
            ["host fjord (name)", "service Storefront (hosting)", "service Ledger (hosting)"],
        ),
        ("SØREN", ["person Søren Dahl (name)", "service Ledger (owners)"]),
        # spelled without the "ø" a keyboard may lack
        ("soren", ["person Søren Dahl (name)", "service Ledger (owners)"]),
    ],
)
def test_other_search(other_index: Index, words: str, expected: list[str]) -> None:  # noqa: F811
    assert found(other_index, words) == expected


def test_names_rank_above_descriptions(psf_index: Index) -> None:
    kinds = [h.fields[0] for h in psf_index.search("python").hits]
    assert kinds.index("name") < kinds.index("description") < kinds.index("notes")


def test_the_total_counts_every_match_beyond_the_limit(psf_index: Index) -> None:
    results = psf_index.search("python", limit=3)
    assert len(results.hits) == 3
    assert results.total == 24


def test_a_search_built_on_a_thread_says_when_it_is_not_ready() -> None:
    index = SearchIndex(parse_inventory(OTHER, "other.yaml"), background=True)
    assert index.wait(10)
    assert index.search("ansible").ready


def test_names_hold_asks_for_every_word_in_one_entity_s_names(psf_index: Index) -> None:
    search = SearchIndex(psf_index.inventory)
    assert search.names_hold("pypi")
    assert search.names_hold("www", "python")  # www.python.org holds both
    assert not search.names_hold("pypi", "jython")  # each is held, never by one entity
    assert not search.names_hold("pypu")


def test_a_large_index_folds_its_names_words_before_its_search_says_ready() -> None:
    services = "\n".join(f"  - {{name: relay-{n}, aliases: [node {n}]}}" for n in range(10_001))
    index = Index(parse_inventory(f"version: 1\nservices:\n{services}\n"))
    assert index.search_ready(60)
    assert index.services.words.prepared  # done on the search index's thread
    assert index.service("node 77").name == "relay-77"
