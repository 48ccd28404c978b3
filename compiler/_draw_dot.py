"""Write a :class:`~compiler._draw.Drawing` as a Graphviz DOT digraph."""

from __future__ import annotations

from collections.abc import Mapping

from ._draw import (
    AFTER,
    GUARDED,
    INPUT,
    JOIN_ALL,
    JOIN_ANY,
    KEY,
    MAPPED,
    RACE,
    Cluster,
    Drawing,
    Node,
    layout,
)
from ._lower import ExecutionGraph

_EDGE_STYLES = {RACE: "penwidth=2.5", AFTER: "style=dashed"}


def draw_dot(graph: ExecutionGraph, reducers: Mapping[str, str] | None = None) -> str:
    """A Graphviz DOT digraph of ``graph``; ``reducers`` maps each folded key to the name
    of its reducer (``Plan.to_dot()`` and ``spectra-lint --graph dot`` call this)."""
    return dot(layout(graph, reducers or {}))


def dot(drawing: Drawing) -> str:
    """The text of ``drawing`` as a DOT digraph (sub-workflows are clusters)."""
    lines = [
        f"digraph {quote(drawing.name)} {{",
        f"    graph [label={quote(drawing.name)}, labelloc=t, compound=true, rankdir=TB, "
        "fontname=Helvetica];",
        '    node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica];',
        "    edge [fontname=Helvetica, fontsize=10];",
    ]
    _nodes(drawing.nodes, drawing.clusters, lines, "    ")
    clusters = drawing.cluster_ids
    for edge in drawing.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={quote(edge.label)}")
        if edge.style in _EDGE_STYLES:
            attributes.append(_EDGE_STYLES[edge.style])
        if edge.source in clusters:
            attributes.append(f"ltail=cluster_{edge.source}")
        if edge.target in clusters:
            attributes.append(f"lhead=cluster_{edge.target}")
        shown = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"    {edge.source} -> {edge.target}{shown};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nodes(nodes: tuple[Node, ...], clusters: tuple[Cluster, ...], lines: list[str],
           indent: str) -> None:
    """Declare ``nodes``, then each cluster, at any depth (no recursion)."""
    todo: list[tuple[Cluster | None, str]] = [(c, indent) for c in reversed(clusters)]
    lines.extend(f"{indent}{node.id} [{_node_attributes(node)}];" for node in nodes)
    while todo:
        cluster, at = todo.pop()
        if cluster is None:
            lines.append(f"{at}}}")
            continue
        inner = at + "    "
        style = "dashed,rounded" if cluster.loop else "rounded"
        lines.append(f"{at}subgraph cluster_{cluster.id} {{")
        lines.append(f"{inner}graph [label={quote(_text(cluster.lines))}, "
                     f'style="{style}", labeljust=l];')
        # The point edges to and from the sub-workflow step end at (clipped to the box).
        lines.append(f"{inner}{cluster.id} [shape=point, style=invis, width=0, "
                     "height=0, label=\"\"];")
        lines.extend(f"{inner}{node.id} [{_node_attributes(node)}];" for node in cluster.nodes)
        todo.append((None, at))
        todo.extend((c, inner) for c in reversed(cluster.clusters))


def _node_attributes(node: Node) -> str:
    attributes = [f"label={quote(_text(node.lines))}"]
    if node.kind == INPUT:
        attributes.append('shape=ellipse, style=filled, fillcolor="#eef4ff"')
    elif node.kind == KEY:
        attributes.append('shape=parallelogram, style=filled, fillcolor="#fff6dd"')
    else:
        if GUARDED in node.classes:
            attributes.append("shape=hexagon")
        elif MAPPED in node.classes:
            attributes.append("shape=box3d")
        if MAPPED in node.classes:
            attributes.append('fillcolor="#f6efff"')
        if JOIN_ALL in node.classes:
            attributes.append("penwidth=3")
        if JOIN_ANY in node.classes:
            attributes.append('penwidth=3, style="rounded,filled,dashed"')
    return ", ".join(attributes)


def _text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines)


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string: backslashes and quotes escaped, line
    breaks as ``\\n``, other control characters shown escaped."""
    out = ['"']
    for char in text:
        if char == "\n":
            out.append("\\n")
        elif char in '\\"':
            out.append("\\" + char)
        elif not char.isprintable():
            out.append(repr(char)[1:-1].replace("\\", "\\\\"))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
