"""Finding and loading the modules of the linted tree that imports name.

A :class:`Loader` parses each file at most once per run and answers
``find_module(importer, "pkg.steps", level)`` the way Python's import system would
for a tree laid out on disk: relative imports from the importer's folder, absolute ones
from the importer's folder and the folders above it.
"""

from __future__ import annotations

import ast
import os

from ._model import DSL_PACKAGE, Module
from ._recorder import read_module
from ._source import load_source

#: How many folders up from a file to look for the package of an absolute import.
MAX_PACKAGE_DEPTH = 32


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
            source = load_source(path)
            if source.text is None or source.tree is None:
                return None
            text, tree = source.text, source.tree
        module = read_module(self, path, text, tree)
        self._modules[key] = module
        return module

    def cached(self, path: str) -> Module | None:
        """The module at ``path`` if it was loaded already."""
        return self._modules.get(os.path.normpath(path))

    def forget(self, path: str) -> None:
        """Drop the module at ``path`` (a run keeps only what later files may import)."""
        self._modules.pop(os.path.normpath(path), None)

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
