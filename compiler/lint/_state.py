"""What a reader knows while it reads one module's workflows.

The readers of each construct (:mod:`._workflow`, :mod:`._step`, :mod:`._add`,
:mod:`._reducer`) are functions of a :class:`ReadState`: the module being read, the
workflows being built in it (:class:`Builder`), the calls already accounted for, and
the SPX902 findings collected so far.
"""

from __future__ import annotations

import ast

import attrs

from compiler import Diagnostic, ReducerSpec, SourceLocation, StepSpec

from ._model import Module


@attrs.define
class Builder:
    """A workflow being read: ``Workflow(...)`` and what later statements add to it."""

    variable: str
    call: ast.Call
    name: str
    location: SourceLocation
    steps: list[StepSpec] = attrs.Factory(list)
    inputs: tuple[str, ...] | None = None
    reducers: list[ReducerSpec] = attrs.Factory(list)
    #: steps whose ``join=`` was not followed (checked as ``Join.ALL``)
    unsure_joins: set[str] = attrs.Factory(set)
    #: (index in ``steps``, the sub-workflow) for each ``wf.add(sub, ...)``
    subs: list[tuple[int, Builder]] = attrs.Factory(list)
    #: some step of it was not followed (SPX902), so what looks missing may not be
    incomplete: bool = False
    #: some reducer of it was not followed (SPX902), so a key may have one after all
    unsure_reducers: bool = False
    #: steps whose ``map=`` was not followed (checked as unmapped, without type checks)
    unsure_maps: set[str] = attrs.Factory(set)
    #: some ``after=`` was not followed (SPX902), so steps may be ordered after all
    unsure_order: bool = False


class ReadState:
    """The state of reading one module (or one workflow factory function in it)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.found: list[Diagnostic] = []
        #: variable -> the workflow bound to it now
        self.builders: dict[str, Builder] = {}
        #: workflows no longer bound to a name
        self.finished: list[Builder] = []
        #: ids of the calls and decorators already read (not reported as unfollowed)
        self.handled: set[int] = set()

    def skip(self, message: str, where: SourceLocation, steps: tuple[str, ...] = (),
             workflow: str | None = None) -> None:
        """Report something not followed (SPX902)."""
        self.found.append(Diagnostic("SPX902", message, steps=steps, location=where,
                                     workflow=workflow))

    def elsewhere(self, module: Module) -> ReadState:
        """This state, or a fresh one for a definition read in another ``module``."""
        return self if module is self.module else ReadState(module)

    def adopt(self, other: ReadState) -> None:
        """Keep what reading in another module reported."""
        if other is not self:
            self.found.extend(other.found)

    def is_workflow(self, node: ast.Name) -> bool:
        """``node`` names a workflow being read, or one the module builds."""
        return node.id in self.builders or self.module.is_workflow(node)

    def is_builder(self, node: ast.Name) -> bool:
        """``node`` names a workflow being read here."""
        return node.id in self.builders

    def workflow_of(self, node: ast.expr, method: str) -> Builder | None:
        """The workflow of ``wf.<method>`` if ``node`` is that attribute."""
        if (isinstance(node, ast.Attribute) and node.attr == method
                and isinstance(node.value, ast.Name) and node.value.id in self.builders):
            return self.builders[node.value.id]
        return None
