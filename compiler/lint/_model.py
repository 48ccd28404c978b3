"""The semantic model of one module: what each name is bound to, where.

Like ruff's semantic model, it records every binding of a module-level name in source
order (:class:`Binding`, typed by :class:`BindingKind`), so a name is resolved to the
binding in force where it is used, not to its last one.  Nothing here reads workflows:
the readers ask the model what a name stands for.
"""

from __future__ import annotations

import ast
import bisect
import enum
from typing import Protocol

import attrs

from compiler import SourceLocation

#: The package whose names the front end understands.
DSL_PACKAGE = "spectra_dsl"
#: The public names of ``spectra_dsl`` the front end understands.
DSL_NAMES = frozenset({"Workflow", "step", "Join", "reducers", "Retry", "Repeat", "match"})
#: How many names bound to names, or re-exported by imports, to follow before giving up.
MAX_IMPORT_DEPTH = 16

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
DefNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
#: Compound statements whose bindings may or may not happen.
BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
          ast.Match, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
#: Methods that change a list in place.
MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "sort",
                      "reverse", "__setitem__", "__delitem__", "__iadd__"})


class BindingKind(enum.Enum):
    """What a name is bound to."""

    DSL = "dsl"                #: a ``spectra_dsl`` object (value: its dotted name)
    IMPORT = "import"          #: another module, or a name in it (value: an ImportRef)
    CONSTANT = "constant"      #: an expression (value: the ``ast.expr``)
    DEFINITION = "definition"  #: a ``def`` or ``class`` (value: the node)
    OTHER = "other"            #: something not followed (value: the node, or None)


@attrs.frozen
class ImportRef:
    """``from <level dots><module> import <name>`` (``name`` None for ``import module``)."""

    module: str
    level: int
    name: str | None


@attrs.frozen
class Binding:
    """One binding of a name: in force after ``line``, of ``kind``, to ``value``."""

    line: int
    kind: BindingKind
    value: object


#: The tables a name may be found in after the module ran, in lookup order.
_TABLE_ORDER = (BindingKind.DEFINITION, BindingKind.CONSTANT, BindingKind.IMPORT,
                BindingKind.DSL)


class ModuleFinder(Protocol):
    """Finds the module an import names (the :class:`~._loader.Loader` does)."""

    def find_module(self, importer: str, name: str, level: int) -> Module | None:
        """The module ``from <level dots><name> import ...`` in ``importer`` refers to."""


@attrs.frozen
class Mark:
    """A ``step(...)(fn)``-like statement at ``line`` that marked a def after it was
    defined, with its options call."""

    line: int
    options: ast.Call


