"""The runtime front end: reads live functions into the compiler's IR.

It records facts only (signature, options, annotations, where the ``def`` is); the
compiler's passes judge them, exactly as for the static front end of ``spectra-lint``.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import re
import sys
import types
from collections.abc import Callable, Mapping

import typing_extensions

from compiler import (
    GuardSpec,
    ParameterSpec,
    ParamKind,
    RetrySpec,
    SourceLocation,
    StepKind,
    StepSpec,
    TypeExpr,
)

from ._control import Match, Retry, guard_reads
from ._step import StepOptions

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: ParamKind.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: ParamKind.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.VAR_POSITIONAL: ParamKind.VAR_POSITIONAL,
    inspect.Parameter.KEYWORD_ONLY: ParamKind.KEYWORD_ONLY,
    inspect.Parameter.VAR_KEYWORD: ParamKind.VAR_KEYWORD,
}


def step_kind(fn: object) -> StepKind:
    """What the marked object is, as one of the IR's step kinds."""
    if type(fn) is types.FunctionType:  # the common case, read straight from the code
        flags = fn.__code__.co_flags
        if flags & inspect.CO_ASYNC_GENERATOR:
            return StepKind.ASYNC_GENERATOR
        if flags & inspect.CO_GENERATOR:
            return StepKind.GENERATOR
        if flags & inspect.CO_COROUTINE or inspect.iscoroutinefunction(fn):
            return StepKind.ASYNC_FUNCTION
        return StepKind.SYNC_FUNCTION
    if inspect.isclass(fn):
        return StepKind.CLASS
    if inspect.isasyncgenfunction(fn):
        return StepKind.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(fn):
        return StepKind.GENERATOR
    if inspect.iscoroutinefunction(fn):
        return StepKind.ASYNC_FUNCTION
    if inspect.isfunction(fn) or inspect.ismethod(fn):
        return StepKind.SYNC_FUNCTION
    if isinstance(fn, functools.partial):  # of a plain function: it runs in a thread
        return StepKind.SYNC_FUNCTION if step_kind(fn.func) is StepKind.SYNC_FUNCTION else (
            StepKind.OTHER)
    return StepKind.OTHER


def _indent_column(line: str) -> int:
    return len(line) - len(line.lstrip()) + 1


def call_site(depth: int) -> SourceLocation | None:
    """The caller's file and line, ``depth`` frames up, with the line's indentation."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return None
    file, line = frame.f_code.co_filename, frame.f_lineno
    return SourceLocation(file, line, _indent_column(linecache.getline(file, line)))


def def_location(fn: object) -> SourceLocation | None:
    """File, line and column of ``fn``'s ``def`` (not of its first decorator); a
    ``functools.partial``'s is its function's."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if type(fn) is types.FunctionType and "__wrapped__" not in fn.__dict__:
        target: object = fn  # the common case: nothing to unwrap
    else:
        target = inspect.unwrap(fn) if callable(fn) else fn
    code = getattr(target, "__code__", None)
    name = getattr(target, "__name__", None)
    if code is None or name is None:
        if inspect.isclass(target):
            try:
                file = inspect.getsourcefile(target) or ""
                start = inspect.findsource(target)[1] + 1
            except (OSError, TypeError):
                return None
            return _scan(file, start, _CLASS, name or "")
        return None
    file, first = code.co_filename, code.co_firstlineno
    lines = linecache.getlines(file)
    if 0 < first <= len(lines):  # the common case: no decorator above the def
        text = lines[first - 1]
        found = _DEF.match(text)
        if found is not None and found.group(1) == name:
            return SourceLocation(file, first, len(text) - len(text.lstrip()) + 1)
    return _scan(file, first, _DEF, name) or SourceLocation(file, first, 1)


#: A ``def`` or ``class`` line and the name it defines, compiled once: a pattern per
#: name overflowed ``re``'s cache on large workflows and was recompiled for every step.
_DEF = re.compile(r"\s*(?:async\s+)?def\s+(\w+)")
_CLASS = re.compile(r"\s*class\s+(\w+)")


def _scan(file: str, start: int, pattern: re.Pattern[str], name: str) -> SourceLocation | None:
    lines = linecache.getlines(file)
    for number in range(start, min(start + 200, len(lines) + 1)):
        text = lines[number - 1]
        found = pattern.match(text)
        if found is not None and found.group(1) == name:
            return SourceLocation(file, number, _indent_column(text))
    return None


def _hints(fn: Callable[..., object]) -> dict[str, object]:
    try:  # typing_extensions': it strips NotRequired/Required/ReadOnly on every Python
        return typing_extensions.get_type_hints(fn)
    except Exception:  # unresolvable forward references: read them as text
        return dict(getattr(fn, "__annotations__", {}) or {})


@functools.lru_cache(maxsize=4096)
def _from_text(text: str) -> TypeExpr | None:
    return TypeExpr.from_source(text)


def _annotation(value: object) -> TypeExpr | None:
    """An annotation as the IR sees it.  Text (``from __future__ import annotations``)
    is read as source, exactly as ``spectra-lint`` reads it, never evaluated."""
    if isinstance(value, str):
        return _from_text(value)
    return TypeExpr.from_runtime(value)


def _raw_annotations(fn: Callable[..., object]) -> dict[str, object]:
    if type(fn) is types.FunctionType:  # the common case: read, never changed here
        return fn.__annotations__
    try:
        found = inspect.get_annotations(fn)
    except TypeError:
        found = getattr(fn, "__annotations__", None) or {}
    return dict(found)


