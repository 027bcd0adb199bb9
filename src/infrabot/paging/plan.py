"""Who a page reaches, level by level, from the inventory.

Level 0 is the target itself: a service's owners (groups expanded to their members), a person,
or a group. Then the service's recorded escalation order (primary, secondary, ...), then the
infrastructure team's lead, then the whole team. A service with no recorded owners pages the
team from the start.
"""

from __future__ import annotations

from dataclasses import dataclass

from infrabot.errors import PagingError
from infrabot.inventory.index import Index
from infrabot.inventory.model import Group, Person, Service

__all__ = ["Level", "Recipient", "plan_for", "resolve_target"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person to reach, with every handle the inventory has for them."""

    name: str
    irc_nick: str | None = None
    irc_account: str | None = None
    matrix_id: str | None = None
    email: str | None = None

    @property
    def reachable_in_chat(self) -> bool:
        """Whether any chat network knows this person."""
        return bool(self.irc_nick or self.irc_account or self.matrix_id)

    def address_on(self, network: str) -> str | None:
        """Where a private message to this person goes on ``network``, if anywhere."""
        if network == "irc":
            return self.irc_nick or self.irc_account
        if network == "matrix":
            return self.matrix_id
        return None

    def is_identity(self, network: str, account: str | None) -> bool:
        """Whether an authenticated ``account`` on ``network`` is this person."""
        if not account:
            return False
        if network == "irc":
            # a services account is usually the nick people know; either names them
            return account.casefold() in {
                h.casefold() for h in (self.irc_account, self.irc_nick) if h
            }
        if network == "matrix":
            return account == self.matrix_id
        return False


@dataclass(frozen=True, slots=True)
class Level:
    """One rung of the escalation ladder."""

    label: str
    recipients: tuple[Recipient, ...]
    fallbacks: tuple[str, ...] = ()


def _recipient(person: Person) -> Recipient:
    c = person.contact
    return Recipient(person.name, c.irc_nick, c.irc_account, c.matrix_id, c.email)


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
