"""Reading a step: a ``def`` and the options its markers recorded, into a ``StepSpec``.

The options come from the last ``step(...)(fn)`` statement before the step is used, or
from its step decorators (a bare ``@wf.step`` keeps what an ``@step(...)`` below it
recorded); the parameters, kind and annotations come from the ``def`` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from compiler import ParameterSpec, ParamKind, SourceLocation, StepKind, StepSpec

from ._annotations import raw_annotation
from ._classify import MarkerKind, decorator_marker
from ._decorators import Verdict, verdict
from ._eval import describe, evaluate
from ._model import DefNode, FunctionNode, Module
from ._options import IR_FIELDS, OPTION_READERS, STEP_OPTIONS, typed_dict_fields
from ._state import Builder, ReadState

_PARAM_KINDS = (
    ("posonlyargs", ParamKind.POSITIONAL_ONLY),
    ("args", ParamKind.POSITIONAL_OR_KEYWORD),
)


def marked_options(state: ReadState, node: DefNode, line: int | None = None,
                   decorators: list[ast.expr] | None = None) -> dict[str, ast.expr] | None:
    """The keyword options recorded on ``node`` where it is used at ``line`` (None:
    after the module ran): by the last ``step(...)(fn)`` statement before ``line``, else
    by the step decorators (None: unmarked)."""
    if decorators is None:
        marks = [mark.options for mark in state.module.marks.get(id(node), [])
                 if line is None or mark.line < line]
        if marks:
            return call_options(state, marks[-1], node)
        decorators = node.decorator_list
    for position, decorator in enumerate(decorators):
        marker = decorator_marker(state.module, decorator, state.is_workflow)
        if marker is None:
            continue
        if marker.kind is MarkerKind.WORKFLOW and marker.call is None:
            # a bare @wf.step keeps what a step decorator below it set
            return marked_options(state, node, line, decorators[position + 1:]) or {}
        return call_options(state, marker.call, node)
    return None


def call_options(state: ReadState, call: ast.Call | None,
                 node: DefNode) -> dict[str, ast.expr]:
    """The keyword options of a marker's call (SPX902 for what cannot be read)."""
    if call is None:
        return {}
    options: dict[str, ast.expr] = {}
    if call.args:
        state.skip(f"step '{node.name}': positional arguments to @step(...) are not "
                   "followed; pass options by name (join=..., writes=...)",
                   state.module.location(node), steps=(node.name,))
    for keyword in call.keywords:
        if keyword.arg is None:
            state.skip(f"step '{node.name}': @step(**{describe(keyword.value)}) is not "
                       "followed; pass options by name", state.module.location(node),
                       steps=(node.name,))
        else:
            options[keyword.arg] = keyword.value
    return options


def step_from_def(state: ReadState, node: DefNode, options: Mapping[str, ast.expr],
                  builder: Builder, below: list[ast.expr] | None = None) -> StepSpec:
    """The step ``node`` makes with ``options``; ``below``: the decorators applied
    before the registering one (None: all but the step decorators)."""
    module = state.module
    location = module.location(node)
    name = node.name
    if "name" in options:
        value = evaluate(module, options["name"])
        if isinstance(value, str):
            name = value
        else:
            state.skip(f"step '{name}': name={describe(options['name'])} is not followed, "
                       f"so the step is called '{name}' here; use a string literal",
                       location, steps=(name,), workflow=builder.name)
    fields: dict[str, object] = {}
    for option, value_node in options.items():
        if option == "name":
            continue
        if option not in STEP_OPTIONS:
            state.skip(f"step '{name}': option {option}= is not known to spectra-lint and "
                       "was skipped", location, steps=(name,), workflow=builder.name)
            continue
        fields[IR_FIELDS.get(option, option)] = OPTION_READERS[option](
            state, value_node, name, location, builder)
    decorated = _decorated_kind(state, node, below, name, builder)
    if decorated is not None:
        return StepSpec(name=name, kind=decorated, location=location, **fields)  # type: ignore[arg-type]
    if isinstance(node, ast.ClassDef):
        return StepSpec(name=name, kind=StepKind.CLASS, location=location, **fields)  # type: ignore[arg-type]
    return StepSpec(
        name=name,
        params=tuple(parameters(module, node)),
        kind=function_kind(node),
        location=location,
        returns=raw_annotation(module, node.returns),
        returns_fields=typed_dict_fields(module, node.returns),
        **fields,  # type: ignore[arg-type]
    )


