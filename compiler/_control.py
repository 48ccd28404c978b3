"""Control-flow passes: sub-workflows, loop and retry settings, exclusive branches.

- :func:`expand_bodies` takes each sub-workflow (or loop body), compiled first, reports its
  findings with the inner steps' locations, and gives the outer step the body's inputs
  as parameters.
- :func:`check_settings` judges ``Repeat``, ``Retry`` and ``timeout=`` (SPX401-403).
- :func:`conditions` works out, from ``match`` guards, which steps can never both run
  in one run; the write check uses it (exclusive writers never race) and SPX104
  reports a step that needs two exclusive outputs and so can never run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic


@attrs.frozen
class Values:
    """The values a key may hold for a step to run: the ``values`` listed, or, when
    ``excluded``, any value but those (a ``~match`` catch-all)."""

    values: frozenset[object]
    excluded: bool = False

    def __and__(self, other: Values) -> Values:
        """What both allow."""
        if self.excluded and other.excluded:
            return Values(self.values | other.values, True)
        if self.excluded:
            return Values(other.values - self.values)
        if other.excluded:
            return Values(self.values - other.values)
        return Values(self.values & other.values)

    def __or__(self, other: Values) -> Values:
        """What either allows."""
        if self.excluded and other.excluded:
            return Values(self.values & other.values, True)
        if self.excluded:
            return Values(self.values - other.values, True)
        if other.excluded:
            return Values(other.values - self.values, True)
        return Values(self.values | other.values)

    def __bool__(self) -> bool:
        """False when no value is allowed (only a list of values can run out)."""
        return self.excluded or bool(self.values)


#: ``key -> values``: the step runs only if ``key`` holds one of ``values``.
Condition = dict[str, Values]


class CompiledBody(Protocol):
    """What the passes need of a compiled body: its findings, inputs and keys."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]: ...

    @property
    def inputs(self) -> Mapping[str, bool]: ...

    @property
    def keys(self) -> frozenset[str]: ...


#: The compiled body of a sub-workflow (it is compiled before its holder).
BodyCompiler = Callable[[ir.WorkflowSpec], CompiledBody]


def _diag(code: str, message: str, step: ir.StepSpec, key: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, steps=(step.name,), key=key, location=step.location)


def expand_bodies(
    steps: Sequence[ir.StepSpec], compile_body: BodyCompiler
) -> tuple[list[ir.StepSpec], list[Diagnostic]]:
    """Give each sub-workflow step its body's inputs as parameters; check its writes."""
    out: list[ir.StepSpec] = []
    found: list[Diagnostic] = []
    for step in steps:
        if step.body is None:
            out.append(step)
            continue
        compiled = compile_body(step.body)
        inner, inputs, keys = compiled.diagnostics, compiled.inputs, compiled.keys
        prefix = f"in sub-workflow '{step.name}': "
        found.extend(attrs.evolve(d, message=prefix + d.message) for d in inner)
        params = tuple(ir.ParameterSpec(name, has_default=not required)
                       for name, required in inputs.items())
        out.append(attrs.evolve(step, params=params))
        available = keys | set(inputs)
        for inner_key, _ in step.writes_mapping or ():
            if inner_key not in available:
                found.append(_diag(
                    "SPX001",
                    f"sub-workflow step '{step.name}' copies key '{inner_key}', but "
                    f"workflow '{step.body.name}' has no such key; it has "
                    f"{', '.join(sorted(available)) or 'none'}", step, inner_key))
        if step.repeat is not None:
            found.extend(_check_loop(step, step.repeat, keys, inputs))
    return out, found


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value
    )


