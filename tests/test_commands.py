"""Every command on the shipped PSF inventory, with the exact answer a channel sees."""

from __future__ import annotations

import pytest

from tests.conftest import Ask

CHANNEL = [
    (
        "!owner pypi",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner PyPI",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner pypi.python.org",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner python package index",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner Py-PI",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner buildbot",
        [
            "Buildbot master (buildbot.python.org) is maintained by python-dev (list), Antoine Pitrou and Zach Ware",
            "Reach: python-dev@python.org",
        ],
    ),
    (
        "!owner docs",
        [
            "docs.python.org is maintained by Benjamin Peterson and Georg Brandl",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner hg",
        [
            "hg.python.org is maintained by Antoine Pitrou and Georg Brandl",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner Mercurial",
        [
            "hg.python.org is maintained by Antoine Pitrou and Georg Brandl",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner mail",
        ["mail.python.org: owners not recorded", "Reach: postmaster@python.org (all inquiries)"],
    ),
    (
        "!owner planet",
        ["planetpython.org is maintained by the planet team", "Reach: planet@python.org"],
    ),
    (
        "!owner pythontest.net",
        ["pythontest.net is maintained by python-dev (list)", "Reach: python-dev@python.org"],
    ),
    (
        "!owner speed",
        ["speed.python.org is maintained by speed (list) and Zach Ware", "Reach: speed@python.org"],
    ),
    (
        "!owner wiki",
        [
            "wiki.python.org is maintained by Marc-André Lemburg",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner jython",
        [
            "www.jython.org is maintained by Benjamin Peterson",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner www.python.org",
        [
            "www.python.org: owners not recorded",
            "Reach: github.com/python/pythondotorg/issues (report issues with the site)",
        ],
    ),
    (
        "!owner downloads",
        [
            "Python downloads (www.python.org/ftp/): owners not recorded",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner legacy",
        [
            "legacy.python.org: owners not recorded",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    ("!owner pycon", ["PyCon (us.pycon.org): owners not recorded", "Reach: pycon-tech@python.org"]),
    (
        "!owner pypy",
        ["PyPy website (pypy.org) is maintained by pypy-dev (list)", "Reach: pypy-dev@python.org"],
    ),
    (
        "!owner bugs",
        [
            "bugs.python.org: owners not recorded",
            "Reach: tracker-discuss@python.org (discussion of the tracker)",
        ],
    ),
    ("!owner pypu", ["no service 'pypu'; did you mean PyPI?"]),
    ("!owner dcos", ["no service 'dcos'; did you mean docs.python.org?"]),
    ("!owner", ["usage: !owner <service> · e.g. !owner pypi"]),
    ("!owner zzzzqqq", ["no service 'zzzzqqq'"]),
    (
        "!host albatross",
        [
            "albatross: physical server, provider XS4ALL, datacenter not recorded, status active, owned by the PSF. The mail server.",
            "Runs: not recorded",
            "Note: inferred: probably the host behind mail.python.org; the overview never links them",
        ],
    ),
    (
        "!host dinsdale",
        [
            "dinsdale: physical server, provider XS4ALL, datacenter not recorded, status legacy, owned by the PSF. Hosts a number of legacy services.",
            "Runs: legacy.python.org, a number of legacy services",
        ],
    ),
    (
        "!host ximinez",
        [
            "ximinez: physical server, provider XS4ALL, datacenter not recorded, status unreachable, owned by the PSF. A former server; it seems to be unreachable now.",
            "Runs: not recorded",
        ],
    ),
    ("!host ximenez", ["no host 'ximenez'; did you mean ximinez?"]),
    (
        "!provider xs4all",
        [
            "XS4ALL: physical hosting. By far the oldest PSF infrastructure provider. Two physical servers owned by the PSF are there (albatross and dinsdale). Nothing new goes there; modern cloud providers are preferred.",
            "Datacenters: none recorded · Hosts: albatross, dinsdale, ximinez",
            "Services: legacy.python.org",
        ],
    ),
    (
        "!provider osuosl",
        [
            "OSUOSL: VM hosting. Hosts VMs for the PSF. Config management: Chef (psf-chef repository).",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: speed.python.org, wiki.python.org, PyPy website",
        ],
    ),
    (
        "!provider Oregon State University Open Source Lab",
        [
            "OSUOSL: VM hosting. Hosts VMs for the PSF. Config management: Chef (psf-chef repository).",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: speed.python.org, wiki.python.org, PyPy website",
        ],
    ),
    (
        "!provider rackspace",
        [
            "Rackspace: cloud hosting. The newest cloud provider. Hosts PyPI and an increasing number of python.org services (Python downloads, docs.python.org). Config management: Salt.",
            "Datacenters: iad1 (IAD), ord1 (ORD) · Hosts: none recorded",
            "Services: docs.python.org, hg.python.org, planetpython.org, speed.python.org, www.jython.org, www.python.org … and 3 more (ask me in private for all)",
        ],
    ),
    (
        "!provider gandi",
        [
            "Gandi: domain registrar. The PSF's domain registrar.",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: none recorded",
        ],
    ),
    (
        "!provider dyn",
        [
            "Dyn: DNS hosting. DNS hosting for most of the PSF's domains.",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: none recorded",
        ],
    ),
    (
        "!provider pingdom",
        [
            "Pingdom: monitoring. Monitoring; complains to the team when services are down.",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: none recorded",
        ],
    ),
    (
        "!provider fastly",
        [
            "Fastly: CDN. Donates its CDN to the PSF. The highest-traffic services (PyPI, www.python.org, docs.python.org) use it to improve end-user latency.",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: docs.python.org, www.python.org, Python downloads, PyPI",
        ],
    ),
    (
        "!provider digital ocean",
        [
            "Digital Ocean: what it does is not recorded. Note: appears only in the datacenter table of the overview",
            "Datacenters: ams1 (AMS3), nyc1 (NYC3) · Hosts: none recorded",
            "Services: none recorded",
        ],
    ),
    (
        "!provider DigitalOcean",
        [
            "Digital Ocean: what it does is not recorded. Note: appears only in the datacenter table of the overview",
            "Datacenters: ams1 (AMS3), nyc1 (NYC3) · Hosts: none recorded",
            "Services: none recorded",
        ],
    ),
    (
        "!provider upfront",
        [
            "Upfront Systems: what it does is not recorded. Donated the server that hosts bugs.python.org.",
            "Datacenters: none recorded · Hosts: none recorded",
            "Services: bugs.python.org",
        ],
    ),
    (
        "!provider",
        [
            "Providers: XS4ALL, OSUOSL, Rackspace, Gandi, Dyn, Pingdom, Fastly, Digital Ocean, Upfront Systems"
        ],
    ),
    (
        "!service pypi",
        [
            "PyPI (pypi.python.org): The Python Package Index; sees the most load of any PSF service.",
            "Hosting: Rackspace, behind Fastly, configured by pypi-salt, all of its infrastructure runs on Rackspace · Owners: Ernest W. Durbin III, Donald Stufft, Richard Jones",
        ],
    ),
    (
        "!service buildbot",
        [
            "Buildbot master (buildbot.python.org): The buildbot master. Also schedules the benchmarks of speed.python.org.",
            "Hosting: not recorded · Owners: python-dev, Antoine Pitrou, Zach Ware",
            "Contacts: python-dev@python.org · Notes: run by python-dev, particularly Antoine Pitrou and Zach Ware",
        ],
    ),
    (
        "!service speed.python.org",
        [
            "speed.python.org: A Codespeed instance tracking Python performance.",
            "Hosting: web interface: Rackspace VM; benchmarks: OSUOSL, a beefy machine at OSUOSL; runs are scheduled by the Buildbot master · Owners: speed, Zach Ware",
            "Contacts: speed@python.org · Repos: github.com/tobami/codespeed, github.com/zware/codespeed · Notes: the instance runs from zware/codespeed",
        ],
    ),
    (
        "!service mail",
        [
            "mail.python.org: The python.org Mailman instance, and SMTP (Postfix).",
            "Hosting: not recorded · Owners: not recorded",
            "Contacts: postmaster@python.org (all inquiries) · Notes: inferred: probably hosted on albatross, the mail server; the overview never links them",
        ],
    ),
    (
        "!service www.python.org",
        [
            "www.python.org: The main Python website, a Django app.",
            "Hosting: Rackspace VM, behind Fastly · Owners: not recorded",
            "Contacts: github.com/python/pythondotorg/issues (report issues with the site) · Repos: github.com/python/pythondotorg · Includes: Python downloads · Notes: staging.python.org is the staging site, for testing",
        ],
    ),
    (
        "!service downloads",
        [
            "Python downloads (www.python.org/ftp/): Everything under www.python.org/ftp/. (part of www.python.org)",
            "Hosting: Rackspace VM, behind Fastly, a separate Rackspace VM · Owners: not recorded",
        ],
    ),
    (
        "!service bugs.python.org",
        [
            "bugs.python.org: The Python issue tracker.",
            "Hosting: Upfront Systems, a server donated by Upfront Systems · Owners: not recorded",
            "Contacts: tracker-discuss@python.org (discussion of the tracker)",
        ],
    ),
    (
        "!service jython",
        [
            "www.jython.org",
            "Hosting: Rackspace VM · Owners: Benjamin Peterson",
            "Notes: the setup is simple and rarely needs changes; Benjamin Peterson can be poked about it",
        ],
    ),
    (
        "!dc",
        [
            "Datacenters: iad1 (Rackspace, IAD), ord1 (Rackspace, ORD), ams1 (Digital Ocean, AMS3), nyc1 (Digital Ocean, NYC3)"
        ],
    ),
    ("!dc iad1", ["iad1: Rackspace, region IAD", "Hosts: none recorded · Services: none recorded"]),
    (
        "!dc ams1",
        ["ams1: Digital Ocean, region AMS3", "Hosts: none recorded · Services: none recorded"],
    ),
    ("!dc iad2", ["no datacenter 'iad2'; did you mean iad1?"]),
    (
        "!team",
        [
            "Infrastructure Team: Noah Kantrowitz (lead), Ernest W. Durbin III, Benjamin W. Smith, Donald Stufft, Benjamin Peterson, Mark Mangoba (PSF IT Manager), Alex Gaynor (has no responsibilities)",
            "Mailing list: infrastructure-staff@python.org · Channels: #python-infra on Freenode",
            "Ultimately responsible for PSF infrastructure. Helps set up new services, advises service maintainers, and handles changes to sensitive global systems such as DNS. Running a PSF service does not require membership.",
        ],
    ),
    (
        "!team python-dev",
        [
            "python-dev: members not recorded",
            "Mailing list: python-dev@python.org",
            "The Python core developers' mailing list.",
        ],
    ),
    (
        "!who Ernest W. Durbin",
        [
            "Ernest W. Durbin III: infrastructure team member · member of Infrastructure Team",
            "Owns: PyPI · Reach: no handles recorded",
        ],
    ),
    (
        "!who alex gaynor",
        [
            "Alex Gaynor: infrastructure team member · member of Infrastructure Team",
            "Owns: nothing recorded · Reach: no handles recorded",
            "Note: has no responsibilities on the infrastructure team",
        ],
    ),
    (
        "!who marc-andre lemburg",
        [
            "Marc-André Lemburg: roles not recorded",
            "Owns: wiki.python.org · Reach: no handles recorded",
        ],
    ),
    (
        "!search fastly",
        [
            "5 matches: provider Fastly (name), service docs.python.org (hosting), "
            "service www.python.org (hosting), service Python downloads (hosting), "
            "service PyPI (hosting)"
        ],
    ),
    (
        "!search mail",
        [
            "2 matches: service mail.python.org (name, alias, domain), host albatross (description, notes)"
        ],
    ),
    ("!search xyzzy", ["nothing matches 'xyzzy'"]),
    ("!whoami", ["alice on irc: account alice, not an admin"]),
    # paging needs the store; its answers are in test_paging.py
    ("!page pypi uploads failing", ["paging is not available here (it needs the bot's store)"]),
    ("!ack k7m2", ["paging is not available here (it needs the bot's store)"]),
    ("!resolve k7m2", ["paging is not available here (it needs the bot's store)"]),
    ("!pages", ["paging is not available here (it needs the bot's store)"]),
    ("!page-info k7m2", ["paging is not available here (it needs the bot's store)"]),
    ("!reload", ["sorry, !reload is for admins only"]),
    ("!inventory", ["there is no inventory source here"]),
    ("!audit", ["sorry, !audit is for admins only"]),
    (
        "!help",
        [
            "Commands: !ack, !dc, !help, !host, !inventory, !owner, !page, !page-info, !pages, !provider, !resolve, !search, !service, !team, !who, !whoami",
            "!help <command> shows usage and an example",
        ],
    ),
    (
        "!help owner",
        [
            "!owner <service>: Who maintains a service, and how to reach them.",
            "Example: !owner pypi · Aliases: !owners, !maintainer, !maintainers",
        ],
    ),
    ("!help nothing", ["no command 'nothing'"]),
    ("!ownr pypi", ["no command 'ownr'; did you mean !owner? (!help lists them)"]),
    (
        "infrabot: owner pypi",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "INFRABOT, dc",
        [
            "Datacenters: iad1 (Rackspace, IAD), ord1 (Rackspace, ORD), ams1 (Digital Ocean, AMS3), nyc1 (Digital Ocean, NYC3)"
        ],
    ),
    ("hello everyone", []),
    ("!!!", []),
    ("!", []),
    ("infrabot is great", []),
]

PRIVATE = [
    (
        "owner pypi",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "!owner pypi",
        [
            "PyPI (pypi.python.org) is maintained by Ernest W. Durbin III, Donald Stufft and Richard Jones",
            "Reach: no contact recorded for them; ask the Infrastructure Team: infrastructure-staff@python.org, #python-infra on Freenode",
        ],
    ),
    (
        "provider rackspace",
        [
            "Rackspace: cloud hosting. The newest cloud provider. Hosts PyPI and an increasing number of python.org services (Python downloads, docs.python.org). Config management: Salt.",
            "Datacenters: iad1 (IAD), ord1 (ORD) · Hosts: none recorded",
            "Services: docs.python.org, hg.python.org, planetpython.org, speed.python.org, www.jython.org, www.python.org, Python downloads, PyCon, PyPI",
        ],
    ),
    ("helo", ["no command 'helo'; did you mean !help? (!help lists them)"]),
    (
        "hello",  # a greeting: what the bot can do
        [
            "Commands: !ack, !dc, !help, !host, !inventory, !owner, !page, !page-info, !pages, !provider, !resolve, !search, !service, !team, !who, !whoami",
            "!help <command> shows usage and an example",
        ],
    ),
    (
        "help",
        [
            "Commands: !ack, !dc, !help, !host, !inventory, !owner, !page, !page-info, !pages, !provider, !resolve, !search, !service, !team, !who, !whoami",
            "!help <command> shows usage and an example",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CHANNEL)
async def test_channel_answer(ask: Ask, text: str, expected: list[str]) -> None:
    assert await ask(text) == expected


@pytest.mark.parametrize(("text", "expected"), PRIVATE)
async def test_private_answer(ask: Ask, text: str, expected: list[str]) -> None:
    assert await ask(text, private=True) == expected


async def test_every_command_is_covered(ask: Ask) -> None:
    (listing, _hint) = await ask("!help")
    commands = listing.removeprefix("Commands: ").split(", ")
    asked = {text.split()[0].lstrip("!") for text, _ in CHANNEL if text.startswith("!")}
    assert set(c.lstrip("!") for c in commands) <= asked


async def test_answers_fit_a_channel(ask: Ask) -> None:
    for text, _ in CHANNEL:
        lines = await ask(text)
        assert len(lines) <= 3, text


ACROSS_KINDS = [
    ("!host pypi", "PyPI is a service, not a host. PyPI (pypi.python.org): "),
    ("!owner dinsdale", "dinsdale is a host, not a service; owned by the PSF"),
    ("!who pypi", "PyPI is a service, not a person. "),
    ("!service dinsdale", "dinsdale is a host, not a service. dinsdale: physical server"),
    ("!owner donald stufft", "Donald Stufft is a person, not a service. "),
    ("!provider the wiki", "wiki.python.org is a service, not a provider. "),
    ("!team oregon state", "OSUOSL is a provider, not a group. "),
    # several of another kind: the choice among them, never one picked silently
    (
        "!host www",
        "no host 'www'; 'www' could be the service www.jython.org or www.python.org: which one?",
    ),
]


@pytest.mark.parametrize(("text", "start"), ACROSS_KINDS)
async def test_a_name_of_another_kind_answers_and_says_so(ask: Ask, text: str, start: str) -> None:
    assert (await ask(text))[0].startswith(start)


async def test_owner_of_a_host_names_the_owners_of_what_runs_there(ask: Ask) -> None:
    assert (await ask("!owner dinsdale"))[1] == (
        "Runs: legacy.python.org (owners not recorded), a number of legacy services"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!owner", "usage: !owner <service> · e.g. !owner pypi"),
        ("!host", "usage: !host <host> · e.g. !host dinsdale"),
        ("!service", "usage: !service <service> · e.g. !service docs"),
        ("!who", "usage: !who <person> · e.g. !who donald stufft"),
        ("!search", "usage: !search <words> · e.g. !search chef"),
    ],
)
async def test_a_command_without_its_name_gives_usage_and_example(
    ask: Ask, text: str, expected: str
) -> None:
    assert await ask(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!owner www", "'www' could be the service www.jython.org or www.python.org: which one?"),
        ("!provider oregon state", "OSUOSL: VM hosting. Hosts VMs for the PSF."),
        ("!owner pypi.org", "PyPI (pypi.python.org) is maintained by"),
        ("!owner the wiki", "wiki.python.org is maintained by Marc-André Lemburg"),
        ("!search chef", "1 match: provider OSUOSL (config)"),
    ],
)
async def test_the_wrong_answers_of_the_issue(ask: Ask, text: str, expected: str) -> None:
    assert (await ask(text))[0].startswith(expected)