def _decorated_kind(state: ReadState, node: DefNode, below: list[ast.expr] | None,
                    name: str, builder: Builder) -> StepKind | None:
    """What the decorators applied before the step was marked make of it: OTHER for ones
    that return no function (``functools.cache``), None when the def is read as written;
    an SPX902 for each decorator that is not followed."""
    module = state.module
    if below is None:  # the object bound to the def's name
        below = node.decorator_list
    kind = None
    for decorator in below:
        if decorator_marker(module, decorator, state.is_workflow) is not None:
            continue
        found = verdict(module, decorator)
        if found is Verdict.NOT_A_FUNCTION:
            kind = StepKind.OTHER
        elif found is not Verdict.TRANSPARENT:
            state.skip(f"step '{name}': decorator @{describe(decorator)} is not followed "
                       "(it is neither known nor a function of the linted tree that uses "
                       "functools.wraps), so the step is checked as the undecorated def",
                       module.location(node), steps=(name,), workflow=builder.name)
    return kind


def parameters(module: Module, node: FunctionNode) -> Iterator[ParameterSpec]:
    """The parameters of ``node``: name, kind, whether it has a default, annotation."""
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    index = 0
    for field, kind in _PARAM_KINDS:
        for arg in getattr(arguments, field):
            yield ParameterSpec(arg.arg, kind, index >= first_default,
                                raw_annotation(module, arg.annotation))
            index += 1
    if arguments.vararg is not None:
        yield ParameterSpec(arguments.vararg.arg, ParamKind.VAR_POSITIONAL, False,
                            raw_annotation(module, arguments.vararg.annotation))
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        yield ParameterSpec(arg.arg, ParamKind.KEYWORD_ONLY, default is not None,
                            raw_annotation(module, arg.annotation))
    if arguments.kwarg is not None:
        yield ParameterSpec(arguments.kwarg.arg, ParamKind.VAR_KEYWORD, False,
                            raw_annotation(module, arguments.kwarg.annotation))


def function_kind(node: FunctionNode) -> StepKind:
    """Async or plain, function or generator."""
    is_async = isinstance(node, ast.AsyncFunctionDef)
    stack: list[ast.AST] = list(node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Yield | ast.YieldFrom):
            return StepKind.ASYNC_GENERATOR if is_async else StepKind.GENERATOR
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                      | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(current))
    return StepKind.ASYNC_FUNCTION if is_async else StepKind.SYNC_FUNCTION


def step_of_call(state: ReadState, builder: Builder, call: ast.Call,
                 keeps: bool = True) -> None:
    """``wf.step(fn, join=...)`` written as a call rather than a decorator (``keeps``:
    without options it keeps what ``@step`` recorded on ``fn``)."""
    module = state.module
    if len(call.args) != 1:
        builder.incomplete = True
        state.skip(f"workflow '{builder.name}': {describe(call)} is not followed",
                   module.line_location(call.lineno), workflow=builder.name)
        return
    found = module.lookup(call.args[0])
    node = None if found is None else found[1]
    if found is None or not isinstance(node, DefNode):
        builder.incomplete = True
        state.skip(f"workflow '{builder.name}': {describe(call)} is not followed: "
                   f"{describe(call.args[0])} is no function defined or imported from a "
                   "module of the linted tree",
                   module.line_location(call.lineno), workflow=builder.name)
        return
    if call.keywords or not keeps:
        fake = ast.Call(func=call.func, args=[], keywords=call.keywords)
        builder.steps.append(step_from_def(state, node, call_options(state, fake, node),
                                           builder))
        return
    # wf.step(fn) keeps what @step recorded on fn, read where fn is defined
    reader = state.elsewhere(found[0])
    line = call.lineno if reader is state else None
    builder.steps.append(step_from_def(
        reader, node, marked_options(reader, node, line) or {}, builder))
    state.adopt(reader)


def location_of(module: Module, node: ast.AST, default: SourceLocation) -> SourceLocation:
    """Where ``node`` is, if it is an expression or statement of ``module``."""
    if isinstance(node, ast.expr | ast.stmt):
        return module.location(node)
    return default
