"""The static front end: the IR of every workflow in a Python file, from its ``ast`` alone.

Nothing here imports or runs the code it reads.  A :class:`Loader` parses files once
and follows imports of steps to other modules of the tree; :func:`analyse_file` turns a
module into :class:`StaticWorkflow` objects (a :class:`~compiler.WorkflowSpec` plus
what the linter could not follow) and the diagnostics of reading it (SPX901, SPX902).
The checks themselves are the compiler's passes, run by :mod:`compiler._static_lint`.
"""

from __future__ import annotations

import ast
import bisect
import os
import re
from collections.abc import Iterator, Mapping

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic
from ._gc import paused_gc
from ._static_eval import UNKNOWN, describe, evaluate
from ._static_types import hinted, raw_annotation
from ._types import TypeExpr

#: The public names of ``spectra_dsl`` the front end understands.
DSL_NAMES = frozenset({"Workflow", "step", "Join", "reducers", "Retry", "Repeat", "match"})
DSL_PACKAGE = "spectra_dsl"
#: Options of ``@step(...)`` and ``@wf.step(...)``.
STEP_OPTIONS = ("name", "join", "writes", "when", "retry", "timeout")
WORKFLOW_OPTIONS = ("name", "steps", "inputs", "reducers", "max_concurrency")
#: Options of ``wf.add(sub, ...)``.
ADD_OPTIONS = ("name", "writes", "repeat", "when")
#: The StepSpec field each step option fills, where the names differ.
IR_FIELDS = {"when": "guard"}
#: How many names bound to names or re-exported by imports to follow before giving up.
MAX_IMPORT_DEPTH = 16
#: How many folders up from a file to look for the package of an absolute import.
MAX_PACKAGE_DEPTH = 32

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
#: Kinds of binding a module records for a name.
_DSL, _IMPORT, _CONSTANT, _DEFINITION, _OTHER = "dsl", "import", "constant", "def", "other"
#: Compound statements whose bindings may or may not happen.
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
           ast.Match, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
#: Methods that change a list in place.
_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "sort",
                       "reverse", "__setitem__", "__delitem__", "__iadd__"})
#: (line after which it is in force, kind, the ImportRef / expression / def / dsl name)
_Binding = tuple[int, str, object]
_DefNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_PARAM_KINDS = (
    ("posonlyargs", ir.POSITIONAL_ONLY),
    ("args", ir.POSITIONAL_OR_KEYWORD),
)


@attrs.frozen
class ImportRef:
    """``from <level dots><module> import <name>`` (``name`` None for ``import module``)."""

    module: str
    level: int
    name: str | None


@attrs.frozen
class StaticWorkflow:
    """A workflow read from source: its IR and the steps whose ``join=`` was not followed
    (for those, join checks other than the forgotten join are skipped)."""

    spec: ir.WorkflowSpec
    unsure_joins: frozenset[str] = frozenset()


