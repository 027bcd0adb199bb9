"""Wording shared by the command plugins: how people, owners, hosting and contacts read in chat.

Whatever the inventory does not record is said to be "not recorded", never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from infrabot.inventory.index import Index
from infrabot.inventory.model import Contact, Group, Hosting, Person, Service
from infrabot.text import fit_list

__all__ = [
    "NOT_RECORDED",
    "and_join",
    "contact_text",
    "handles_text",
    "hosting_text",
    "owner_names",
    "reach_line",
    "service_label",
    "team_fallback",
]

NOT_RECORDED = "not recorded"


def and_join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; a list too long for one line ends in
    ``a, b, c … and N more``."""
    shown = fit_list(items)
    if shown < len(items):
        return f"{', '.join(items[:shown])} … and {len(items) - shown} more"
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def handles_text(person: Person) -> str:
    """A person's recorded handles, ``IRC dstufft, Matrix @d:matrix.org``, or empty."""
    c = person.contact
    parts = []
    if c.irc_nick or c.irc_account:
        parts.append(f"IRC {c.irc_nick or c.irc_account}")
    if c.matrix_id:
        parts.append(f"Matrix {c.matrix_id}")
    if c.email:
        parts.append(c.email)
    return ", ".join(parts)


def contact_text(contact: Contact) -> str:
    """``postmaster@python.org (all inquiries)``."""
    return f"{contact.value} ({contact.note})" if contact.note else contact.value


def owner_names(index: Index, service: Service) -> list[str]:
    """The service's owners by canonical name."""
    names = []
    for ref in service.owners:
        owner = index.owner(ref)
        names.append(owner.name if owner else ref)
    return names


def team_fallback(index: Index) -> str:
    """Who to ask when nothing else is recorded: the team's list and channels ('' if no team)."""
    team = index.team
    if team is None:
        return ""
    ways = [w for w in (team.mailing_list, *team.channels) if w]
    return f"ask the {team.name}: {', '.join(ways)}" if ways else f"ask the {team.name}"


def reach_line(index: Index, service: Service) -> str:
    """How to reach the people behind ``service``: handles, lists, contacts, or the team."""
    ways: dict[str, None] = {}
    unreachable: list[str] = []
    for ref in service.owners:
        owner = index.owner(ref)
        if isinstance(owner, Person):
            handles = handles_text(owner)
            if handles:
                ways[f"{owner.name}: {handles}"] = None
            else:
                unreachable.append(owner.name)
        elif isinstance(owner, Group) and owner.mailing_list:
            ways[owner.mailing_list] = None
    for contact in service.contacts:
        if contact.value not in ways:
            ways[contact_text(contact)] = None
    if ways:
        return "Reach: " + "; ".join(ways)
    fallback = team_fallback(index)
    return (
        f"Reach: no contact recorded for them; {fallback}"
        if fallback
        else "Reach: no contact recorded for them"
    )


def hosting_text(index: Index, hosting: Hosting) -> str:
    """One place a service runs: ``web interface: Rackspace VM, behind Fastly``."""
    parts: list[str] = []
    where = hosting.provider or ""
    if hosting.kind == "vm":
        where = f"{where} VM".strip()
    elif hosting.kind == "physical":
        where = f"{where} physical server".strip()
    if hosting.host:
        where = f"{where} on {hosting.host}".strip()
    if hosting.datacenter:
        where = f"{where} in {hosting.datacenter}".strip()
    if where:
        parts.append(where)
    if hosting.cdn:
        parts.append(f"behind {hosting.cdn}")
    if hosting.config_management:
        cm = hosting.config_management
        parts.append(f"configured by {cm.repository or cm.tool}")
    if hosting.description and (not parts or hosting.description.lower() not in where.lower()):
        parts.append(hosting.description)
    text = ", ".join(parts) or NOT_RECORDED
    return f"{hosting.role}: {text}" if hosting.role else text


def service_label(service: Service) -> str:
    """A service's name, with its main domain when that differs: ``PyPI (pypi.python.org)``."""
    if any(d.lower() == service.name.lower() for d in service.domains):
        return service.name
    return f"{service.name} ({service.domains[0]})" if service.domains else service.name
