"""The one answer to "does this mark a step?", for every reader.

A step is marked by ``spectra_dsl.step`` (bare ``@step``, ``@step(...)``,
``step(fn, ...)``, ``step(...)(fn)``) or by the ``step`` method of a workflow
(``@wf.step``, ``@wf.step(...)``, ``wf.step(fn, ...)``, ``wf.step(...)(fn)``).  Which
names are workflows depends on who asks (the module once it ran, or a reader that is
following the workflows being built), so the caller passes that test in.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable

import attrs

from ._model import Module

IsWorkflow = Callable[[ast.Name], bool]


class MarkerKind(enum.Enum):
    """Who marks the step."""

    STEP = "step"          #: ``spectra_dsl.step``: records options, registers nothing
    WORKFLOW = "workflow"  #: ``wf.step``: registers the step on the workflow ``wf``


@attrs.frozen
class Marker:
    """A step marker: ``target`` is ``step`` or ``wf.step``; ``call`` the call that gives
    its options (None for a bare decorator); ``workflow`` the variable of ``wf``."""

    kind: MarkerKind
    target: ast.expr
    call: ast.Call | None
    workflow: str | None = None


def marker_kind(module: Module, target: ast.expr, is_workflow: IsWorkflow
                ) -> tuple[MarkerKind, str | None] | None:
    """(kind, workflow variable) when ``target`` is ``step`` or ``wf.step``."""
    if isinstance(target, ast.Attribute) and target.attr == "step" and isinstance(
            target.value, ast.Name) and target.value.id not in module.dsl:
        if is_workflow(target.value):
            return MarkerKind.WORKFLOW, target.value.id
        return None
    if module.dsl_name(target) == "step":
        return MarkerKind.STEP, None
    return None


def decorator_marker(module: Module, decorator: ast.expr,
                     is_workflow: IsWorkflow) -> Marker | None:
    """The marker ``decorator`` is (``@step``, ``@step(...)``, ``@wf.step``...), if any."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call is not None else decorator
    found = marker_kind(module, target, is_workflow)
    if found is None:
        return None
    return Marker(found[0], target, call, found[1])


@attrs.frozen
class StepCall:
    """``step(fn, ...)``, ``step(...)(fn)``, ``wf.step(fn, ...)`` or ``wf.step(...)(fn)``
    written as a call: ``fn``, the options as one call, and ``keeps`` when the call keeps
    the options already recorded on ``fn`` (a bare ``wf.step(fn)``)."""

    marker: Marker
    fn: ast.expr
    options: ast.Call
    keeps: bool


def step_call(module: Module, call: ast.Call, is_workflow: IsWorkflow) -> StepCall | None:
    """The :class:`StepCall` ``call`` is, or None."""
    if len(call.args) != 1 or (call.keywords and isinstance(call.func, ast.Call)):
        return None
    fn = call.args[0]
    if isinstance(fn, ast.Starred):
        return None
    outer = call.func
    if isinstance(outer, ast.Call):
        if outer.args:
            return None
        found = marker_kind(module, outer.func, is_workflow)
        if found is None:
            return None
        options = ast.copy_location(ast.Call(func=outer.func, args=[], keywords=outer.keywords),
                                    outer)
        return StepCall(Marker(found[0], outer.func, outer, found[1]), fn, options, False)
    found = marker_kind(module, outer, is_workflow)
    if found is None:
        return None
    options = ast.copy_location(ast.Call(func=outer, args=[], keywords=call.keywords), call)
    keeps = not call.keywords and found[0] is MarkerKind.WORKFLOW
    return StepCall(Marker(found[0], outer, call, found[1]), fn, options, keeps)
