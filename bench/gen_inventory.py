"""Write a large, valid, synthetic inventory in the format of the shipped ``inventory.yaml``.

Usage::

    python bench/gen_inventory.py bench/out/inventory-100k.yaml
    python bench/gen_inventory.py OUT --services 100000 --hosts 20000 --people 5000 --seed 1

The output is deterministic for a given seed and sizes. It is block YAML (one key per line,
lists of mappings as ``- key: value`` blocks, lists of scalars as ``- item`` lines) and every
reference resolves, so ``infrabot check OUT`` accepts it. Names are unique after
normalization (case, spaces and punctuation folded), aliases never clash across entities, and
a host's datacenter always belongs to the host's provider.

The mix is meant to look like a real, very large organisation: a few dozen providers, a few
hundred datacenters, teams and mailing lists in proportion to people, services with one to
three owners, one or two hosting places (some on named hosts, some behind a CDN), contacts,
repositories and notes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

__all__ = ["generate", "main"]


def _words(text: str) -> list[str]:
    return text.split()


_FIRST = _words(
    """
Ada Alan Alice Amara Anders Ana Andrea Anton Ari Arjun Astrid Aya Beatriz Ben Bianca Bo
Carla Carlos Chen Chiara Chloe Dana Daniel Dario Dev Diego Dmitri Elena Eli Emeka Emil Emma
Enzo Erik Esra Eva Farah Felix Fatima Finn Freya Gabriel Greta Hana Hannah Hugo Ines Ingrid
Isaac Ivan Jamal Jana Javier Jin Joao Jonas Julia Kai Kamal Karin Kenji Kofi Lara Lars Lea
Leo Leon Lina Luca Lucia Luis Maja Malik Mara Marco Maria Mateo Maya Mehmet Mia Mika Nadia
Naomi Nico Nina Noah Nora Olga Omar Oscar Pablo Paula Pedro Petra Priya Rafael Rania Ravi
Rosa Ruben Sara Sami Sofia Soren Stefan Sven Tariq Tess Theo Tomas Uma Vera Victor Wei Yara
Yusuf Zara Zoe Ziad Aino Bram Cyrus Dalia Edgar Femi Gideon Hiro Ilse Joel Kasia Lotte Milo
Nell Otto Pia Quinn Rui Selma Tove Ulla Vito Wren Xavi Yuki Zeno Agnes Basil Clara Dirk
Edith Frida Gus Hedda Ida Jens
"""
)

_LAST = _words(
    """
Abbott Achebe Adler Alves Andersen Arai Bakker Banerjee Barros Becker Bergman Bianchi Blom
Brandt Brooks Castro Chowdhury Costa Dahl Diaz Dubois Eriksen Esposito Falk Fischer Fontaine
Fujita Garcia Gomes Graham Gupta Haas Hansen Hartmann Hayes Herrera Holm Horvat Ibrahim Ito
Jansen Jensen Kaur Keller Khan Kim Klein Kowalski Kruger Lambert Larsen Laurent Lee
Lindqvist Lopez Maier Marino Martin Medina Meyer Moreau Murphy Nagy Nakamura Novak Nunez
Okafor Olsen Ortiz Park Patel Perez Petrov Popescu Quinn Ramos Reyes Ricci Rossi Ruiz Saito
Santos Sato Schmidt Schulz Silva Singh Sousa Stein Suzuki Svensson Takahashi Tan Torres Ueda
Vargas Vogel Wagner Walsh Wang Weber Wolf Yamamoto Yilmaz Young Zhang Zimmermann Aalto Berg
Conti Duval Engel Farkas Gallo Horn Iversen Jovanovic Koch Lund Mori Nilsen Oliveira Pohl
Roth Sandberg Toth Urban Varga Winter Yoon Zeller Aguilar Baptiste Cardoso Delgado Ekström
Fernandes Gonzaga Hadid Iqbal Juarez Kovacs
"""
)

_AREAS = _words(
    """
payments billing ledger identity auth search catalog checkout orders inventory shipping
pricing media video audio images docs wiki mail chat calendar maps geo analytics metrics
logs tracing alerts pager builds ci artifacts packages mirror registry storage backup
archive dns cdn edge gateway proxy cache queue stream events ingest export import reports
dashboards billing-ops fraud risk ads campaigns newsletter forum tickets support helpdesk
status uptime cron scheduler config secrets vault certs pki keys sso ldap directory hr
payroll finance legal compliance audit security scanner sandbox fuzz perf bench translate
i18n notify push sms voice recommend ranking feeds profile social photos upload download
sync mobile desktop api web admin portal console
"""
)

_ROLES = _words(
    """
