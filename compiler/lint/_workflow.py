"""Reading ``Workflow(name, steps=[...], inputs=(...), reducers={...}, ...)``.

``steps=`` is followed through module-level lists and the ``.append``/``.extend``/``+=``
made to them before the workflow is built; each element is read where it is defined
(in this module or one of the tree it is imported from).
"""

from __future__ import annotations

import ast

from compiler import StepKind, StepSpec

from ._eval import describe, evaluate
from ._model import BindingKind, DefNode
from ._reducer import reducer_dict
from ._state import Builder, ReadState
from ._step import location_of, marked_options, step_from_def

WORKFLOW_OPTIONS = ("name", "steps", "inputs", "reducers", "max_concurrency")
#: How deep lists of steps spliced into lists (``[*STEPS, c]``) are followed.
MAX_SEQUENCE_DEPTH = 8


def read_workflow(state: ReadState, call: ast.Call, variable: str) -> Builder:
    """The workflow ``call`` builds, bound to ``variable`` ("" when not a plain name)."""
    module = state.module
    location = module.line_location(call.lineno)
    name_node: ast.expr | None = call.args[0] if call.args else None
    options: dict[str, ast.expr] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            state.skip(f"Workflow(**{describe(keyword.value)}) is not followed; pass the "
                       "options by name", location)
        elif keyword.arg == "name" and name_node is None:
            name_node = keyword.value
        else:
            options[keyword.arg] = keyword.value
    name = variable or "<workflow>"
    if name_node is not None:
        value = evaluate(module, name_node)
        if isinstance(value, str):
            name = value
        else:
            state.skip(f"workflow name {describe(name_node)} is not followed; it is called "
                       f"'{name}' here. Use a string literal or a module-level constant",
                       location)
    builder = Builder(variable, call, name, location)
    for extra in call.args[1:]:
        state.skip(f"workflow '{name}': positional argument {describe(extra)} is not "
                   "followed; pass the options by name (steps=..., inputs=...)",
                   location, workflow=name)
    for option, node in options.items():
        if option == "steps":
            _steps_list(state, builder, node)
        elif option == "inputs":
            _inputs(state, builder, node)
        elif option == "reducers":
            reducer_dict(state, builder, node)
        elif option not in WORKFLOW_OPTIONS:
            state.skip(f"workflow '{name}': option {option}= is not known to spectra-lint "
                       "and was skipped", location, workflow=name)
    return builder


def _inputs(state: ReadState, builder: Builder, node: ast.expr) -> None:
    value = evaluate(state.module, node)
    if isinstance(value, str):
        state.skip(f"workflow '{builder.name}': inputs={value!r} is a string, which "
                   f"Workflow() rejects; write inputs=({value!r},). Checked as if no "
                   "inputs were declared", builder.location, workflow=builder.name)
        return
    if isinstance(value, tuple | frozenset) and all(isinstance(v, str) for v in value):
        builder.inputs = tuple(value)
    elif value is None:
        builder.inputs = None
    else:
        state.skip(f"workflow '{builder.name}': inputs={describe(node)} is not followed, so "
                   "parameters are checked as if no inputs were declared; use a tuple of "
                   "string literals", builder.location, workflow=builder.name)


def _steps_list(state: ReadState, builder: Builder, node: ast.expr) -> None:
    why: list[str] = []
    elements = _sequence(state, node, 0, why)
    if elements is None:
        builder.incomplete = True
        reason = f" ({why[0]}), so no step of it is checked" if why else ""
        state.skip(f"workflow '{builder.name}': steps={describe(node)} is not "
                   f"followed{reason}; list the steps literally (steps=[fetch, merge]) "
                   "or in a module-level list", builder.location, workflow=builder.name)
        return
    for element in elements:
        spec = _step_reference(state, builder, element)
        if spec is not None:
            builder.steps.append(spec)


