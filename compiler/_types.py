"""A small, front-end independent view of type annotations, for the SPX301 check.

Both front ends turn an annotation into a :class:`TypeExpr`: the runtime one from a live
annotation object, the static one from source text.  :func:`fits` then answers whether a
producer's return type fits a consumer's parameter type with ``True``, ``False`` or
``None`` when it cannot decide; only a sure ``False`` is reported.
"""

from __future__ import annotations

import ast
import builtins
import types
import typing

import attrs

ANY = "Any"
UNION = "Union"
NONE = "None"

_BUILTIN_NAMES = frozenset(
    {
        "int", "float", "complex", "bool", "str", "bytes", "bytearray",
        "list", "dict", "set", "frozenset", "tuple", "object", NONE,
    }
)
#: ``typing`` aliases and ABCs spelled in other ways, mapped to the builtin they mean.
_ALIASES = {
    "List": "list", "Dict": "dict", "Set": "set", "FrozenSet": "frozenset",
    "Tuple": "tuple", "NoneType": NONE, "Text": "str",
}
#: A producer of the key fits a consumer of the value: ``bool`` is an ``int`` is a ...
_NUMERIC_TOWER = ("bool", "int", "float", "complex")


@attrs.frozen
class TypeExpr:
    """A type as a name and arguments: ``list[str]`` is ``TypeExpr("list", (str,))``."""

    name: str
    args: tuple[TypeExpr, ...] = ()

    def __str__(self) -> str:
        if self.name == UNION:
            return " | ".join(str(a) for a in self.args)
        if not self.args:
            return self.name
        return f"{self.name}[{', '.join(str(a) for a in self.args)}]"

    @classmethod
    def from_source(cls, text: str) -> TypeExpr | None:
        """An annotation written as text (``"list[str]"``); ``None`` if not understood."""
        return from_source(text)

    @classmethod
    def from_runtime(cls, annotation: object) -> TypeExpr | None:
        """A live annotation object (``list[str]``); ``None`` if not understood."""
        return from_runtime(annotation)


def _union(members: list[TypeExpr]) -> TypeExpr:
    flat: list[TypeExpr] = []
    for member in members:
        flat.extend(member.args if member.name == UNION else (member,))
    return flat[0] if len(flat) == 1 else TypeExpr(UNION, tuple(flat))


def from_ast(node: ast.expr | None) -> TypeExpr | None:
    """Read an annotation expression; ``None`` for anything not understood."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return TypeExpr(NONE)
        if isinstance(node.value, str):
            return from_source(node.value)
        return None
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return TypeExpr(_ALIASES.get(name, name))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = from_ast(node.left), from_ast(node.right)
        return None if left is None or right is None else _union([left, right])
    if isinstance(node, ast.Subscript):
        base = from_ast(node.value)
        if base is None:
            return None
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base.name in ("Literal", "Annotated"):
            return None
        if any(isinstance(item, ast.Constant) and item.value is Ellipsis for item in items):
            return TypeExpr(base.name)
        args = [from_ast(item) for item in items]
        if any(arg is None for arg in args):
            return TypeExpr(base.name)
        known = [arg for arg in args if arg is not None]
        if base.name == UNION:
            return _union(known)
        if base.name == "Optional":
            return _union([*known, TypeExpr(NONE)])
        return TypeExpr(base.name, tuple(known))
    return None


def from_source(text: str) -> TypeExpr | None:
    """Read an annotation written as a string (a forward reference)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    return from_ast(tree.body)


def from_runtime(annotation: object) -> TypeExpr | None:
    """Read a live annotation object; ``None`` for anything not understood."""
    if annotation is None or annotation is type(None):
        return TypeExpr(NONE)
    if annotation is typing.Any:
        return TypeExpr(ANY)
    if isinstance(annotation, str):
        return from_source(annotation)
    origin = typing.get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type):
            name = annotation.__qualname__
            return TypeExpr(_ALIASES.get(name, name))
        return None
    if origin in (typing.Literal, typing.Annotated):
        return None
    args = typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [from_runtime(arg) for arg in args]
        if any(member is None for member in members):
            return None
        return _union([m for m in members if m is not None])
    base = from_runtime(origin)
    if base is None:
        return None
    if Ellipsis in args:
        return base
    converted = [from_runtime(arg) for arg in args]
    if any(arg is None for arg in converted):
        return base
    return TypeExpr(base.name, tuple(a for a in converted if a is not None))


def _is_builtin(name: str) -> bool:
    return name in _BUILTIN_NAMES and (name == NONE or hasattr(builtins, name))


def fits(produced: TypeExpr, consumed: TypeExpr) -> bool | None:
    """Does a value of type ``produced`` fit a parameter of type ``consumed``?

    ``True`` or ``False`` when the answer is sure, ``None`` when it cannot be decided
    (user classes, protocols, anything outside the builtin types).
    """
    if consumed.name in (ANY, "object") or produced.name == ANY:
        return True
    if produced.name == UNION:
        answers = [fits(member, consumed) for member in produced.args]
        if False in answers:
            return False
        return None if None in answers else True
    if consumed.name == UNION:
        answers = [fits(produced, member) for member in consumed.args]
        if True in answers:
            return True
        return None if None in answers else False
    if produced.name != consumed.name:
        if _is_builtin(produced.name) and _is_builtin(consumed.name):
            if produced.name in _NUMERIC_TOWER and consumed.name in _NUMERIC_TOWER:
                return _NUMERIC_TOWER.index(produced.name) <= _NUMERIC_TOWER.index(
                    consumed.name
                )
            return False
        return None
    if not produced.args or not consumed.args or len(produced.args) != len(consumed.args):
        return True
    answers = [fits(p, c) for p, c in zip(produced.args, consumed.args, strict=True)]
    if False in answers:
        return False
    return None if None in answers else True
