"""Checks of ``map=``, ``concurrency=`` and ``after=`` (SPX501, SPX502, SPX503, SPX005).

- SPX501: ``map=`` is empty, or names something that is no parameter of the step (for
  a sub-workflow, no input of its body).
- SPX502: the value mapped over is, by its producer's annotation, not iterable, a
  ``str``/``bytes``, or its elements do not fit the mapped parameter (silent where it
  cannot be decided, like SPX301).
- SPX503: ``concurrency=`` that is not a whole number of at least 1.
- SPX005: ``after=`` naming no step of the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import _ir as ir
from ._diagnostics import Diagnostic
from ._names import near_misses
from ._types import ANY, UNION, TypeExpr, fits

#: Iterables whose elements are their first type argument.
_ITERABLES = frozenset({
    "list", "set", "frozenset", "Sequence", "MutableSequence", "Iterable", "Iterator",
    "Collection", "AbstractSet", "MutableSet", "Set", "deque", "Generator", "Reversible",
    "KeysView", "ValuesView",
    # a mapping iterates over its keys
    "dict", "Mapping", "MutableMapping", "defaultdict", "OrderedDict", "Counter",
    "ChainMap",
})
#: Builtins that cannot be iterated over at all.
_NOT_ITERABLE = frozenset({"int", "float", "complex", "bool", "None", "object"})
#: Iterables of characters or bytes: almost never what a map means.
_CHARACTERS = {"str": "characters", "bytes": "bytes", "bytearray": "bytes"}


def _diag(code: str, message: str, step: ir.StepSpec, key: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, steps=(step.name,), key=key, location=step.location)


def produced_type(writer: ir.StepSpec, key: str) -> TypeExpr | None:
    """The type a step writes to ``key`` by its annotations: a mapped step writes the
    list of its calls' results."""
    if writer.writes is None or len(writer.keys_written) == 1:
        found = writer.returns
    else:
        found = None if writer.returns_fields is None else writer.returns_fields.get(key)
    if found is None or writer.map is None or writer.body is not None:
        return found
    return TypeExpr("list", (found,))


def mapped_names(step: ir.StepSpec) -> frozenset[str]:
    """The parameter names ``map=`` gives (as strings), for the other passes."""
    return frozenset(n for n in step.map or () if isinstance(n, str))


def check_options(steps: Sequence[ir.StepSpec]) -> list[Diagnostic]:
    """SPX501 (``map=`` names), SPX503 (``concurrency=``) and SPX005 (``after=``)."""
    found: list[Diagnostic] = []
    names: list[str] = []
    known: frozenset[str] = frozenset()
    key_writers: dict[str, str] = {}
    if any([step.after for step in steps]):  # the names after= is checked against
        names = [step.name for step in steps]
        known = frozenset(names)
        for step in steps:
            for key in step.keys_written:
                if isinstance(key, str):
                    key_writers.setdefault(key, step.name)
    for step in steps:
        if step.map is not None:
            found.extend(_check_map(step))
        concurrency = step.concurrency
        if concurrency is not None and (isinstance(concurrency, bool)
                                        or not isinstance(concurrency, int)
                                        or concurrency < 1):
            found.append(_diag(
                "SPX503", f"step '{step.name}' has concurrency={concurrency!r}; it must be "
                "a whole number of at least 1 (the most calls of this step at once), or "
                "None for no cap of its own", step))
        for name in step.after:
            if isinstance(name, str) and name in known:
                continue
            if not isinstance(name, str):
                found.append(_diag(
                    "SPX005", f"step '{step.name}' has after= holding {name!r}; after= "
                    "takes step names, such as after=('cleanup',)", step))
                continue
            if name in key_writers:
                hint = (f"'{name}' is a key written by step '{key_writers[name]}': name "
                        f"the step, after=('{key_writers[name]}',)")
            else:
                close = near_misses(name, names)
                hint = (f"did you mean '{close[0]}'?" if close
                        else "fix the name, or remove it from after=")
            found.append(_diag(
                "SPX005", f"step '{step.name}' runs after '{name}', but the workflow has "
                f"no step named '{name}'; {hint}", step, key=name))
    return found