def _sequence(state: ReadState, node: ast.expr, depth: int = 0,
              why: list[str] | None = None) -> list[ast.expr] | None:
    """The elements of a list of steps; None (and, in ``why``, the reason when it is not
    the expression itself) when not followed."""
    if isinstance(node, ast.List | ast.Tuple):
        out: list[ast.expr] = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                inner = (_sequence(state, element.value, depth + 1, why)
                         if depth < MAX_SEQUENCE_DEPTH else None)
                if inner is None:
                    return None
                out.extend(inner)
            else:
                out.append(element)
        return out
    if isinstance(node, ast.Name) and depth < MAX_SEQUENCE_DEPTH:
        return _named_sequence(state, node, depth, why)
    return None


def _named_sequence(state: ReadState, node: ast.Name, depth: int,
                    why: list[str] | None) -> list[ast.expr] | None:
    """A list bound to a module name, with the ``.append``/``.extend``/``+=`` made to it
    before ``node``'s line."""
    module = state.module
    entries = module.history.get(node.id, [])
    in_force = [e for e in entries if e.line < node.lineno] if len(entries) > 1 else entries
    start = None
    for index, entry in enumerate(in_force):
        if entry.kind is BindingKind.CONSTANT:
            start = index
    if start is None or not isinstance(in_force[start].value, ast.expr):
        return None
    bound_line, bound = in_force[start].line, in_force[start].value
    assert isinstance(bound, ast.expr)
    out = _sequence(state, bound, depth + 1, why)
    if out is None:
        return None
    changes: list[tuple[int, object]] = [
        (at, call) for at, call in module.mutations.get(node.id, [])
        if bound_line < at < node.lineno]
    changes += [(entry.line, entry.value) for entry in in_force[start + 1:]]
    for _, change in sorted(changes, key=lambda c: c[0]):
        added: list[ast.expr] | None = None
        if isinstance(change, ast.AugAssign) and isinstance(change.op, ast.Add):
            added = _sequence(state, change.value, depth + 1, why)
        elif isinstance(change, ast.Call) and isinstance(change.func, ast.Attribute) and (
                not change.keywords and len(change.args) == 1
                and not isinstance(change.args[0], ast.Starred)):
            if change.func.attr == "append":
                added = [change.args[0]]
            elif change.func.attr == "extend":
                added = _sequence(state, change.args[0], depth + 1, why)
        if added is None:
            if why is not None:
                what = (f"{node.id} is changed by {describe(change)}"
                        if isinstance(change, ast.Call | ast.AugAssign)
                        else f"{node.id} is changed or rebound in a way spectra-lint "
                        "does not follow")
                why.append(what)
            return None
        out.extend(added)
    return out


def _step_reference(state: ReadState, builder: Builder, element: ast.expr) -> StepSpec | None:
    module = state.module
    found = module.lookup(element)
    bound = (module.binding(element.id, element.lineno)
             if isinstance(element, ast.Name) else None)
    if found is None and bound is not None and bound.kind is BindingKind.OTHER:
        builder.incomplete = True
        state.skip(f"workflow '{builder.name}': step {describe(element)} is not followed "
                   "(the name is bound again in a block, a loop or by unpacking, which "
                   "spectra-lint does not follow), so it was left out of the check",
                   builder.location, workflow=builder.name)
        return None
    if found is None:
        builder.incomplete = True
        state.skip(f"workflow '{builder.name}': step {describe(element)} is not followed "
                   "(it is no function defined or imported from a module of the linted "
                   "tree), so it was left out of the check", builder.location,
                   workflow=builder.name)
        return None
    defined_in, node = found
    if isinstance(node, DefNode):
        reader = state.elsewhere(defined_in)
        options = marked_options(reader, node, element.lineno if reader is state else None)
        spec = step_from_def(reader, node, options or {}, builder)
        state.adopt(reader)
        return spec
    if isinstance(node, ast.Lambda):
        return StepSpec(name="<lambda>", kind=StepKind.OTHER,
                        location=defined_in.location(node))
    if isinstance(node, ast.Call):
        builder.incomplete = True
        state.skip(f"workflow '{builder.name}': step {describe(element)} is built by a "
                   "call the linter does not follow, so it was left out of the check",
                   builder.location, workflow=builder.name)
        return None
    return StepSpec(name=describe(element), kind=StepKind.OTHER,
                    location=location_of(defined_in, node, builder.location))
