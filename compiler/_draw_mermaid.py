"""Write a :class:`~compiler._draw.Drawing` as a Mermaid flowchart (GitHub renders it)."""

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

#: Characters written as Mermaid entity codes inside a quoted label (``#35;`` is ``#``);
#: ``%`` because Mermaid reads ``%%{...}%%`` as a directive anywhere in the text.
_ESCAPED = frozenset('"#<>&`;|%\\')
_STYLES = {
    INPUT: "fill:#eef4ff,stroke:#6b8cc7",
    KEY: "fill:#fff6dd,stroke:#c9a13b",
    JOIN_ALL: "stroke-width:3px",
    JOIN_ANY: "stroke-width:3px,stroke-dasharray:6 3",
    GUARDED: "fill:#f4fff0,stroke:#5a9a4a",
    MAPPED: "fill:#f6efff,stroke:#8a63c7",
}
_ARROWS = {RACE: "==>", AFTER: "-.->"}


def draw_mermaid(graph: ExecutionGraph, reducers: Mapping[str, str] | None = None) -> str:
    """A Mermaid flowchart of ``graph``; ``reducers`` maps each folded key to the name of
    its reducer (``Plan.to_mermaid()`` and ``spectra-lint --graph mermaid`` call this)."""
    return mermaid(layout(graph, reducers or {}))


def mermaid(drawing: Drawing) -> str:
    """The text of ``drawing`` as a Mermaid flowchart, one statement per line."""
    lines = ["flowchart TB"]
    classes: dict[str, list[str]] = {}
    _nodes(drawing.nodes, drawing.clusters, lines, classes, "    ")
    for edge in drawing.edges:
        arrow = _ARROWS.get(edge.style, "-->")
        label = f'|"{quote(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    for name, style in _STYLES.items():
        if name in classes:
            lines.append(f"    classDef {name} {style}")
            lines.append(f"    class {','.join(classes[name])} {name}")
    return "\n".join(lines) + "\n"


def _nodes(nodes: tuple[Node, ...], clusters: tuple[Cluster, ...], lines: list[str],
           classes: dict[str, list[str]], indent: str) -> None:
    """Declare ``nodes``, then each cluster as a subgraph, at any depth (no recursion)."""
    todo: list[tuple[Cluster | None, str]] = [(c, indent) for c in reversed(clusters)]
    _declare(nodes, lines, classes, indent)
    while todo:
        cluster, at = todo.pop()
        if cluster is None:
            lines.append(f"{at}end")
            continue
        lines.append(f'{at}subgraph {cluster.id} ["{_label(cluster.lines)}"]')
        _declare(cluster.nodes, lines, classes, at + "    ")
        todo.append((None, at))
        todo.extend((c, at + "    ") for c in reversed(cluster.clusters))


def _declare(nodes: tuple[Node, ...], lines: list[str], classes: dict[str, list[str]],
             indent: str) -> None:
    for node in nodes:
        lines.append(indent + _node(node))
        for name in (node.kind, *node.classes):
            if name in _STYLES:
                classes.setdefault(name, []).append(node.id)


def _node(node: Node) -> str:
    text = f'"{_label(node.lines)}"'
    if node.kind == INPUT:
        return f"{node.id}([{text}])"
    if node.kind == KEY:
        return f"{node.id}[/{text}/]"
    if GUARDED in node.classes:
        return f"{node.id}{{{{{text}}}}}"
    if MAPPED in node.classes:
        return f"{node.id}[[{text}]]"
    return f"{node.id}[{text}]"


def _label(lines: tuple[str, ...]) -> str:
    return "<br/>".join(quote(line) for line in lines)


def quote(text: str) -> str:
    """``text`` made safe inside a double-quoted Mermaid label: quotes, ``#``, angle
    brackets and the like as entity codes, control characters shown escaped."""
    out = []
    for char in text:
        if char in _ESCAPED:
            out.append(f"#{ord(char)};")
        elif not char.isprintable():
            out.append(repr(char)[1:-1].replace("\\", "#92;"))
        else:
            out.append(char)
    return "".join(out)
