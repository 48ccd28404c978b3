"""Pass 1: check each step's definition and resolve parameter names (SPX001, 003, 004)."""

from __future__ import annotations

import keyword
from collections.abc import Callable

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic
from ._names import near_misses

JOIN_VALUES = ("all", "any")

_PARAM_FIXES = {
    ir.VAR_POSITIONAL: "a *args parameter cannot be resolved by name; name each input",
    ir.VAR_KEYWORD: "a **kwargs parameter cannot be resolved by name; name each input",
    ir.POSITIONAL_ONLY: "a positional-only parameter cannot be passed by name; remove the '/'",
}
_KIND_FIXES = {
    ir.CLASS: "is a class; @step marks a function: mark a function (or a method of an "
    "instance) instead",
    ir.ASYNC_GENERATOR: "is an async generator; a step returns one value: collect the "
    "items and return a list",
    ir.GENERATOR: "is a generator; a step returns one value: collect the items and "
    "return a list",
    ir.OTHER: "is not a function; @step marks a def or async def function",
}


@attrs.define
class Resolution:
    """The outcome of name resolution, in declaration order.

    ``steps`` holds the steps kept (a duplicate name keeps the first), ``writers`` maps
    each key to its writers' indices, ``reads`` each step's keys read (parameters and
    guard), ``inputs`` each workflow input to the steps that need it.
    ``predecessors`` are each step's upstreams, ``after=`` steps included;
    ``order_only`` those of them it reads no value of (named by ``after=`` alone).
    """

    steps: list[ir.StepSpec]
    writers: dict[str, list[int]]
    reads: list[list[str]]
    inputs: dict[str, list[int]]
    predecessors: list[set[int]]
    diagnostics: list[Diagnostic]
    order_only: list[set[int]] = attrs.field(factory=list)


def _diag(code: str, message: str, step: ir.StepSpec, key: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, steps=(step.name,), key=key, location=step.location)


#: What most steps are: nothing of their definition to report.
_RUNNABLE = (ir.ASYNC_FUNCTION, ir.SYNC_FUNCTION)
_BY_NAME = (ir.POSITIONAL_OR_KEYWORD, ir.KEYWORD_ONLY)


def _plainly_fine(step: ir.StepSpec) -> bool:
    """A quick yes for the common step (a function writing its own name, which is an
    identifier and no keyword, every parameter passed by name, no or a valid join)."""
    name = step.name
    return (step.writes is None and step.kind in _RUNNABLE
            and (step.join is None or step.join in JOIN_VALUES)
            and isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
            and all([param.kind in _BY_NAME for param in step.params]))


def _check_definition(step: ir.StepSpec) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if step.kind in _KIND_FIXES:
        shown = f"'{step.name}'" if step.name.isidentifier() else step.name
        found.append(_diag("SPX001", f"step {shown} {_KIND_FIXES[step.kind]}", step))
        if step.kind == ir.OTHER:
            return found  # no signature, and its "name" is only a repr
    for param in step.params:
        if param.kind in _PARAM_FIXES:
            found.append(
                _diag("SPX001",
                      f"step '{step.name}' parameter '{param.name}': {_PARAM_FIXES[param.kind]}",
                      step)
            )
    if step.writes is not None and not step.writes:
        found.append(
            _diag("SPX001", f"step '{step.name}' has writes=() naming no key; name at least "
                  "one key, or leave writes= out to write the step's own name", step)
        )
    seen: set[str] = set()
    for key in step.keys_written:
        if isinstance(key, str) and keyword.iskeyword(key):
            if step.writes is None:
                fix = f"give the step another name with name=, such as name='{key}_'"
                what = "step name"
            else:
                fix = f"use another key, such as '{key}_'"
                what = "writes= key"
            found.append(
                _diag("SPX001", f"step '{step.name}': {what} '{key}' is a Python keyword, "
                      f"so no parameter can be named after it to read it; {fix}", step)
            )
        elif not isinstance(key, str) or not key.isidentifier():
            if step.writes is None:
                fix = "give the step a name with name=, such as name='word_count'"
                what = "step name"
            else:
                fix = "use a key like 'word_count'"
                what = "writes= key"
            found.append(
                _diag("SPX001", f"step '{step.name}': {what} {key!r} is not a Python "
                      f"identifier, so no parameter can read it; {fix}", step)
            )
        elif key in seen:
            found.append(
                _diag("SPX001", f"step '{step.name}' lists key '{key}' twice in writes=; "
                      "list each key once", step, key=key)
            )
        seen.add(key)
    if step.join is not None and step.join not in JOIN_VALUES:
        found.append(
            _diag("SPX001", f"step '{step.name}' has join={step.join!r}, which is not a "
                  "join rule; use Join.ALL (wait for every branch) or Join.ANY (run on "
                  "the first)", step)
        )
    return found


