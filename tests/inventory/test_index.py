"""Lookups by name, alias and domain; suggestions for typos; reverse indexes."""

from __future__ import annotations

import pytest

from infrabot.errors import CommandError
from infrabot.inventory import Index, normalize


@pytest.mark.parametrize(
    ("query", "service"),
    [
        ("pypi", "PyPI"),
        ("PyPI", "PyPI"),
        ("pypi.python.org", "PyPI"),
        ("python package index", "PyPI"),
        ("  Python-Package  Index ", "PyPI"),
        ("docs", "docs.python.org"),
        ("docs.python.org", "docs.python.org"),
        ("Python documentation", "docs.python.org"),
        ("hg", "hg.python.org"),
        ("Mercurial", "hg.python.org"),
        ("wiki", "wiki.python.org"),
        ("python.org", "www.python.org"),
        ("staging.python.org", "www.python.org"),
        ("planet.jython.org", "planetpython.org"),
        ("pypy", "PyPy website"),
        ("buildbot", "Buildbot master"),
    ],
)
def test_service_found_by_any_name(psf_index: Index, query: str, service: str) -> None:
    assert psf_index.service(query).name == service


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pypu", "no service 'pypu'; did you mean PyPI?"),
        ("dcos", "no service 'dcos'; did you mean docs.python.org?"),
        ("wikki", "no service 'wikki'; did you mean wiki.python.org?"),
        ("buildbto", "no service 'buildbto'; did you mean Buildbot master?"),
        ("qqqqqqqq", "no service 'qqqqqqqq'"),
        ("", "which service? Give me a name."),
    ],
)
def test_unknown_service_gets_suggestion(psf_index: Index, query: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        psf_index.service(query)
    assert str(caught.value) == message


def test_other_kinds(psf_index: Index) -> None:
    assert psf_index.provider("digitalocean").name == "Digital Ocean"
    assert psf_index.provider("Oregon State University Open Source Lab").name == "OSUOSL"
    assert psf_index.host("ALBATROSS").name == "albatross"
    assert psf_index.datacenter("IAD1").code == "iad1"
    owner = psf_index.owner("Ernest W. Durbin")
    assert owner is not None and owner.name == "Ernest W. Durbin III"
    with pytest.raises(CommandError, match="did you mean Rackspace"):
        psf_index.provider("rackspce")


def test_reverse_indexes(psf_index: Index) -> None:
    fastly = psf_index.provider("fastly")
    assert [s.name for s in psf_index.services_on_provider(fastly)] == [
        "docs.python.org",
        "www.python.org",
        "Python downloads",
        "PyPI",
    ]
    dinsdale = psf_index.host("dinsdale")
    assert [s.name for s in psf_index.services_on_host(dinsdale)] == ["legacy.python.org"]
    xs4all = psf_index.provider("xs4all")
    assert [h.name for h in psf_index.hosts_on_provider(xs4all)] == [
        "albatross",
        "dinsdale",
        "ximinez",
    ]
    zach = psf_index.owner("Zach Ware")
    assert zach is not None
    assert [s.name for s in psf_index.services_owned_by(zach)] == [
        "Buildbot master",
        "speed.python.org",
    ]
    do = psf_index.provider("digital ocean")
    assert [d.code for d in psf_index.datacenters_of(do)] == ["ams1", "nyc1"]


def test_normalize() -> None:
    assert normalize("Py-PI ") == "pypi"
    assert normalize("Marc-André Lemburg") == normalize("marc andre lemburg")
    assert normalize("!!!") == ""


def test_ambiguous_short_domain_names_neither(psf_index: Index) -> None:
    # www.python.org and www.jython.org both shorten to "www": it must not pick one
    assert psf_index.services.find("www") is None