@attrs.frozen
class ModuleResult:
    """What one file holds: its workflows and the diagnostics of reading it."""

    path: str
    workflows: tuple[StaticWorkflow, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    source: str | None = None


def _indent_column(lines: list[str], line: int) -> int:
    if 1 <= line <= len(lines):
        text = lines[line - 1]
        return len(text) - len(text.lstrip()) + 1
    return 1


def unreadable(path: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    """An SPX901 finding for ``path``."""
    return Diagnostic("SPX901", message, location=ir.SourceLocation(path, line, column))


def read_text(path: str) -> tuple[str | None, ast.Module | None, Diagnostic | None]:
    """Read and parse ``path``: its text and tree, or an SPX901 saying why not."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        return None, None, unreadable(path, f"{path} is a directory, not a Python file; "
                                      "pass the directory itself to lint the files in it")
    except OSError as error:
        reason = error.strerror or str(error)
        return None, None, unreadable(path, f"cannot read {path}: {reason}; check that it "
                                      "exists and that you may read it")
    return parse_source(path, data)


def parse_source(
    path: str, data: bytes | str
) -> tuple[str | None, ast.Module | None, Diagnostic | None]:
    """Parse ``data``; a syntax error becomes SPX901 with the parser's line and message."""
    if isinstance(data, bytes):
        try:
            text = _decode(data)
        except (UnicodeDecodeError, SyntaxError, LookupError) as error:
            return None, None, unreadable(
                path, f"cannot decode {path}: {error}; save it as UTF-8 (or declare its "
                "encoding in a '# -*- coding: ... -*-' line)")
    else:
        text = data
    try:
        tree = ast.parse(text, filename=path, type_comments=False)
    except SyntaxError as error:
        line = error.lineno or 1
        column = max(error.offset or 1, 1)
        return text, None, unreadable(
            path, f"syntax error: {error.msg}; fix it so the file can be checked",
            line, column)
    except (RecursionError, MemoryError):
        return text, None, unreadable(
            path, "the parser gave up: an expression is nested too deeply; split it up")
    except ValueError as error:  # source containing null bytes
        return text, None, unreadable(path, f"cannot parse {path}: {error}")
    return text, tree, None


def _decode(data: bytes) -> str:
    import io
    import tokenize

    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


class Module:
    """One parsed module: its imports, constants and top-level definitions."""

    def __init__(self, loader: Loader, path: str, text: str, tree: ast.Module) -> None:
        self.loader = loader
        self.path = path
        self.text = text
        self.tree = tree
        self._lines: list[str] | None = None
        #: local name -> fully qualified name of a ``spectra_dsl`` object
        self.dsl: dict[str, str] = {}
        #: local name -> an import of another module (or of a name in it)
        self.imports: dict[str, ImportRef] = {}
        self.constants: dict[str, ast.expr] = {}
        self.definitions: dict[str, _DefNode] = {}
        #: name -> every binding in order, (line it takes effect after, kind, value), for
        #: resolving a name bound more than once to the binding in force where it is used
        self.history: dict[str, list[_Binding]] = {}
        #: id of a def -> (line, options call) of each ``step(...)(fn)``-like statement
        #: that marked it after its definition, in order
        self.marks: dict[int, list[tuple[int, ast.Call]]] = {}
        #: name -> (line, call or None: not followed) of each in-place change of it
        self.mutations: dict[str, list[tuple[int, ast.Call | None]]] = {}
        for statement in tree.body:
            self._record(statement)

    def scope(self, function: _FunctionNode) -> Module:
        """A view of this module from inside ``function``: its local imports, constants
        and definitions shadow the module's, its parameters hide module names, and its
        body takes the place of the module's statements."""
        inner = Module.__new__(Module)
        inner.loader, inner.path, inner.text = self.loader, self.path, self.text
        inner.tree = ast.Module(body=function.body, type_ignores=[])
        inner._lines = self.lines
        inner.dsl, inner.imports = dict(self.dsl), dict(self.imports)
        inner.constants, inner.definitions = dict(self.constants), dict(self.definitions)
        # module names are read as bound last (the function runs after the module did)
        inner.history = {}
        inner.marks = {key: list(value) for key, value in self.marks.items()}
        inner.mutations = {}
        arguments = function.args
        for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                    arguments.vararg, arguments.kwarg):
            if arg is not None:
                inner._bind(arg.arg, _OTHER, None, 0)
        for statement in function.body:
            inner._record(statement)
        return inner

    @property
    def lines(self) -> list[str]:
        """The source lines (without line ends)."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def _record(self, statement: ast.stmt) -> None:
        line = statement.end_lineno or statement.lineno
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.name.split(".")[0] == DSL_PACKAGE:
                    local = alias.asname or DSL_PACKAGE
                    self._bind(local, _DSL, alias.name if alias.asname else DSL_PACKAGE, line)
                elif alias.asname:
                    self._bind(alias.asname, _IMPORT, ImportRef(alias.name, 0, None), line)
                else:
                    top = alias.name.split(".")[0]
                    self._bind(top, _IMPORT, ImportRef(top, 0, None), line)
        elif isinstance(statement, ast.ImportFrom):
            module = statement.module or ""
            for alias in statement.names:
                local = alias.asname or alias.name
                if statement.level == 0 and module.split(".")[0] == DSL_PACKAGE:
                    self._bind(local, _DSL, f"{module}.{alias.name}", line)
                elif alias.name != "*":
                    self._bind(local, _IMPORT, ImportRef(module, statement.level, alias.name),
                               line)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            self._mark(statement.value, line)
        elif isinstance(statement, ast.Assign):
            value = statement.value
            if isinstance(value, ast.Call):
                marked = self._mark(value, line)
                value = value if marked is None else marked  # step(fn) returns fn
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    self._bind(target.id, _CONSTANT, value, line)
                else:
                    self._bind_others(target, line)
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            if isinstance(statement.target, ast.Name):
                self._bind(statement.target.id, _CONSTANT, statement.value, line)
        elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            self._bind(statement.target.id, _OTHER, statement, line)  # kept for STEPS += [...]
        elif isinstance(statement, ast.For | ast.AsyncFor):
            self._bind_others(statement.target, line)
        elif isinstance(statement, _DefNode):
            self._bind(statement.name, _DEFINITION, statement, line)
        if isinstance(statement, _BLOCKS):
            self._record_block(statement, line)
        self._record_mutations(statement, line)

    def _record_block(self, statement: ast.stmt, line: int) -> None:
        """A name bound already and bound again inside an ``if``/``try``/``with``/loop
        block may or may not be rebound: from there on it is not followed."""
        stack: list[ast.AST] = list(ast.iter_child_nodes(statement))
        names: set[str] = set()
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                names.add(node.id)
            elif isinstance(node, _DefNode):
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
            if self.history.get(name):
                self._bind(name, _OTHER, None, line)

    def step_form(self, call: ast.Call) -> tuple[ast.expr, ast.Call | None, bool] | None:
        """(fn, options call, keeps) when ``call`` is ``step(fn, ...)``, ``step(...)(fn)``,
        ``wf.step(fn, ...)`` or ``wf.step(...)(fn)``; ``keeps`` when the call keeps the
        options already recorded on ``fn`` (a bare ``wf.step(fn)``)."""
        if len(call.args) != 1 or (call.keywords and isinstance(call.func, ast.Call)):
            return None
        fn = call.args[0]
        if isinstance(fn, ast.Starred):
            return None
        outer = call.func
        if isinstance(outer, ast.Call):
            if outer.args or not self._is_step(outer.func):
                return None
            options = ast.Call(func=outer.func, args=[], keywords=outer.keywords)
            return fn, ast.copy_location(options, outer), False
        if not self._is_step(outer):
            return None
        options = ast.Call(func=outer, args=[], keywords=call.keywords)
        keeps = not call.keywords and self.dsl_name(outer) != "step"
        return fn, ast.copy_location(options, call), keeps

    def _is_step(self, node: ast.expr) -> bool:
        """``step`` of spectra_dsl, or ``wf.step`` of a workflow ``wf`` of this module."""
        if self.dsl_name(node) == "step":
            return True
        return (isinstance(node, ast.Attribute) and node.attr == "step"
                and isinstance(node.value, ast.Name) and self.is_workflow(node.value))

    def is_workflow(self, node: ast.Name) -> bool:
        """True when ``node`` names a ``Workflow(...)`` built in this module."""
        found = self.lookup(node)
        return (found is not None and found[0] is self and isinstance(found[1], ast.Call)
                and self.dsl_name(found[1].func) == "Workflow")

    def _mark(self, call: ast.Call, line: int) -> ast.expr | None:
        """Record a ``step(...)(fn)`` statement on ``fn``'s def; returns ``fn``."""
        form = self.step_form(call)
        if form is None:
            return None
        fn, options, keeps = form
        found = self.lookup(fn)
        if (found is not None and found[0] is self and isinstance(found[1], _DefNode)
                and not keeps and options is not None):
            self.marks.setdefault(id(found[1]), []).append((line, options))
        return fn

    def _record_mutations(self, statement: ast.stmt, line: int) -> None:
        """Note ``NAME.append(...)``-like calls and ``NAME[...] = ...`` on module names
        (a list of steps changed after it was built)."""
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            if (isinstance(func, ast.Attribute) and func.attr in _MUTATORS
                    and isinstance(func.value, ast.Name)):
                self.mutations.setdefault(func.value.id, []).append((line, statement.value))
                return
        if isinstance(statement, _DefNode | ast.Expr | ast.Import | ast.ImportFrom):
            return
        for node in ast.walk(statement):  # in place anywhere else: not followed
            name: ast.expr | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    node.func.attr in _MUTATORS):
                name = node.func.value
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
                name = node.value
            if isinstance(name, ast.Name):
                self.mutations.setdefault(name.id, []).append((line, None))

    def _bind_others(self, target: ast.AST, line: int) -> None:
        """Names bound to values the reader does not follow (``a, b = ...``, ``x += 1``)."""
        for node in ast.walk(target):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self._bind(node.id, _OTHER, None, line)

    def _table(self, kind: str) -> dict[str, object] | None:
        tables: dict[str, dict[str, object]] = {
            _DSL: self.dsl, _IMPORT: self.imports,  # type: ignore[dict-item]
            _CONSTANT: self.constants, _DEFINITION: self.definitions,  # type: ignore[dict-item]
        }
        return tables.get(kind)

    def _final(self, name: str) -> _Binding | None:
        for kind in (_DEFINITION, _CONSTANT, _IMPORT, _DSL):
            table = self._table(kind)
            if table is not None and name in table:
                return (0, kind, table[name])
        return None

    def _bind(self, name: str, kind: str, value: object, line: int) -> None:
        entries = self.history.get(name)
        if entries is None:
            inherited = self._final(name)  # from the module, in a function's scope
            entries = self.history[name] = [inherited] if inherited is not None else []
        entries.append((line, kind, value))
        for other in (_DSL, _IMPORT, _CONSTANT, _DEFINITION):
            table = self._table(other)
            assert table is not None
            if other == kind:
                table[name] = value
            else:
                table.pop(name, None)

    def binding(self, name: str, line: int | None) -> _Binding | None:
        """The binding of ``name`` in force at ``line`` (None: the last one): the latest
        made by a statement that ends before ``line``."""
        entries = self.history.get(name)
        if line is None or entries is None or len(entries) < 2:
            return self._final(name)
        index = bisect.bisect_left(entries, line, key=lambda entry: entry[0])
        return entries[index - 1] if index else None

    # -- names ------------------------------------------------------------------------

    def qualified(self, node: ast.expr) -> str | None:
        """The dotted name ``node`` stands for, from this module's imports of spectra_dsl."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.dsl:
            return None
        parts.append(self.dsl[node.id])
        return ".".join(reversed(parts))

    def dsl_name(self, node: ast.expr) -> str | None:
        """``"Workflow"``, ``"Join.ALL"``, ``"reducers.append"``... for spectra_dsl names."""
        qualified = self.qualified(node)
        if qualified is None:
            return None
        parts = qualified.split(".")
        for index, part in enumerate(parts):
            if part in DSL_NAMES:
                return ".".join(parts[index:])
        return None

    def follow_import(self, name: str, line: int | None = None
                      ) -> tuple[Module, str | None] | None:
        """The module an imported ``name`` comes from, and its name there (None: the
        module itself), or None when it is no import of a readable module."""
        bound = self.binding(name, line)
        ref = bound[2] if bound is not None and bound[1] == _IMPORT else None
        if not isinstance(ref, ImportRef):
            return None
        if ref.name is None:
            target = self.loader.find_module(self.path, ref.module, ref.level)
            return None if target is None else (target, None)
        target = self.loader.find_module(self.path, ref.module, ref.level)
        if target is not None and (
            ref.name in target.definitions or ref.name in target.constants
            or ref.name in target.imports
        ):
            return target, ref.name
        submodule = f"{ref.module}.{ref.name}" if ref.module else ref.name
        package = self.loader.find_module(self.path, submodule, ref.level)
        if package is not None:
            return package, None
        return None if target is None else (target, ref.name)

    def lookup(self, node: ast.expr, depth: int = 0) -> tuple[Module, ast.AST] | None:
        """The definition (def, class, lambda or other expression) ``node`` names."""
        if depth > 16:
            return None
        if isinstance(node, ast.Name):
            return self._lookup_name(node.id, depth, node.lineno)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found = self.follow_import(node.value.id, node.value.lineno)
            if found is not None and found[1] is None:
                return found[0]._lookup_name(node.attr, depth + 1)
        return None

    def _lookup_name(self, name: str, depth: int,
                     line: int | None = None) -> tuple[Module, ast.AST] | None:
        if depth > MAX_IMPORT_DEPTH:
            return None
        bound = self.binding(name, line)
        if bound is None:
            return None
        kind, value = bound[1], bound[2]
        if kind == _DEFINITION and isinstance(value, ast.AST):
            return self, value
        if kind == _CONSTANT and isinstance(value, ast.expr):
            if isinstance(value, ast.Name | ast.Attribute) and depth < 16:
                return self.lookup(value, depth + 1)
            return self, value
        found = self.follow_import(name, line)
        if found is not None and found[1] is not None:
            return found[0]._lookup_name(found[1], depth + 1)
        return None

    def constant(self, node: ast.Name) -> ast.expr | None:
        """The expression ``node`` is bound to where it is used, if a constant."""
        bound = self.binding(node.id, node.lineno)
        if bound is not None and bound[1] == _CONSTANT and isinstance(bound[2], ast.expr):
            return bound[2]
        return None

    def location(self, node: ast.stmt | ast.expr) -> ir.SourceLocation:
        """File, line and 1-based column of ``node``."""
        return ir.SourceLocation(self.path, node.lineno, node.col_offset + 1)

    def line_location(self, line: int) -> ir.SourceLocation:
        """File and line, column = the line's indentation + 1."""
        return ir.SourceLocation(self.path, line, _indent_column(self.lines, line))


