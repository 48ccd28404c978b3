"""What a step reads from a run's state (its arguments, what its guard sees) and how
its result is written back: folded where a key has several writers, each write logged."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import StepOutputError
from ._state import NOTHING

if TYPE_CHECKING:
    from ._runner import Run


def bind(run: Run, position: int) -> dict[str, Any]:
    """The keyword arguments of a step, read from state (or left to defaults); a
    ``Join.ANY`` step gets the folds of the writes that have arrived.  Raises
    :class:`ReducerError` when such a fold fails."""
    state = run.state
    params = run.plan.params[position]
    if not run.plan.schedule.tips[position]:
        return {name: state[name] for name in params if name in state}
    kwargs: dict[str, Any] = {}
    folds = run.folds
    for name in params:
        if name in folds:
            value = folds[name].value_of_arrived()
            if value is not NOTHING:
                kwargs[name] = value
        elif name in state:
            kwargs[name] = state[name]
    return kwargs


def guard_view(run: Run, position: int) -> Mapping[str, Any]:
    """What a step's guard reads: state, or for a ``Join.ANY`` step the same folds of
    the writes that have arrived that its parameters get."""
    guard = run.plan.graph.steps[position].guard
    if not run.plan.schedule.tips[position] or guard is None:
        return run.state
    arrived = {}
    for key in guard.reads:
        fold = run.folds.get(key)
        value = NOTHING if fold is None else fold.value_of_arrived()
        if value is not NOTHING:
            arrived[key] = value
    return collections.ChainMap(arrived, run.state)


def write_result(run: Run, position: int, value: Any, now: float) -> None:
    """Write step ``position``'s ``value`` to its keys: one plain key, several keys from a
    mapping, keys folded by a reducer, or keys copied from a sub-workflow's state (for a
    mapped sub-workflow, each key gets the list of its runs' values, ``None`` for a run
    that did not write it).

    Raises :class:`StepOutputError` for a multi-key result without exactly its keys and
    :class:`ReducerError` when a fold fails."""
    plan = run.plan
    key = plan.simple_key[position]
    if key is not None:  # the common case: one key that nothing folds
        run.state[key] = value
        run.emit.state_written(time=now, key=key, step=plan.names[position], reducer=None)
        return
    keys = plan.keys[position]
    mapping = plan.actions[position].writes_mapping
    if mapping is not None and plan.graph.maps[position]:
        # A mapped sub-workflow: each key gets the list of the runs' values.
        for inner, outer in mapping:
            write(run, outer, [state.get(inner) for state in value], position, now)
    elif mapping is not None:
        for inner, outer in mapping:
            if inner in value:
                write(run, outer, value[inner], position, now)
            else:
                run.resolve_unwritten(outer, position)
    elif len(keys) == 1 and not plan.multi_key[position]:
        write(run, keys[0], value, position, now)
    else:
        if not isinstance(value, Mapping) or value.keys() != set(keys):
            raise StepOutputError(plan.names[position], keys, value)
        for key in keys:
            write(run, key, value[key], position, now)


def write(run: Run, key: str, value: Any, position: int, now: float) -> None:
    """Fold one write into state and log it."""
    fold = run.folds.get(key)
    step = run.plan.names[position]
    if fold is None:
        run.state[key] = value
        run.emit.state_written(time=now, key=key, step=step, reducer=None)
        return
    if fold.resolve(position, value):
        run.state[key] = fold.value
    run.emit.state_written(time=now, key=key, step=step, reducer=fold.reducer.name)
