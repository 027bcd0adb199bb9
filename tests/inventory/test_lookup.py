"""Names as people say them: articles, some of a long name's words, a domain's labels; several
candidates shown as a choice, never picked silently; typos still get a "did you mean"."""

from __future__ import annotations

import pytest

from infrabot.errors import CommandError
from infrabot.inventory import Index, parse_inventory
from tests.other_inventory import other_index  # noqa: F401 (a fixture)


def answer(lookup: object, query: str) -> str:
    try:
        found = lookup(query)  # type: ignore[operator]
    except CommandError as exc:
        return str(exc)
    return str(found.name)


PSF = [
    ("service", "the wiki", "wiki.python.org"),
    ("service", "The Wiki", "wiki.python.org"),
    ("service", "the mercurial server", "hg.python.org"),
    ("service", "the pypy website", "PyPy website"),
    ("service", "pypi.org", "PyPI"),
    ("service", "python.org", "www.python.org"),
    ("service", "package index", "PyPI"),
    ("service", "www.python.org", "www.python.org"),
    ("service", "the jython site", "www.jython.org"),
    ("service", "codespeed", "speed.python.org"),
    ("service", "www", "'www' could be the service www.jython.org or www.python.org: which one?"),
    ("service", "pypu", "no service 'pypu'; did you mean PyPI?"),
    ("provider", "oregon state", "OSUOSL"),
    ("provider", "open source lab", "OSUOSL"),
    ("provider", "Oregon State University", "OSUOSL"),
    ("provider", "the digital ocean", "Digital Ocean"),
    ("person", "donald stufft", "Donald Stufft"),
    ("person", "marc andré", "Marc-André Lemburg"),
    ("person", "durbin", "Ernest W. Durbin III"),
    (
        "person",
        "benjamin",
        "'benjamin' could be the person Benjamin W. Smith or Benjamin Peterson: which one?",
    ),
    ("group", "planet team", "the planet team"),
    ("group", "the infra team", "Infrastructure Team"),
    ("host", "the dinsdale box", "dinsdale"),
]


@pytest.mark.parametrize(("kind", "query", "expected"), PSF)
def test_psf_names(psf_index: Index, kind: str, query: str, expected: str) -> None:
    assert answer(getattr(psf_index, kind), query) == expected


OTHER = [
    ("service", "the shop", "Storefront"),
    ("service", "northwind.shop", "Storefront"),
    ("service", "ledger.northwind", "Ledger"),
    ("service", "the status site", "Status page"),
    # www.northwind.shop/images/ holds "www" too, but is part of Storefront
    ("service", "www", "'www' could be the service Storefront or Status page: which one?"),
    (
        "service",
        "northwind",
        "'northwind' could be the service Storefront, Status page or Ledger: which one?",
    ),
    ("service", "ledgr", "no service 'ledgr'; did you mean Ledger?"),
    ("provider", "helsinki region", "Hetzner"),
    ("provider", "bunnycdn.com", "Bunny"),
    ("person", "SØREN", "Søren Dahl"),
    ("person", "soren", "Søren Dahl"),  # typed without the "ø" a keyboard may lack
    ("person", "soren dahl", "Søren Dahl"),
    ("person", "holm", "Ingrid Holm"),
    ("host", "the fjord machine", "fjord"),
]


@pytest.mark.parametrize(("kind", "query", "expected"), OTHER)
def test_other_names(other_index: Index, kind: str, query: str, expected: str) -> None:  # noqa: F811
    assert answer(getattr(other_index, kind), query) == expected


def test_a_very_common_word_is_a_bounded_choice(psf_index: Index) -> None:
    text = answer(psf_index.service, "python")
    assert text.startswith("'python' matches 11 services, e.g. ")
    assert text.count(",") <= 5


RELAYS = """\
version: 1
services:
  - {name: relay.alpha1}
  - {name: relay.beta22}
  - {name: relay.gamma333}
"""


def test_a_typo_after_a_dot_is_a_typo_not_a_choice_of_everything_before_it() -> None:
    index = Index(parse_inventory(RELAYS))
    # "relay" alone would match all three: a close spelling of one of them is the answer
    assert answer(index.service, "relay.btea22") == (
        "no service 'relay.btea22'; did you mean relay.beta22?"
    )
    # nothing close: the words before the dropped ending are still shown as a choice
    assert answer(index.service, "relay.qqqqqqqqqqqqqqqqq") == (
        "'relay.qqqqqqqqqqqqqqqqq' could be the service relay.alpha1, relay.beta22 or "
        "relay.gamma333: which one?"
    )
