"""A small inventory with other names than the PSF's: what works on the PSF inventory must
work here too, so nothing is tuned to the shipped file."""

from __future__ import annotations

import pytest

from infrabot.inventory import Index, parse_inventory

OTHER = """\
version: 1
team: Platform Crew
people:
  - name: Ingrid Holm
    roles: [platform lead]
    contact: {irc_nick: ingrid, email: ingrid@northwind.example}
  - name: Kofi Mensah
    aliases: [Kofi]
    roles: [storage engineer]
  - name: Søren Dahl
groups:
  - name: Platform Crew
    kind: team
    aliases: [platform, platform team]
    lead: Ingrid Holm
    members: [{person: Ingrid Holm, role: lead}, {person: Kofi Mensah}]
    mailing_list: platform@northwind.example
    channels: ["#northwind-ops"]
  - name: shop-dev
    kind: list
    mailing_list: shop-dev@northwind.example
providers:
  - name: Hetzner
    aliases: [Hetzner Online Helsinki Region]
    uses: [physical-hosting]
    description: Rents the two bare-metal machines.
    config_management: {tool: Ansible, repository: nw-ansible}
  - name: Bunny
    aliases: [BunnyCDN]
    uses: [cdn]
    description: The CDN in front of the shop and the status page.
datacenters:
  - {code: hel1, provider: Hetzner, region: Helsinki}
hosts:
  - name: fjord
    provider: Hetzner
    datacenter: hel1
    kind: physical
    owner: Platform Crew
    description: The database machine.
  - name: glacier
    provider: Hetzner
    datacenter: hel1
    kind: physical
    status: unreachable
services:
  - name: Storefront
    aliases: [shop, web shop]
    domains: [www.northwind.shop]
    description: The customer-facing shop, a Rails app.
    hosting:
      - {provider: Hetzner, host: fjord, kind: physical, cdn: Bunny}
    owners: [Kofi Mensah, shop-dev]
    repositories: [git.northwind.example/shop]
  - name: Status page
    aliases: [status]
    domains: [status.northwind.io, www.northwind.io]
    hosting:
      - {provider: Bunny}
    owners: [Ingrid Holm]
    contacts:
      - {kind: email, value: status@northwind.example}
  - name: Ledger
    domains: [ledger.northwind.io]
    description: Double-entry bookkeeping for the shop's orders.
    hosting:
      - {host: fjord, provider: Hetzner}
    owners: [Søren Dahl]
  - name: Shop images
    aliases: [images]
    domains: [www.northwind.shop/images/]
    part_of: Storefront
    hosting:
      - {provider: Bunny}
"""


@pytest.fixture(scope="session")
def other_index() -> Index:
    return Index(parse_inventory(OTHER, "other.yaml"))