class Loader:
    """Parses files once and finds the modules that imports name."""

    def __init__(self) -> None:
        self._modules: dict[str, Module | None] = {}

    def load(self, path: str, text: str | None = None,
             tree: ast.Module | None = None) -> Module | None:
        """The module at ``path`` (None if it cannot be read or parsed)."""
        key = os.path.normpath(path)
        if key in self._modules:
            return self._modules[key]
        self._modules[key] = None  # guards against import cycles while loading
        if text is None or tree is None:
            text, tree, problem = read_text(path)
            if problem is not None or text is None or tree is None:
                return None
        module = Module(self, path, text, tree)
        self._modules[key] = module
        return module

    def cached(self, path: str) -> Module | None:
        """The module at ``path`` if it was loaded already."""
        return self._modules.get(os.path.normpath(path))

    def line(self, path: str, number: int) -> str | None:
        """Line ``number`` of the file at ``path`` (for --show-source), if readable."""
        module = self.cached(path)
        if module is not None:
            lines = module.lines
        else:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    lines = handle.read().splitlines()
            except (OSError, ValueError):
                return None
        return lines[number - 1] if 1 <= number <= len(lines) else None

    def find_module(self, importer: str, name: str, level: int) -> Module | None:
        """The module ``from <level dots><name> import ...`` in ``importer`` refers to."""
        parts = [p for p in name.split(".") if p]
        if level > 0:
            base = os.path.dirname(importer)
            for _ in range(level - 1):
                base = os.path.join(base, os.pardir)
            return self._file_in(base, base, parts)
        if not parts or parts[0] == DSL_PACKAGE:
            return None
        base = os.path.dirname(os.path.abspath(importer))
        shown = os.path.dirname(importer)
        for _ in range(MAX_PACKAGE_DEPTH):
            found = self._file_in(base, shown, parts)
            if found is not None:
                return found
            parent = os.path.dirname(base)
            if parent == base:
                return None
            base, shown = parent, os.path.join(shown, os.pardir)
        return None

    def _file_in(self, base: str, shown: str, parts: list[str]) -> Module | None:
        """The module file ``parts`` under ``base`` (named as under ``shown``), if any."""
        tails = [(*parts[:-1], parts[-1] + ".py")] if parts else []
        tails.append((*parts, "__init__.py"))
        for tail in tails:
            if os.path.isfile(os.path.join(base, *tail)):
                return self.load(os.path.normpath(os.path.join(shown, *tail)))
        return None


# -- reading one module's workflows ---------------------------------------------------------


@attrs.define
class _Builder:
    """A workflow being read: ``Workflow(...)`` and what later statements add to it."""

    variable: str
    call: ast.Call
    name: str
    location: ir.SourceLocation
    steps: list[ir.StepSpec] = attrs.Factory(list)
    inputs: tuple[str, ...] | None = None
    reducers: list[ir.ReducerSpec] = attrs.Factory(list)
    unsure_joins: set[str] = attrs.Factory(set)
    #: (index in ``steps``, the sub-workflow) for each ``wf.add(sub, ...)``
    subs: list[tuple[int, _Builder]] = attrs.Factory(list)


