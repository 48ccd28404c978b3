"""Annotations for the static front end, read as the runtime front end sees them.

The runtime reads a step's raw annotations: without ``from __future__ import
annotations`` they are the objects the names were bound to when the ``def`` ran (so a
module-level alias ``Num = int`` is ``int``), with it they are the text as written.
TypedDict fields go through ``typing.get_type_hints``: names resolved at their last
binding, strings evaluated, ``NotRequired``/``Required``/``ReadOnly``/``Annotated``
stripped.  This module rewrites an annotation's ``ast`` the same way before
:func:`compiler._types.from_ast` reads it.
"""

from __future__ import annotations

import ast

from compiler import TypeExpr
from compiler._types import from_ast

from ._model import BindingKind, Module

#: How many aliases bound to aliases to follow.
MAX_ALIAS_DEPTH = 16
#: Qualifiers stripped from a TypedDict field, as ``typing_extensions.get_type_hints``
#: (what the runtime front end calls) strips them on every Python.
FIELD_QUALIFIERS = frozenset({"NotRequired", "Required", "ReadOnly"})


def raw_annotation(module: Module, node: ast.expr | None) -> TypeExpr | None:
    """A parameter or return annotation as the runtime front end reads it."""
    if node is None:
        return None
    if module.future_annotations:
        return from_ast(node)
    return from_ast(_resolve(module, node, line_aware=True, strings=False, depth=0))


def hinted(module: Module, node: ast.expr, *, field: bool = False) -> TypeExpr | None:
    """An annotation as ``typing.get_type_hints`` resolves it (``field``: a TypedDict
    field, whose ``NotRequired[...]``-like qualifier is stripped)."""
    resolved = _resolve(module, node, line_aware=False, strings=True, depth=0)
    if field:
        for _ in range(MAX_ALIAS_DEPTH):
            base = resolved.value if isinstance(resolved, ast.Subscript) else None
            name = base.id if isinstance(base, ast.Name) else (
                base.attr if isinstance(base, ast.Attribute) else None)
            if name not in FIELD_QUALIFIERS or not isinstance(resolved, ast.Subscript):
                break
            resolved = resolved.slice
    return from_ast(resolved)


def _resolve(module: Module, node: ast.expr, *, line_aware: bool, strings: bool,
             depth: int) -> ast.expr:
    """``node`` with each name bound to a module-level alias replaced by what it is
    bound to (and, with ``strings``, forward references parsed); ``Annotated[X, ...]``
    becomes ``X`` when resolving as ``get_type_hints`` does."""
    if depth > MAX_ALIAS_DEPTH:
        return node
    again = depth + 1
    if isinstance(node, ast.Constant) and strings and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except (SyntaxError, RecursionError, ValueError):
            return node
        return _resolve(module, parsed, line_aware=False, strings=strings, depth=again)
    if isinstance(node, ast.Name):
        return _resolve_name(module, node, line_aware=line_aware, strings=strings,
                             depth=again)
    if isinstance(node, ast.Subscript):
        value = _resolve(module, node.value, line_aware=line_aware, strings=strings,
                         depth=again)
        if strings and _last(value) == "Annotated":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return _resolve(module, items[0], line_aware=line_aware, strings=strings,
                            depth=again)
        inner = _resolve(module, node.slice, line_aware=line_aware, strings=strings,
                         depth=again)
        return ast.Subscript(value=value, slice=inner, ctx=ast.Load())
    if isinstance(node, ast.Tuple | ast.List):
        elements = [_resolve(module, e, line_aware=line_aware, strings=strings, depth=again)
                    for e in node.elts]
        return type(node)(elts=elements, ctx=ast.Load())
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return ast.BinOp(
            left=_resolve(module, node.left, line_aware=line_aware, strings=strings,
                          depth=again),
            op=node.op,
            right=_resolve(module, node.right, line_aware=line_aware, strings=strings,
                           depth=again))
    return node


def _resolve_name(module: Module, node: ast.Name, *, line_aware: bool, strings: bool,
                  depth: int) -> ast.expr:
    line = getattr(node, "lineno", None) if line_aware else None
    bound = module.binding(node.id, line)
    if bound is None:
        return node
    kind, value = bound.kind, bound.value
    if kind is BindingKind.CONSTANT and isinstance(value, ast.expr):
        return _resolve(module, value, line_aware=line_aware, strings=strings, depth=depth)
    if kind is BindingKind.DEFINITION and isinstance(value, ast.ClassDef):
        return ast.Name(id=value.name, ctx=ast.Load())
    if kind is BindingKind.IMPORT:
        target = module.follow_import(node.id, line)
        name = None if target is None else target[1]
        if target is not None and name is not None:
            other = target[0]
            found = other.binding(name, None)
            if (found is not None and found.kind is BindingKind.CONSTANT
                    and isinstance(found.value, ast.expr)):
                return _resolve(other, found.value, line_aware=False, strings=strings,
                                depth=depth + 1)
            if (found is not None and found.kind is BindingKind.DEFINITION
                    and isinstance(found.value, ast.ClassDef)):
                return ast.Name(id=found.value.name, ctx=ast.Load())
    return node


def _last(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
