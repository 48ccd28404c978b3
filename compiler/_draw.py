"""What a drawing of a lowered workflow shows, before any syntax: nodes, edges, clusters.

:func:`layout` reads an :class:`~compiler.ExecutionGraph` (and, per sub-workflow, its
body's graph and reducers) into a :class:`Drawing`; ``_draw_mermaid`` and ``_draw_dot``
write it out.  Everything comes from the lowered graph, so a plan and ``spectra-lint``
(which never imports the module) draw the same workflow the same way.

Node ids are generated from plan positions (``n0``, ``n1``; ``s3_n0`` inside the body of
the step at position 3), never from step names, so no name can break the syntax; every
piece of text is a label, quoted by the writer.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from . import _ir as ir
from ._gc import paused_gc
from ._lower import ExecutionGraph

#: Edge styles: a value read, an ANY join's racing branch, an ``after=`` ordering edge.
DATA, RACE, AFTER = "data", "race", "after"
#: Node kinds and the classes a step node may have.
STEP, INPUT, KEY = "step", "input", "key"
JOIN_ALL, JOIN_ANY, GUARDED, MAPPED = "joinAll", "joinAny", "guarded", "mapped"
_LONGEST_VALUE = 40


@attrs.frozen
class Node:
    """One box: ``lines`` of label text (the first is its name), its kind and classes."""

    id: str
    lines: tuple[str, ...]
    kind: str = STEP
    classes: tuple[str, ...] = ()


@attrs.frozen
class Cluster:
    """A sub-workflow step drawn as a box of its body's nodes; ``id`` stands for the
    step in edges."""

    id: str
    lines: tuple[str, ...]
    nodes: tuple[Node, ...]
    clusters: tuple[Cluster, ...]
    loop: bool = False


@attrs.frozen
class Edge:
    """An arrow between two node or cluster ids, with an optional label."""

    source: str
    target: str
    style: str = DATA
    label: str = ""


@attrs.frozen
class Drawing:
    """A whole workflow: its top-level nodes and clusters, and every edge."""

    name: str
    nodes: tuple[Node, ...]
    clusters: tuple[Cluster, ...]
    edges: tuple[Edge, ...]
    #: The ids that stand for a cluster.
    cluster_ids: frozenset[str]


def reducer_names(reducers: tuple[ir.ReducerSpec, ...]) -> dict[str, str]:
    """``{key: reducer name}`` of a workflow's reducers."""
    return {r.key: r.name for r in reducers}


@attrs.define
class _Scope:
    """One workflow being drawn: the top one or a body; ``children`` are the indices
    of its bodies' scopes."""

    graph: ExecutionGraph
    reducers: Mapping[str, str]
    prefix: str
    lines: tuple[str, ...] = ()
    loop: bool = False
    nodes: tuple[Node, ...] = ()
    children: list[int] = attrs.Factory(list)


def layout(graph: ExecutionGraph, reducers: Mapping[str, str]) -> Drawing:
    """The drawing of ``graph``; ``reducers`` names the reducer of each folded key.

    No recursion: sub-workflows nested at any depth are drawn.  The body drawn as the
    ``k``-th scope (counting in the order they are laid out, the top workflow first)
    is the cluster ``s{k-1}``, its nodes ``s{k-1}_n0``, ...
    """
    edges: list[Edge] = []
    scopes = [_Scope(graph, reducers, "")]
    todo = [0]
    with paused_gc():  # only objects that live on are made: no collection helps
        while todo:
            index = todo.pop()
            first_child = len(scopes)
            _scope(scopes[index], scopes, edges)
            todo.extend(range(len(scopes) - 1, first_child - 1, -1))
        built: dict[int, Cluster] = {}
        for index in range(len(scopes) - 1, 0, -1):  # a body's scope comes after its holder's
            scope = scopes[index]
            built[index] = Cluster(scope.prefix[:-1], scope.lines, scope.nodes,
                                   tuple(built.pop(c) for c in scope.children), scope.loop)
    top = scopes[0]
    return Drawing(graph.name, top.nodes, tuple(built[c] for c in top.children),
                   tuple(edges), frozenset(s.prefix[:-1] for s in scopes[1:]))