class _Reader:
    """Reads the workflows of one module, collecting SPX902 findings as it goes."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.found: list[Diagnostic] = []
        self.builders: dict[str, _Builder] = {}
        self.finished: list[_Builder] = []
        self.handled: set[int] = set()

    def skip(self, message: str, where: ir.SourceLocation, steps: tuple[str, ...] = (),
             workflow: str | None = None) -> None:
        self.found.append(Diagnostic("SPX902", message, steps=steps, location=where,
                                     workflow=workflow))

    # -- the module ------------------------------------------------------------------

    def read(self, *, factories: bool = True) -> list[_Builder]:
        for statement in self.module.tree.body:
            self._statement(statement)
        scoped: list[_Builder] = []
        if factories:
            for statement in self.module.tree.body:
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                        _builds_workflow(self.module, s) for s in statement.body):
                    inner = _Reader(self.module.scope(statement))
                    scoped.extend(inner.read(factories=False))
                    self.found.extend(inner.found)
                    self.handled |= inner.handled
        self._unfollowed()
        unique = {id(b): b for b in (*self.finished, *self.builders.values(), *scoped)}
        return list(unique.values())

    def _statement(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            value = statement.value
            targets = statement.targets if isinstance(statement, ast.Assign) else [
                statement.target]
            if isinstance(value, ast.Call) and self.module.dsl_name(value.func) == "Workflow":
                self.handled.add(id(value))
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                builder = self._workflow(value, names[0] if names else "")
                if len(names) != len(targets) or not names:
                    self.skip(f"workflow '{builder.name}' is assigned to "
                              f"{describe(targets[0])}; assign it to a plain name such as "
                              "'wf = Workflow(...)' so its steps can be followed",
                              builder.location, workflow=builder.name)
                self._bind(names[0] if names else "", builder)
            elif (isinstance(value, ast.Name) and value.id in self.builders
                  and all(isinstance(t, ast.Name) for t in targets)):
                builder = self.builders[value.id]  # w2 = wf: another name for wf
                for target in targets:
                    assert isinstance(target, ast.Name)
                    if self.builders.get(target.id) not in (None, builder):
                        self.finished.append(self.builders.pop(target.id))
                    self.builders[target.id] = builder
            else:
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in self.builders:
                        self.finished.append(self.builders.pop(target.id))
        elif isinstance(statement, _DefNode):
            self._definition(statement)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            self._method_call(statement.value)

    def _bind(self, variable: str, builder: _Builder) -> None:
        if variable in self.builders:
            self.finished.append(self.builders.pop(variable))
        if variable:
            self.builders[variable] = builder
        else:
            self.finished.append(builder)

    def _workflow_of(self, node: ast.expr, method: str) -> _Builder | None:
        """The workflow of ``wf.<method>`` if ``node`` is that attribute."""
        if (isinstance(node, ast.Attribute) and node.attr == method
                and isinstance(node.value, ast.Name) and node.value.id in self.builders):
            return self.builders[node.value.id]
        return None

    # -- Workflow(...) ------------------------------------------------------------------

    def _workflow(self, call: ast.Call, variable: str) -> _Builder:
        module = self.module
        location = module.line_location(call.lineno)
        name_node: ast.expr | None = call.args[0] if call.args else None
        options: dict[str, ast.expr] = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                self.skip(f"Workflow(**{describe(keyword.value)}) is not followed; pass the "
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
                self.skip(f"workflow name {describe(name_node)} is not followed; it is called "
                          f"'{name}' here. Use a string literal or a module-level constant",
                          location)
        builder = _Builder(variable, call, name, location)
        for extra in call.args[1:]:
            self.skip(f"workflow '{name}': positional argument {describe(extra)} is not "
                      "followed; pass the options by name (steps=..., inputs=...)",
                      location, workflow=name)
        for option, node in options.items():
            if option == "steps":
                self._steps_list(builder, node)
            elif option == "inputs":
                self._inputs(builder, node)
            elif option == "reducers":
                self._reducer_dict(builder, node)
            elif option not in WORKFLOW_OPTIONS:
                self.skip(f"workflow '{name}': option {option}= is not known to spectra-lint "
                          "and was skipped", location, workflow=name)
        return builder

    def _inputs(self, builder: _Builder, node: ast.expr) -> None:
        value = evaluate(self.module, node)
        if isinstance(value, str):
            self.skip(f"workflow '{builder.name}': inputs={value!r} is a string, which "
                      f"Workflow() rejects; write inputs=({value!r},). Checked as if no "
                      "inputs were declared", builder.location, workflow=builder.name)
            return
        if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            builder.inputs = value
        elif value is None:
            builder.inputs = None
        else:
            self.skip(f"workflow '{builder.name}': inputs={describe(node)} is not followed, so "
                      "parameters are checked as if no inputs were declared; use a tuple of "
                      "string literals", builder.location, workflow=builder.name)

    def _steps_list(self, builder: _Builder, node: ast.expr) -> None:
        why: list[str] = []
        elements = self._sequence(node, 0, why)
        if elements is None:
            reason = f" ({why[0]}), so no step of it is checked" if why else ""
            self.skip(f"workflow '{builder.name}': steps={describe(node)} is not "
                      f"followed{reason}; list the steps literally (steps=[fetch, merge]) "
                      "or in a module-level list", builder.location, workflow=builder.name)
            return
        for element in elements:
            spec = self._step_reference(builder, element)
            if spec is not None:
                builder.steps.append(spec)

    def _sequence(self, node: ast.expr, depth: int = 0,
                  why: list[str] | None = None) -> list[ast.expr] | None:
        """The elements of a list of steps; None (and, in ``why``, the reason when it is
        not the expression itself) when not followed."""
        if isinstance(node, ast.List | ast.Tuple):
            out: list[ast.expr] = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    inner = (self._sequence(element.value, depth + 1, why) if depth < 8
                             else None)
                    if inner is None:
                        return None
                    out.extend(inner)
                else:
                    out.append(element)
            return out
        if isinstance(node, ast.Name) and depth < 8:
            return self._named_sequence(node, depth, why)
        return None

    def _named_sequence(self, node: ast.Name, depth: int,
                        why: list[str] | None) -> list[ast.expr] | None:
        """A list bound to a module name, with the ``.append``/``.extend``/``+=`` made
        to it before ``node``'s line."""
        module = self.module
        entries = module.history.get(node.id, [])
        in_force = [e for e in entries if e[0] < node.lineno] if len(entries) > 1 else entries
        start = None
        for index, entry in enumerate(in_force):
            if entry[1] == _CONSTANT:
                start = index
        if start is None or not isinstance(in_force[start][2], ast.expr):
            return None
        bound_line, bound = in_force[start][0], in_force[start][2]
        assert isinstance(bound, ast.expr)
        out = self._sequence(bound, depth + 1, why)
        if out is None:
            return None
        changes: list[tuple[int, object]] = [
            (at, call) for at, call in module.mutations.get(node.id, [])
            if bound_line < at < node.lineno]
        changes += [(at, value) for at, _, value in in_force[start + 1:]]
        for _, change in sorted(changes, key=lambda c: c[0]):
            added: list[ast.expr] | None = None
            if isinstance(change, ast.AugAssign) and isinstance(change.op, ast.Add):
                added = self._sequence(change.value, depth + 1, why)
            elif isinstance(change, ast.Call) and isinstance(change.func, ast.Attribute) and (
                    not change.keywords and len(change.args) == 1
                    and not isinstance(change.args[0], ast.Starred)):
                if change.func.attr == "append":
                    added = [change.args[0]]
                elif change.func.attr == "extend":
                    added = self._sequence(change.args[0], depth + 1, why)
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

    def _step_reference(self, builder: _Builder, element: ast.expr) -> ir.StepSpec | None:
        found = self.module.lookup(element)
        bound = (self.module.binding(element.id, element.lineno)
                 if isinstance(element, ast.Name) else None)
        if found is None and bound is not None and bound[1] == _OTHER:
            self.skip(f"workflow '{builder.name}': step {describe(element)} is not followed "
                      "(the name is bound again in a block, a loop or by unpacking, which "
                      "spectra-lint does not follow), so it was left out of the check",
                      builder.location, workflow=builder.name)
            return None
        if found is None:
            self.skip(f"workflow '{builder.name}': step {describe(element)} is not followed "
                      "(it is no function defined or imported from a module of the linted "
                      "tree), so it was left out of the check", builder.location,
                      workflow=builder.name)
            return None
        module, node = found
        reader = self if module is self.module else _Reader(module)
        if isinstance(node, _DefNode):
            options = reader._marked_options(
                node, element.lineno if reader is self else None)
            spec = reader._step_from_def(node, options or {}, builder)
            if reader is not self:
                self.found.extend(reader.found)
            return spec
        if isinstance(node, ast.Lambda):
            return ir.StepSpec(name="<lambda>", kind=ir.OTHER,
                               location=module.location(node))
        if isinstance(node, ast.Call):
            self.skip(f"workflow '{builder.name}': step {describe(element)} is built by a "
                      "call the linter does not follow, so it was left out of the check",
                      builder.location, workflow=builder.name)
            return None
        return ir.StepSpec(name=describe(element), kind=ir.OTHER,
                           location=module.location(node) if isinstance(node, ast.expr)
                           else builder.location)

    # -- definitions and decorators ----------------------------------------------------------

    def _decorator_options(self, decorator: ast.expr) -> tuple[str, ast.Call | None] | None:
        """("step" | workflow variable, call or None) when ``decorator`` marks a step."""
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if self.module.dsl_name(target) == "step":
            return "step", call
        if (isinstance(target, ast.Attribute) and target.attr == "step"
                and isinstance(target.value, ast.Name) and target.value.id in self.builders):
            return target.value.id, call
        return None

    def _marked_options(self, node: _DefNode, line: int | None = None,
                        decorators: list[ast.expr] | None = None
                        ) -> dict[str, ast.expr] | None:
        """The keyword options recorded on ``node`` where it is used at ``line`` (None:
        after the module ran): by the last ``step(...)(fn)`` statement before ``line``,
        else by the step decorators (None: unmarked)."""
        if decorators is None:
            marks = [call for at, call in self.module.marks.get(id(node), [])
                     if line is None or at < line]
            if marks:
                return self._call_options(marks[-1], node)
            decorators = node.decorator_list
        for position, decorator in enumerate(decorators):
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            if self.module.dsl_name(target) == "step":
                return self._call_options(call, node)
            if (isinstance(target, ast.Attribute) and target.attr == "step"
                    and isinstance(target.value, ast.Name)
                    and (target.value.id in self.builders
                         or self.module.is_workflow(target.value))):
                if call is None:  # a bare @wf.step keeps what a step decorator below set
                    return self._marked_options(node, line, decorators[position + 1:]) or {}
                return self._call_options(call, node)
        return None

    def _call_options(self, call: ast.Call | None, node: _DefNode) -> dict[str, ast.expr]:
        if call is None:
            return {}
        options: dict[str, ast.expr] = {}
        if call.args:
            self.skip(f"step '{node.name}': positional arguments to @step(...) are not "
                      "followed; pass options by name (join=..., writes=...)",
                      self.module.location(node), steps=(node.name,))
        for keyword in call.keywords:
            if keyword.arg is None:
                self.skip(f"step '{node.name}': @step(**{describe(keyword.value)}) is not "
                          "followed; pass options by name", self.module.location(node),
                          steps=(node.name,))
            else:
                options[keyword.arg] = keyword.value
        return options

    def _imported_workflow(self, node: ast.expr, methods: tuple[str, ...]) -> str | None:
        """``X`` when ``node`` is ``X.<method>`` and ``X`` a workflow imported from another
        module of the tree (the linter checks a workflow in the module that builds it)."""
        if not (isinstance(node, ast.Attribute) and node.attr in methods
                and isinstance(node.value, ast.Name)):
            return None
        name = node.value.id
        if name in self.builders or name not in self.module.imports:
            return None
        found = self.module.lookup(node.value)
        if found is None or found[0] is self.module or not isinstance(found[1], ast.Call):
            return None
        return name if found[0].dsl_name(found[1].func) == "Workflow" else None

    def _definition(self, node: _DefNode) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            imported = self._imported_workflow(target, ("step",))
            if imported is not None:
                self.skip(f"step '{node.name}' is registered with @{describe(target)} on a "
                          "workflow imported from another module, which spectra-lint does "
                          "not follow: that workflow is checked without it. Register the "
                          "step in the module that builds the workflow, or list it in "
                          "steps=[...]", self.module.location(node), steps=(node.name,))
        for position, decorator in enumerate(node.decorator_list):
            marked = self._decorator_options(decorator)
            if marked is None or marked[0] == "step":
                continue
            builder = self.builders[marked[0]]
            self.handled.add(id(decorator))
            options = self._call_options(marked[1], node)
            if marked[1] is None:  # a bare @wf.step keeps what a @step below it recorded
                options = self._marked_options(
                    node, None, node.decorator_list[position + 1:]) or {}
            builder.steps.append(self._step_from_def(node, options, builder,
                                                     node.decorator_list[position + 1:]))

    def _method_call(self, call: ast.Call) -> None:
        imported = self._imported_workflow(call.func, ("step", "reducer", "add"))
        if imported is not None:
            self.skip(f"{describe(call.func)}(...) on a workflow imported from another "
                      "module is not followed: that workflow is checked without it; call "
                      "it in the module that builds the workflow",
                      self.module.line_location(call.lineno))
            return
        builder = self._workflow_of(call.func, "reducer")
        if builder is not None:
            self.handled.add(id(call))
            self._reducer_call(builder, call)
            return
        builder = self._workflow_of(call.func, "step")
        if builder is not None:
            self.handled.add(id(call))
            self._step_call(builder, call)
            return
        inner = call.func
        builder = None if not isinstance(inner, ast.Call) else self._workflow_of(
            inner.func, "step")
        if builder is not None and isinstance(inner, ast.Call) and not inner.args:
            # wf.step(name=...)(fn): the options of the first call, fn of the second
            self.handled |= {id(call), id(inner)}
            merged = ast.copy_location(
                ast.Call(func=inner.func, args=call.args, keywords=inner.keywords), call)
            self._step_call(builder, merged, keeps=False)
            return
        builder = self._workflow_of(call.func, "add")
        if builder is not None:
            self.handled.add(id(call))
            self._add_call(builder, call)

    def _add_call(self, builder: _Builder, call: ast.Call) -> None:
        """``wf.add(sub, name=..., writes=..., repeat=Repeat(...), when=...)``."""
        where = self.module.line_location(call.lineno)
        options = {k.arg: k.value for k in call.keywords if k.arg is not None}
        sub_node = call.args[0] if len(call.args) == 1 else options.pop("sub", None)
        sub = None
        if isinstance(sub_node, ast.Name):
            sub = self.builders.get(sub_node.id)
        name = evaluate(self.module, options["name"]) if "name" in options else UNKNOWN
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
            self.skip(f"workflow '{builder.name}': {describe(call)} is not followed "
                      f"({problem}), so it was left out of the check", where,
                      workflow=builder.name)
            return
        fields: dict[str, object] = {}
        for option, node in options.items():
            if option == "writes":
                value = evaluate(self.module, node)
                mapping = _writes_mapping(value)
                if mapping is UNKNOWN:
                    self.skip(f"step '{name}': writes={describe(node)} is not followed, so "
                              "the step is checked as if it wrote its own name", where,
                              steps=(name,), workflow=builder.name)
                elif mapping is not None:
                    assert isinstance(mapping, tuple)
                    fields["writes_mapping"] = mapping
                    fields["writes"] = tuple(outer for _, outer in mapping)
            elif option == "repeat":
                fields["repeat"] = self._repeat(node, name, where, builder)
            elif option == "when":
                fields["guard"] = self._option_when(node, name, where, builder)
            elif option != "name":
                self.skip(f"step '{name}': option {option}= of wf.add() is not known to "
                          "spectra-lint and was skipped", where, steps=(name,),
                          workflow=builder.name)
        builder.subs.append((len(builder.steps), sub))
        builder.steps.append(ir.StepSpec(name=name, kind=ir.SUBWORKFLOW, location=where,
                                         **fields))  # type: ignore[arg-type]

    def _repeat(self, node: ast.expr, step: str, where: ir.SourceLocation,
                builder: _Builder) -> ir.RepeatSpec | None:
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        fields = ("until", "max_iterations", "carry", "on_limit")
        if not (isinstance(node, ast.Call) and self.module.dsl_name(node.func) == "Repeat"
                and len(node.args) <= len(fields)
                and all(k.arg is not None for k in node.keywords)):
            self.skip(f"step '{step}': repeat={describe(node)} is not followed, so the loop "
                      "is checked as one pass; write Repeat(until=..., max_iterations=...) "
                      "in the call", where, steps=(step,), workflow=builder.name)
            return None
        given = dict(zip(fields, node.args, strict=False))
        given.update({k.arg: k.value for k in node.keywords if k.arg is not None})
        spec = ir.RepeatSpec()
        unfollowed: list[str] = []
        if "until" in given:
            guard = self._guard(given["until"])
            if isinstance(guard, ir.GuardSpec):
                spec = attrs.evolve(spec, until_reads=guard.reads)
            elif guard is UNKNOWN:
                unfollowed.append("until=")
        if "max_iterations" in given:
            value = evaluate(self.module, given["max_iterations"])
            if value is UNKNOWN:
                unfollowed.append("max_iterations= (checked as 1)")
                value = 1
            spec = attrs.evolve(spec, max_iterations=value)
        if "carry" in given:
            carry = evaluate(self.module, given["carry"])
            if isinstance(carry, dict):
                spec = attrs.evolve(spec, carry=tuple((str(k), str(v))
                                                      for k, v in carry.items()))
            else:
                unfollowed.append("carry=")
        if "on_limit" in given:
            on_limit = evaluate(self.module, given["on_limit"])
            if isinstance(on_limit, str):
                spec = attrs.evolve(spec, on_limit=on_limit)
            else:
                unfollowed.append("on_limit=")
        if unfollowed:
            self.skip(f"step '{step}': Repeat({', '.join(unfollowed)}) is not followed; use "
                      "literal values or module-level constants", where, steps=(step,),
                      workflow=builder.name)
        return spec

    def _step_call(self, builder: _Builder, call: ast.Call, keeps: bool = True) -> None:
        """``wf.step(fn, join=...)`` written as a call rather than a decorator (``keeps``:
        without options it keeps what ``@step`` recorded on ``fn``)."""
        if len(call.args) != 1:
            self.skip(f"workflow '{builder.name}': {describe(call)} is not followed",
                      self.module.line_location(call.lineno), workflow=builder.name)
            return
        found = self.module.lookup(call.args[0])
        node = None if found is None else found[1]
        if found is None or not isinstance(node, _DefNode):
            self.skip(f"workflow '{builder.name}': {describe(call)} is not followed: "
                      f"{describe(call.args[0])} is no function defined or imported from a "
                      "module of the linted tree",
                      self.module.line_location(call.lineno), workflow=builder.name)
            return
        module = found[0]
        if call.keywords or not keeps:
            fake = ast.Call(func=call.func, args=[], keywords=call.keywords)
            builder.steps.append(self._step_from_def(node, self._call_options(fake, node),
                                                     builder))
            return
        # wf.step(fn) keeps what @step recorded on fn, read where fn is defined
        reader = self if module is self.module else _Reader(module)
        line = call.lineno if reader is self else None
        builder.steps.append(reader._step_from_def(
            node, reader._marked_options(node, line) or {}, builder))
        if reader is not self:
            self.found.extend(reader.found)

    def _is_step_decorator(self, decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if self.module.dsl_name(target) == "step":
            return True
        return (isinstance(target, ast.Attribute) and target.attr == "step"
                and isinstance(target.value, ast.Name)
                and (target.value.id in self.builders or self.module.is_workflow(target.value)))

    def _decorated_kind(self, node: _DefNode, below: list[ast.expr] | None,
                        name: str, builder: _Builder) -> str | None:
        """What the decorators applied before the step was marked make of it: OTHER for
        ones that return no function (``functools.cache``), None when the def is read as
        written; an SPX902 for each decorator that is not followed."""
        if below is None:  # the object bound to the def's name
            below = [d for d in node.decorator_list if not self._is_step_decorator(d)]
        kind = None
        for decorator in below:
            if self._is_step_decorator(decorator):
                continue
            verdict = _decorator_verdict(self.module, decorator)
            if verdict == _NOT_A_FUNCTION:
                kind = ir.OTHER
            elif verdict != _TRANSPARENT:
                self.skip(f"step '{name}': decorator @{describe(decorator)} is not followed "
                          "(it is neither known nor a function of the linted tree that uses "
                          "functools.wraps), so the step is checked as the undecorated def",
                          self.module.location(node), steps=(name,), workflow=builder.name)
        return kind

    def _step_from_def(self, node: _DefNode, options: Mapping[str, ast.expr],
                       builder: _Builder, below: list[ast.expr] | None = None) -> ir.StepSpec:
        """The step ``node`` makes with ``options``; ``below``: the decorators applied
        before the registering one (None: all but the step decorators)."""
        module = self.module
        location = module.location(node)
        name = node.name
        if "name" in options:
            value = evaluate(module, options["name"])
            if isinstance(value, str):
                name = value
            else:
                self.skip(f"step '{name}': name={describe(options['name'])} is not followed, "
                          f"so the step is called '{name}' here; use a string literal",
                          location, steps=(name,), workflow=builder.name)
        fields: dict[str, object] = {}
        for option, value_node in options.items():
            if option == "name":
                continue
            if option not in STEP_OPTIONS:
                self.skip(f"step '{name}': option {option}= is not known to spectra-lint and "
                          "was skipped", location, steps=(name,), workflow=builder.name)
                continue
            reading = getattr(self, f"_option_{option}")
            fields[IR_FIELDS.get(option, option)] = reading(value_node, name, location,
                                                            builder)
        decorated = self._decorated_kind(node, below, name, builder)
        if decorated is not None:
            return ir.StepSpec(name=name, kind=decorated, location=location, **fields)  # type: ignore[arg-type]
        if isinstance(node, ast.ClassDef):
            return ir.StepSpec(name=name, kind=ir.CLASS, location=location, **fields)  # type: ignore[arg-type]
        returns = raw_annotation(module, node.returns)
        return ir.StepSpec(
            name=name,
            params=tuple(_parameters(module, node)),
            kind=_function_kind(node),
            location=location,
            returns=returns,
            returns_fields=self._typed_dict_fields(node.returns),
            **fields,  # type: ignore[arg-type]
        )

    # -- step options -------------------------------------------------------------------------

    def _option_join(self, node: ast.expr, step: str, where: ir.SourceLocation,
                     builder: _Builder) -> object:
        value = evaluate(self.module, node)
        if value is UNKNOWN:
            builder.unsure_joins.add(step)
            self.skip(f"step '{step}': join={describe(node)} is not followed, so the step is "
                      "checked as if it had join=Join.ALL; use Join.ALL, Join.ANY or a "
                      "module-level constant bound to one", where, steps=(step,),
                      workflow=builder.name)
            return "all"
        return value

    def _option_writes(self, node: ast.expr, step: str, where: ir.SourceLocation,
                       builder: _Builder) -> object:
        value = evaluate(self.module, node)
        if value is UNKNOWN:
            self.skip(f"step '{step}': writes={describe(node)} is not followed, so the step "
                      "is checked as if it wrote its own name; use a string or a tuple of "
                      "strings", where, steps=(step,), workflow=builder.name)
            return None
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, tuple | list | dict):
            return (value,)
        return tuple(value)

    def _guard(self, node: ast.expr) -> object:
        """The GuardSpec of a ``when=``/``until=`` guard, None, or UNKNOWN."""
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        value = evaluate(self.module, node)
        if isinstance(value, ir.GuardSpec):
            return value
        found = self.module.lookup(node) if not isinstance(node, ast.Lambda) else (
            self.module, node)
        if found is not None and isinstance(found[1], ast.Lambda | ast.FunctionDef
                                            | ast.AsyncFunctionDef):
            arguments = found[1].args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args,
                                     *arguments.kwonlyargs)]
            return ir.GuardSpec(reads=tuple(names))
        return UNKNOWN

    def _option_when(self, node: ast.expr, step: str, where: ir.SourceLocation,
                     builder: _Builder) -> object:
        guard = self._guard(node)
        if guard is not UNKNOWN:
            return guard
        self.skip(f"step '{step}': when={describe(node)} is not followed, so the step is "
                  "checked as if it had no guard; use match(key=value) or a module-level "
                  "function", where, steps=(step,), workflow=builder.name)
        return None

    def _option_retry(self, node: ast.expr, step: str, where: ir.SourceLocation,
                      builder: _Builder) -> object:
        value = evaluate(self.module, node)
        if value is None or isinstance(value, ir.RetrySpec):
            return value
        self.skip(f"step '{step}': retry={describe(node)} is not followed, so its settings "
                  "are not checked; write Retry(attempts=..., backoff=..., factor=...) with "
                  "literal values", where, steps=(step,), workflow=builder.name)
        return None

    def _option_timeout(self, node: ast.expr, step: str, where: ir.SourceLocation,
                        builder: _Builder) -> object:
        value = evaluate(self.module, node)
        if value is UNKNOWN:
            self.skip(f"step '{step}': timeout={describe(node)} is not followed, so it is "
                      "not checked; use a number or a module-level constant", where,
                      steps=(step,), workflow=builder.name)
            return None
        return value

    def _typed_dict_fields(self, node: ast.expr | None) -> Mapping[str, TypeExpr] | None:
        found: tuple[Module, ast.AST] | None = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value, mode="eval").body
            except (SyntaxError, RecursionError, ValueError):
                return None
            if isinstance(parsed, ast.Name):  # a forward reference: the last binding
                found = self.module._lookup_name(parsed.id, 0)
        elif isinstance(node, ast.Name | ast.Attribute):
            found = self.module.lookup(node)
        if found is None or not isinstance(found[1], ast.ClassDef):
            return None
        return _typed_dict(found[0], found[1], 0)

    # -- reducers ---------------------------------------------------------------------------

    def _reducer_dict(self, builder: _Builder, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            bound = self.module.constant(node)
            if isinstance(bound, ast.Dict):
                node = bound
        if not isinstance(node, ast.Dict):
            self.skip(f"workflow '{builder.name}': reducers={describe(node)} is not "
                      "followed, so no reducer is known; write the dict literally",
                      builder.location, workflow=builder.name)
            return
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                self.skip(f"workflow '{builder.name}': reducers={{**{describe(value_node)}}} "
                          "is not followed", builder.location, workflow=builder.name)
                continue
            self._add_reducer(builder, key_node, value_node, False, builder.location)

    def _reducer_call(self, builder: _Builder, call: ast.Call) -> None:
        where = self.module.line_location(call.lineno)
        arguments: list[ast.expr] = list(call.args)
        keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
        for name in ("key", "fn"):
            if name in keywords:
                arguments.append(keywords[name])
        if len(arguments) < 2 or any(isinstance(a, ast.Starred) for a in arguments):
            self.skip(f"workflow '{builder.name}': {describe(call)} is not followed; write "
                      "wf.reducer(\"key\", fn)", where, workflow=builder.name)
            return
        has_initial = "initial" in keywords or len(call.args) > 2
        self._add_reducer(builder, arguments[0], arguments[1], has_initial, where)

    def _add_reducer(self, builder: _Builder, key_node: ast.expr, fn: ast.expr,
                     has_initial: bool, where: ir.SourceLocation) -> None:
        key = evaluate(self.module, key_node)
        if not isinstance(key, str):
            self.skip(f"workflow '{builder.name}': the reducer key {describe(key_node)} is "
                      "not followed, so that reducer is not known; use a string literal",
                      where, workflow=builder.name)
            return
        if self.module.dsl_name(fn) in STARTS_EMPTY:
            has_initial = True
        # a later reducer for the same key replaces the earlier one, as at run time
        builder.reducers = [r for r in builder.reducers if r.key != key]
        builder.reducers.append(ir.ReducerSpec(
            key=key, name=_last_name(fn), has_initial=has_initial, result=None,
            location=where))

    # -- what was not followed --------------------------------------------------------------

    def _unfollowed(self) -> None:
        """SPX902 for workflows built or extended where the reader does not look."""
        variables = set(self.builders) | {b.variable for b in self.finished}
        words = {name for name in (*self.module.dsl, *variables) if name}
        if not words:
            return
        mentions = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")
        lines = self.module.lines
        roots: list[tuple[str, ast.AST]] = []
        for statement in self.module.tree.body:
            inside = statement.body if isinstance(statement, _DefNode) else [statement]
            if not inside:
                continue
            decorators = getattr(inside[0], "decorator_list", [])
            first = min([inside[0].lineno, *(d.lineno for d in decorators)])
            last = statement.end_lineno or statement.lineno
            if mentions.search("\n".join(lines[first - 1:last])):
                roots.extend((_scope(statement), node) for node in inside)
        top_level = {id(statement) for statement in self.module.tree.body}
        for scope, node in ((scope, n) for scope, root in roots for n in _walk(root)):
            if isinstance(node, ast.Call) and id(node) not in self.handled:
                if self.module.dsl_name(node.func) == "Workflow":
                    self.handled.add(id(node))
                    self.skip(
                        f"{_short_call(node)} is built inside {scope}, where spectra-lint "
                        "does not follow it; assign it to a name at module level or at the "
                        "top of a function (wf = Workflow(...)) to have it checked",
                        self.module.line_location(node.lineno))
                elif (isinstance(node.func, ast.Attribute)
                      and node.func.attr in ("step", "reducer", "add")
                      and isinstance(node.func.value, ast.Name)
                      and node.func.value.id in variables):
                    self.handled.add(id(node))
                    self.skip(
                        f"{describe(node.func)}(...) inside {scope} is not followed (only "
                        "module-level statements are); its workflow is checked without it",
                        self.module.line_location(node.lineno))
            elif isinstance(node, _DefNode) and id(node) not in top_level:
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if (id(decorator) not in self.handled and isinstance(target, ast.Attribute)
                            and target.attr == "step" and isinstance(target.value, ast.Name)
                            and target.value.id in variables):
                        if isinstance(decorator, ast.Call):
                            self.handled.add(id(decorator))
                        self.skip(f"step '{node.name}' is registered with @"
                                  f"{describe(target)} inside {scope}, which spectra-lint "
                                  "does not follow; its workflow is checked without it",
                                  self.module.location(node), steps=(node.name,))


_TRANSPARENT, _NOT_A_FUNCTION, _UNKNOWN_DECORATOR = "transparent", "not a function", "unknown"
#: Decorators that return the function itself.
TRANSPARENT_DECORATORS = frozenset({
    "typing.final", "typing.no_type_check", "typing.override", "typing_extensions.final",
    "typing_extensions.override", "abc.abstractmethod", "dataclasses.dataclass",
})
#: Decorators whose result is no function (SPX001 at compile).
NOT_FUNCTION_DECORATORS = frozenset({
    "functools.cache", "functools.lru_cache", "staticmethod", "classmethod",
    "builtins.staticmethod", "builtins.classmethod",
})


def _external_name(module: Module, node: ast.expr) -> str | None:
    """``functools.cache`` for ``functools.cache``, ``cache`` (from functools import
    cache) or ``ft.cache`` (import functools as ft); a bare unbound name as itself."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    bound = module.binding(node.id, node.lineno)
    if bound is None:
        parts.append(node.id)  # a builtin
    elif bound[1] == _IMPORT and isinstance(bound[2], ImportRef) and bound[2].level == 0:
        ref = bound[2]
        parts.append(ref.module if ref.name is None else f"{ref.module}.{ref.name}")
    else:
        return None
    return ".".join(reversed(parts))


def _decorator_verdict(module: Module, decorator: ast.expr) -> str:
    """Whether ``decorator`` returns the function itself, a wrapper made with
    ``functools.wraps`` (both read as the def), no function, or is not followed."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call is not None else decorator
    external = _external_name(module, target)
    if external in NOT_FUNCTION_DECORATORS:
        return _NOT_A_FUNCTION
    if call is None and external in TRANSPARENT_DECORATORS:
        return _TRANSPARENT
    if call is not None:
        return _UNKNOWN_DECORATOR
    found = module.lookup(target)
    if found is None or not isinstance(found[1], ast.FunctionDef):
        return _UNKNOWN_DECORATOR
    function = found[1]
    arguments = [*function.args.posonlyargs, *function.args.args]
    returns = [n for n in _walk_function(function) if isinstance(n, ast.Return)]
    if arguments and returns and all(
            isinstance(r.value, ast.Name) and r.value.id == arguments[0].arg for r in returns):
        return _TRANSPARENT  # def deco(fn): ...; return fn
    for inner in function.body:
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                _last_name(d) == "wraps" for d in inner.decorator_list):
            return _TRANSPARENT
    return _UNKNOWN_DECORATOR


