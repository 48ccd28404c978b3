"""The lowered graph a plan runs (:class:`ExecutionGraph`), and its restriction to the
steps some outputs need.

:func:`needed` takes the names given to ``outputs=`` (step names or keys) and walks
upstream from them: every predecessor is needed, so the writers of the keys a step
reads, of the keys its guard reads, and the steps named by its ``after=``.
:func:`restrict` builds the graph of a set of steps, every table re-indexed, so a run
of a few outputs is an ordinary run of a smaller graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic
from ._names import near_misses


@attrs.frozen
class ExecutionGraph:
    """A checked workflow, ready to run: every table is indexed by plan position.

    ``steps`` are in plan order; ``predecessors`` and ``successors`` hold plan
    positions; ``joins`` is ``"all"`` or ``"any"`` per step; ``tips`` the upstreams a
    ``Join.ANY`` step races between (empty for others); ``writers`` each key's writers
    in plan order; ``priority`` the number of steps on the longest path from a step to
    an exit, the order in which ready steps start under a concurrency limit.
    ``bodies`` holds, per step, the graph of its sub-workflow (``None`` for a function
    step): each body is lowered once, with its parent.  The per-step tables the runner
    reads (``names``, ``params``, ``required``, ``keys``, ``multi_key``, ``is_async``,
    ``waits``, ``roots``) are worked out here, once.  ``diagnostics`` holds the warnings
    found in this workflow (a body's own, for a body's graph).

    ``predecessors`` include ``after=`` upstreams; ``order_only`` holds, per step, the
    predecessors it only runs after (named by ``after=``, no value read: never bind
    them).  ``maps`` holds each step's mapped parameter names (``()`` when unmapped) and
    ``concurrency`` its own cap on calls in flight (``None`` for none).
    """

    name: str
    steps: tuple[ir.StepSpec, ...]
    index: Mapping[str, int]
    predecessors: tuple[tuple[int, ...], ...]
    successors: tuple[tuple[int, ...], ...]
    joins: tuple[str, ...]
    tips: tuple[frozenset[int], ...]
    writers: Mapping[str, tuple[int, ...]]
    required_inputs: Mapping[str, tuple[str, ...]]
    optional_inputs: Mapping[str, tuple[str, ...]]
    declared_inputs: frozenset[str] | None
    priority: tuple[int, ...]
    bodies: tuple[ExecutionGraph | None, ...] = attrs.field(default=(), repr=False)
    diagnostics: tuple[Diagnostic, ...] = attrs.field(default=(), repr=False)
    #: Per step: predecessors run after without reading them (``after=`` alone).
    order_only: tuple[frozenset[int], ...] = attrs.field(default=(), repr=False)
    #: Per step: the parameters mapped over (``()`` when the step is not mapped).
    maps: tuple[tuple[str, ...], ...] = attrs.field(default=(), repr=False)
    #: Per step: at most this many of its calls in flight (``None``: no own cap).
    concurrency: tuple[int | None, ...] = attrs.field(default=(), repr=False)
    #: Each step's name, parameter names and parameters without a default.
    names: tuple[str, ...] = attrs.field(init=False, repr=False)
    params: tuple[tuple[str, ...], ...] = attrs.field(init=False, repr=False)
    required: tuple[tuple[str, ...], ...] = attrs.field(init=False, repr=False)
    #: The keys each step writes, and whether it writes several (returns a mapping).
    keys: tuple[tuple[str, ...], ...] = attrs.field(init=False, repr=False)
    multi_key: tuple[bool, ...] = attrs.field(init=False, repr=False)
    #: Whether the step is an ``async def`` (else it runs in a worker thread).
    is_async: tuple[bool, ...] = attrs.field(init=False, repr=False)
    #: How many upstream arrivals release each step: every upstream for Join.ALL, the
    #: non-tip upstreams and one tip for Join.ANY.
    waits: tuple[int, ...] = attrs.field(init=False, repr=False)
    #: The steps with no upstream, ready when the run starts.
    roots: tuple[int, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        steps = self.steps
        setter = object.__setattr__
        if not self.bodies:
            setter(self, "bodies", (None,) * len(steps))
        if not self.order_only:
            setter(self, "order_only", (frozenset(),) * len(steps))
        if not self.maps:
            setter(self, "maps", tuple([s.map or () for s in steps]))
        if not self.concurrency:
            setter(self, "concurrency", tuple([
                s.concurrency if isinstance(s.concurrency, int) else None for s in steps]))
        names, params, required, keys, multi_key, is_async = [], [], [], [], [], []
        for step in steps:  # one pass: these are read for every step of every run
            names.append(step.name)
            step_params = step.params
            named = tuple([p.name for p in step_params])
            params.append(named)
            needed = [p.name for p in step_params if not p.has_default]
            required.append(named if len(needed) == len(named) else tuple(needed))
            writes = step.writes
            written: tuple[str, ...] = (step.name,) if writes is None else writes
            keys.append(written)  # as keys_written says, without the property call
            multi_key.append(writes is not None and step.body is None and len(writes) > 1)
            is_async.append(step.kind is ir.StepKind.ASYNC_FUNCTION)
        setter(self, "names", tuple(names))
        setter(self, "params", tuple(params))
        setter(self, "required", tuple(required))
        setter(self, "keys", tuple(keys))
        setter(self, "multi_key", tuple(multi_key))
        setter(self, "is_async", tuple(is_async))
        predecessors = self.predecessors
        setter(self, "waits", tuple([
            len(p) - len(t) + 1 if t else len(p)
            for p, t in zip(predecessors, self.tips, strict=True)]))
        setter(self, "roots", tuple([i for i, p in enumerate(predecessors) if not p]))

    def __len__(self) -> int:
        return len(self.steps)

    def needed(self, outputs: Iterable[str]) -> Needed:
        """What a run of only ``outputs`` (step names or keys) needs: the positions of
        the steps to run, closed under predecessors (the writers of what they read,
        guard keys included, and their ``after=`` steps), the inputs those steps
        require, and the names that are no step, key or input (``unknown``)."""
        return needed(self, outputs)

    def restrict(self, positions: Iterable[int]) -> ExecutionGraph:
        """The graph of only the steps at ``positions``, every table re-indexed (plan
        order kept, bodies kept): run it like any graph."""
        return restrict(self, positions)


@attrs.frozen
class Needed:
    """What a run of some outputs needs: the plan ``positions`` of the steps to run
    (sorted, closed under predecessors), the workflow inputs those steps require (each
    with the steps that read it), and the ``unknown`` names, which are no step, key or
    input of the workflow."""

    positions: tuple[int, ...]
    required_inputs: Mapping[str, tuple[str, ...]]
    unknown: tuple[str, ...] = ()
    #: A message naming each unknown name and the closest known one (None if none).
    error: str | None = None


def _known_inputs(graph: ExecutionGraph) -> set[str]:
    known = set(graph.required_inputs) | set(graph.optional_inputs)
    return known | (graph.declared_inputs or set())


def needed(graph: ExecutionGraph, outputs: Iterable[str]) -> Needed:
    """The steps ``outputs`` need and the inputs those steps require.

    An output is a step name (that step) or a key (every writer of it); a workflow
    input needs no step.  Names that are none of these are ``unknown``.
    """
    wanted = tuple(outputs)
    index, writers = graph.index, graph.writers
    inputs = _known_inputs(graph)
    seen = bytearray(len(graph))
    todo: list[int] = []
    unknown: list[str] = []
    for name in wanted:
        if not isinstance(name, str):
            unknown.append(str(name))
            continue
        if name in index:
            starts: Iterable[int] = (index[name],)
        elif name in writers:
            starts = writers[name]
        elif name in inputs:
            continue
        else:
            unknown.append(name)
            continue
        for position in starts:
            if not seen[position]:
                seen[position] = 1
                todo.append(position)
    predecessors = graph.predecessors
    while todo:
        for up in predecessors[todo.pop()]:
            if not seen[up]:
                seen[up] = 1
                todo.append(up)
    positions = tuple(i for i, flag in enumerate(seen) if flag)
    names = {graph.names[i] for i in positions}
    required = {key: kept for key, readers in graph.required_inputs.items()
                if (kept := tuple(r for r in readers if r in names))}
    return Needed(positions, required, tuple(unknown),
                  _unknown_message(graph, unknown, inputs) if unknown else None)


def _unknown_message(graph: ExecutionGraph, unknown: list[str], inputs: set[str]) -> str:
    known = sorted(set(graph.index) | set(graph.writers) | inputs)
    parts = []
    for name in unknown:
        close = near_misses(name, known)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        parts.append(f"'{name}'{hint}")
    return (f"outputs= names {', '.join(parts)}, which workflow '{graph.name}' has no "
            "step, key or input of; outputs are step names or the keys steps write")


def restrict(graph: ExecutionGraph, positions: Iterable[int]) -> ExecutionGraph:
    """The graph of just the steps at ``positions`` (in plan order), every table
    re-indexed; predecessors, successors, tips and writers outside them are dropped,
    sub-workflow bodies are kept as they are."""
    kept = sorted(set(positions))
    new = {old: pos for pos, old in enumerate(kept)}
    preds = tuple(tuple(new[p] for p in graph.predecessors[old] if p in new) for old in kept)
    succs = tuple(tuple(new[s] for s in graph.successors[old] if s in new) for old in kept)
    tips = tuple(frozenset(new[t] for t in graph.tips[old] if t in new) for old in kept)
    names = {graph.names[old] for old in kept}

    def readers(table: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {key: found for key, steps in table.items()
                if (found := tuple(s for s in steps if s in names))}

    bodies = tuple(graph.bodies[old] for old in kept)
    weight = [1 if body is None else max(body.priority, default=1) for body in bodies]
    priority = weight[:]
    for pos in range(len(kept) - 1, -1, -1):
        if succs[pos]:
            priority[pos] = weight[pos] + max(priority[s] for s in succs[pos])
    required = readers(graph.required_inputs)
    return attrs.evolve(
        graph,
        steps=tuple(graph.steps[old] for old in kept),
        index={graph.names[old]: pos for pos, old in enumerate(kept)},
        predecessors=preds,
        successors=succs,
        joins=tuple(graph.joins[old] for old in kept),
        tips=tips,
        writers={key: found for key, ws in graph.writers.items()
                 if (found := tuple(new[w] for w in ws if w in new))},
        required_inputs=required,
        optional_inputs={k: v for k, v in readers(graph.optional_inputs).items()
                         if k not in required},
        priority=tuple(priority),
        bodies=bodies,
        order_only=tuple(frozenset(new[p] for p in graph.order_only[old] if p in new)
                         for old in kept),
        maps=tuple(graph.maps[old] for old in kept),
        concurrency=tuple(graph.concurrency[old] for old in kept),
    )
