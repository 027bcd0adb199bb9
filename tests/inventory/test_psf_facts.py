"""The shipped inventory holds the facts of the PSF infrastructure overview, and no guesses."""

from __future__ import annotations

from infrabot.inventory import Index


def test_team(psf_index: Index) -> None:
    team = psf_index.team
    assert team is not None and team.lead == "Noah Kantrowitz"
    assert [m.person for m in team.members] == [
        "Noah Kantrowitz",
        "Ernest W. Durbin III",
        "Benjamin W. Smith",
        "Donald Stufft",
        "Benjamin Peterson",
        "Mark Mangoba",
        "Alex Gaynor",
    ]
    assert team.mailing_list == "infrastructure-staff@python.org"
    assert team.channels == ("#python-infra on Freenode",)


def test_providers_and_datacenters(psf_index: Index) -> None:
    uses = {p.name: p.uses for p in psf_index.inventory.providers}
    assert uses["XS4ALL"] == ("physical-hosting",)
    assert uses["Gandi"] == ("registrar",)
    assert uses["Dyn"] == ("dns",)
    assert uses["Pingdom"] == ("monitoring",)
    assert uses["Fastly"] == ("cdn",)
    assert uses["Digital Ocean"] == ()  # the overview never says
    osuosl = psf_index.provider("osuosl").config_management
    assert osuosl is not None and (osuosl.tool, osuosl.repository) == ("Chef", "psf-chef")
    assert [(d.code, d.provider, d.region) for d in psf_index.inventory.datacenters] == [
        ("iad1", "Rackspace", "IAD"),
        ("ord1", "Rackspace", "ORD"),
        ("ams1", "Digital Ocean", "AMS3"),
        ("nyc1", "Digital Ocean", "NYC3"),
    ]


def test_hosts(psf_index: Index) -> None:
    assert [(h.name, h.provider, h.kind, h.status) for h in psf_index.inventory.hosts] == [
        ("albatross", "XS4ALL", "physical", "active"),
        ("dinsdale", "XS4ALL", "physical", "legacy"),
        ("ximinez", "XS4ALL", "physical", "unreachable"),
    ]


def test_owners_as_the_overview_gives_them(psf_index: Index) -> None:
    owners = {s.name: s.owners for s in psf_index.inventory.services}
    assert owners["PyPI"] == ("Ernest W. Durbin III", "Donald Stufft", "Richard Jones")
    assert owners["docs.python.org"] == ("Benjamin Peterson", "Georg Brandl")
    assert owners["hg.python.org"] == ("Antoine Pitrou", "Georg Brandl")
    assert owners["wiki.python.org"] == ("Marc-André Lemburg",)
    assert owners["Buildbot master"] == ("python-dev", "Antoine Pitrou", "Zach Ware")
    for unowned in (
        "www.python.org",
        "mail.python.org",
        "bugs.python.org",
        "PyCon",
        "legacy.python.org",
    ):
        assert owners[unowned] == (), unowned


def test_nothing_guessed(psf_index: Index) -> None:
    mail = psf_index.service("mail")
    assert mail.hosting == ()  # albatross is only inferred: kept in a note
    assert any(n.startswith("inferred:") for n in mail.notes)
    for person in psf_index.inventory.people:  # the overview gives no chat handles
        assert person.contact.irc_nick is None and person.contact.matrix_id is None
