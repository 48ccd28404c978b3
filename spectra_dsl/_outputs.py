"""``outputs=``: which steps a run needs for the outputs asked for.

An output is a step name, a state key or an input.  A run asked for some outputs runs
the plan of the steps that write them and of all their ancestors (parameters, guard
keys and ``after=`` steps alike), so it needs only those steps' inputs (and the inputs
asked for themselves).
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler import ExecutionGraph, needed, restrict

from ._errors import SpectraError


class OutputError(SpectraError, ValueError):
    """``outputs=`` names something that is no step, key or input of the workflow;
    ``unknown`` lists those names (the message suggests the near misses)."""

    def __init__(self, workflow: str, unknown: tuple[str, ...], message: str) -> None:
        self.workflow = workflow
        self.unknown = unknown
        super().__init__(message)


def output_names(outputs: object) -> tuple[str, ...]:
    """``outputs=`` as a tuple of names (one string is one name), each once, in the
    order given."""
    if isinstance(outputs, str):
        return (outputs,)
    if not isinstance(outputs, Iterable):
        raise TypeError(
            f"outputs must be step or key names, such as ('digest',), not {outputs!r}"
        )
    try:
        names: tuple[object, ...] = tuple(outputs)
    except TypeError:
        raise TypeError(
            f"outputs must be step or key names, such as ('digest',), not {outputs!r}"
        ) from None
    checked: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"outputs must be step or key names (strings), not {name!r}")
        checked.append(name)
    if not names:
        raise ValueError(
            "outputs= names no output: leave it out (or pass None) to run every step"
        )
    return tuple(dict.fromkeys(checked))


def graph_for(graph: ExecutionGraph, names: tuple[str, ...]) -> ExecutionGraph:
    """The graph of the steps that give ``names`` and of every step they need.  Raises
    :class:`OutputError` naming every name that is no step, key or input."""
    found = needed(graph, names)
    if found.unknown:
        raise OutputError(graph.name, found.unknown, found.error or "unknown outputs")
    return restrict(graph, found.positions)
