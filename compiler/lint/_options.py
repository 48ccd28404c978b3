"""The options of ``@step(...)`` and ``wf.add(...)``: ``join=``, ``writes=``, ``when=``,
``retry=``, ``timeout=``, ``map=``, ``concurrency=``, ``after=``, read into the values
the runtime would see.

Each reader returns the IR value, or reports SPX902 naming what it could not follow and
returns what the check assumes instead.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping

from compiler import GuardSpec, RetrySpec, SourceLocation, TypeExpr

from ._annotations import hinted
from ._eval import UNKNOWN, describe, evaluate
from ._model import MAX_IMPORT_DEPTH, Module
from ._state import Builder, ReadState

#: Options of ``@step(...)`` and ``@wf.step(...)``.
STEP_OPTIONS = ("name", "join", "writes", "when", "retry", "timeout", "map",
                "concurrency", "after", "ask", "durable", "executor")
#: The StepSpec field each step option fills, where the names differ.
IR_FIELDS = {"when": "guard"}

OptionReader = Callable[[ReadState, ast.expr, str, SourceLocation, Builder], object]


def read_join(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
              builder: Builder) -> object:
    """``join=``: a Join member or a constant bound to one (else checked as ALL)."""
    value = evaluate(state.module, node)
    if value is UNKNOWN:
        builder.unsure_joins.add(step)
        state.skip(f"step '{step}': join={describe(node)} is not followed, so the step is "
                   "checked as if it had join=Join.ALL; use Join.ALL, Join.ANY or a "
                   "module-level constant bound to one", where, steps=(step,),
                   workflow=builder.name)
        return "all"
    return value


def read_writes(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
                builder: Builder) -> object:
    """``writes=``: a key or a tuple of keys."""
    value = evaluate(state.module, node)
    if value is UNKNOWN:
        state.skip(f"step '{step}': writes={describe(node)} is not followed, so the step "
                   "is checked as if it wrote its own name; use a string or a tuple of "
                   "strings", where, steps=(step,), workflow=builder.name)
        return None
    if value is None:
        return None
    return as_names(value)


def as_names(value: object) -> tuple[object, ...] | None:
    """``writes=``, ``map=`` and ``after=`` as the runtime normalises them: None stays
    None, a string (or any single value) becomes a 1-tuple, a sequence or set a tuple."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, tuple | list | dict | frozenset):
        return (value,)
    return tuple(value)


