"""Writing a finished step's result into a run's state, folded where keys have several
writers, and logging each write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import StepOutputError

if TYPE_CHECKING:
    from ._runner import Run


def write_result(run: Run, position: int, value: Any, now: float) -> None:
    """Write step ``position``'s ``value`` to its keys: one plain key, several keys from a
    mapping, keys folded by a reducer, or keys copied from a sub-workflow's state.

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
    if mapping is not None:
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
