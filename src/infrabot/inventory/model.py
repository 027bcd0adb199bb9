"""The shape of ``inventory.yaml``, as frozen pydantic models that reject unknown keys.

Cross-references (an owner naming a person, a host naming a datacenter) are checked by
:func:`infrabot.inventory.references.check_references` after the shapes validate, so that
every problem in a file is reported in one pass.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from infrabot.inventory.handles import irc_account, irc_nick, matrix_user_id
from infrabot.messages import Handles

__all__ = [
    "ConfigManagement",
    "Contact",
    "ContactHandles",
    "Datacenter",
    "Group",
    "Host",
    "Hosting",
    "Inventory",
    "Member",
    "Person",
    "Provider",
    "ProviderUse",
    "Service",
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Names = tuple[Name, ...]
IrcNick = Annotated[Name, AfterValidator(irc_nick)]
IrcAccount = Annotated[Name, AfterValidator(irc_account)]
MatrixUserId = Annotated[Name, AfterValidator(matrix_user_id)]
Notes = tuple[Text, ...]

ProviderUse = Literal[
    "cloud", "vm-hosting", "physical-hosting", "cdn", "dns", "registrar", "monitoring"
]
HostKind = Literal["physical", "vm"]
HostStatus = Literal["active", "legacy", "unreachable"]
GroupKind = Literal["team", "list"]
ContactKind = Literal["email", "url", "irc", "matrix"]


class _Entry(BaseModel):
    """Common settings: unknown keys are errors, entries never change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactHandles(_Entry):
    """How to reach a person directly on each network; each handle is checked against its
    network's grammar (:mod:`infrabot.inventory.handles`)."""

    email: Name | None = None
    irc_nick: IrcNick | None = None
    irc_account: IrcAccount | None = None
    matrix_id: MatrixUserId | None = None

    @property
    def handles(self) -> Handles:
        """The chat handles alone, for the transports to read by their network's rules."""
        return Handles(
            irc_nick=self.irc_nick, irc_account=self.irc_account, matrix_id=self.matrix_id
        )


class Person(_Entry):
    """Someone who owns, maintains or can be asked about something."""

    name: Name
    aliases: Names = ()
    roles: Names = ()
    contact: ContactHandles = ContactHandles()
    notes: Notes = ()


class Member(_Entry):
    """A person's membership in a group, with their role there."""

    person: Name
    role: Name | None = None


class Group(_Entry):
    """A team or a mailing list that can own services and be paged."""

    name: Name
    kind: GroupKind
    aliases: Names = ()
    description: Text | None = None
    lead: Name | None = None
    members: tuple[Member, ...] = ()
    mailing_list: Name | None = None
    channels: Names = ()
    notes: Notes = ()


class ConfigManagement(_Entry):
    """The tool that configures machines, and where its configuration lives."""

    tool: Name
    repository: Name | None = None


class Provider(_Entry):
    """A company or organisation that provides something the team relies on."""

    name: Name
    aliases: Names = ()
    uses: tuple[ProviderUse, ...] = ()
    description: Text | None = None
    config_management: ConfigManagement | None = None
    notes: Notes = ()


class Datacenter(_Entry):
    """A datacenter (or region) of a provider, under the team's own short code."""

    code: Name
    provider: Name
    region: Name | None = None
    notes: Notes = ()

    @property
    def name(self) -> str:
        """What the datacenter is called: its code, as for every other kind its name."""
        return self.code


class Host(_Entry):
    """A machine: physical or virtual, with what runs on it."""

    name: Name
    aliases: Names = ()
    provider: Name | None = None
    datacenter: Name | None = None
    kind: HostKind | None = None
    status: HostStatus = "active"
    owner: Name | None = None
    description: Text | None = None
    runs: Notes = ()
    notes: Notes = ()


class Hosting(_Entry):
    """Where (part of) a service runs. A service may run in several places."""

    role: Name | None = None
    provider: Name | None = None
    kind: HostKind | None = None
    host: Name | None = None
    datacenter: Name | None = None
    cdn: Name | None = None
    config_management: ConfigManagement | None = None
    description: Text | None = None


class Contact(_Entry):
    """A way to reach the people behind a service: an address, a URL, a channel."""

    kind: ContactKind
    value: Name
    note: Text | None = None


class Service(_Entry):
    """Something the team runs or answers for."""

    name: Name
    aliases: Names = ()
    domains: Names = ()
    description: Text | None = None
    part_of: Name | None = None
    hosting: tuple[Hosting, ...] = ()
    owners: Names = ()
    escalation: Names = Field(
        default=(), description="Who to page, in order, before the team lead and the team."
    )
    contacts: tuple[Contact, ...] = ()
    repositories: Names = ()
    notes: Notes = ()


class Inventory(_Entry):
    """The whole inventory file."""

    version: Literal[1] = 1
    team: Name | None = Field(
        default=None,
        description="The group that is the infrastructure team: !team shows it, pages fall back "
        "to it.",
    )
    people: tuple[Person, ...] = ()
    groups: tuple[Group, ...] = ()
    providers: tuple[Provider, ...] = ()
    datacenters: tuple[Datacenter, ...] = ()
    hosts: tuple[Host, ...] = ()
    services: tuple[Service, ...] = ()
