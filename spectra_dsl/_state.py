"""Folding a key's writes through its reducer in plan order, whatever the timing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ._errors import ReducerError

#: A reducer: ``fn(acc, value) -> new acc``.
Reducer = Callable[[Any, Any], Any]

_NOTHING: Any = object()


@attrs.frozen
class ReducerInfo:
    """A reducer as registered: the function, its name and where the fold starts."""

    fn: Reducer
    name: str
    initial: Any = _NOTHING

    @property
    def has_initial(self) -> bool:
        """True when the fold starts from ``initial`` rather than from the first write."""
        return self.initial is not _NOTHING


class Fold:
    """The writes to one key, folded in plan order.

    Writes arrive in completion order; the fold advances over the longest prefix (in
    plan order) of writers that have finished, so the value a reader sees, and the final
    state, depend only on which writers ran, never on when.
    """

    __slots__ = ("_acc", "_arrived", "_done", "_folded", "_next", "key", "names", "reducer",
                 "writers")

    def __init__(
        self, key: str, writers: tuple[int, ...], reducer: ReducerInfo, names: tuple[str, ...]
    ) -> None:
        self.key = key
        self.names = names  # every step's name, by plan position, for error messages
        self.writers = writers
        self.reducer = reducer
        self._arrived: dict[int, Any] = {}
        self._done: set[int] = set()
        self._next = 0
        self._folded = False  # has any write been folded into _acc yet?
        self._acc: Any = reducer.initial

    def resolve(self, writer: int, value: Any = _NOTHING) -> bool:
        """Record ``writer``'s write (or, without ``value``, that it will not write).

        Returns True when the visible value changed."""
        if value is not _NOTHING:
            self._arrived[writer] = value
        self._done.add(writer)
        changed = False
        while self._next < len(self.writers) and self.writers[self._next] in self._done:
            current = self.writers[self._next]
            if current in self._arrived:
                self._acc = self._step(self._acc, self._arrived.pop(current), current)
                self._folded = changed = True
            self._next += 1
        return changed

    def _step(self, acc: Any, value: Any, writer: int) -> Any:
        if acc is _NOTHING:
            return value
        try:
            return self.reducer.fn(acc, value)
        except Exception as error:
            raise ReducerError(self.key, self.reducer.name, error, self.names[writer]) from error

    def has_value(self) -> bool:
        """True when the prefix fold holds a value."""
        return self._acc is not _NOTHING

    @property
    def value(self) -> Any:
        """The fold of the plan-order prefix of writers that have finished."""
        return self._acc

    def value_of_arrived(self) -> Any:
        """The fold of every write that has arrived, in plan order, gaps skipped (what a
        ``Join.ANY`` step sees); ``_NOTHING`` when no write has arrived (not even the
        reducer's ``initial``: a parameter then takes its default)."""
        acc = self._acc if self._folded else _NOTHING
        if acc is _NOTHING and self.reducer.has_initial and self._arrived:
            acc = self.reducer.initial
        for writer in self.writers[self._next:]:
            if writer in self._arrived:
                acc = self._step(acc, self._arrived[writer], writer)
        return acc


NOTHING = _NOTHING
