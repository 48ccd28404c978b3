"""Fingerprints: has a step's code, or the plan's shape, changed since a run started?

A step's fingerprint hashes what its function does, not where it is written: the
bytecode, constants (nested functions and lambdas included), names, argument layout,
literal defaults and the literal values or functions it closes over.  Moving a function,
adding blank lines or comments, or renaming it leaves its fingerprint alone (a renamed
step is found as such); editing its body changes it.  Edits inside *other* functions
that a step calls are not seen: use ``rerun=`` for those.  Bytecode differs between
Python versions, so a run resumed under another Python reads as edited everywhere.
"""

from __future__ import annotations
import __future__

import enum
import functools
import hashlib
import operator
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

#: How deep closures and wrapped functions are followed.
MAX_DEPTH = 8

#: ``from __future__ import ...`` flags: they change no step's behaviour.
_FUTURE_FLAGS = functools.reduce(
    operator.or_, (getattr(__future__, name).compiler_flag
                   for name in __future__.all_feature_names), 0)

_LITERALS = (str, bytes, int, float, complex, bool, type(None), type(Ellipsis))


class _Hasher:
    def __init__(self) -> None:
        self.digest = hashlib.blake2b(digest_size=16)
        self.seen: set[int] = set()

    def put(self, tag: str, text: str | bytes = b"") -> None:
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        self.digest.update(f"{tag}:{len(data)}:".encode())
        self.digest.update(data)

    def value(self, value: Any, depth: int) -> None:
        """Feed a constant, default or closed-over value in a process-independent way."""
        if isinstance(value, _LITERALS):
            self.put(type(value).__name__, repr(value))
        elif isinstance(value, (tuple, list)):
            self.put(type(value).__name__, str(len(value)))
            for item in value:
                self.value(item, depth)
        elif isinstance(value, (frozenset, set)):
            self.put(type(value).__name__, str(len(value)))
            for text in sorted(_alone(item) for item in value):
                self.put("item", text)
        elif isinstance(value, dict):
            self.put("dict", str(len(value)))
            for text in sorted(_alone((k, v)) for k, v in value.items()):
                self.put("item", text)
        elif isinstance(value, types.CodeType):
            self.code(value, depth)
        elif isinstance(value, enum.Enum):
            self.put("enum", f"{type(value).__qualname__}.{value.name}")
        elif callable(value) and depth < MAX_DEPTH and id(value) not in self.seen:
            self.callable(value, depth + 1)
        else:  # an object: its type only (its repr may hold an address)
            self.put("object", f"{type(value).__module__}.{type(value).__qualname__}")

    def code(self, code: types.CodeType, depth: int) -> None:
        self.put("code", code.co_code)
        for field in ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount"):
            self.put(field, str(getattr(code, field)))
        self.put("co_flags", str(code.co_flags & ~_FUTURE_FLAGS))
        for field in ("co_names", "co_varnames", "co_freevars", "co_cellvars"):
            self.put(field, "\0".join(getattr(code, field)))
        table = getattr(code, "co_exceptiontable", b"")
        self.put("exceptions", table)
        self.put("consts", str(len(code.co_consts)))
        for const in code.co_consts:
            self.value(const, depth)

    def callable(self, fn: Any, depth: int) -> None:
        self.seen.add(id(fn))
        if isinstance(fn, functools.partial):
            self.put("partial")
            self.value(fn.func, depth)
            self.value(fn.args, depth)
            self.value(fn.keywords, depth)
            return
        if isinstance(fn, types.MethodType):
            self.put("method", type(fn.__self__).__qualname__)
            fn = fn.__func__
        code = getattr(fn, "__code__", None)
        call = None if isinstance(fn, type) else next(
            (vars(k)["__call__"] for k in type(fn).__mro__ if "__call__" in vars(k)), None)
        if isinstance(code, types.CodeType):
            self.code(code, depth)
            self.value(getattr(fn, "__defaults__", None) or (), depth)
            self.value(getattr(fn, "__kwdefaults__", None) or {}, depth)
            for cell in getattr(fn, "__closure__", None) or ():
                try:
                    self.value(cell.cell_contents, depth)
                except ValueError:  # an empty cell
                    self.put("empty-cell")
        elif isinstance(call, types.FunctionType):
            self.put("instance", type(fn).__qualname__)
            self.value(call, depth)
        else:
            name = getattr(fn, "__qualname__", type(fn).__qualname__)
            self.put("named", f"{getattr(fn, '__module__', '')}.{name}")
        wrapped = getattr(fn, "__wrapped__", None)
        if wrapped is not None and depth < MAX_DEPTH and id(wrapped) not in self.seen:
            self.put("wrapped")
            self.callable(wrapped, depth + 1)


