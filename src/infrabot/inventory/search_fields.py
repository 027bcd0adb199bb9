"""The texts of every entity that search looks through, field by field (see :mod:`.search`)."""

from __future__ import annotations

from collections.abc import Iterator

from infrabot.inventory.model import (
    ConfigManagement,
    Datacenter,
    Group,
    Host,
    Inventory,
    Person,
    Provider,
    Service,
)

__all__ = ["FIELDS", "Entity", "Fields", "entity_texts", "fields_of", "kind_of"]

# Where a word can match, best first.
FIELDS = (
    "name",
    "alias",
    "domain",
    "description",
    "hosting",
    "config",
    "owners",
    "contacts",
    "repositories",
    "roles",
    "notes",
)
Fields = list[tuple[str, list[str]]]
Entity = Service | Host | Provider | Datacenter | Person | Group


def _config(cm: ConfigManagement | None) -> list[str]:
    return [cm.tool, cm.repository or ""] if cm else []


def _service(s: Service) -> Fields:
    hosting: list[str] = []
    config: list[str] = []
    for h in s.hosting:
        hosting += [h.role or "", h.provider or "", h.host or "", h.datacenter or ""]
        hosting += [h.cdn or "", h.description or ""]
        config += _config(h.config_management)
    return [
        ("name", [s.name]),
        ("alias", list(s.aliases)),
        ("domain", list(s.domains)),
        ("description", [s.description or "", s.part_of or ""]),
        ("hosting", hosting),
        ("config", config),
        ("owners", [*s.owners, *s.escalation]),
        ("contacts", [f"{c.value} {c.note or ''}" for c in s.contacts]),
        ("repositories", list(s.repositories)),
        ("notes", list(s.notes)),
    ]


def _host(h: Host) -> Fields:
    return [
        ("name", [h.name]),
        ("alias", list(h.aliases)),
        ("description", [h.description or "", *h.runs]),
        ("hosting", [h.provider or "", h.datacenter or "", h.kind or "", h.status]),
        ("owners", [h.owner or ""]),
        ("notes", list(h.notes)),
    ]


def _provider(p: Provider) -> Fields:
    uses = [u.replace("-", " ") for u in p.uses]
    return [
        ("name", [p.name]),
        ("alias", list(p.aliases)),
        ("description", [p.description or "", *uses]),
        ("config", _config(p.config_management)),
        ("notes", list(p.notes)),
    ]


def _datacenter(d: Datacenter) -> Fields:
    return [
        ("name", [d.code]),
        ("hosting", [d.provider, d.region or ""]),
        ("notes", list(d.notes)),
    ]


def _person(person: Person) -> Fields:
    c = person.contact
    return [
        ("name", [person.name]),
        ("alias", list(person.aliases)),
        ("roles", list(person.roles)),
        ("contacts", [c.email or "", c.irc_nick or "", c.irc_account or "", c.matrix_id or ""]),
        ("notes", list(person.notes)),
    ]


def _group(g: Group) -> Fields:
    return [
        ("name", [g.name]),
        ("alias", list(g.aliases)),
        ("description", [g.description or ""]),
        ("owners", [g.lead or "", *(m.person for m in g.members)]),
        ("contacts", [g.mailing_list or "", *g.channels]),
        ("notes", list(g.notes)),
    ]


def kind_of(entity: Entity) -> str:
    """``"service"``, ``"host"``, ... for ``entity``."""
    kinds: tuple[tuple[type, str], ...] = (
        (Service, "service"),
        (Host, "host"),
        (Provider, "provider"),
        (Datacenter, "datacenter"),
        (Person, "person"),
    )
    return next((label for cls, label in kinds if isinstance(entity, cls)), "group")


def fields_of(entity: Entity) -> Fields:
    """The texts of ``entity`` by field."""
    if isinstance(entity, Service):
        return _service(entity)
    if isinstance(entity, Host):
        return _host(entity)
    if isinstance(entity, Provider):
        return _provider(entity)
    if isinstance(entity, Datacenter):
        return _datacenter(entity)
    if isinstance(entity, Person):
        return _person(entity)
    return _group(entity)


def entity_texts(inv: Inventory) -> Iterator[tuple[str, Entity, Fields]]:
    """Every entity's kind, the entity and its texts by field, services first."""
    for s in inv.services:
        yield "service", s, _service(s)
    for h in inv.hosts:
        yield "host", h, _host(h)
    for p in inv.providers:
        yield "provider", p, _provider(p)
    for d in inv.datacenters:
        yield "datacenter", d, _datacenter(d)
    for person in inv.people:
        yield "person", person, _person(person)
    for g in inv.groups:
        yield "group", g, _group(g)