def _unique_steps(spec: ir.WorkflowSpec, found: list[Diagnostic]) -> list[ir.StepSpec]:
    first: dict[str, ir.StepSpec] = {}
    for step in spec.steps:
        if step.name in first:
            other = first[step.name]
            where = f" (first defined at {other.location})" if other.location else ""
            found.append(
                _diag("SPX001", f"two steps are named '{step.name}'{where}; rename one, or "
                      "give it name=", step)
            )
        else:
            first[step.name] = step
    return list(first.values())


def _step_reads(step: ir.StepSpec) -> list[str]:
    reads = [p.name for p in step.params
             if p.kind is not ir.VAR_POSITIONAL and p.kind is not ir.VAR_KEYWORD]
    if step.guard is not None:
        reads.extend(k for k in step.guard.reads if k not in reads)
    return reads


def resolve(spec: ir.WorkflowSpec) -> Resolution:
    """Check definitions, then decide for every parameter: a key, or an input."""
    found: list[Diagnostic] = []
    steps = _unique_steps(spec, found)
    for step in steps:
        if not _plainly_fine(step):
            found.extend(_check_definition(step))

    writers: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        if step.writes is None:  # the common case: the step's own name
            if isinstance(step.name, str):
                writers.setdefault(step.name, []).append(index)
            continue
        for key in dict.fromkeys(step.writes):  # a key listed twice is SPX001 already
            if isinstance(key, str):
                writers.setdefault(key, []).append(index)

    declared = None if spec.inputs is None else set(spec.inputs)
    step_by_name = {step.name: step for step in steps}
    known: list[str] = []  # sorted when first needed: most workflows have no near miss
    close_cache: dict[str, list[str]] = {}

    def known_names(name: str) -> list[str]:
        """The known names ``name`` is a near miss of, computed once per name."""
        if not known:
            known.extend(sorted(set(writers) | set(step_by_name)))
        if name not in close_cache:
            close_cache[name] = near_misses(name, known)
        return close_cache[name]

    reads: list[list[str]] = []
    inputs: dict[str, list[int]] = {}
    predecessors: list[set[int]] = []
    order_only: list[set[int]] = []
    index_of = {step.name: index for index, step in enumerate(steps)}
    for index, step in enumerate(steps):
        step_reads = _step_reads(step)
        reads.append(step_reads)
        preds: set[int] = set()
        for name in step_reads:
            if name in writers:
                preds.update(writers[name])
                continue
            inputs.setdefault(name, []).append(index)
            if declared is not None:
                if name not in declared:
                    found.append(_unknown_name(step, name, known_names))
            else:
                warning = _near_miss(step, name, known_names, step_by_name)
                if warning is not None:
                    found.append(warning)
        only: set[int] = set()
        for name in step.after:  # SPX005 reports a name that is no step
            upstream = index_of.get(name) if isinstance(name, str) else None
            if upstream is not None and upstream not in preds:
                only.add(upstream)
        if only:
            preds |= only
        predecessors.append(preds)
        order_only.append(only)
    return Resolution(steps, writers, reads, inputs, predecessors, found, order_only)


def _suggest(name: str, close_to: Callable[[str], list[str]]) -> str:
    close = close_to(name)
    return f"did you mean '{close[0]}'? " if close else ""


def _unknown_name(
    step: ir.StepSpec, name: str, close_to: Callable[[str], list[str]]
) -> Diagnostic:
    return _diag(
        "SPX004",
        f"step '{step.name}' parameter '{name}' is not a step, a state key or a declared "
        f"input; {_suggest(name, close_to)}fix the name, or add '{name}' to inputs=",
        step, key=name,
    )


def _near_miss(
    step: ir.StepSpec, name: str, close_to: Callable[[str], list[str]],
    step_by_name: dict[str, ir.StepSpec],
) -> Diagnostic | None:
    other = step_by_name.get(name)
    if other is not None:  # at any length: LangGraph-style steps 'a', 'b', 'c' too
        written = ", ".join(f"'{k}'" for k in other.keys_written)
        return _diag(
            "SPX003",
            f"step '{step.name}' parameter '{name}' is taken as a workflow input, but "
            f"'{name}' is a step that writes {written}; read {written} instead, or "
            "declare the input with inputs=",
            step, key=name,
        )
    close = close_to(name)
    if not close:
        return None
    return _diag(
        "SPX003",
        f"step '{step.name}' parameter '{name}' is taken as a workflow input, but it is "
        f"a near miss of '{close[0]}'; fix the typo, or declare the input with inputs=",
        step, key=name,
    )