def _alone(value: Any) -> str:
    hasher = _Hasher()
    hasher.value(value, MAX_DEPTH)
    return hasher.digest.hexdigest()


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """A 32-hex-digit fingerprint of what ``fn`` does (see the module docstring): the
    same in every process for the same code, different once its body is edited.
    Accepts functions, lambdas, ``functools.partial``, bound methods, decorated
    functions (``__wrapped__`` is followed) and callable objects."""
    hasher = _Hasher()
    hasher.callable(fn, 0)
    return hasher.digest.hexdigest()


#: What :func:`step_fingerprints` takes for a step: its function, a sub-workflow's body
#: (a mapping of the same kind), or a fingerprint already computed.
StepSource = Callable[..., Any] | Mapping[str, Any] | str


def step_fingerprints(steps: Mapping[str, StepSource]) -> dict[str, str]:
    """Each step's fingerprint, by name.  A sub-workflow step is given as the mapping
    of its body's steps: its own fingerprint hashes the whole body, and every step of
    the body is listed too as ``"sub/inner"``, so a change is reported where it is."""
    found: dict[str, str] = {}
    for name, source in steps.items():
        if isinstance(source, str):
            found[name] = source
        elif isinstance(source, Mapping):
            inner = step_fingerprints(source)
            for inner_name, print_ in inner.items():
                found[f"{name}/{inner_name}"] = print_
            found[name] = plan_fingerprint(inner)
        else:
            found[name] = code_fingerprint(source)
    return found


def plan_fingerprint(fingerprints: Mapping[str, str], shape: Any = None) -> str:
    """One fingerprint for a whole plan: its steps' fingerprints by name plus ``shape``,
    any nesting of tuples, lists, dicts, strings, numbers, enums and ``None`` that
    describes the graph (dependencies, joins, writes, reducers) as the caller sees it."""
    hasher = _Hasher()
    for name in sorted(fingerprints):
        hasher.put("step", name)
        hasher.put("print", fingerprints[name])
    hasher.put("shape")
    hasher.value(shape, MAX_DEPTH)
    return hasher.digest.hexdigest()


@attrs.frozen
class CodeChanges:
    """How a plan differs from the one a run started with.

    ``added`` and ``removed`` are step names only in the current or only in the stored
    plan; ``renamed`` pairs ``(old, new)`` of a removed and an added step with the same
    code; ``edited`` steps have the same name and other code.  ``plan_changed`` is true
    when the plan fingerprints differ (which any change above also causes; alone it means
    the graph's shape changed).  False when nothing changed.
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    edited: tuple[str, ...] = ()
    plan_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.edited
                    or self.plan_changed)

    @property
    def steps(self) -> tuple[str, ...]:
        """Every current step name that is new or differs (added, renamed-to, edited)."""
        return tuple(sorted({*self.added, *(new for _, new in self.renamed), *self.edited}))

    def lines(self) -> list[str]:
        """One line per change, e.g. ``"step 'fetch' was edited"``."""
        lines = [f"step '{old}' was renamed to '{new}'" for old, new in self.renamed]
        lines += [f"step '{name}' was edited" for name in self.edited]
        lines += [f"step '{name}' was added" for name in self.added]
        lines += [f"step '{name}' was removed" for name in self.removed]
        if not lines and self.plan_changed:
            lines.append("the graph's shape (dependencies, joins, writes) changed")
        return lines

    def __str__(self) -> str:
        return "; ".join(self.lines()) or "nothing changed"


def compare_fingerprints(
    stored: Mapping[str, str] | Iterable[tuple[str, str]],
    current: Mapping[str, str] | Iterable[tuple[str, str]],
    *, stored_plan: str | None = None, current_plan: str | None = None,
) -> CodeChanges:
    """What changed from ``stored`` step fingerprints (a run record's) to ``current``
    ones; with both plan fingerprints given, also whether the plan's shape changed."""
    old = dict(stored)
    new = dict(current)
    removed = [n for n in old if n not in new]
    added = [n for n in new if n not in old]
    edited = sorted(n for n in old if n in new and old[n] != new[n])
    renamed: list[tuple[str, str]] = []
    for name in list(removed):
        matches = [a for a in added if new[a] == old[name]]
        twins = [r for r in removed if old[r] == old[name]]
        if len(matches) == 1 and len(twins) == 1:
            renamed.append((name, matches[0]))
            removed.remove(name)
            added.remove(matches[0])
    plan_changed = (stored_plan is not None and current_plan is not None
                    and stored_plan != current_plan)
    return CodeChanges(added=tuple(sorted(added)), removed=tuple(sorted(removed)),
                       renamed=tuple(sorted(renamed)), edited=tuple(edited),
                       plan_changed=plan_changed)