def _walk_function(function: _FunctionNode) -> Iterator[ast.AST]:
    """The nodes of ``function``'s own body (not of functions or classes inside it)."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                          | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


#: Built-in reducers whose fold starts from an empty list or dict without ``initial=``.
STARTS_EMPTY = frozenset({"reducers.append", "reducers.extend", "reducers.merge"})


def _builds_workflow(module: Module, statement: ast.stmt) -> bool:
    """True for ``name = Workflow(...)`` (the start of a workflow the reader follows)."""
    value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
    return isinstance(value, ast.Call) and module.dsl_name(value.func) == "Workflow"


def _short_call(call: ast.Call) -> str:
    """``Workflow('name', ...)``: a call named by its first argument."""
    first = describe(call.args[0], 30) if call.args else ""
    rest = len(call.args) + len(call.keywords) > (1 if call.args else 0)
    inside = f"{first}, ..." if rest and first else ("..." if rest else first)
    return f"{describe(call.func, 30)}({inside})"


def _scope(statement: ast.stmt) -> str:
    """How a message names a top-level statement: "function 'build'", "a 'for' block"."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return f"function '{statement.name}'"
    if isinstance(statement, ast.ClassDef):
        return f"class '{statement.name}'"
    keyword = {ast.If: "if", ast.For: "for", ast.AsyncFor: "async for", ast.While: "while",
               ast.With: "with", ast.AsyncWith: "async with", ast.Try: "try"}.get(
                   type(statement))
    return f"an '{keyword}' block" if keyword else "an expression"


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``tree`` (iterative, so deep trees cannot overflow the stack)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _typed_dict(module: Module, definition: ast.ClassDef,
                depth: int) -> dict[str, TypeExpr] | None:
    """The fields of the TypedDict ``definition`` of ``module`` (with those it inherits),
    typed as ``typing.get_type_hints`` gives them; None when it is no TypedDict."""
    if depth > 16:
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
                inherited = _typed_dict(found[0], found[1], depth + 1)
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


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Lambda):
        return "<lambda>"
    return describe(node, 30)


