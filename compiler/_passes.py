"""The analysis context every pass reads, and the one list of passes.

:class:`Analysis` works out the facts of one workflow (its steps with their
sub-workflows' inputs, name resolution, plan order, reachability, join shapes, run
conditions) lazily and once: each fact is computed the first time a pass asks for it.
A pass is a function of the context returning its findings; :data:`PASSES` lists them
in the order they run, and :func:`run_passes` runs them all.  Both front ends
(``compile()`` and ``spectra-lint``) go through it, so they report the same findings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import attrs

from . import _ir as ir
from ._asks import check_asks
from ._checks import (
    Exclusive,
    JoinShape,
    check_joins,
    check_types,
    check_writes,
    join_shapes,
    never_exclusive,
)
from ._control import BodyCompiler, Conditions, check_settings, conditions, expand_bodies
from ._diagnostics import Diagnostic
from ._map import check_elements, check_options
from ._order import Ordering, order_steps
from ._resolve import Resolution, resolve


class Analysis:
    """What the passes know of one workflow, each fact worked out once, when first read.

    ``spec`` is the workflow as the front end described it; ``compiled_body`` gives the
    compiled sub-workflow of a step (bodies are compiled before their holders).
    """

    def __init__(self, spec: ir.WorkflowSpec, compiled_body: BodyCompiler) -> None:
        self.source = spec
        self.compiled_body = compiled_body

    @functools.cached_property
    def expansion(self) -> tuple[ir.WorkflowSpec, list[Diagnostic]]:
        """The workflow with each sub-workflow step given its body's inputs as
        parameters, and the findings of the bodies (prefixed with the step's name)."""
        spec = self.source
        if not any(s.body is not None for s in spec.steps):
            return spec, []
        expanded, found = expand_bodies(spec.steps, self.compiled_body)
        return attrs.evolve(spec, steps=tuple(expanded)), found

    @property
    def spec(self) -> ir.WorkflowSpec:
        """The workflow, sub-workflow steps expanded."""
        return self.expansion[0]

    @functools.cached_property
    def resolution(self) -> Resolution:
        """Steps kept (first of each name), keys and their writers, inputs, upstreams."""
        return resolve(self.spec)

    @property
    def steps(self) -> list[ir.StepSpec]:
        """The steps kept, in declaration order: every index below is into this list."""
        return self.resolution.steps

    @functools.cached_property
    def ordering(self) -> Ordering:
        """Plan order, positions, cycles (an edge of each set aside) and reachability."""
        return order_steps(self.steps, self.resolution.predecessors)

    @functools.cached_property
    def shapes(self) -> list[JoinShape]:
        """How each step's upstreams meet (fan-in, branch tips)."""
        ordering = self.ordering
        return join_shapes(self.resolution.predecessors, ordering.position,
                           ordering.reach)

    @functools.cached_property
    def conditions(self) -> Conditions:
        """When each step can run, from ``match`` guards."""
        shapes = self.shapes
        return conditions(self.steps, self.ordering.order, self.resolution.writers,
                          lambda node: set(shapes[node].tips) if shapes[node].fan_in
                          else set())

    @property
    def exclusive(self) -> Exclusive:
        """``exclusive(a, b)``: steps ``a`` and ``b`` never both run in one run."""
        conds = self.conditions
        return conds.exclusive if conds.any_guards else never_exclusive


@attrs.frozen
class Pass:
    """One check: its name, the codes it reports, and the function that runs it.

    A pass that reads the plan order (``ordered``) sees a graph from which an edge of
    every cycle was set aside: its findings about steps in a cycle are consequences of
    the cycle (SPX002 reports it), so they are dropped.
    """

    name: str
    codes: tuple[str, ...]
    run: Callable[[Analysis], Sequence[Diagnostic]]
    ordered: bool = False


def _sub_workflows(a: Analysis) -> Sequence[Diagnostic]:
    return a.expansion[1]


def _names(a: Analysis) -> Sequence[Diagnostic]:
    return a.resolution.diagnostics


def _cycles(a: Analysis) -> Sequence[Diagnostic]:
    return a.ordering.diagnostics


def _conditions(a: Analysis) -> Sequence[Diagnostic]:
    return a.conditions.diagnostics


def _settings(a: Analysis) -> Sequence[Diagnostic]:
    return check_settings(a.steps)


def _joins(a: Analysis) -> Sequence[Diagnostic]:
    return check_joins(a.steps, a.shapes, a.resolution.writers, a.exclusive)


def _writes(a: Analysis) -> Sequence[Diagnostic]:
    ordering = a.ordering
    return check_writes(a.steps, a.resolution.writers, a.spec.reducers, ordering.position,
                        ordering.reach, a.exclusive, workflow=a.spec)


def _options(a: Analysis) -> Sequence[Diagnostic]:
    return check_options(a.steps)


def _elements(a: Analysis) -> Sequence[Diagnostic]:
    return check_elements(a.steps, a.resolution.writers, a.spec.reducers)


def _asks(a: Analysis) -> Sequence[Diagnostic]:
    return check_asks(a.steps, a.shapes)


def _types(a: Analysis) -> Sequence[Diagnostic]:
    return check_types(a.steps, a.resolution.writers, a.spec.reducers)


#: Every pass, in the order it runs.
PASSES: tuple[Pass, ...] = (
    Pass("sub-workflows", ("SPX001", "SPX401", "SPX402"), _sub_workflows),
    Pass("names", ("SPX001", "SPX003", "SPX004"), _names),
    Pass("cycles", ("SPX002",), _cycles),
    Pass("conditions", ("SPX104",), _conditions, ordered=True),
    Pass("settings", ("SPX403",), _settings),
    Pass("options", ("SPX005", "SPX501", "SPX503"), _options),
    Pass("joins", ("SPX101", "SPX102", "SPX103"), _joins, ordered=True),
    Pass("writes", ("SPX201", "SPX202"), _writes, ordered=True),
    Pass("types", ("SPX301",), _types),
    Pass("elements", ("SPX502",), _elements),
    Pass("asks", ("SPX601", "SPX602"), _asks, ordered=True),
)


def run_passes(analysis: Analysis, passes: Sequence[Pass] = PASSES) -> list[Diagnostic]:
    """Every finding of ``passes`` on ``analysis``, in pass order."""
    found: list[Diagnostic] = []
    for check in passes:
        findings = check.run(analysis)
        if check.ordered and analysis.ordering.cyclic:
            cyclic = analysis.ordering.cyclic
            findings = [d for d in findings if cyclic.isdisjoint(d.steps)]
        found.extend(findings)
    return found