def _scope(scope: _Scope, scopes: list[_Scope], edges: list[Edge]) -> None:
    """Lay out the nodes of one workflow (its bodies become new scopes, laid out
    later); its edges are appended to ``edges``."""
    graph, reducers, prefix = scope.graph, scope.reducers, scope.prefix
    steps = graph.steps
    nodes: list[Node] = []
    ids: list[str] = []
    for pos, step in enumerate(steps):
        body = graph.bodies[pos]
        lines = (step.name, *_step_notes(graph, pos))
        if body is None or step.body is None:
            ids.append(f"{prefix}n{pos}")
            nodes.append(Node(ids[-1], lines, STEP, _classes(graph, pos)))
            continue
        ids.append(f"s{len(scopes) - 1}")
        scope.children.append(len(scopes))
        scopes.append(_Scope(body, reducer_names(step.body.reducers), f"{ids[-1]}_",
                             (*lines[:1], *_body_notes(step, body), *lines[1:]),
                             step.repeat is not None))
    reads = [_reads(step) for step in steps]
    # Workflow inputs, in the order their first readers come in the plan.
    inputs = {**graph.optional_inputs, **graph.required_inputs}
    input_nodes: list[Node] = []
    first = {name: min(graph.index[r] for r in readers) for name, readers in inputs.items()}
    for number, name in enumerate(sorted(inputs, key=lambda n: (first[n], n))):
        input_id = f"{prefix}i{number}"
        optional = name not in graph.required_inputs
        input_nodes.append(Node(input_id, (name, "input, optional") if optional else (name,),
                                INPUT))
        for reader in sorted({graph.index[r] for r in inputs[name]}):
            edges.append(Edge(input_id, ids[reader]))
    nodes[:0] = input_nodes  # inputs first: drawn at the top
    # Keys folded by a reducer get a node of their own: writers -> key -> readers.
    folded = [k for k in graph.writers if k in reducers]
    folded.sort(key=lambda k: (graph.writers[k][0], k))
    key_ids: dict[str, str] = {}
    for number, key in enumerate(folded):
        key_ids[key] = f"{prefix}k{number}"
        nodes.append(Node(key_ids[key], (key, f"reduced with {reducers[key]}"), KEY))
        for writer in graph.writers[key]:
            edges.append(Edge(ids[writer], key_ids[key]))
    for pos in range(len(steps)):
        tips = graph.tips[pos]
        for pred in graph.predecessors[pos]:
            if pred in graph.order_only[pos]:
                edges.append(Edge(ids[pred], ids[pos], AFTER, "after"))
                continue
            carried = [k for k in graph.keys[pred] if k in reads[pos]]
            direct = [k for k in carried if k not in key_ids]
            if carried and not direct:
                continue  # drawn through the key's node
            label = "" if direct == [steps[pred].name] else ", ".join(direct)
            edges.append(Edge(ids[pred], ids[pos], RACE if pred in tips else DATA, label))
        for key in sorted(k for k in reads[pos] if k in key_ids):
            edges.append(Edge(key_ids[key], ids[pos]))
    scope.nodes = tuple(nodes)


def _reads(step: ir.StepSpec) -> frozenset[str]:
    guard = step.guard.reads if step.guard is not None else ()
    return frozenset((*(p.name for p in step.params), *guard))


def _step_notes(graph: ExecutionGraph, pos: int) -> list[str]:
    """The label lines under a step's name: its join, guard, map and cap."""
    step = graph.steps[pos]
    notes = []
    if graph.joins[pos] == "any":
        notes.append(f"join ANY: first of {len(graph.tips[pos])}")
    elif step.join is not None and len(graph.predecessors[pos]) > 1:
        notes.append("join ALL")
    if step.guard is not None:
        notes.append(f"when {guard_text(step.guard)}")
    if graph.maps[pos]:
        notes.append("map over " + " × ".join(graph.maps[pos]))
    cap = graph.concurrency[pos]
    if cap is not None:
        notes.append(f"at most {cap} at once")
    return notes


def _body_notes(step: ir.StepSpec, body: ExecutionGraph) -> list[str]:
    """What a sub-workflow step adds to its title: the body's name, and a loop's bound."""
    notes = [f"sub-workflow {body.name}"]
    repeat = step.repeat
    if repeat is not None:
        text = f"loop: at most {_value(repeat.max_iterations)} passes"
        if repeat.until_reads:
            text += f", until ({', '.join(repeat.until_reads)})"
        notes.append(text)
        if repeat.carry:
            notes.append("carry " + ", ".join(f"{a} → {b}" for a, b in repeat.carry))
    return notes


def _classes(graph: ExecutionGraph, pos: int) -> tuple[str, ...]:
    step = graph.steps[pos]
    classes = []
    if graph.joins[pos] == "any":
        classes.append(JOIN_ANY)
    elif step.join is not None and len(graph.predecessors[pos]) > 1:
        classes.append(JOIN_ALL)
    if step.guard is not None:
        classes.append(GUARDED)
    if graph.maps[pos]:
        classes.append(MAPPED)
    return tuple(classes)


def guard_text(guard: ir.GuardSpec) -> str:
    """A guard as a person reads it: ``route = 'urgent'``, ``kind in {'a', 'b'}``,
    ``not (...)``, or ``urgent(a, b)`` for a function ``urgent`` reading keys ``a`` and
    ``b`` (``lambda(a, b)`` for a lambda, ``guard(a, b)`` for a callable with no name)."""
    if guard.matches is None:
        name = {None: "guard", "<lambda>": "lambda"}.get(guard.name, guard.name)
        return f"{name}({', '.join(guard.reads)})"
    parts = []
    for key, value in guard.matches:
        if isinstance(value, frozenset):
            shown = sorted(_value(v) for v in value)
            parts.append(f"{key} in {{{', '.join(shown)}}}")
        else:
            parts.append(f"{key} = {_value(value)}")
    text = " and ".join(parts)
    return f"not ({text})" if guard.negated else text


def _value(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is still drawn
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _LONGEST_VALUE else text[:_LONGEST_VALUE - 1] + "…"