def _parameters(module: Module, node: _FunctionNode) -> Iterator[ir.ParameterSpec]:
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    index = 0
    for field, kind in _PARAM_KINDS:
        for arg in getattr(arguments, field):
            yield ir.ParameterSpec(arg.arg, kind, index >= first_default,
                                   raw_annotation(module, arg.annotation))
            index += 1
    if arguments.vararg is not None:
        yield ir.ParameterSpec(arguments.vararg.arg, ir.VAR_POSITIONAL, False,
                               raw_annotation(module, arguments.vararg.annotation))
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        yield ir.ParameterSpec(arg.arg, ir.KEYWORD_ONLY, default is not None,
                               raw_annotation(module, arg.annotation))
    if arguments.kwarg is not None:
        yield ir.ParameterSpec(arguments.kwarg.arg, ir.VAR_KEYWORD, False,
                               raw_annotation(module, arguments.kwarg.annotation))


def _function_kind(node: _FunctionNode) -> str:
    is_async = isinstance(node, ast.AsyncFunctionDef)
    stack: list[ast.AST] = list(node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Yield | ast.YieldFrom):
            return ir.ASYNC_GENERATOR if is_async else ir.GENERATOR
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                      | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(current))
    return ir.ASYNC_FUNCTION if is_async else ir.SYNC_FUNCTION


