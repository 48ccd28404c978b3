"""spectra-lint's engine: find the files, read their workflows, run the compiler's passes.

:func:`lint_paths` is what the command line, the flake8 plugin and the pre-commit hook
share.  Each file is read with the static front end and every workflow in it goes
through :func:`~compiler.compile_workflow`, the same passes ``Workflow.compile()`` runs;
nothing here re-implements a check.  Then ``# noqa`` comments and the code selection
decide what is reported.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs

from ._diagnostics import Diagnostic, Findings
from ._gc import paused_gc
from ._lower import compile_workflow
from ._static import Loader, Module, StaticWorkflow, analyse_file, unreadable

#: Folders never entered when walking a tree (a file named on the command line is
#: still checked).
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "node_modules",
    "*.egg-info", "__pypackages__",
)

_NOQA = re.compile(
    r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE
)
_FILE_NOQA = re.compile(r"^[ \t]*#[ \t]*spectra-lint:[ \t]*noqa[ \t]*$",
                        re.IGNORECASE | re.MULTILINE)
#: Codes the join passes emit; skipped for a step whose join= was not followed.
_JOIN_CODES = frozenset({"SPX102", "SPX103"})


@attrs.frozen
class LintResult(Findings):
    """The outcome of a lint run.

    ``diagnostics`` are the findings reported (selected, not suppressed), sorted;
    ``files`` the files checked; ``suppressed`` how many findings ``# noqa`` hid;
    ``internal_errors`` bugs met while checking a file (the run goes on, exit code 2).
    """

    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    suppressed: int = 0
    internal_errors: tuple[str, ...] = ()
    loader: Loader | None = attrs.field(default=None, eq=False, repr=False)

    def source_line(self, diagnostic: Diagnostic) -> str | None:
        """The line of source a finding points at, if the file could be read."""
        if diagnostic.location is None or self.loader is None:
            return None
        return self.loader.line(diagnostic.location.file, diagnostic.location.line)


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


#: What a suppression code must start with to mean a spectra-lint code: ``S`` or ``SP``
#: belong to other linters (flake8-bandit's ``S101``...), never to us.
NOQA_PREFIX = "SPX"


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


class _Suppressions:
    """Answers "is this finding suppressed?" from the comments of the files involved."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self._decorators: dict[str, dict[int, int]] = {}
        self._file_noqa: dict[str, bool] = {}

    def suppressed(self, diagnostic: Diagnostic) -> bool:
        location = diagnostic.location
        if location is None:
            return False
        module = self.loader.cached(location.file)
        if module is None:
            return False
        file = location.file
        if file not in self._file_noqa:
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


def _is_excluded(path: str, patterns: Sequence[str], root: str | None) -> bool:
    if not patterns:
        return False
    name = os.path.basename(os.path.normpath(path))
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, root) if root else os.path.normpath(path)
    relative = relative.replace(os.sep, "/")
    for raw in patterns:
        pattern = raw.rstrip("/").replace(os.sep, "/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(relative, pattern):
            return True
        if fnmatch.fnmatch(relative, pattern + "/*"):
            return True
    return False


def discover(paths: Iterable[str], exclude: Sequence[str] = (),
             root: str | None = None) -> Iterator[str]:
    """The Python files under ``paths``, in sorted order, skipping excluded ones.

    A path named explicitly is yielded even if it is no ``.py`` file or does not exist
    (reading it then gives SPX901), unless a user ``exclude`` pattern matches it.
    """
    walk_exclude = (*DEFAULT_EXCLUDE, *exclude)
    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            if _is_excluded(path, exclude, root) and os.path.normpath(path) != ".":
                continue
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(
                    d for d in dirs
                    if not _is_excluded(os.path.join(folder, d), walk_exclude, root)
                )
                for file in sorted(files):
                    full = os.path.normpath(os.path.join(folder, file))
                    if (file.endswith(".py") and full not in seen
                            and not _is_excluded(full, walk_exclude, root)):
                        seen.add(full)
                        yield full
        else:
            full = os.path.normpath(path)
            if full not in seen and not _is_excluded(full, exclude, root):
                seen.add(full)
                yield full


def check_workflow(workflow: StaticWorkflow) -> list[Diagnostic]:
    """The compiler's findings for one workflow read from source."""
    with paused_gc():
        found = list(compile_workflow(workflow.spec).diagnostics)
    if workflow.unsure_joins:
        found = [d for d in found
                 if not (d.code in _JOIN_CODES and d.steps and d.steps[0]
                         in workflow.unsure_joins)]
    return found


def lint_file(path: str, loader: Loader, source: bytes | str | None = None) -> list[Diagnostic]:
    """Every finding for the file at ``path`` (before selection and ``# noqa``)."""
    result = analyse_file(path, loader, source)
    if result.source is not None and has_file_noqa(result.source):
        return []
    found = list(result.diagnostics)
    for workflow in result.workflows:
        found.extend(check_workflow(workflow))
    return found


def lint_paths(
    paths: Sequence[str] = (".",),
    *,
    enabled: Callable[[str], bool] | None = None,
    exclude: Sequence[str] = (),
    root: str | None = None,
) -> LintResult:
    """Lint the files under ``paths``; ``enabled(code)`` picks the codes to report.

    Never raises for anything a file holds: unreadable or broken files are SPX901, and
    a bug met while checking a file is recorded in ``internal_errors``.
    """
    with paused_gc():
        return _lint_paths(paths, enabled, exclude, root)


def _lint_paths(paths: Sequence[str], enabled: Callable[[str], bool] | None,
                exclude: Sequence[str], root: str | None) -> LintResult:
    loader = Loader()
    suppressions = _Suppressions(loader)
    files = list(discover(paths, exclude, root))
    reported: dict[tuple[object, ...], Diagnostic] = {}
    suppressed = 0
    internal: list[str] = []
    for file in files:
        try:
            found = lint_file(file, loader)
        except RecursionError:
            found = [unreadable(file, "an expression is nested too deeply to follow; "
                                "split it up")]
        except Exception as error:  # a bug in spectra-lint: report it, check the rest
            internal.append(f"{file}: {type(error).__name__}: {error}")
            continue
        for diagnostic in found:
            if enabled is not None and not enabled(diagnostic.code):
                continue
            if suppressions.suppressed(diagnostic):
                suppressed += 1
                continue
            loc = diagnostic.location
            key = (diagnostic.code, diagnostic.message,
                   *((loc.file, loc.line, loc.column) if loc else ()))
            reported.setdefault(key, diagnostic)
    ordered = sorted(reported.values(), key=Diagnostic.sort_key)
    return LintResult(tuple(ordered), tuple(files), suppressed, tuple(internal), loader)


def lint_source(source: bytes | str, path: str = "<source>") -> tuple[Diagnostic, ...]:
    """Lint one module given as text (imports of steps are still read from disk), with
    ``# noqa`` applied; findings sorted."""
    loader = Loader()
    suppressions = _Suppressions(loader)
    found = [d for d in lint_file(path, loader, source) if not suppressions.suppressed(d)]
    return tuple(sorted(found, key=Diagnostic.sort_key))
