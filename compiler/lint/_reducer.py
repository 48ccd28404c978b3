"""Reading reducers: ``Workflow(..., reducers={...})`` and ``wf.reducer(key, fn, ...)``."""

from __future__ import annotations

import ast

from compiler import ReducerSpec, SourceLocation

from ._decorators import last_name
from ._eval import describe, evaluate
from ._state import Builder, ReadState

#: Built-in reducers whose fold starts from an empty list or dict without ``initial=``.
STARTS_EMPTY = frozenset({"reducers.append", "reducers.extend", "reducers.merge"})


def reducer_dict(state: ReadState, builder: Builder, node: ast.expr) -> None:
    """``reducers={"key": fn, ...}``, literally or through a module-level constant."""
    if isinstance(node, ast.Name):
        bound = state.module.constant(node)
        if isinstance(bound, ast.Dict):
            node = bound
    if not isinstance(node, ast.Dict):
        builder.unsure_reducers = True
        state.skip(f"workflow '{builder.name}': reducers={describe(node)} is not "
                   "followed, so no reducer is known; write the dict literally",
                   builder.location, workflow=builder.name)
        return
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        if key_node is None:
            builder.unsure_reducers = True
            state.skip(f"workflow '{builder.name}': reducers={{**{describe(value_node)}}} "
                       "is not followed", builder.location, workflow=builder.name)
            continue
        _add_reducer(state, builder, key_node, value_node, False, builder.location)


def reducer_call(state: ReadState, builder: Builder, call: ast.Call) -> None:
    """``wf.reducer("key", fn, initial=...)``."""
    where = state.module.line_location(call.lineno)
    arguments: list[ast.expr] = list(call.args)
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    for name in ("key", "fn"):
        if name in keywords:
            arguments.append(keywords[name])
    if len(arguments) < 2 or any(isinstance(a, ast.Starred) for a in arguments):
        builder.unsure_reducers = True
        state.skip(f"workflow '{builder.name}': {describe(call)} is not followed; write "
                   "wf.reducer(\"key\", fn)", where, workflow=builder.name)
        return
    has_initial = "initial" in keywords or len(call.args) > 2
    _add_reducer(state, builder, arguments[0], arguments[1], has_initial, where)


def _add_reducer(state: ReadState, builder: Builder, key_node: ast.expr, fn: ast.expr,
                 has_initial: bool, where: SourceLocation) -> None:
    key = evaluate(state.module, key_node)
    if not isinstance(key, str):
        builder.unsure_reducers = True
        state.skip(f"workflow '{builder.name}': the reducer key {describe(key_node)} is "
                   "not followed, so that reducer is not known; use a string literal",
                   where, workflow=builder.name)
        return
    if state.module.dsl_name(fn) in STARTS_EMPTY:
        has_initial = True
    # a later reducer for the same key replaces the earlier one, as at run time
    builder.reducers = [r for r in builder.reducers if r.key != key]
    builder.reducers.append(ReducerSpec(key=key, name=last_name(fn), has_initial=has_initial,
                                        result=None, location=where))