def guard(module: Module, node: ast.expr) -> object:
    """The GuardSpec of a ``when=``/``until=`` guard, None, or UNKNOWN."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    value = evaluate(module, node)
    if isinstance(value, GuardSpec):
        return value
    found = module.lookup(node) if not isinstance(node, ast.Lambda) else (module, node)
    if found is not None and isinstance(found[1], ast.Lambda | ast.FunctionDef
                                        | ast.AsyncFunctionDef):
        arguments = found[1].args
        names = [a.arg for a in (*arguments.posonlyargs, *arguments.args,
                                 *arguments.kwonlyargs)]
        name = found[1].name if not isinstance(found[1], ast.Lambda) else "<lambda>"
        return GuardSpec(reads=tuple(names), name=name)
    return UNKNOWN


def read_when(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
              builder: Builder) -> object:
    """``when=``: ``match(...)`` or a function whose parameters say what it reads."""
    found = guard(state.module, node)
    if found is not UNKNOWN:
        return found
    state.skip(f"step '{step}': when={describe(node)} is not followed, so the step is "
               "checked as if it had no guard; use match(key=value) or a module-level "
               "function", where, steps=(step,), workflow=builder.name)
    return None


def read_retry(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
               builder: Builder) -> object:
    """``retry=Retry(...)`` with values that can be read."""
    value = evaluate(state.module, node)
    if value is None or isinstance(value, RetrySpec):
        return value
    state.skip(f"step '{step}': retry={describe(node)} is not followed, so its settings "
               "are not checked; write Retry(attempts=..., backoff=..., factor=...) with "
               "literal values", where, steps=(step,), workflow=builder.name)
    return None


def read_number(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
                builder: Builder, *, option: str) -> object:
    """``timeout=`` or ``concurrency=``: a number or a constant (the passes judge it)."""
    value = evaluate(state.module, node)
    if value is UNKNOWN:
        state.skip(f"step '{step}': {option}={describe(node)} is not followed, so it is "
                   "not checked; use a number or a module-level constant", where,
                   steps=(step,), workflow=builder.name)
        return None
    return value


def read_map(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
             builder: Builder) -> object:
    """``map=``: a parameter name or a tuple of them (zipped)."""
    value = evaluate(state.module, node)
    if value is UNKNOWN:
        builder.unsure_maps.add(step)
        state.skip(f"step '{step}': map={describe(node)} is not followed, so the step is "
                   "checked as if it were not mapped, without the type checks of it and "
                   "its readers (SPX301, SPX502); use a string or a tuple of strings",
                   where, steps=(step,), workflow=builder.name)
        return None
    return as_names(value)


def read_after(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
               builder: Builder) -> object:
    """``after=``: a step name or a tuple of them (ordering-only upstreams)."""
    value = evaluate(state.module, node)
    if value is UNKNOWN:
        builder.unsure_order = True
        state.skip(f"step '{step}': after={describe(node)} is not followed, so the "
                   "workflow is checked without those ordering edges and without the "
                   "findings they could change (joins, racing writers); use a string or a "
                   "tuple of strings", where, steps=(step,), workflow=builder.name)
        return ()
    return as_names(value) or ()


def _flag(option: str, default: bool) -> OptionReader:
    def read_flag(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
                  builder: Builder) -> object:
        value = evaluate(state.module, node)
        if value is UNKNOWN:
            state.skip(f"step '{step}': {option}={describe(node)} is not followed, so the "
                       f"step is checked as if it had {option}={default}; use True or "
                       "False", where, steps=(step,), workflow=builder.name)
            return default
        return value

    read_flag.__doc__ = f"``{option}=``: True or False."
    return read_flag


def read_executor(state: ReadState, node: ast.expr, step: str, where: SourceLocation,
                  builder: Builder) -> object:
    """``executor=``: the name of an executor (bound at run time), a string."""
    value = evaluate(state.module, node)
    if not isinstance(value, str):
        state.skip(f"step '{step}': executor={describe(node)} is not followed, so the "
                   "executor it names is unknown here; use a string or a module-level "
                   "constant", where, steps=(step,), workflow=builder.name)
        return None
    return value


#: The reader of each step option but ``name=``.
OPTION_READERS: Mapping[str, OptionReader] = {
    "join": read_join, "writes": read_writes, "when": read_when, "retry": read_retry,
    "timeout": functools.partial(read_number, option="timeout"), "map": read_map,
    "concurrency": functools.partial(read_number, option="concurrency"), "after": read_after,
    "ask": _flag("ask", False), "durable": _flag("durable", True),
    "executor": read_executor,
}


def typed_dict_fields(module: Module, node: ast.expr | None
                      ) -> Mapping[str, TypeExpr] | None:
    """The fields of the TypedDict a return annotation names, if it is one."""
    found: tuple[Module, ast.AST] | None = None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except (SyntaxError, RecursionError, ValueError):
            return None
        if isinstance(parsed, ast.Name):  # a forward reference: the last binding
            found = module.lookup_name(parsed.id, 0)
    elif isinstance(node, ast.Name | ast.Attribute):
        found = module.lookup(node)
    if found is None or not isinstance(found[1], ast.ClassDef):
        return None
    return typed_dict(found[0], found[1], 0)


def typed_dict(module: Module, definition: ast.ClassDef,
               depth: int) -> dict[str, TypeExpr] | None:
    """The fields of the TypedDict ``definition`` of ``module`` (with those it inherits),
    typed as ``typing.get_type_hints`` gives them; None when it is no TypedDict."""
    if depth > MAX_IMPORT_DEPTH:
        return None
    fields: dict[str, TypeExpr] = {}
    typed = False
    for base in definition.bases:
        base_name = base.id if isinstance(base, ast.Name) else (
            base.attr if isinstance(base, ast.Attribute) else None)
        if base_name == "TypedDict":
            typed = True
        elif base_name is not None:
            found = module.lookup(base)
            if found is not None and isinstance(found[1], ast.ClassDef):
                inherited = typed_dict(found[0], found[1], depth + 1)
                if inherited is not None:
                    typed = True
                    fields.update(inherited)
    if not typed:
        return None
    for statement in definition.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            converted = hinted(module, statement.annotation, field=True)
            if converted is not None:
                fields[statement.target.id] = converted
    return fields