def _check_loop(
    step: ir.StepSpec, repeat: ir.RepeatSpec, keys: frozenset[str], inputs: Mapping[str, bool]
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    limit = repeat.max_iterations
    if limit is None:
        found.append(_diag(
            "SPX401", f"loop '{step.name}' has no max_iterations; every loop needs a bound, "
            "as in Repeat(until=..., max_iterations=10)", step))
    elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        found.append(_diag(
            "SPX401", f"loop '{step.name}' has max_iterations={limit!r}; it must be a whole "
            "number of at least 1", step))
    if repeat.on_limit not in ("raise", "stop"):
        found.append(_diag(
            "SPX401", f"loop '{step.name}' has on_limit={repeat.on_limit!r}; use 'raise' "
            "(LoopLimitExceeded) or 'stop' (keep the last pass)", step))
    for key in repeat.until_reads:
        if key not in keys:
            found.append(_diag(
                "SPX402", f"loop '{step.name}' ends when until holds, but until reads "
                f"'{key}', which its body never writes, so it could never change; read a "
                "key the body writes", step, key))
    for out_key, in_name in repeat.carry:
        if out_key not in keys | set(inputs):
            found.append(_diag(
                "SPX402", f"loop '{step.name}' carries '{out_key}' to the next pass, but "
                "its body never writes it; carry a key the body writes", step, out_key))
        if in_name not in inputs:
            found.append(_diag(
                "SPX402", f"loop '{step.name}' carries into '{in_name}', but its body "
                "takes no such input; carry into a parameter name of the body", step,
                in_name))
    return found


def check_settings(steps: Sequence[ir.StepSpec]) -> list[Diagnostic]:
    """SPX403: retry attempts of at least 1, non-negative waits, positive timeouts."""
    found: list[Diagnostic] = []
    for step in steps:
        retry = step.retry
        if retry is not None:
            attempts = retry.attempts
            if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
                found.append(_diag(
                    "SPX403", f"step '{step.name}' has Retry(attempts={attempts!r}); attempts "
                    "counts every try, the first included, so it must be at least 1", step))
            for field in ("backoff", "factor", "jitter"):
                value = getattr(retry, field)
                if not _is_number(value) or value < 0:
                    found.append(_diag(
                        "SPX403", f"step '{step.name}' has Retry({field}={value!r}); it must "
                        "be a number of at least 0", step))
        timeout = step.timeout
        if timeout is not None and (not _is_number(timeout) or timeout <= 0):  # type: ignore[operator]
            found.append(_diag(
                "SPX403", f"step '{step.name}' has timeout={timeout!r}; it must be a number "
                "of seconds greater than 0 (or None for no timeout)", step))
    return found


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _or(conditions: list[Condition]) -> Condition:
    """What holds whenever at least one of the conditions holds."""
    first, *rest = conditions
    shared = set(first).intersection(*rest)
    found: Condition = {}
    for key in shared:
        values = first[key]
        for other in rest:
            values = values | other[key]
        found[key] = values
    return found


def _guard_condition(guard: ir.GuardSpec | None, unsettled: set[str]) -> Condition:
    """What a ``match`` guard says of the keys it reads.

    ``match(k=v, ...)`` allows one value (or a set of values) per key; ``~match(k=...)``
    on one key allows every other value.  A negated match on several keys says nothing
    of any one key (any of them may differ), nor does a key that a racing branch writes.
    """
    own: Condition = {}
    if guard is None or not guard.matches:
        return own
    if guard.negated and len(guard.matches) > 1:
        return own
    for key, value in guard.matches:
        if not _hashable(value) or key in unsettled:
            continue
        listed = value if isinstance(value, frozenset) else frozenset({value})
        if not all(_hashable(v) for v in listed):
            continue
        values = Values(listed, guard.negated)
        own[key] = own[key] & values if key in own else values
    return own


@attrs.define
class Conditions:
    """Each step's run condition (declaration order) and the SPX104 findings."""

    of: list[Condition]
    diagnostics: list[Diagnostic]

    def exclusive(self, a: int, b: int) -> bool:
        """Steps ``a`` and ``b`` can never both run in one run."""
        ca, cb = self.of[a], self.of[b]
        return any(not (ca[k] & cb[k]) for k in ca.keys() & cb.keys())

    @property
    def any_guards(self) -> bool:
        """True when some step has a condition at all."""
        return any(self.of)


def conditions(
    steps: Sequence[ir.StepSpec], order: Sequence[int], writers: Mapping[str, list[int]],
    racing: Callable[[int], set[int]],
) -> Conditions:
    """Work out in plan order when each step can run, from ``match`` guards.

    ``racing(node)`` gives the branch tips a ``Join.ANY`` step races between: a key one
    of them writes may not hold its final value when the guard reads it, so a ``match``
    on it proves no exclusion.
    """
    of: list[Condition] = [{} for _ in steps]
    found: list[Diagnostic] = []
    if not any(s.guard is not None and s.guard.matches for s in steps):
        return Conditions(of, found)  # no match guard: every condition is empty
    for node in order:
        step = steps[node]
        tips = racing(node) if step.join == "any" else set()
        unsettled = {k for k, ws in writers.items() if tips.intersection(ws)} if tips else set()
        own = _guard_condition(step.guard, unsettled)
        needed = [p.name for p in step.params if not p.has_default and p.name in writers]
        if step.guard is not None:
            needed += [k for k in step.guard.reads if k in writers and k not in unsettled]
        sources: dict[str, str] = {key: "its guard" for key in own}
        reported = False
        for key in needed:
            inherited = _or([of[w] for w in writers[key]])
            for cond_key, values in inherited.items():
                before = own.get(cond_key)
                own[cond_key] = values if before is None else before & values
                if before is not None and not own[cond_key] and not reported:
                    reported = True
                    found.append(_diag(
                        "SPX104",
                        f"step '{step.name}' needs '{key}' and {sources[cond_key]}, which "
                        f"can never both be there: they depend on different values of "
                        f"'{cond_key}' (match guards), so the step can never run; give one "
                        "of the parameters a default, or split the step", step, key))
                sources.setdefault(cond_key, f"'{key}'")
        of[node] = own
    return Conditions(of, found)
