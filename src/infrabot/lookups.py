"""What the lookup commands share: a usage line when the name is missing, and a useful answer
when the name is of another kind (``!host pypi`` is PyPI's hosting, ``!who dinsdale`` is the
host dinsdale), saying what was found."""

from __future__ import annotations

import inspect

from infrabot.errors import CommandError
from infrabot.inventory.index import Named
from infrabot.inventory.lookup import refusal
from infrabot.messages import Reply
from infrabot.plugin import Context

__all__ = ["answer_as", "needs_name", "other_kind", "usage"]

# the command that describes each kind of entity
_COMMAND_OF = {
    "service": "service",
    "host": "host",
    "provider": "provider",
    "person": "who",
    "group": "team",
    "datacenter": "dc",
}


def usage(ctx: Context, name: str) -> str:
    """``usage: !owner <service> · e.g. !owner pypi``, from the command's own declaration."""
    p = ctx.prefix
    for spec in ctx.commands:
        if spec.name == name:
            line = f"usage: {p}{spec.name} {spec.usage}".rstrip()
            return f"{line} · e.g. {p}{spec.example}" if spec.example else line
    return f"usage: {p}{name} <name>"


def needs_name(ctx: Context, args: str, name: str) -> str:
    """``args`` stripped; a :class:`CommandError` with the usage of ``name`` when empty."""
    query = args.strip()
    if not query:
        raise CommandError(usage(ctx, name))
    return query


def answer_as(ctx: Context, label: str, entity: Named, asked: str) -> list[str] | None:
    """The answer of the command describing ``entity`` (of kind ``label``), its first line
    saying it is not the kind ``asked`` for; None when no such command is loaded."""
    command = _COMMAND_OF.get(label)
    spec = next((s for s in ctx.commands if s.name == command), None)
    if spec is None:
        return None
    result = spec.handler(ctx, entity.name)
    if inspect.isawaitable(result) or result is None or isinstance(result, Reply):
        return None  # the describing commands answer at once; anything else is not one
    lines = [result] if isinstance(result, str) else [str(line) for line in result]
    if not lines:
        return None
    lines[0] = f"{entity.name} is a {label}, not a {asked}. {lines[0]}"
    return lines


def other_kind(ctx: Context, query: str, asked: str) -> list[str] | None:
    """The answer for ``query`` when it names no ``asked`` but names something else (None
    when it names nothing else, or is a choice among several ``asked``: that choice is the
    answer)."""
    if ctx.index.kind(asked).resolve(query, suggest=False).choices:
        return None
    other = ctx.index.named_elsewhere(query, asked)
    if other is not None:
        return answer_as(ctx, other[0], other[1], asked)
    for kind in ctx.index.kinds():  # "!host www": a choice among services is still an answer
        if kind.label != asked:
            resolution = kind.resolve(query, suggest=False)
            if resolution.choices:
                choice = refusal(kind.label, query, resolution, lambda e: str(e.name))
                return [f"no {asked} '{_shown(query)}'; {choice}"]
    return None


def _shown(query: str) -> str:
    return query if len(query) <= 40 else query[:37] + "..."
