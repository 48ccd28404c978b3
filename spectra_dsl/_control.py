"""Control flow: guards (``when=``, :func:`match`), :class:`Retry` and :class:`Repeat`.

The numbers in ``Retry`` and ``Repeat`` are checked by the compiler (SPX401, SPX403), so
a bad setting is reported with every other finding instead of raising here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs


@attrs.frozen(init=False)
class Match:
    """A guard the compiler can read: ``match(route="urgent")``.

    It holds when every named key equals its value; a ``set`` or ``frozenset`` of
    values holds when the key's value is one of them (``match(kind={"billing",
    "refund"})``).  ``~match(...)`` holds when the match does not: the catch-all route.
    Like every guard, neither holds when a key it reads was never written.  Steps
    guarded by matches on one key that cannot both hold are mutually exclusive: they
    never race, so they may write the same key without a reducer.
    """

    pairs: tuple[tuple[str, Any], ...]
    negated: bool

    def __init__(self, pairs: Mapping[str, Any], *, negated: bool = False) -> None:
        if not pairs:
            raise TypeError("match() needs at least one key=value pair, as in "
                            "match(route='urgent')")
        object.__setattr__(self, "pairs", tuple(
            (key, frozenset(value) if isinstance(value, set | frozenset) else value)
            for key, value in pairs.items()))
        object.__setattr__(self, "negated", bool(negated))

    def __invert__(self) -> Match:
        """The guard that holds when this one does not (keys still must be written)."""
        return Match(dict(self.pairs), negated=not self.negated)

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.pairs)
        return f"{'~' if self.negated else ''}match({shown})"

    @property
    def reads(self) -> tuple[str, ...]:
        """The keys the guard reads."""
        return tuple(key for key, _ in self.pairs)

    def holds(self, state: Mapping[str, Any]) -> bool:
        """True when every key is in ``state`` and the match (or, negated, its
        opposite) holds; False whenever a key is missing, negated or not."""
        if any(key not in state for key, _ in self.pairs):
            return False
        return all(_fits(state[key], value) for key, value in self.pairs) != self.negated


def _fits(found: Any, expected: Any) -> bool:
    if isinstance(expected, frozenset):
        try:
            return found in expected
        except TypeError:  # an unhashable value is in no set
            return False
    return bool(found == expected)


def match(**pairs: Any) -> Match:
    """A guard that holds when each key equals the value given, or is one of a set of
    values: ``match(route="urgent")``, ``match(kind={"billing", "refund"})``; negate it
    with ``~``.  A match of no key, or of an empty set, could never hold (or, negated,
    always would): that is a ``ValueError`` at once."""
    if not pairs:
        raise ValueError("match() needs at least one key=value, as in match(route='urgent')")
    for key, value in pairs.items():
        if isinstance(value, set | frozenset) and not value:
            raise ValueError(
                f"match({key}=set()) can never hold: give the values '{key}' may take, as "
                f"in match({key}={{'a', 'b'}})"
            )
    return Match(pairs)


#: A guard: a ``Match``, or a pure sync callable whose parameter names are keys.
Guard = Match | Callable[..., bool]


def guard_reads(guard: object) -> tuple[str, ...]:
    """The keys a guard depends on (its parameter names, or a match's keys)."""
    if isinstance(guard, Match):
        return guard.reads
    try:
        params = inspect.signature(guard).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in params
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def guard_holds(guard: object, state: Mapping[str, Any]) -> bool:
    """Evaluate a guard over ``state``; a guard reading a key no step wrote is false."""
    if isinstance(guard, Match):
        return guard.holds(state)
    reads = guard_reads(guard)
    if any(key not in state for key in reads):
        return False
    assert callable(guard)
    return bool(guard(**{key: state[key] for key in reads}))


def _exception_types(on: object) -> tuple[type[BaseException], ...]:
    types = on if isinstance(on, tuple) else (on,)
    for item in types:
        if not (isinstance(item, type) and issubclass(item, Exception)):
            raise TypeError(
                f"Retry(on=...) takes exception classes (subclasses of Exception), not "
                f"{item!r}; cancellation and KeyboardInterrupt are never retried"
            )
    return types


@attrs.frozen
class Retry:
    """Try a step again when it raises one of ``on`` (or times out).

    ``attempts`` counts every try, the first included.  The wait before try ``n + 1``
    is ``backoff * factor ** (n - 1)`` seconds on trio's clock, plus up to ``jitter``
    times that at random when asked for.  A cancelled run is never retried.
    """

    attempts: int = 3
    backoff: float = 1.0
    factor: float = 2.0
    on: tuple[type[BaseException], ...] = attrs.field(
        default=(Exception,), converter=_exception_types
    )
    jitter: float = 0.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1), no jitter."""
        return float(self.backoff * self.factor ** (attempt - 1))


def _carry(carry: object) -> dict[str, str]:
    if not isinstance(carry, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in carry.items()
    ):
        raise TypeError(
            "Repeat(carry=...) maps a key the body writes to the input the next pass "
            f"reads, such as carry={{'revised': 'draft'}}, not {carry!r}"
        )
    return dict(carry)


@attrs.frozen
class Repeat:
    """Run a sub-workflow pass after pass: a bounded, structured loop.

    ``carry={"out_key": "in_name"}`` feeds a pass's final ``out_key`` to the next pass
    as its input ``in_name``.  ``until`` is a guard over a pass's final state, checked
    after each pass.  ``max_iterations`` is required; reaching it without ``until``
    holding raises :class:`LoopLimitExceeded`, or with ``on_limit="stop"`` ends the loop
    with its last pass.
    """

    until: Guard | None = None
    max_iterations: int | None = None
    carry: Mapping[str, str] = attrs.field(factory=dict, converter=_carry)
    on_limit: Literal["raise", "stop"] = "raise"