api web worker frontend backend db cache indexer scheduler gateway proxy store collector
exporter importer renderer resolver router broker relay monitor sync bridge service engine
daemon portal dashboard
"""
)

_ENVS = ["", "", "", "", "staging", "canary", "internal", "legacy", "eu", "us", "apac"]

_TLDS = ["example.org", "example.net", "example.com", "corp.example", "svc.example.io"]

_PROVIDERS = [
    ("Northwind Cloud", ["cloud"], "NWC"),
    ("Bluefin Compute", ["cloud", "vm-hosting"], "Bluefin"),
    ("Granite Colo", ["physical-hosting"], None),
    ("Harbor Hosting", ["vm-hosting"], None),
    ("Lumen Edge", ["cdn"], "LumenCDN"),
    ("Skyline CDN", ["cdn"], None),
    ("Atlas DNS", ["dns"], None),
    ("NameForge", ["registrar"], None),
    ("Watchtower", ["monitoring"], None),
    ("Cedar Datacenters", ["physical-hosting"], "Cedar DC"),
    ("Orbit Cloud", ["cloud"], None),
    ("Polar Networks", ["cdn", "dns"], "Polar"),
    ("Summit VM", ["vm-hosting"], None),
    ("Quarry Metal", ["physical-hosting"], None),
    ("Kestrel Cloud", ["cloud"], "Kestrel"),
    ("Tidewater Hosting", ["vm-hosting", "physical-hosting"], None),
    ("Pulse Monitoring", ["monitoring"], "Pulse"),
    ("Beacon Registrar", ["registrar"], None),
    ("Meridian Cloud", ["cloud"], None),
    ("Cobalt Hosting", ["vm-hosting"], "Cobalt"),
    ("Aurora Edge", ["cdn"], None),
    ("Fjord Compute", ["cloud"], "Fjord"),
    ("Basalt Colo", ["physical-hosting"], None),
    ("Nimbus Works", ["cloud", "vm-hosting"], "Nimbus"),
    ("Vantage DNS", ["dns"], None),
    ("Sentinel Uptime", ["monitoring"], None),
    ("Ironbark Cloud", ["cloud"], None),
    ("Lagoon Hosting", ["vm-hosting"], None),
    ("Ridge Metal", ["physical-hosting"], None),
    ("Zephyr Cloud", ["cloud"], "Zephyr"),
]

_REGIONS = _words(
    """
iad ord dfw sjc sea lax atl mia yyz gru scl bog lhr ams fra cdg mad mxp arn waw hel dub zrh
vie cph osl ist dxb bom del sin hkg nrt icn syd mel akl jnb cpt nbo los
"""
)

_TOOLS = ["Salt", "Ansible", "Chef", "Puppet", "Terraform", "NixOS"]

_WORDS = _words(
    """
