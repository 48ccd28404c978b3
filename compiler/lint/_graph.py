"""``spectra-lint --graph mermaid|dot``: draw a module's workflows from source alone.

Each workflow the static front end reads is compiled by the same passes and lowered to
the same graph as ``Workflow.compile()``, then drawn by the same code as
``Plan.to_mermaid()`` / ``Plan.to_dot()``: the text is identical to the plan's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

import attrs

from compiler import ExecutionGraph, compile_workflow, draw_dot, draw_mermaid
from compiler._draw import reducer_names
from compiler._gc import paused_gc

from ._discover import discover
from ._engine import analyse_file
from ._loader import Loader
from ._source import shown

#: The drawing formats, by the name ``--graph`` takes.
DRAWERS: Mapping[str, Callable[[ExecutionGraph, Mapping[str, str]], str]] = {
    "mermaid": draw_mermaid,
    "dot": draw_dot,
}


@attrs.frozen
class Drawings:
    """The drawings of the workflows found (in file, then source order) as
    ``(workflow name, text)``, what the user should know about them, and how many
    workflows asked for were not drawn (they have compile errors)."""

    drawings: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]
    not_drawn: int = 0


def draw_paths(paths: Sequence[str], fmt: str, workflow: str | None = None,
               exclude: Sequence[str] = ()) -> Drawings:
    """Draw every workflow (or only those named ``workflow``) of the files under
    ``paths`` in ``fmt`` (``"mermaid"`` or ``"dot"``), without importing them."""
    draw = DRAWERS[fmt]
    drawings: list[tuple[str, str]] = []
    problems: list[str] = []
    not_drawn = 0
    loader = Loader()
    found = False
    with paused_gc():
        for path in discover(paths, exclude):
            analysis = analyse_file(path, loader)
            problems.extend(f"{shown(path)}: {d.message}" for d in analysis.diagnostics
                            if d.code == "SPX901")
            for static in analysis.workflows:
                spec = static.spec
                if workflow is not None and spec.name != workflow:
                    continue
                found = True
                where = f"workflow '{spec.name}' in {shown(path)}"
                compiled = compile_workflow(spec)
                if compiled.graph is None:
                    problems.append(f"{where} has errors, so it is not drawn; run "
                                    f"spectra-lint {shown(path)} to see them")
                    not_drawn += 1
                    continue
                if static.incomplete or static.unsure_order:
                    problems.append(f"{where}: some steps or after= were not followed "
                                    "from the source; the drawing may miss them")
                drawings.append((spec.name,
                                 draw(compiled.graph, reducer_names(spec.reducers))))
    if not found:
        named = f"no workflow named '{workflow}'" if workflow is not None else "no workflow"
        problems.append(f"{named} found in {', '.join(shown(p) for p in paths)}")
    return Drawings(tuple(drawings), tuple(problems), not_drawn)


def run_graph(paths: Sequence[str], fmt: str, workflow: str | None,
              write: Callable[[str], None]) -> int:
    """The ``--graph`` command: ``write`` the drawings (a blank line between two), say on
    standard error why any workflow was not drawn; exit status 1 if one was not, or
    nothing was drawn, else 0."""
    result = draw_paths(paths, fmt, workflow)
    if result.drawings:
        write("\n".join(text for _, text in result.drawings))
    for problem in result.problems:
        sys.stderr.write(f"spectra-lint: {problem}\n")
    return 1 if result.not_drawn or not result.drawings else 0
