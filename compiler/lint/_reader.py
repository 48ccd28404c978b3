"""Reading one module's workflows: the statements, in order, each to its reader.

:func:`analyse_module` walks the module-level statements (then the body of each
top-level function that builds a workflow), hands ``Workflow(...)`` to
:mod:`._workflow`, ``@wf.step`` definitions and ``wf.step(fn)`` calls to :mod:`._step`,
``wf.add`` to :mod:`._add` and ``wf.reducer`` to :mod:`._reducer`, and reports what it
did not follow (SPX902).  The result is one :class:`StaticWorkflow` per workflow: its
IR, ready for the compiler's passes.
"""

from __future__ import annotations

import ast

import attrs

from compiler import Diagnostic, WorkflowSpec

from ._add import add_call
from ._classify import MarkerKind, decorator_marker, marker_kind
from ._eval import describe
from ._model import DefNode, Module
from ._recorder import function_scope
from ._reducer import reducer_call
from ._state import Builder, ReadState
from ._step import call_options, marked_options, step_from_def, step_of_call
from ._unfollowed import WORKFLOW_METHODS, report_unfollowed
from ._workflow import read_workflow


@attrs.frozen
class StaticWorkflow:
    """A workflow read from source: its IR and the steps whose ``join=`` was not followed
    (for those, join checks other than the forgotten join are skipped)."""

    spec: WorkflowSpec
    unsure_joins: frozenset[str] = frozenset()
    #: some step of it (or of a sub-workflow) was not followed: findings that something
    #: is missing or unused are not reported for it
    incomplete: bool = False
    #: some reducer of it was not followed: racing writers and unused reducers are not
    #: reported for it
    unsure_reducers: bool = False
    #: steps (of it or of a sub-workflow) whose ``map=`` was not followed: no type
    #: checks of them or their readers
    unsure_maps: frozenset[str] = frozenset()
    #: some ``after=`` (of it or of a sub-workflow) was not followed: no findings that
    #: an ordering edge could change
    unsure_order: bool = False