class Module:
    """One parsed module: its imports, constants and top-level definitions."""

    def __init__(self, finder: ModuleFinder, path: str, text: str, tree: ast.Module) -> None:
        """An empty model of ``tree``; :func:`~._recorder.read_module` fills it."""
        self.finder = finder
        self.path = path
        self.text = text
        self.tree = tree
        self._lines: list[str] | None = None
        self.future_annotations = any(
            isinstance(s, ast.ImportFrom) and s.module == "__future__"
            and any(a.name == "annotations" for a in s.names) for s in tree.body)
        #: the names in force once the module ran, by kind
        self.tables: dict[BindingKind, dict[str, object]] = {
            kind: {} for kind in _TABLE_ORDER}
        #: name -> every binding in order, for resolving a name bound more than once
        self.history: dict[str, list[Binding]] = {}
        #: id of a def -> each ``step(...)(fn)``-like statement that marked it, in order
        self.marks: dict[int, list[Mark]] = {}
        #: name -> (line, call or None: not followed) of each in-place change of it
        self.mutations: dict[str, list[tuple[int, ast.Call | None]]] = {}

    # -- the tables ----------------------------------------------------------------------

    @property
    def dsl(self) -> dict[str, object]:
        """local name -> dotted name of a ``spectra_dsl`` object."""
        return self.tables[BindingKind.DSL]

    @property
    def imports(self) -> dict[str, object]:
        """local name -> :class:`ImportRef`."""
        return self.tables[BindingKind.IMPORT]

    @property
    def constants(self) -> dict[str, object]:
        """local name -> the expression it is bound to."""
        return self.tables[BindingKind.CONSTANT]

    @property
    def definitions(self) -> dict[str, object]:
        """local name -> its ``def`` or ``class`` node."""
        return self.tables[BindingKind.DEFINITION]

    @property
    def lines(self) -> list[str]:
        """The source lines (without line ends)."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def bind(self, name: str, kind: BindingKind, value: object, line: int) -> None:
        """Record that ``name`` is bound to ``value`` after ``line``."""
        entries = self.history.get(name)
        if entries is None:
            inherited = self._final(name)  # from the module, in a function's scope
            entries = self.history[name] = [inherited] if inherited is not None else []
        entries.append(Binding(line, kind, value))
        for other, table in self.tables.items():
            if other is kind:
                table[name] = value
            else:
                table.pop(name, None)

    def _final(self, name: str) -> Binding | None:
        for kind, table in self.tables.items():
            if name in table:
                return Binding(0, kind, table[name])
        return None

    def binding(self, name: str, line: int | None) -> Binding | None:
        """The binding of ``name`` in force at ``line`` (None: the last one): the latest
        made by a statement that ends before ``line``."""
        entries = self.history.get(name)
        if entries is not None and len(entries) == 1 and line is not None:
            only = entries[0]  # bound once: in force everywhere (as after the module ran)
            return None if only.kind is BindingKind.OTHER else only
        if line is None or entries is None or len(entries) < 2:
            return self._final(name)
        index = bisect.bisect_left(entries, line, key=_line_of)
        return entries[index - 1] if index else None

    # -- names ------------------------------------------------------------------------

    def qualified(self, node: ast.expr) -> str | None:
        """The dotted name ``node`` stands for, from this module's imports of spectra_dsl."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        base = self.dsl.get(node.id)
        if base is None:
            return None
        parts.append(str(base))
        return ".".join(reversed(parts))

    def dsl_name(self, node: ast.expr) -> str | None:
        """``"Workflow"``, ``"Join.ALL"``, ``"reducers.append"``... for spectra_dsl names."""
        if isinstance(node, ast.Name) and node.id not in self.dsl:
            return None  # the common case, decided without building a string
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
        ref = bound.value if bound is not None and bound.kind is BindingKind.IMPORT else None
        if not isinstance(ref, ImportRef):
            return None
        target = self.finder.find_module(self.path, ref.module, ref.level)
        if ref.name is None:
            return None if target is None else (target, None)
        if target is not None and (
            ref.name in target.definitions or ref.name in target.constants
            or ref.name in target.imports
        ):
            return target, ref.name
        submodule = f"{ref.module}.{ref.name}" if ref.module else ref.name
        package = self.finder.find_module(self.path, submodule, ref.level)
        if package is not None:
            return package, None
        return None if target is None else (target, ref.name)

    def lookup(self, node: ast.expr, depth: int = 0) -> tuple[Module, ast.AST] | None:
        """The definition (def, class, lambda or other expression) ``node`` names."""
        if depth > MAX_IMPORT_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self.lookup_name(node.id, depth, node.lineno)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found = self.follow_import(node.value.id, node.value.lineno)
            if found is not None and found[1] is None:
                return found[0].lookup_name(node.attr, depth + 1)
        return None

    def lookup_name(self, name: str, depth: int = 0,
                    line: int | None = None) -> tuple[Module, ast.AST] | None:
        """What ``name`` is bound to at ``line`` (None: its last binding), following
        names bound to names and imports of modules of the tree."""
        if depth > MAX_IMPORT_DEPTH:
            return None
        bound = self.binding(name, line)
        if bound is None:
            return None
        kind, value = bound.kind, bound.value
        if kind is BindingKind.DEFINITION and isinstance(value, ast.AST):
            return self, value
        if kind is BindingKind.CONSTANT and isinstance(value, ast.expr):
            if isinstance(value, ast.Name | ast.Attribute):
                return self.lookup(value, depth + 1)
            return self, value
        found = self.follow_import(name, line)
        if found is not None and found[1] is not None:
            return found[0].lookup_name(found[1], depth + 1)
        return None

    def constant(self, node: ast.Name) -> ast.expr | None:
        """The expression ``node`` is bound to where it is used, if a constant."""
        bound = self.binding(node.id, node.lineno)
        if (bound is not None and bound.kind is BindingKind.CONSTANT
                and isinstance(bound.value, ast.expr)):
            return bound.value
        return None

    def is_workflow(self, node: ast.Name) -> bool:
        """True when ``node`` names a ``Workflow(...)`` built in this module."""
        found = self.lookup(node)
        return (found is not None and found[0] is self and isinstance(found[1], ast.Call)
                and self.dsl_name(found[1].func) == "Workflow")


    def location(self, node: ast.stmt | ast.expr) -> SourceLocation:
        """File, line and 1-based column of ``node``."""
        return SourceLocation(self.path, node.lineno, node.col_offset + 1)

    def line_location(self, line: int) -> SourceLocation:
        """File and line, column = the line's indentation + 1."""
        lines = self.lines
        column = 1
        if 1 <= line <= len(lines):
            text = lines[line - 1]
            column = len(text) - len(text.lstrip()) + 1
        return SourceLocation(self.path, line, column)


def _line_of(binding: Binding) -> int:
    return binding.line
