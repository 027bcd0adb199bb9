"""Who a page reaches, level by level, from the inventory.

Level 0 is the target itself: a service's owners (groups expanded to their members), a person,
or a group. Then the service's recorded escalation order (primary, secondary, ...), then the
infrastructure team's lead, then the whole team. A service with no recorded owners pages the
team from the start.
"""

from __future__ import annotations

from dataclasses import dataclass

from infrabot.errors import CommandError, PagingError
from infrabot.inventory.index import Index
from infrabot.inventory.model import Group, Person, Service
from infrabot.messages import Handles

__all__ = ["Level", "Recipient", "plan_for", "plan_or_team", "resolve_target"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person to reach, with every handle the inventory has for them.

    What a handle means on its network (where a private message goes, who may acknowledge)
    is each transport's to say; see :class:`infrabot.transports.base.People`.
    """

    name: str
    handles: Handles
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """One rung of the escalation ladder."""

    label: str
    recipients: tuple[Recipient, ...]
    fallbacks: tuple[str, ...] = ()


def _recipient(person: Person) -> Recipient:
    return Recipient(person.name, person.contact.handles, person.contact.email)


def _expand(index: Index, ref: str) -> tuple[list[Recipient], list[str]]:
    """People behind ``ref`` (a person, or a group's members), and mailing lists to fall back on."""
    owner = index.owner(ref)
    if isinstance(owner, Person):
        return [_recipient(owner)], []
    if isinstance(owner, Group):
        people = [p for m in owner.members if (p := index.people.find(m.person)) is not None]
        lists = [owner.mailing_list] if owner.mailing_list else []
        return [_recipient(p) for p in people], lists
    return [], []


def _level(index: Index, label: str, refs: list[str], extra: list[str]) -> Level:
    recipients: dict[str, Recipient] = {}
    fallbacks: dict[str, None] = {}
    for ref in refs:
        people, lists = _expand(index, ref)
        for person in people:
            recipients.setdefault(person.name, person)
        for address in lists:
            fallbacks[address] = None
    for address in extra:
        fallbacks[address] = None
    return Level(label, tuple(recipients.values()), tuple(fallbacks))


def _team_levels(index: Index) -> list[Level]:
    team = index.team
    if team is None:
        return []
    ways = [w for w in (team.mailing_list, *team.channels) if w]
    levels = []
    if team.lead:
        levels.append(_level(index, f"the {team.name} lead", [team.lead], ways))
    levels.append(_level(index, f"the whole {team.name}", [team.name], ways))
    return levels


def resolve_target(index: Index, words: list[str]) -> tuple[str, str, int]:
    """The longest leading run of ``words`` naming a service, person or group.

    Returns (kind, canonical name, words used). Raises :class:`PagingError` with a suggestion.
    """
    for used in range(len(words), 0, -1):
        name = " ".join(words[:used])
        service = index.services.find(name)
        if service is not None:
            return "service", service.name, used
        owner = index.owner(name)
        if owner is not None:
            return ("person" if isinstance(owner, Person) else "group"), owner.name, used
    first = words[0] if words else ""
    hint = index.services.suggest(first) if first else None
    suffix = f"; did you mean {hint.name}?" if hint else ""
    raise PagingError(f"no service, person or group '{first[:40]}'{suffix}")


def plan_for(index: Index, kind: str, name: str) -> tuple[Level, ...]:
    """The escalation ladder for a page of ``name`` (a service, person or group)."""
    levels: list[Level] = []
    team_levels = _team_levels(index)
    if kind == "service":
        service: Service = index.service(name)
        contacts = [c.value for c in service.contacts if c.kind == "email"]
        if service.owners:
            levels.append(
                _level(index, f"the owners of {service.name}", list(service.owners), contacts)
            )
        elif team_levels:
            team = team_levels[-1]
            levels.append(
                Level(
                    f"{team.label} (no owners recorded for {service.name})",
                    team.recipients,
                    (*contacts, *team.fallbacks),
                )
            )
        for i, ref in enumerate(service.escalation, start=1):
            levels.append(_level(index, f"escalation {i} ({ref})", [ref], []))
    else:
        levels.append(_level(index, name, [name], []))
    for level in team_levels:
        if not levels or {r.name for r in level.recipients} != {
            r.name for r in levels[-1].recipients
        }:
            levels.append(level)
    if not levels:
        raise PagingError(f"nobody is recorded to page for {name}")
    # when nobody on a level can be reached, the team's own list and channels are the last resort
    last_resort = team_levels[-1].fallbacks if team_levels else ()
    return tuple(
        Level(lv.label, lv.recipients, tuple(dict.fromkeys((*lv.fallbacks, *last_resort))))
        for lv in levels
    )


def plan_or_team(index: Index, kind: str, target: str) -> tuple[Level, ...]:
    """:func:`plan_for`, or the team's when ``target`` left the inventory since it was paged:
    the team still hears of its page."""
    try:
        return plan_for(index, kind, target)
    except (CommandError, PagingError):
        team = index.team
        if team is None:
            raise PagingError(f"{target} is not in the inventory any more") from None
        return plan_for(index, "group", team.name)
