"""Models of one inventory sharing their ``model_fields_set``: pydantic gives every instance a
set of its own, and a large inventory holds a few hundred distinct ones among millions."""

from __future__ import annotations

import functools
import types
import typing
from collections import deque
from collections.abc import Iterable
from itertools import chain, repeat
from operator import attrgetter
from typing import Any

from pydantic import BaseModel

__all__ = ["inner_model", "share_fields_sets"]


def inner_model(annotation: Any) -> Any:
    """The model inside ``tuple[X, ...]`` or ``X | None``, or the annotation itself."""
    origin = typing.get_origin(annotation)
    if origin in (tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation


def share_fields_sets(models: Iterable[BaseModel], shared: dict[frozenset[str], set[str]]) -> None:
    """Let ``models`` (all of one type) and everything in them share one
    ``model_fields_set`` per distinct set.

    pydantic gives each instance its own set of the fields it was given: 150 MB of sets for a
    100,000-service inventory, where a few hundred distinct ones exist. The models are frozen,
    so the sets are never changed (``model_copy`` copies the set before updating it). The
    models are taken a type at a time, every step a loop in C (a few tenths of a microsecond
    a model).
    """
    batches = [list(models)]
    while batches:
        batch = batches.pop()
        if not batch:
            continue
        sets = list(map(_FIELDS_SET, batch))
        same = map(shared.setdefault, map(frozenset, sets), sets)
        deque(map(object.__setattr__, batch, repeat("__pydantic_fields_set__"), same), maxlen=0)
        for name, many in _nested_fields(type(batch[0])):
            values = map(attrgetter(name), batch)
            batches.append(list(chain.from_iterable(values) if many else filter(None, values)))


_FIELDS_SET = attrgetter("__pydantic_fields_set__")


@functools.cache
def _nested_fields(model: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """The fields of ``model`` that hold models (alone, optional, or in a tuple), each with
    whether it holds a tuple of them."""
    return tuple(
        (name, typing.get_origin(field.annotation) is tuple)
        for name, field in model.model_fields.items()
        if isinstance(inner := inner_model(field.annotation), type) and issubclass(inner, BaseModel)
    )