def _typed_dict_fields(annotation: object) -> Mapping[str, TypeExpr] | None:
    if not typing_extensions.is_typeddict(annotation):  # typing's or typing_extensions'

        return None
    fields: dict[str, TypeExpr] = {}
    for key, value in _hints(annotation).items():  # type: ignore[arg-type]
        converted = TypeExpr.from_runtime(value)
        if converted is not None:
            fields[key] = converted
    return fields


_VARIADIC = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS

#: Attributes that make ``inspect.signature`` look past a function's own code.
_SIGNATURE_OVERRIDES = frozenset({"__wrapped__", "__signature__", "_partialmethod",
                                  "__partialmethod__", "__text_signature__"})


def parameters(fn: Callable[..., object]) -> list[tuple[str, ParamKind, bool]]:
    """``(name, kind, has_default)`` of each parameter, as ``inspect.signature`` says.

    A plain function's are read from its code object, as ``inspect`` itself does, but
    at a tenth of the cost (it matters on workflows of thousands of steps); anything
    else (wrapped, partial, bound, with ``__signature__``) goes through ``inspect``.
    """
    if type(fn) is not types.FunctionType or not _SIGNATURE_OVERRIDES.isdisjoint(fn.__dict__):
        return [(p.name, _KINDS[p.kind], p.default is not inspect.Parameter.empty)
                for p in inspect.signature(fn).parameters.values()]
    code = fn.__code__
    if not (code.co_posonlyargcount or code.co_kwonlyargcount or fn.__defaults__
            or code.co_flags & _VARIADIC):  # the common case: plain named parameters
        return [(name, ParamKind.POSITIONAL_OR_KEYWORD, False)
                for name in code.co_varnames[:code.co_argcount]]
    names = code.co_varnames
    positional = code.co_argcount
    keyword_only = code.co_kwonlyargcount
    defaults = fn.__defaults__ or ()
    first_default = positional - len(defaults)
    found: list[tuple[str, ParamKind, bool]] = []
    for index in range(positional):
        kind = (ParamKind.POSITIONAL_ONLY if index < code.co_posonlyargcount
                else ParamKind.POSITIONAL_OR_KEYWORD)
        has_default = (index >= first_default
                       and defaults[index - first_default] is not inspect.Parameter.empty)
        found.append((names[index], kind, has_default))
    rest = positional + keyword_only
    if code.co_flags & inspect.CO_VARARGS:
        found.append((names[rest], ParamKind.VAR_POSITIONAL, False))
        rest += 1
    kwdefaults = fn.__kwdefaults__ or {}
    for name in names[positional:positional + keyword_only]:
        default = kwdefaults.get(name, inspect.Parameter.empty)
        found.append((name, ParamKind.KEYWORD_ONLY, default is not inspect.Parameter.empty))
    if code.co_flags & inspect.CO_VARKEYWORDS:
        found.append((names[rest], ParamKind.VAR_KEYWORD, False))
    return found


def read_step(fn: object, options: StepOptions) -> StepSpec:
    """Describe one step in the IR, from the object and the options it was marked with."""
    kind = step_kind(fn)
    name = options.name
    if name is None:
        name = getattr(fn, "__name__", None)
        if name is None:  # not formatted unless needed: a repr costs more than a lookup
            name = repr(fn)
    params: tuple[ParameterSpec, ...] = ()
    returns: TypeExpr | None = None
    fields: Mapping[str, TypeExpr] | None = None
    if kind not in (StepKind.CLASS, StepKind.OTHER) and callable(fn):
        hints = _raw_annotations(fn)
        params = tuple([
            ParameterSpec(param, param_kind, has_default,
                          _annotation(hints[param]) if param in hints else None)
            for param, param_kind, has_default in parameters(fn)
        ])
        if "return" in hints:
            returns = _annotation(hints["return"])
            if options.writes is not None and len(options.writes) > 1:
                # A multi-key writer: a TypedDict return names each key's type.
                fields = _typed_dict_fields(_hints(fn).get("return"))
    return StepSpec(
        name=name,
        params=params,
        writes=options.writes,  # type: ignore[arg-type]  # the pass checks the elements
        join=options.join,
        kind=kind,
        location=def_location(fn),
        returns=returns,
        returns_fields=fields,
        guard=None if options.when is None else read_guard(options.when),
        retry=None if options.retry is None else read_retry(options.retry),
        timeout=options.timeout,
        map=options.map,  # type: ignore[arg-type]  # SPX501 checks the elements
        concurrency=options.concurrency,
        after=options.after,  # type: ignore[arg-type]  # SPX005 checks the elements
        ask=options.ask,
        durable=options.durable,
        executor=options.executor,
    )


def read_guard(guard: object) -> GuardSpec | None:
    """A ``when=`` guard in the IR: the keys it reads and, for ``match``, its pairs."""
    if guard is None:
        return None
    if isinstance(guard, Match):
        return GuardSpec(guard.reads, guard.pairs, negated=guard.negated)
    name = getattr(guard, "__name__", None)
    return GuardSpec(guard_reads(guard), name=name if isinstance(name, str) else None)


def read_retry(retry: object) -> RetrySpec | None:
    """A ``Retry`` in the IR, its numbers as given (SPX403 judges them)."""
    if not isinstance(retry, Retry):
        return None
    return RetrySpec(retry.attempts, retry.backoff, retry.factor, retry.jitter)
