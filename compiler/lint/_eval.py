"""Constant folding for the static front end: the values a linter can know without running.

:func:`evaluate` turns an option's expression into the value the runtime would see, or
:data:`UNKNOWN` when the value depends on anything but literals, module-level constants,
``Join`` members, the ``Retry``/``match`` constructors (and ``~match(...)``) and sets
(``{"a", "b"}``, ``frozenset(...)``, read as a ``frozenset``).  It never guesses: a caller
that gets :data:`UNKNOWN` reports SPX902 naming what it skipped.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

import attrs

from compiler import GuardSpec, RetrySpec

from ._model import BindingKind, Module


class _Unknown:
    """The value of an expression the linter cannot evaluate."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

#: How deep an expression (and names bound to names, ``A = B``) is followed.
MAX_DEPTH = 24

_BINOPS: dict[type[ast.operator], Callable[[object, object], object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}

JOIN_MEMBERS = {"Join.ALL": "all", "Join.ANY": "any"}


def describe(node: ast.AST, limit: int = 60) -> str:
    """Source text of ``node``, shortened for a message."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):
        text = type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def evaluate(module: Module, node: ast.expr, depth: int = 0) -> object:
    """The value of ``node`` in ``module``, or :data:`UNKNOWN`."""
    if depth > MAX_DEPTH:
        return UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = [evaluate(module, item, depth + 1) for item in node.elts]
        if any(isinstance(item, ast.Starred) for item in node.elts) or UNKNOWN in items:
            return UNKNOWN
        return _frozen(items) if isinstance(node, ast.Set) else tuple(items)
    if isinstance(node, ast.Dict):
        result: dict[object, object] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                return UNKNOWN
            key = evaluate(module, key_node, depth + 1)
            value = evaluate(module, value_node, depth + 1)
            if key is UNKNOWN or value is UNKNOWN:
                return UNKNOWN
            try:
                result[key] = value
            except TypeError:
                return UNKNOWN
        return result
    if isinstance(node, ast.Name):
        return _evaluate_name(module, node.id, depth, node.lineno)
    if isinstance(node, ast.Attribute):
        dsl = module.dsl_name(node)
        if dsl in JOIN_MEMBERS:
            return JOIN_MEMBERS[dsl]
        return UNKNOWN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        operand = evaluate(module, node.operand, depth + 1)
        if isinstance(operand, GuardSpec) and operand.matches is not None:
            return attrs.evolve(operand, negated=not operand.negated)  # ~match(...)
        return UNKNOWN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = evaluate(module, node.operand, depth + 1)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
        return UNKNOWN
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left = evaluate(module, node.left, depth + 1)
        right = evaluate(module, node.right, depth + 1)
        numbers = (int, float)
        if isinstance(left, numbers) and isinstance(right, numbers):
            if not _small_enough(node.op, left, right):
                return UNKNOWN
            try:
                folded = _BINOPS[type(node.op)](left, right)
            except (ArithmeticError, ValueError):
                return UNKNOWN
            return folded if _bounded(folded) else UNKNOWN
        return UNKNOWN
    if isinstance(node, ast.Call):
        dsl = module.dsl_name(node.func)
        if dsl == "Retry":
            return _retry(module, node, depth)
        if dsl == "match":
            return _match(module, node, depth)
        if (isinstance(node.func, ast.Name) and node.func.id in _SET_TYPES
                and module.binding(node.func.id, node.lineno) is None):
            return _set_call(module, node, depth)
    return UNKNOWN


#: The builtins whose call on literal values the front end reads, as a ``frozenset``.
_SET_TYPES = ("frozenset", "set")


def _frozen(items: list[object]) -> object:
    """A frozenset of ``items``, or UNKNOWN when one cannot be hashed."""
    try:
        return frozenset(items)
    except TypeError:
        return UNKNOWN


def _set_call(module: Module, node: ast.Call, depth: int) -> object:
    """``frozenset({...})``, ``set(("a", "b"))``, ``frozenset()``: a frozenset."""
    if node.keywords or len(node.args) > 1:
        return UNKNOWN
    if not node.args:
        return frozenset()
    items = evaluate(module, node.args[0], depth + 1)
    if isinstance(items, tuple | frozenset):
        return _frozen(list(items))
    if isinstance(items, str | dict):
        return _frozen(list(items))
    return UNKNOWN


#: The largest integer (in bits) constant folding computes; anything bigger is UNKNOWN,
#: so ``9 ** 9 ** 9`` or ``1 << 10 ** 9`` cannot hang or exhaust memory.
MAX_INT_BITS = 4096


def _bounded(value: object) -> bool:
    return not isinstance(value, int) or value.bit_length() <= MAX_INT_BITS


def _small_enough(op: ast.operator, left: float, right: float) -> bool:
    """False when ``left <op> right`` could be too large to compute quickly."""
    if not (_bounded(left) and _bounded(right)):
        return False
    if isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
        if abs(left) <= 1:
            return True
        return right * max(abs(left).bit_length(), 1) <= MAX_INT_BITS
    if isinstance(op, ast.Mult) and isinstance(left, int) and isinstance(right, int):
        return left.bit_length() + right.bit_length() <= MAX_INT_BITS
    return True


def _evaluate_name(module: Module, name: str, depth: int, line: int | None = None) -> object:
    """The value of ``name`` as bound at ``line`` (None: its last binding)."""
    if depth > MAX_DEPTH:
        return UNKNOWN
    bound = module.binding(name, line)
    if bound is None:
        return UNKNOWN
    if bound.kind is BindingKind.CONSTANT and isinstance(bound.value, ast.expr):
        return evaluate(module, bound.value, depth + 1)
    target = module.follow_import(name, line)
    if target is not None:
        other, other_name = target
        if other_name is not None:
            return _evaluate_name(other, other_name, depth + 1)
    return UNKNOWN


#: ``Retry``'s fields in positional order; ``on`` (exception classes) is not in the IR.
RETRY_FIELDS = ("attempts", "backoff", "factor", "on", "jitter")


def _retry(module: Module, node: ast.Call, depth: int) -> object:
    if len(node.args) > len(RETRY_FIELDS) or any(isinstance(a, ast.Starred)
                                                 for a in node.args):
        return UNKNOWN
    given: dict[str, ast.expr] = dict(zip(RETRY_FIELDS, node.args, strict=False))
    for keyword in node.keywords:
        if keyword.arg is None:
            return UNKNOWN
        given[keyword.arg] = keyword.value
    values: dict[str, object] = {}
    for field, value_node in given.items():
        if field in ("attempts", "backoff", "factor", "jitter"):
            values[field] = evaluate(module, value_node, depth + 1)
    if UNKNOWN in values.values():
        return UNKNOWN
    return RetrySpec(**values)


def _match(module: Module, node: ast.Call, depth: int) -> object:
    if node.args:
        return UNKNOWN
    pairs: list[tuple[str, object]] = []
    for keyword in node.keywords:
        if keyword.arg is None:
            return UNKNOWN
        value = evaluate(module, keyword.value, depth + 1)
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, tuple) and _is_list(module, keyword.value):
            value = list(value)  # kept a list, as Match keeps it (compared with ==)
        pairs.append((keyword.arg, value))
    return GuardSpec(reads=tuple(k for k, _ in pairs), matches=tuple(pairs))


def _is_list(module: Module, node: ast.expr) -> bool:
    """``node`` is a list display, or a name bound to one."""
    if isinstance(node, ast.Name):
        bound = module.constant(node)
        node = bound if bound is not None else node
    return isinstance(node, ast.List)
