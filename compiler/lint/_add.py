"""Reading ``wf.add(sub, name=..., writes=..., repeat=Repeat(...), when=..., map=...,
concurrency=..., after=...)``."""

from __future__ import annotations

import ast
from collections.abc import Callable

import attrs

from compiler import GuardSpec, RepeatSpec, SourceLocation, StepKind, StepSpec

from ._eval import UNKNOWN, describe, evaluate
from ._options import OPTION_READERS, guard, read_when
from ._state import Builder, ReadState

#: Options of ``wf.add(sub, ...)``.
ADD_OPTIONS = ("name", "writes", "repeat", "when", "map", "concurrency", "after")
#: ``Repeat``'s fields in positional order.
REPEAT_FIELDS = ("until", "max_iterations", "carry", "on_limit")

#: Finds the workflow a ``wf.add`` argument names (a workflow being read, or one built
#: at module level when reading a factory function).
FindWorkflow = Callable[[ast.expr], "Builder | None"]


def add_call(state: ReadState, builder: Builder, call: ast.Call,
             find: FindWorkflow) -> None:
    """``wf.add(sub, ...)``: a sub-workflow step."""
    module = state.module
    where = module.line_location(call.lineno)
    options = {k.arg: k.value for k in call.keywords if k.arg is not None}
    sub_node = call.args[0] if len(call.args) == 1 else options.pop("sub", None)
    sub = None if sub_node is None else find(sub_node)
    name = evaluate(module, options["name"]) if "name" in options else UNKNOWN
    problem = None
    if sub is None:
        problem = ("the sub-workflow must be a workflow built at module level in this "
                   "module")
    elif sub is builder:
        problem = "a workflow cannot contain itself"
    elif not isinstance(name, str):
        problem = "name= must be a string literal or a module-level constant"
    elif any(k.arg is None for k in call.keywords) or len(call.args) > 1:
        problem = "pass the sub-workflow and then its options by name"
    if problem is not None or sub is None or not isinstance(name, str):
        builder.incomplete = True
        state.skip(f"workflow '{builder.name}': {describe(call)} is not followed "
                   f"({problem}), so it was left out of the check", where,
                   workflow=builder.name)
        return
    fields: dict[str, object] = {}
    for option, node in options.items():
        if option == "writes":
            value = evaluate(module, node)
            mapping = writes_mapping(value)
            if mapping is UNKNOWN:
                state.skip(f"step '{name}': writes={describe(node)} is not followed, so "
                           "the step is checked as if it wrote its own name", where,
                           steps=(name,), workflow=builder.name)
            elif mapping is not None:
                assert isinstance(mapping, tuple)
                fields["writes_mapping"] = mapping
                fields["writes"] = tuple(outer for _, outer in mapping)
        elif option == "repeat":
            fields["repeat"] = _repeat(state, node, name, where, builder)
        elif option == "when":
            fields["guard"] = read_when(state, node, name, where, builder)
        elif option in ("map", "concurrency", "after"):
            fields[option] = OPTION_READERS[option](state, node, name, where, builder)
        elif option != "name":
            state.skip(f"step '{name}': option {option}= of wf.add() is not known to "
                       "spectra-lint and was skipped", where, steps=(name,),
                       workflow=builder.name)
    builder.subs.append((len(builder.steps), sub))
    builder.steps.append(StepSpec(name=name, kind=StepKind.SUBWORKFLOW, location=where,
                                  **fields))  # type: ignore[arg-type]


def _repeat(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
            builder: Builder) -> RepeatSpec | None:
    module = state.module
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if not (isinstance(node, ast.Call) and module.dsl_name(node.func) == "Repeat"
            and len(node.args) <= len(REPEAT_FIELDS)
            and all(k.arg is not None for k in node.keywords)):
        state.skip(f"step '{step}': repeat={describe(node)} is not followed, so the loop "
                   "is checked as one pass; write Repeat(until=..., max_iterations=...) "
                   "in the call", where, steps=(step,), workflow=builder.name)
        return None
    given = dict(zip(REPEAT_FIELDS, node.args, strict=False))
    given.update({k.arg: k.value for k in node.keywords if k.arg is not None})
    spec = RepeatSpec()
    unfollowed: list[str] = []
    if "until" in given:
        until = guard(module, given["until"])
        if isinstance(until, GuardSpec):
            spec = attrs.evolve(spec, until_reads=until.reads)
        elif until is UNKNOWN:
            unfollowed.append("until=")
    if "max_iterations" in given:
        value = evaluate(module, given["max_iterations"])
        if value is UNKNOWN:
            unfollowed.append("max_iterations= (checked as 1)")
            value = 1
        spec = attrs.evolve(spec, max_iterations=value)
    if "carry" in given:
        carry = evaluate(module, given["carry"])
        if isinstance(carry, dict):
            spec = attrs.evolve(spec, carry=tuple((str(k), str(v)) for k, v in carry.items()))
        else:
            unfollowed.append("carry=")
    if "on_limit" in given:
        on_limit = evaluate(module, given["on_limit"])
        if isinstance(on_limit, str):
            spec = attrs.evolve(spec, on_limit=on_limit)
        else:
            unfollowed.append("on_limit=")
    if unfollowed:
        state.skip(f"step '{step}': Repeat({', '.join(unfollowed)}) is not followed; use "
                   "literal values or module-level constants", where, steps=(step,),
                   workflow=builder.name)
    return spec


def writes_mapping(value: object) -> object:
    """``writes=`` of ``wf.add``: pairs (inner, outer), None, or UNKNOWN."""
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, str):
        return ((value, value),)
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    if isinstance(value, tuple | frozenset):
        return tuple((k, k) for k in value)
    return UNKNOWN
