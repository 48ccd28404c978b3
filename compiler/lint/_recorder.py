"""Filling a module's semantic model from its statements, in source order.

:func:`read_module` records every import, constant and definition of a module, the
``step(...)(fn)`` statements that mark a def after it was defined, the in-place changes
of lists (``STEPS.append(c)``), and names that a block may or may not rebind (those are
not followed from there on).  :func:`function_scope` does the same for the body of a
workflow factory function.
"""

from __future__ import annotations

import ast

from ._classify import step_call
from ._model import (
    BLOCKS,
    DSL_PACKAGE,
    MUTATORS,
    BindingKind,
    DefNode,
    FunctionNode,
    ImportRef,
    Mark,
    Module,
    ModuleFinder,
)


def read_module(finder: ModuleFinder, path: str, text: str, tree: ast.Module) -> Module:
    """The semantic model of the module ``tree`` (the file at ``path``)."""
    module = Module(finder, path, text, tree)
    for statement in tree.body:
        record(module, statement)
    return module


def function_scope(module: Module, function: FunctionNode) -> Module:
    """A view of ``module`` from inside ``function``: its local imports, constants and
    definitions shadow the module's, its parameters hide module names, and its body
    takes the place of the module's statements."""
    inner = Module(module.finder, module.path, module.text,
                   ast.Module(body=function.body, type_ignores=[]))
    inner._lines = module.lines
    inner.future_annotations = module.future_annotations
    # module names are read as bound last (the function runs after the module did)
    inner.tables = {kind: dict(table) for kind, table in module.tables.items()}
    inner.marks = {key: list(value) for key, value in module.marks.items()}
    arguments = function.args
    for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                arguments.vararg, arguments.kwarg):
        if arg is not None:
            inner.bind(arg.arg, BindingKind.OTHER, None, 0)
    for statement in function.body:
        record(inner, statement)
    return inner


def record(module: Module, statement: ast.stmt) -> None:
    """Record the bindings ``statement`` makes."""
    line = statement.end_lineno or statement.lineno
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.name.split(".")[0] == DSL_PACKAGE:
                local = alias.asname or DSL_PACKAGE
                module.bind(local, BindingKind.DSL,
                            alias.name if alias.asname else DSL_PACKAGE, line)
            elif alias.asname:
                module.bind(alias.asname, BindingKind.IMPORT, ImportRef(alias.name, 0, None),
                            line)
            else:
                top = alias.name.split(".")[0]
                module.bind(top, BindingKind.IMPORT, ImportRef(top, 0, None), line)
    elif isinstance(statement, ast.ImportFrom):
        name = statement.module or ""
        for alias in statement.names:
            local = alias.asname or alias.name
            if statement.level == 0 and name.split(".")[0] == DSL_PACKAGE:
                module.bind(local, BindingKind.DSL, f"{name}.{alias.name}", line)
            elif alias.name != "*":
                module.bind(local, BindingKind.IMPORT,
                            ImportRef(name, statement.level, alias.name), line)
    elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        _mark(module, statement.value, line)
    elif isinstance(statement, ast.Assign):
        value = statement.value
        if isinstance(value, ast.Call):
            marked = _mark(module, value, line)
            value = value if marked is None else marked  # step(fn) returns fn
        for target in statement.targets:
            if isinstance(target, ast.Name):
                module.bind(target.id, BindingKind.CONSTANT, value, line)
            else:
                _bind_others(module, target, line)
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        if isinstance(statement.target, ast.Name):
            module.bind(statement.target.id, BindingKind.CONSTANT, statement.value, line)
    elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        # kept for STEPS += [...]
        module.bind(statement.target.id, BindingKind.OTHER, statement, line)
    elif isinstance(statement, ast.For | ast.AsyncFor):
        _bind_others(module, statement.target, line)
    elif isinstance(statement, DefNode):
        module.bind(statement.name, BindingKind.DEFINITION, statement, line)
    if isinstance(statement, BLOCKS):
        _record_block(module, statement, line)
    _record_mutations(module, statement, line)


def _record_block(module: Module, statement: ast.stmt, line: int) -> None:
    """A name bound already and bound again inside an ``if``/``try``/``with``/loop block
    may or may not be rebound: from there on it is not followed."""
    stack: list[ast.AST] = list(ast.iter_child_nodes(statement))
    names: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, DefNode):
            names.add(node.name)
            stack.extend(node.decorator_list)
            continue
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp
                        | ast.GeneratorExp):
            continue
        stack.extend(ast.iter_child_nodes(node))
    for name in sorted(names):
        if module.history.get(name):
            module.bind(name, BindingKind.OTHER, None, line)


def _mark(module: Module, call: ast.Call, line: int) -> ast.expr | None:
    """Record a ``step(...)(fn)`` statement on ``fn``'s def; returns ``fn``."""
    form = step_call(module, call, module.is_workflow)
    if form is None:
        return None
    found = module.lookup(form.fn)
    if (found is not None and found[0] is module and isinstance(found[1], DefNode)
            and not form.keeps):
        module.marks.setdefault(id(found[1]), []).append(Mark(line, form.options))
    return form.fn


def _record_mutations(module: Module, statement: ast.stmt, line: int) -> None:
    """Note ``NAME.append(...)``-like calls and ``NAME[...] = ...`` on module names (a
    list of steps changed after it was built)."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if (isinstance(func, ast.Attribute) and func.attr in MUTATORS
                and isinstance(func.value, ast.Name)):
            module.mutations.setdefault(func.value.id, []).append((line, statement.value))
            return
    if isinstance(statement, DefNode | ast.Expr | ast.Import | ast.ImportFrom):
        return
    for node in ast.walk(statement):  # in place anywhere else: not followed
        name: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in MUTATORS):
            name = node.func.value
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            name = node.value
        if isinstance(name, ast.Name):
            module.mutations.setdefault(name.id, []).append((line, None))


def _bind_others(module: Module, target: ast.AST, line: int) -> None:
    """Names bound to values the reader does not follow (``a, b = ...``, ``x += 1``)."""
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            module.bind(node.id, BindingKind.OTHER, None, line)
