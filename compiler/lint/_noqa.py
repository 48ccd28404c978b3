"""``# noqa: SPX101`` on a step's lines and ``# spectra-lint: noqa`` for a whole file."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from compiler import Diagnostic

from ._model import Module

_NOQA = re.compile(
    r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE
)
_FILE_NOQA = re.compile(r"^[ \t]*#[ \t]*spectra-lint:[ \t]*noqa[ \t]*$",
                        re.IGNORECASE | re.MULTILINE)
#: What a suppression code must start with to mean a spectra-lint code: ``S`` or ``SP``
#: belong to other linters (flake8-bandit's ``S101``...), never to us.
NOQA_PREFIX = "SPX"


def has_file_noqa(text: str) -> bool:
    """True when ``text`` holds a ``# spectra-lint: noqa`` line."""
    return "spectra-lint" in text and _FILE_NOQA.search(text) is not None


def noqa_codes(line: str) -> frozenset[str] | None:
    """The codes a ``# noqa`` comment on ``line`` names; empty for a bare ``# noqa``
    (everything), None when there is none."""
    if "#" not in line:
        return None
    found = _NOQA.search(line)
    if found is None:
        return None
    codes = found.group("codes")
    if not codes:
        return frozenset()
    return frozenset(c.upper() for c in re.split(r"[,\s]+", codes) if c)


def _suppresses(codes: frozenset[str] | None, code: str) -> bool:
    if codes is None:
        return False
    return not codes or any(c.startswith(NOQA_PREFIX) and code.startswith(c) for c in codes)


def _decorator_lines(module: Module) -> dict[int, int]:
    """``def`` line -> first line of its decorators, for every decorated definition."""
    starts: dict[int, int] = {}
    stack: list[ast.AST] = [module.tree]
    while stack:
        node = stack.pop()
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and node.decorator_list):
            starts[node.lineno] = min(d.lineno for d in node.decorator_list)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef
                      | ast.ClassDef | ast.If | ast.Try | ast.With | ast.For | ast.While):
            stack.extend(ast.iter_child_nodes(node))
    return starts


class Suppressions:
    """Answers "is this finding suppressed?" from the comments of the files involved;
    ``module_of(path)`` gives the parsed module of a file, if it was read."""

    def __init__(self, module_of: Callable[[str], Module | None]) -> None:
        self.module_of = module_of
        self._decorators: dict[str, dict[int, int]] = {}
        self._file_noqa: dict[str, bool] = {}
        self._any_noqa: dict[str, bool] = {}

    def suppressed(self, diagnostic: Diagnostic) -> bool:
        """True when a comment hides ``diagnostic``."""
        location = diagnostic.location
        if location is None:
            return False
        file = location.file
        if self._any_noqa.get(file) is False:
            return False  # the common case: the file has no noqa comment at all
        module = self.module_of(file)
        if module is None:
            return False
        if file not in self._any_noqa:
            self._any_noqa[file] = "noqa" in module.text.lower()
            if not self._any_noqa[file]:
                return False
            self._file_noqa[file] = has_file_noqa(module.text)
        if self._file_noqa[file]:
            return True
        if file not in self._decorators:
            self._decorators[file] = _decorator_lines(module)
        first = self._decorators[file].get(location.line, location.line)
        lines = module.lines
        for number in range(first, location.line + 1):
            if 1 <= number <= len(lines) and _suppresses(noqa_codes(lines[number - 1]),
                                                         diagnostic.code):
                return True
        return False
