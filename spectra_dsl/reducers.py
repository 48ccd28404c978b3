"""Built-in reducers: ``fn(acc, value) -> new acc``, folded over a key's writes in plan order.

Every reducer returns a new value and never mutates ``acc``, so a fold can be repeated
and the state of a run depends only on the plan, never on timing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

__all__ = ["add", "append", "extend", "last_write_wins", "merge"]


def append(acc: list[T], value: T) -> list[T]:
    """Collect every write in a list, in plan order (the fold starts from ``[]``)."""
    return [*acc, value]


def extend(acc: list[T], value: Iterable[T]) -> list[T]:
    """Concatenate writes that are sequences, in plan order (the fold starts from ``[]``)."""
    return [*acc, *value]


def add(acc: Any, value: Any) -> Any:
    """Sum the writes: numbers, or anything with ``+``."""
    return acc + value


def merge(acc: Mapping[K, V], value: Mapping[K, V]) -> dict[K, V]:
    """Merge dictionaries; on a shared key the later write in plan order wins (the fold
    starts from ``{}``)."""
    return {**acc, **value}


#: Where a fold starts when ``initial=`` is not given: a factory, or absent (the first
#: write in plan order starts the fold).
DEFAULT_INITIAL: dict[object, Any] = {append: list, extend: list, merge: dict}


def last_write_wins(acc: object, value: T) -> T:
    """Keep the last write in plan order.

    Between writers that may run at the same time this must be asked for explicitly:
    ``reducers={"key": last_write_wins}``.
    """
    return value
