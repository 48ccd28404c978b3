"""The driver: run every pass over a :class:`WorkflowSpec` and lower it to a graph.

One pipeline: bodies first (innermost first, each once), then for each workflow the
analysis context, the passes of :data:`~compiler._passes.PASSES`, and lowering.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from . import _ir as ir
from ._checks import JoinShape
from ._diagnostics import Diagnostic, Findings
from ._gc import paused_gc
from ._graph import ExecutionGraph as ExecutionGraph  # the public name stays here too
from ._passes import Analysis, run_passes
from ._resolve import Resolution


@attrs.frozen
class Compilation(Findings):
    """The outcome of :func:`compile_workflow`: a graph if no error was found, and every
    finding (errors and warnings) in source order."""

    graph: ExecutionGraph | None
    diagnostics: tuple[Diagnostic, ...]
    #: The workflow's inputs, each mapped to True when some step requires it.
    inputs: Mapping[str, bool] = attrs.field(factory=dict)
    #: The keys its steps write.
    keys: frozenset[str] = frozenset()


def compile_workflow(spec: ir.WorkflowSpec) -> Compilation:
    """Check ``spec`` with every pass and, if no error was found, lower it.

    Each sub-workflow (a step's ``body``) is checked and lowered once, before the
    workflows that hold it, without recursion: nesting depth costs nothing beyond the
    steps themselves, and a body added at several places is compiled once.
    """
    with paused_gc():
        done: dict[int, Compilation] = {}
        for workflow in _innermost_first(spec):
            done[id(workflow)] = _compile(workflow, done)
        return done[id(spec)]


def _innermost_first(spec: ir.WorkflowSpec) -> list[ir.WorkflowSpec]:
    """``spec`` and every body in it, each once, every body before its holders."""
    order: list[ir.WorkflowSpec] = []
    entered: set[int] = set()  # a body is entered once; its bodies are done before it
    stack: list[tuple[ir.WorkflowSpec, bool]] = [(spec, False)]
    while stack:
        current, bodies_done = stack.pop()
        if bodies_done:
            order.append(current)
            continue
        if id(current) in entered:  # reached again by another way: done already
            continue
        entered.add(id(current))
        stack.append((current, True))
        for step in current.steps:
            if step.body is not None and id(step.body) not in entered:
                stack.append((step.body, False))
    return order


def _compile(spec: ir.WorkflowSpec, done: Mapping[int, Compilation]) -> Compilation:
    def compiled_body(body: ir.WorkflowSpec) -> Compilation:
        found = done.get(id(body))
        if found is None:  # only a body that contains itself is not compiled first
            return Compilation(None, (Diagnostic(
                "SPX001", f"workflow '{body.name}' contains itself; to run a workflow "
                "again and again, use repeat=Repeat(...)", location=body.location),))
        return found

    analysis = Analysis(spec, compiled_body)
    found = run_passes(analysis)
    spec, res, ordering = analysis.spec, analysis.resolution, analysis.ordering
    position, shapes, steps = ordering.position, analysis.shapes, res.steps
    found = [d if d.workflow else attrs.evolve(d, workflow=spec.name) for d in found]
    found.sort(key=Diagnostic.sort_key)
    inputs = {
        name: any(_requires(res.steps[i], name) for i in readers)
        for name, readers in res.inputs.items()
    }
    keys = frozenset(res.writers)
    if any(d.is_error for d in found):
        return Compilation(None, tuple(found), inputs, keys)
    bodies = [None if step.body is None else compiled_body(step.body).graph for step in steps]
    graph = _lower(spec, res, ordering.order, position, shapes, bodies, tuple(found))
    return Compilation(graph, tuple(found), inputs, keys)


def _requires(step: ir.StepSpec, name: str) -> bool:
    param = next((p for p in step.params if p.name == name), None)
    return param is None or not param.has_default


def _lower(
    spec: ir.WorkflowSpec, res: Resolution, order: list[int], position: list[int],
    shapes: list[JoinShape], bodies: list[ExecutionGraph | None],
    diagnostics: tuple[Diagnostic, ...],
) -> ExecutionGraph:
    steps = res.steps
    n = len(order)
    preds = tuple([
        tuple(sorted([position[p] for p in ps])) if len(ps) > 1
        else tuple([position[p] for p in ps])
        for ps in [res.predecessors[node] for node in order]
    ])
    succs: list[list[int]] = [[] for _ in range(n)]
    for pos, ps in enumerate(preds):
        for p in ps:
            succs[p].append(pos)
    joins: list[str] = []
    tips: list[frozenset[int]] = []
    no_tips: frozenset[int] = frozenset()
    for node in order:
        shape = shapes[node]
        any_join = shape.fan_in and steps[node].join == "any"
        joins.append("any" if any_join else "all")
        tips.append(frozenset([position[t] for t in shape.tips]) if any_join else no_tips)
    # A step counts 1; a sub-workflow step counts the longest path through its body.
    weight = [1] * n if all(body is None for body in bodies) else [
        1 if (body := bodies[node]) is None else max(body.priority, default=1)
        for node in order]
    priority = weight[:]
    for pos in range(n - 1, -1, -1):
        if succs[pos]:
            priority[pos] = weight[pos] + max([priority[s] for s in succs[pos]])
    required: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    for name, readers in res.inputs.items():
        for reader in readers:
            target = required if _requires(steps[reader], name) else optional
            target.setdefault(name, []).append(steps[reader].name)
    for name in required:
        optional.pop(name, None)
    return ExecutionGraph(
        name=spec.name,
        steps=tuple([steps[node] for node in order]),
        index={steps[node].name: pos for pos, node in enumerate(order)},
        predecessors=preds,
        successors=tuple([tuple(s) for s in succs]),
        joins=tuple(joins),
        tips=tuple(tips),
        writers={k: (position[ws[0]],) if len(ws) == 1 else tuple(sorted([position[w] for w in ws]))
                 for k, ws in res.writers.items()},
        required_inputs={k: tuple(v) for k, v in required.items()},
        optional_inputs={k: tuple(v) for k, v in optional.items()},
        declared_inputs=None if spec.inputs is None else frozenset(spec.inputs),
        priority=tuple(priority),
        bodies=tuple([bodies[node] for node in order]),
        diagnostics=diagnostics,
        order_only=tuple([frozenset([position[p] for p in res.order_only[node]])
                          if res.order_only[node] else no_tips for node in order]),
    )