handles keeps serves runs stores answers tracks collects builds ships renders checks the a
of for and with from to in on by all its every customer internal public nightly weekly
requests records events files pages reports jobs queries messages users teams releases
partners metrics logs invoices orders accounts tickets images packages documents
"""
)

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._/()@-]*[A-Za-z0-9.)]")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _q(text: str) -> str:
    """``text`` as a YAML scalar: plain when that is safe, double-quoted otherwise."""
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and ": " not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


class _Unique:
    """Normalized keys already claimed in one namespace (so no two entities clash)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    @staticmethod
    def norm(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text.casefold())
        return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))

    def claim(self, text: str) -> bool:
        key = self.norm(text)
        if not key or key in self.keys:
            return False
        self.keys.add(key)
        return True


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def generate(
    services: int = 100_000, hosts: int = 20_000, people: int = 5_000, seed: int = 1
) -> Iterator[str]:
    """The inventory as lines of YAML (without newlines)."""
    rng = random.Random(seed)
    yield "# A synthetic inventory for benchmarks, written by bench/gen_inventory.py."
    yield f"# seed {seed}: {services} services, {hosts} hosts, {people} people."
    yield "version: 1"
    yield "team: Infrastructure Team"
    yield ""

    # --- people -------------------------------------------------------------------------
    owners = _Unique()
    person_names: list[str] = []
    yield "people:"
    while len(person_names) < people:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        name = f"{first} {last}"
        if not owners.claim(name):
            name = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTVW')}. {last}"
            if not owners.claim(name):
                continue
        person_names.append(name)
        n = len(person_names)
        handle = f"{_Unique.norm(first[0] + last)}{n}"  # nicks and Matrix IDs are ASCII
        yield f"  - name: {_q(name)}"
        if rng.random() < 0.25:
            alias = f"{first} {last[0]}. {n}"
            if owners.claim(alias):
                yield "    aliases:"
                yield f"      - {_q(alias)}"
        yield "    roles:"
        yield f"      - {_q(rng.choice(['engineer', 'SRE', 'developer', 'manager', 'on-call']))}"
        yield "    contact:"
        yield f"      email: {_q(handle + '@example.org')}"
        yield f"      irc_nick: {_q(handle)}"
        if rng.random() < 0.6:
            yield f"      matrix_id: {_q('@' + handle + ':example.org')}"
        if rng.random() < 0.1:
            yield "    notes:"
            yield f"      - {_q(_sentence(rng, 4, 10))}"

    # --- groups: teams (about one per 12 people) and mailing lists -------------------------
    group_names: list[str] = []
    yield ""
    yield "groups:"
    team_count = max(1, people // 12)
    list_count = max(1, people // 40)
    yield "  - name: Infrastructure Team"
    owners.claim("Infrastructure Team")
    yield "    kind: team"
    yield "    aliases:"
    yield "      - infra"
    owners.claim("infra")
    yield "    description: Ultimately responsible for the infrastructure."
    yield f"    lead: {_q(person_names[0])}"
    yield "    members:"
    for p in person_names[:8]:
        yield f"      - person: {_q(p)}"
    yield "    mailing_list: infrastructure@example.org"
    yield "    channels:"
    yield '      - "#infra"'
    group_names.append("Infrastructure Team")
    i = 0
    while len(group_names) < team_count + list_count:
        i += 1
        is_team = len(group_names) < team_count
        area = rng.choice(_AREAS)
        name = f"{area} team {i}" if is_team else f"{area}-{i}-list"
        if not owners.claim(name):
            continue
        group_names.append(name)
        slug = name.replace(" ", "-")
        yield f"  - name: {_q(name)}"
        yield f"    kind: {'team' if is_team else 'list'}"
        if rng.random() < 0.3:
            alias = f"{area} {i}"
            if owners.claim(alias):
                yield "    aliases:"
                yield f"      - {_q(alias)}"
        yield f"    description: {_q(_sentence(rng, 5, 14))}"
        if is_team:
            members = rng.sample(person_names, rng.randint(3, 12))
            yield f"    lead: {_q(members[0])}"
            yield "    members:"
            for j, p in enumerate(members):
                yield f"      - person: {_q(p)}"
                if j == 0:
                    yield "        role: lead"
        yield f"    mailing_list: {_q(slug + '@example.org')}"
        if is_team:
            yield "    channels:"
            yield f"      - {_q('#' + slug)}"
    owner_refs = person_names + group_names

    # --- providers and datacenters -------------------------------------------------------
    yield ""
    yield "providers:"
    provider_names: list[str] = []
    cdns: list[str] = []
    for name, uses, alias in _PROVIDERS:
        provider_names.append(name)
        if "cdn" in uses:
            cdns.append(name)
        yield f"  - name: {_q(name)}"
        if alias:
            yield "    aliases:"
            yield f"      - {_q(alias)}"
        yield "    uses:"
        for use in uses:
            yield f"      - {use}"
        yield f"    description: {_q(_sentence(rng, 6, 16))}"
        if rng.random() < 0.5:
            yield "    config_management:"
            yield f"      tool: {rng.choice(_TOOLS)}"
            yield f"      repository: {_q(name.lower().replace(' ', '-') + '-config')}"
    hosting_providers = [
        name
        for name, uses, _ in _PROVIDERS
        if {"cloud", "vm-hosting", "physical-hosting"} & set(uses)
    ]

    yield ""
    yield "datacenters:"
    dc_of: dict[str, list[str]] = {p: [] for p in hosting_providers}
    dc_codes: list[str] = []
    for p_index, provider in enumerate(hosting_providers):
        for region in rng.sample(_REGIONS, rng.randint(4, 12)):
            code = f"{region}{p_index + 1}"
            dc_codes.append(code)
            dc_of[provider].append(code)
            yield f"  - code: {code}"
            yield f"    provider: {_q(provider)}"
            yield f"    region: {region.upper()}"

    # --- hosts ---------------------------------------------------------------------------
    yield ""
    yield "hosts:"
    host_keys = _Unique()
    host_names: list[str] = []
    host_place: dict[str, tuple[str, str]] = {}
    while len(host_names) < hosts:
        provider = rng.choice(hosting_providers)
        dc = rng.choice(dc_of[provider])
        name = f"{rng.choice(_ROLES)}-{dc}-{len(host_names) + 1:05d}"
        if not host_keys.claim(name):
            continue
        host_names.append(name)
        host_place[name] = (provider, dc)
        physical = rng.random() < 0.2
        yield f"  - name: {name}"
        if rng.random() < 0.1:
            alias = f"{rng.choice(_AREAS)}{len(host_names)}"
            if host_keys.claim(alias):
                yield "    aliases:"
                yield f"      - {alias}"
        yield f"    provider: {_q(provider)}"
        yield f"    datacenter: {dc}"
        yield f"    kind: {'physical' if physical else 'vm'}"
        status = rng.choices(["active", "legacy", "unreachable"], [90, 8, 2])[0]
        yield f"    status: {status}"
        if rng.random() < 0.3:
            yield f"    owner: {_q(rng.choice(group_names))}"
        yield f"    description: {_q(_sentence(rng, 3, 9))}"
        if rng.random() < 0.3:
            yield "    runs:"
            for _ in range(rng.randint(1, 3)):
                yield f"      - {rng.choice(_AREAS)} {rng.choice(_ROLES)}"

    # --- services ------------------------------------------------------------------------
    yield ""
    yield "services:"
    svc_keys = _Unique()
    svc_names: list[str] = []
    while len(svc_names) < services:
        n = len(svc_names) + 1
        area, role, env = rng.choice(_AREAS), rng.choice(_ROLES), rng.choice(_ENVS)
        base = f"{area}-{role}" + (f"-{env}" if env else "")
        style = rng.random()
        if style < 0.5:
            name = f"{base}-{n}"
        elif style < 0.8:
            name = f"{base.replace('-', ' ').title()} {n}"
        else:
            name = f"{area}.{role}{n}"
        if not svc_keys.claim(name):
            continue
        svc_names.append(name)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        domain = f"{slug}.{rng.choice(_TLDS)}"
        yield f"  - name: {_q(name)}"
        aliases = []
        for candidate in (f"{area[:3]}{role[:3]}{n}", f"{role} {area} {n}"):
            if rng.random() < 0.5 and svc_keys.claim(candidate):
                aliases.append(candidate)
        if aliases:
            yield "    aliases:"
            for a in aliases:
                yield f"      - {_q(a)}"
        if svc_keys.claim(domain):
            yield "    domains:"
            yield f"      - {domain}"
        yield f"    description: {_q(_sentence(rng, 3, 10))}"
        if n > 50 and rng.random() < 0.05:
            yield f"    part_of: {_q(svc_names[rng.randrange(len(svc_names) - 1)])}"
        places = rng.choices([0, 1, 2], [10, 70, 20])[0]
        if places:
            yield "    hosting:"
        for k in range(places):
            first = True

            def item(key: str, value: str) -> str:
                nonlocal first
                lead = "      - " if first else "        "
                first = False
                return f"{lead}{key}: {value}" if value else f"{lead}{key}:"

            if places == 2:
                yield item("role", rng.choice(["web", "worker", "database", "batch", "primary"]))
            if rng.random() < 0.5:
                host = rng.choice(host_names)
                provider, dc = host_place[host]
                yield item("provider", _q(provider))
                yield item("kind", "vm")
                yield item("host", host)
                yield item("datacenter", dc)
            else:
                provider = rng.choice(hosting_providers)
                yield item("provider", _q(provider))
                yield item("kind", rng.choice(["vm", "vm", "physical"]))
            if k == 0 and rng.random() < 0.3:
                yield item("cdn", _q(rng.choice(cdns)))
            if rng.random() < 0.1:
                yield item("config_management", "")
                yield f"          tool: {rng.choice(_TOOLS)}"
            if rng.random() < 0.2:
                yield item("description", _q(_sentence(rng, 3, 8)))
        yield "    owners:"
        for ref in rng.sample(owner_refs, rng.choices([1, 2, 3], [50, 35, 15])[0]):
            yield f"      - {_q(ref)}"
        if rng.random() < 0.15:
            yield "    escalation:"
            yield f"      - {_q(rng.choice(person_names))}"
        if rng.random() < 0.6:
            yield "    contacts:"
            yield "      - kind: email"
            yield f"        value: {_q(slug + '@example.org')}"
            if rng.random() < 0.3:
                yield f"        note: {_q(_sentence(rng, 2, 6))}"
            if rng.random() < 0.2:
                yield "      - kind: url"
                yield f"        value: {_q('https://' + domain + '/support')}"
        if rng.random() < 0.5:
            yield "    repositories:"
            yield f"      - {_q('git.example.org/' + area + '/' + slug)}"
        if rng.random() < 0.2:
            yield "    notes:"
            yield f"      - {_q(_sentence(rng, 4, 12))}"


def main(argv: list[str] | None = None) -> int:
    """Write the inventory to the path given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the YAML file")
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    lines = 0
    with args.output.open("w", encoding="utf-8") as out:
        for line in generate(args.services, args.hosts, args.people, args.seed):
            out.write(line)
            out.write("\n")
            lines += 1
    size = args.output.stat().st_size
    print(
        f"wrote {args.output}: {size / 1e6:.1f} MB, {lines} lines "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
