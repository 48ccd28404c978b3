"""A flake8 plugin running spectra-lint's checks on each file flake8 reads.

flake8 hands over one file at a time, so findings are reported on that file's lines:
one located in another module (a step imported from it) is reported on the line of the
workflow that uses it, naming where the step is defined.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from compiler import Diagnostic

from ._engine import lint_parsed
from ._loader import Loader
from ._report import TOOL_VERSION
from ._source import Source, mentions_dsl


class Plugin:
    """flake8 entry point ``SPX = compiler.lint._flake8:Plugin`` (flake8 applies
    ``# noqa``)."""

    name = "spectra-lint"
    version = TOOL_VERSION

    def __init__(self, tree: ast.Module, filename: str = "stdin",
                 lines: list[str] | None = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def _text(self) -> str:
        if self.lines is not None:
            return "".join(self.lines)
        try:
            with open(self.filename, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def findings(self) -> list[Diagnostic]:
        """The findings for this file, located on its own lines."""
        text = self._text()
        if not mentions_dsl(text):
            return []
        return lint_parsed(self.filename, Source(text, self.tree), Loader())

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        """Yield ``(line, column, "SPX101 message", type)``; flake8 columns are 0-based."""
        for d in sorted(self.findings(), key=Diagnostic.sort_key):
            location = d.location
            message = d.message
            if location is None:
                line, column = 1, 0
            elif location.file != self.filename:
                line, column = self._workflow_line(d), 0
                message = f"{message} (defined at {location})"
            else:
                line, column = location.line, location.column - 1
            yield line, column, f"{d.code} {message}", type(self)

    def _workflow_line(self, d: Diagnostic) -> int:
        for node in self.tree.body:
            value = getattr(node, "value", None)
            if isinstance(value, ast.Call) and d.workflow is not None and any(
                isinstance(arg, ast.Constant) and arg.value == d.workflow for arg in value.args
            ):
                return node.lineno
        return 1
