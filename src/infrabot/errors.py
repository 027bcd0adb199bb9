"""The exceptions infrabot raises, in one tree.

InfrabotError
├── CommandError        a message meant for the user who typed the command
│   └── PagingError     a page could not be created, changed or delivered
├── InventoryError      an inventory that cannot be used (carries every problem found)
├── ConfigError         a configuration file that cannot be used
├── StoreError          the bot's database cannot be used (damaged, read-only, in use)
└── TransportError      a chat network misbehaved
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CommandError",
    "ConfigError",
    "InfrabotError",
    "InventoryError",
    "InventoryProblem",
    "PagingError",
    "StoreError",
    "TransportError",
]


class InfrabotError(Exception):
    """The root of every error infrabot raises on purpose."""


class CommandError(InfrabotError):
    """A short, user-facing explanation of why a command could not answer."""


@dataclass(frozen=True, slots=True)
class InventoryProblem:
    """One thing wrong with an inventory file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


class InventoryError(InfrabotError):
    """An inventory that cannot be loaded; ``problems`` lists everything found in one pass."""

    def __init__(self, problems: list[InventoryProblem]) -> None:
        self.problems = problems
        count = len(problems)
        head = "; ".join(str(p) for p in problems[:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        super().__init__(f"{count} error{'s' if count != 1 else ''}: {head}{more}")


class ConfigError(InfrabotError):
    """A configuration file that cannot be used; ``problems`` lists each thing wrong."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class StoreError(InfrabotError):
    """The bot's database cannot be used: damaged, read-only, or in use by another bot."""


class TransportError(InfrabotError):
    """A chat network connection failed in a way the transport could not absorb."""


class PagingError(CommandError):
    """A page could not be created, changed or delivered; the text says why."""