def _check_map(step: ir.StepSpec) -> list[Diagnostic]:
    assert step.map is not None
    found: list[Diagnostic] = []
    sub = step.body is not None
    params = [p.name for p in step.params if p.kind not in (ir.VAR_POSITIONAL, ir.VAR_KEYWORD)]
    if not step.map:
        what = "one of its body's inputs" if sub else "one of its parameters"
        found.append(_diag(
            "SPX501", f"step '{step.name}' has map=() naming nothing to map over; name "
            f"{what}, such as map='{params[0] if params else 'items'}', or leave map= out",
            step))
        return found
    seen: set[str] = set()
    for name in step.map:
        if not isinstance(name, str):
            found.append(_diag(
                "SPX501", f"step '{step.name}' has map= holding {name!r}; map= takes "
                "parameter names, such as map='urls' or map=('a', 'b')", step))
            continue
        if name in seen:
            found.append(_diag(
                "SPX501", f"step '{step.name}' maps over '{name}' twice; list each "
                "parameter once in map=", step, key=name))
            continue
        seen.add(name)
        if name in params:
            continue
        close = near_misses(name, params)
        hint = f"did you mean '{close[0]}'? " if close else ""
        listed = ", ".join(f"'{p}'" for p in params) or "none"
        if sub:
            assert step.body is not None
            message = (f"sub-workflow step '{step.name}' has map='{name}', but workflow "
                       f"'{step.body.name}' takes no input '{name}' (its inputs: {listed}); "
                       f"{hint}map= names the input that receives one element")
        else:
            message = (f"step '{step.name}' has map='{name}', but it has no parameter "
                       f"'{name}' (its parameters: {listed}); {hint}map= names the "
                       "parameter that receives one element")
        found.append(_diag("SPX501", message, step, key=name))
    return found


def element_type(iterable: TypeExpr) -> TypeExpr | str | None:
    """The element type of values of type ``iterable``; a ``str`` saying why it is no
    fit for a map (not iterable, characters); ``None`` when it cannot be decided."""
    name = iterable.name
    if name == UNION:
        members = [element_type(member) for member in iterable.args]
        for member, elements in zip(iterable.args, members, strict=True):
            if isinstance(elements, str):
                return f"{elements} (when it is {member})"
        if any(m is None for m in members):
            return None
        return TypeExpr(UNION, tuple(m for m in members if isinstance(m, TypeExpr)))
    if name in _NOT_ITERABLE:
        return "is not iterable"
    if name in _CHARACTERS:
        return (f"is a {name}, whose {_CHARACTERS[name]} are almost never what a map "
                "means")
    if name in _ITERABLES:
        return iterable.args[0] if iterable.args else None
    if name == "tuple":
        if not iterable.args:
            return None
        return iterable.args[0] if len(set(iterable.args)) == 1 else TypeExpr(
            UNION, tuple(dict.fromkeys(iterable.args)))
    if name == "range":
        return TypeExpr("int")
    return None


def check_elements(
    steps: Sequence[ir.StepSpec], writers: Mapping[str, Sequence[int]],
    reducers: Sequence[ir.ReducerSpec],
) -> list[Diagnostic]:
    """SPX502: what a mapped parameter reads is no iterable of what it takes."""
    found: list[Diagnostic] = []
    reducer_of = {r.key: r for r in reducers}
    for step in steps:
        if not step.map:  # most steps: nothing mapped, nothing to check
            continue
        params = {p.name: p for p in step.params}
        for name in sorted(mapped_names(step)):
            if name not in writers or name not in params:
                continue
            param = params[name]
            reducer = reducer_of.get(name)
            sources: list[tuple[str, TypeExpr | None]]
            if reducer is not None:
                sources = [(f"reducer {reducer.name}", reducer.result)]
            else:
                sources = [(f"step '{steps[w].name}'", produced_type(steps[w], name))
                           for w in writers[name]]
            for what, produced in sources:
                if produced is None or produced.name == ANY:
                    continue
                elements = element_type(produced)
                if isinstance(elements, str):
                    found.append(_diag(
                        "SPX502", f"step '{step.name}' maps over '{name}', but {what} "
                        f"returns {produced}, which {elements}; return a list of the "
                        "items to map over", step, key=name))
                    break
                consumed = param.annotation
                if (elements is None or consumed is None
                        or fits(elements, consumed) is not False):
                    continue
                found.append(_diag(
                    "SPX502", f"step '{step.name}' maps over '{name}', so each call gets "
                    f"one element, but {what} returns {produced}, whose elements "
                    f"({elements}) do not fit '{name}: {consumed}'; annotate the "
                    f"parameter with the element type, as in '{name}: {elements}'",
                    step, key=name))
                break
    return found