class _ModuleReader:
    """Reads the statements of a module (or of a workflow factory function)."""

    def __init__(self, module: Module, outer: dict[int, Builder] | None = None) -> None:
        self.state = ReadState(module)
        #: workflows built at module level, by their ``Workflow(...)`` call, for a
        #: factory function that adds one as a sub-workflow
        self.outer = outer or {}

    def read(self, *, factories: bool = True) -> list[Builder]:
        state = self.state
        module = state.module
        for statement in module.tree.body:
            self._statement(statement)
        scoped: list[Builder] = []
        if factories:
            built = {id(b.call): b for b in (*state.finished, *state.builders.values())}
            for statement in module.tree.body:
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                        _builds_workflow(module, s) for s in statement.body):
                    inner = _ModuleReader(function_scope(module, statement), built)
                    scoped.extend(inner.read(factories=False))
                    state.found.extend(inner.state.found)
                    state.handled |= inner.state.handled
        by_variable: dict[str, list[Builder]] = {}
        for variable, builder in (*state.builders.items(),
                                  *((b.variable, b) for b in state.finished)):
            by_variable.setdefault(variable, []).append(builder)
        report_unfollowed(state, by_variable)
        unique = {id(b): b for b in (*state.finished, *state.builders.values(), *scoped)}
        return list(unique.values())

    def _statement(self, statement: ast.stmt) -> None:
        state = self.state
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            value = statement.value
            targets = statement.targets if isinstance(statement, ast.Assign) else [
                statement.target]
            if isinstance(value, ast.Call) and state.module.dsl_name(value.func) == "Workflow":
                state.handled.add(id(value))
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                builder = read_workflow(state, value, names[0] if names else "")
                if len(names) != len(targets) or not names:
                    state.skip(f"workflow '{builder.name}' is assigned to "
                               f"{describe(targets[0])}; assign it to a plain name such as "
                               "'wf = Workflow(...)' so its steps can be followed",
                               builder.location, workflow=builder.name)
                self._bind(names[0] if names else "", builder)
            elif (isinstance(value, ast.Name) and value.id in state.builders
                  and all(isinstance(t, ast.Name) for t in targets)):
                builder = state.builders[value.id]  # w2 = wf: another name for wf
                for target in targets:
                    assert isinstance(target, ast.Name)
                    if state.builders.get(target.id) not in (None, builder):
                        state.finished.append(state.builders.pop(target.id))
                    state.builders[target.id] = builder
            else:
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in state.builders:
                        state.finished.append(state.builders.pop(target.id))
        elif isinstance(statement, DefNode):
            self._definition(statement)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            self._method_call(statement.value)

    def _bind(self, variable: str, builder: Builder) -> None:
        state = self.state
        if variable in state.builders:
            state.finished.append(state.builders.pop(variable))
        if variable:
            state.builders[variable] = builder
        else:
            state.finished.append(builder)

    def _is_imported_workflow(self, name: ast.Name) -> bool:
        """``name`` is a workflow imported from another module of the tree (the linter
        checks a workflow in the module that builds it)."""
        module = self.state.module
        if name.id in self.state.builders or name.id not in module.imports:
            return False
        found = module.lookup(name)
        return (found is not None and found[0] is not module
                and isinstance(found[1], ast.Call)
                and found[0].dsl_name(found[1].func) == "Workflow")

    def _definition(self, node: DefNode) -> None:
        state = self.state
        for decorator in node.decorator_list:
            imported = decorator_marker(state.module, decorator, self._is_imported_workflow)
            if imported is not None and imported.kind is MarkerKind.WORKFLOW:
                state.skip(f"step '{node.name}' is registered with @"
                           f"{describe(imported.target)} on a "
                           "workflow imported from another module, which spectra-lint does "
                           "not follow: that workflow is checked without it. Register the "
                           "step in the module that builds the workflow, or list it in "
                           "steps=[...]", state.module.location(node), steps=(node.name,))
        for position, decorator in enumerate(node.decorator_list):
            marker = decorator_marker(state.module, decorator, state.is_builder)
            if marker is None or marker.kind is not MarkerKind.WORKFLOW:
                continue
            assert marker.workflow is not None
            builder = state.builders[marker.workflow]
            state.handled.add(id(decorator))
            below = node.decorator_list[position + 1:]
            if marker.call is None:  # a bare @wf.step keeps what a @step below recorded
                options = marked_options(state, node, None, below) or {}
            else:
                options = call_options(state, marker.call, node)
            builder.steps.append(step_from_def(state, node, options, builder, below))

    def _method_call(self, call: ast.Call) -> None:
        state = self.state
        func = call.func
        if (isinstance(func, ast.Attribute) and func.attr in WORKFLOW_METHODS
                and isinstance(func.value, ast.Name) and self._is_imported_workflow(func.value)):
            state.skip(f"{describe(call.func)}(...) on a workflow imported from another "
                       "module is not followed: that workflow is checked without it; call "
                       "it in the module that builds the workflow",
                       state.module.line_location(call.lineno))
            return
        builder = state.workflow_of(call.func, "reducer")
        if builder is not None:
            state.handled.add(id(call))
            reducer_call(state, builder, call)
            return
        marker = marker_kind(state.module, call.func, state.is_builder)
        if marker is not None and marker[0] is MarkerKind.WORKFLOW and marker[1] is not None:
            state.handled.add(id(call))
            step_of_call(state, state.builders[marker[1]], call)
            return
        inner = call.func
        marker = None if not isinstance(inner, ast.Call) else marker_kind(
            state.module, inner.func, state.is_builder)
        builder = None if marker is None or marker[1] is None else state.builders[marker[1]]
        if builder is not None and isinstance(inner, ast.Call) and not inner.args:
            # wf.step(name=...)(fn): the options of the first call, fn of the second
            state.handled |= {id(call), id(inner)}
            merged = ast.copy_location(
                ast.Call(func=inner.func, args=call.args, keywords=inner.keywords), call)
            step_of_call(state, builder, merged, keeps=False)
            return
        builder = state.workflow_of(call.func, "add")
        if builder is not None:
            state.handled.add(id(call))
            add_call(state, builder, call, self._find_workflow)

    def _find_workflow(self, node: ast.expr) -> Builder | None:
        """The workflow ``node`` names: one read here, or (in a factory function) one
        built at module level."""
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.state.builders:
            return self.state.builders[node.id]
        found = self.state.module.lookup(node)
        if found is not None and isinstance(found[1], ast.Call):
            return self.outer.get(id(found[1]))
        return None


def _builds_workflow(module: Module, statement: ast.stmt) -> bool:
    """True for ``name = Workflow(...)`` (the start of a workflow the reader follows)."""
    value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
    return isinstance(value, ast.Call) and module.dsl_name(value.func) == "Workflow"


def _workflow_spec(builder: Builder, building: frozenset[int] = frozenset()) -> WorkflowSpec:
    steps = list(builder.steps)
    inside = building | {id(builder)}
    for index, sub in builder.subs:
        if id(sub) not in inside:
            steps[index] = attrs.evolve(steps[index], body=_workflow_spec(sub, inside))
    return WorkflowSpec(name=builder.name, steps=tuple(steps), inputs=builder.inputs,
                        reducers=tuple(builder.reducers), location=builder.location)


def _nested(builder: Builder) -> list[Builder]:
    """``builder`` and every workflow added to it, at any depth."""
    seen: dict[int, Builder] = {}
    stack = [builder]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen[id(current)] = current
        stack.extend(sub for _, sub in current.subs)
    return list(seen.values())


def _static(builder: Builder) -> StaticWorkflow:
    nested = _nested(builder)
    return StaticWorkflow(
        _workflow_spec(builder), frozenset(builder.unsure_joins),
        any(b.incomplete for b in nested), builder.unsure_reducers,
        frozenset().union(*(b.unsure_maps for b in nested)),
        any(b.unsure_order for b in nested))


def analyse_module(module: Module) -> tuple[list[StaticWorkflow], list[Diagnostic]]:
    """The workflows ``module`` builds and the SPX902 findings of reading them."""
    reader = _ModuleReader(module)
    builders = reader.read()
    workflows = [_static(b) for b in sorted(
        builders, key=lambda b: (b.location.line, b.location.column))]
    return workflows, reader.state.found
