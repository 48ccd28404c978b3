"""SPX902 for workflows built, or steps registered, where the readers do not look.

A workflow built in a method, a loop or an ``if`` block, and ``wf.step``/``wf.reducer``
/``wf.add`` calls or ``@wf.step`` decorators there, are reported once each, naming the
function or block, so nothing is skipped silently.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ._classify import MarkerKind, decorator_marker
from ._eval import describe
from ._model import DefNode
from ._state import Builder, ReadState

#: The methods of a workflow that change it.
WORKFLOW_METHODS = ("step", "reducer", "add")


def report_unfollowed(state: ReadState, variables: dict[str, list[Builder]]) -> None:
    """SPX902 for each ``Workflow(...)`` call or change of a workflow bound to one of
    ``variables`` that the readers did not handle (such a workflow is incomplete)."""
    module = state.module
    words = {name for name in (*module.dsl, *variables) if name}
    if not words:
        return
    mentions = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")
    lines = module.lines
    roots: list[tuple[str, ast.AST]] = []
    for statement in module.tree.body:
        inside = statement.body if isinstance(statement, DefNode) else [statement]
        if not inside:
            continue
        decorators = getattr(inside[0], "decorator_list", [])
        first = min([inside[0].lineno, *(d.lineno for d in decorators)])
        last = statement.end_lineno or statement.lineno
        if mentions.search("\n".join(lines[first - 1:last])):
            roots.extend((scope_name(statement), node) for node in inside)
    top_level = {id(statement) for statement in module.tree.body}
    for scope, node in ((scope, n) for scope, root in roots for n in walk(root)):
        if isinstance(node, ast.Call) and id(node) not in state.handled:
            if module.dsl_name(node.func) == "Workflow":
                state.handled.add(id(node))
                state.skip(
                    f"{_short_call(node)} is built inside {scope}, where spectra-lint "
                    "does not follow it; assign it to a name at module level or at the "
                    "top of a function (wf = Workflow(...)) to have it checked",
                    module.line_location(node.lineno))
            elif (isinstance(node.func, ast.Attribute)
                  and node.func.attr in WORKFLOW_METHODS
                  and isinstance(node.func.value, ast.Name)
                  and node.func.value.id in variables):
                state.handled.add(id(node))
                for builder in variables[node.func.value.id]:
                    if node.func.attr == "reducer":
                        builder.unsure_reducers = True
                    else:
                        builder.incomplete = True
                state.skip(
                    f"{describe(node.func)}(...) inside {scope} is not followed (only "
                    "module-level statements are); its workflow is checked without it",
                    module.line_location(node.lineno))
        elif isinstance(node, DefNode) and id(node) not in top_level:
            for decorator in node.decorator_list:
                marker = decorator_marker(module, decorator, lambda name: name.id in variables)
                if (marker is None or marker.kind is not MarkerKind.WORKFLOW
                        or marker.workflow is None or id(decorator) in state.handled):
                    continue
                if marker.call is not None:
                    state.handled.add(id(decorator))
                _incomplete(variables[marker.workflow])
                state.skip(f"step '{node.name}' is registered with @"
                           f"{describe(marker.target)} inside {scope}, which spectra-lint "
                           "does not follow; its workflow is checked without it",
                           module.location(node), steps=(node.name,))


def _incomplete(builders: list[Builder]) -> None:
    for builder in builders:
        builder.incomplete = True


def _short_call(call: ast.Call) -> str:
    """``Workflow('name', ...)``: a call named by its first argument."""
    first = describe(call.args[0], 30) if call.args else ""
    rest = len(call.args) + len(call.keywords) > (1 if call.args else 0)
    inside = f"{first}, ..." if rest and first else ("..." if rest else first)
    return f"{describe(call.func, 30)}({inside})"


_BLOCK_KEYWORDS: dict[type[ast.AST], str] = {
    ast.If: "if", ast.For: "for", ast.AsyncFor: "async for", ast.While: "while",
    ast.With: "with", ast.AsyncWith: "async with", ast.Try: "try",
}


def scope_name(statement: ast.stmt) -> str:
    """How a message names a top-level statement: "function 'build'", "a 'for' block"."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return f"function '{statement.name}'"
    if isinstance(statement, ast.ClassDef):
        return f"class '{statement.name}'"
    keyword = _BLOCK_KEYWORDS.get(type(statement))
    if keyword is None:
        return "an expression"
    article = "an" if keyword[0] in "aeiou" else "a"
    return f"{article} '{keyword}' block"


def walk(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``tree`` (iterative, so deep trees cannot overflow the stack)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))
