"""What a decorator applied under a step marker makes of the function.

``functools.cache`` returns no function (SPX001 at compile); ``typing.final`` returns the
function itself; a decorator of the tree that returns its argument or a
``functools.wraps`` wrapper is read as the def; anything else is not followed.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator

from ._eval import describe
from ._model import BindingKind, FunctionNode, ImportRef, Module


class Verdict(enum.Enum):
    """What a decorator returns."""

    TRANSPARENT = "transparent"        #: the function, or a wraps()-wrapper of it
    NOT_A_FUNCTION = "not a function"  #: something that is no function
    UNKNOWN = "unknown"                #: not followed


#: Decorators that return the function itself.
TRANSPARENT_DECORATORS = frozenset({
    "typing.final", "typing.no_type_check", "typing.override", "typing_extensions.final",
    "typing_extensions.override", "abc.abstractmethod", "dataclasses.dataclass",
})
#: Decorators whose result is no function (SPX001 at compile).
NOT_FUNCTION_DECORATORS = frozenset({
    "functools.cache", "functools.lru_cache", "staticmethod", "classmethod",
    "builtins.staticmethod", "builtins.classmethod",
})


def external_name(module: Module, node: ast.expr) -> str | None:
    """``functools.cache`` for ``functools.cache``, ``cache`` (from functools import
    cache) or ``ft.cache`` (import functools as ft); a bare unbound name as itself."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    bound = module.binding(node.id, node.lineno)
    if bound is None:
        parts.append(node.id)  # a builtin
    elif (bound.kind is BindingKind.IMPORT and isinstance(bound.value, ImportRef)
          and bound.value.level == 0):
        ref = bound.value
        parts.append(ref.module if ref.name is None else f"{ref.module}.{ref.name}")
    else:
        return None
    return ".".join(reversed(parts))


def verdict(module: Module, decorator: ast.expr) -> Verdict:
    """Whether ``decorator`` returns the function itself, a wrapper made with
    ``functools.wraps`` (both read as the def), no function, or is not followed."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call is not None else decorator
    external = external_name(module, target)
    if external in NOT_FUNCTION_DECORATORS:
        return Verdict.NOT_A_FUNCTION
    if call is None and external in TRANSPARENT_DECORATORS:
        return Verdict.TRANSPARENT
    if call is not None:
        return Verdict.UNKNOWN
    found = module.lookup(target)
    if found is None or not isinstance(found[1], ast.FunctionDef):
        return Verdict.UNKNOWN
    function = found[1]
    arguments = [*function.args.posonlyargs, *function.args.args]
    returns = [n for n in own_nodes(function) if isinstance(n, ast.Return)]
    if arguments and returns and all(
            isinstance(r.value, ast.Name) and r.value.id == arguments[0].arg for r in returns):
        return Verdict.TRANSPARENT  # def deco(fn): ...; return fn
    for inner in function.body:
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                last_name(d) == "wraps" for d in inner.decorator_list):
            return Verdict.TRANSPARENT
    return Verdict.UNKNOWN


def own_nodes(function: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of ``function``'s own body (not of functions or classes inside it)."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                          | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


def last_name(node: ast.expr) -> str:
    """``append`` for ``reducers.append`` or ``reducers.append(...)``: the name a
    message shows for a callable."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Lambda):
        return "<lambda>"
    return describe(node, 30)