def _writes_mapping(value: object) -> object:
    """``writes=`` of ``wf.add``: pairs (inner, outer), None, or UNKNOWN."""
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, str):
        return ((value, value),)
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    if isinstance(value, tuple):
        return tuple((k, k) for k in value)
    return UNKNOWN


def _workflow_spec(builder: _Builder, building: frozenset[int] = frozenset()) -> ir.WorkflowSpec:
    steps = list(builder.steps)
    inside = building | {id(builder)}
    for index, sub in builder.subs:
        if id(sub) not in inside:
            steps[index] = attrs.evolve(steps[index], body=_workflow_spec(sub, inside))
    return ir.WorkflowSpec(name=builder.name, steps=tuple(steps), inputs=builder.inputs,
                           reducers=tuple(builder.reducers), location=builder.location)


def analyse_module(module: Module) -> tuple[list[StaticWorkflow], list[Diagnostic]]:
    """The workflows ``module`` builds and the SPX902 findings of reading them."""
    reader = _Reader(module)
    builders = reader.read()
    workflows = [
        StaticWorkflow(_workflow_spec(b), frozenset(b.unsure_joins))
        for b in sorted(builders, key=lambda b: (b.location.line, b.location.column))
    ]
    return workflows, reader.found


def analyse_file(path: str, loader: Loader | None = None,
                 source: bytes | str | None = None) -> ModuleResult:
    """Read ``path`` (or ``source``, shown as ``path``) into workflows; never raises for
    anything the file holds."""
    with paused_gc():
        return _analyse_file(path, loader or Loader(), source)


def _analyse_file(path: str, loader: Loader, source: bytes | str | None) -> ModuleResult:
    if source is None:
        text, tree, problem = read_text(path)
    else:
        text, tree, problem = parse_source(path, source)
    if problem is not None or text is None or tree is None:
        return ModuleResult(path, (), (problem,) if problem else (), text)
    module = loader.load(path, text, tree)
    if module is None:  # pragma: no cover - load() with a tree always succeeds
        return ModuleResult(path, (), (), text)
    try:
        workflows, found = analyse_module(module)
    except RecursionError:
        return ModuleResult(path, (), (unreadable(
            path, "an expression is nested too deeply to follow; split it up"),), text)
    return ModuleResult(path, tuple(workflows), tuple(found), text)
