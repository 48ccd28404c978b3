"""spectra-lint's pipeline: find the files, read their workflows, run the compiler's passes.

One pipeline serves the command line, the flake8 plugin, the pre-commit hook and the
tests: :func:`lint_parsed` checks one parsed module, :func:`lint_paths` a tree.  Each
workflow read by the static front end goes through :func:`~compiler.compile_workflow`,
the same passes ``Workflow.compile()`` runs; nothing here re-implements a check.  Then
``# noqa`` comments and the code selection decide what is reported.

A module whose text never names ``spectra_dsl`` is not parsed at all, unless it imports
a module of the linted tree that does (it may add steps to a workflow built there).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence

import attrs

from compiler import Diagnostic, Findings, StepSpec, WorkflowSpec, compile_workflow
from compiler._gc import paused_gc

from ._discover import discover
from ._loader import Loader
from ._model import DSL_PACKAGE
from ._noqa import Suppressions, has_file_noqa
from ._reader import StaticWorkflow, analyse_module
from ._source import Source, load_source, mentions_dsl, read_bytes, unreadable

#: Codes the join passes emit; skipped for a step whose join= was not followed.
_JOIN_CODES = frozenset({"SPX102", "SPX103"})
#: Codes that say something is missing or unused: not reported for a workflow some of
#: whose steps were not followed (SPX902), since the missing steps may be what they miss
#: (SPX005: ``after=`` naming a step left out; SPX501 of a sub-workflow step: ``map=``
#: naming an input of a step left out of its body).
FOLLOW_ON_CODES = frozenset({"SPX003", "SPX004", "SPX005", "SPX103", "SPX202", "SPX402"})
#: Codes that depend on which keys have a reducer: not reported for a workflow some of
#: whose reducers were not followed.
REDUCER_CODES = frozenset({"SPX201", "SPX202"})
#: Codes an ordering edge (``after=``) can change: not reported for a workflow some of
#: whose ``after=`` were not followed.
ORDER_CODES = frozenset({"SPX101", "SPX102", "SPX103", "SPX201"})
#: Codes about the types of a mapped step and its readers: not reported for a step
#: whose ``map=`` was not followed.
MAP_CODES = frozenset({"SPX301", "SPX501", "SPX502"})
_TOO_DEEP = "an expression is nested too deeply to follow; split it up"


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
    #: the lines of the file last asked about (findings come sorted by file)
    _lines: dict[str, list[str] | None] = attrs.field(factory=dict, eq=False, repr=False)

    def source_line(self, diagnostic: Diagnostic) -> str | None:
        """The line of source a finding points at, if the file can be read."""
        if diagnostic.location is None:
            return None
        path, number = diagnostic.location.file, diagnostic.location.line
        if path not in self._lines:
            self._lines.clear()
            self._lines[path] = _lines(path)
        lines = self._lines[path]
        return lines[number - 1] if lines is not None and 1 <= number <= len(lines) else None


def _lines(path: str) -> list[str] | None:
    data = read_bytes(path)
    if isinstance(data, Diagnostic):
        return None
    return data.decode("utf-8", "replace").splitlines()


def check_workflow(workflow: StaticWorkflow) -> list[Diagnostic]:
    """The compiler's findings for one workflow read from source."""
    with paused_gc():
        found = list(compile_workflow(workflow.spec).diagnostics)
    if workflow.unsure_joins:
        found = [d for d in found
                 if not (d.code in _JOIN_CODES and d.steps and d.steps[0]
                         in workflow.unsure_joins)]
    if workflow.incomplete:
        subs = _sub_workflow_steps(workflow.spec)
        found = [d for d in found if d.code not in FOLLOW_ON_CODES
                 and not (d.code == "SPX501" and not subs.isdisjoint(d.steps))]
    if workflow.unsure_reducers:
        found = [d for d in found if d.code not in REDUCER_CODES]
    if workflow.unsure_order:
        found = [d for d in found if d.code not in ORDER_CODES]
    if workflow.unsure_maps:
        unsure = workflow.unsure_maps
        keys = _keys_of(workflow.spec, unsure)  # what their readers read
        found = [d for d in found
                 if not (d.code in MAP_CODES and (not unsure.isdisjoint(d.steps)
                                                  or d.key in keys))]
    return found


def _all_steps(spec: WorkflowSpec) -> list[StepSpec]:
    """The steps of ``spec`` and of its bodies, at any depth."""
    steps: list[StepSpec] = []
    stack, seen = [spec], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        steps.extend(current.steps)
        stack.extend(step.body for step in current.steps if step.body is not None)
    return steps


def _sub_workflow_steps(spec: WorkflowSpec) -> frozenset[str]:
    """The names of the sub-workflow steps of ``spec`` and of its bodies."""
    return frozenset(s.name for s in _all_steps(spec) if s.body is not None)


def _keys_of(spec: WorkflowSpec, names: frozenset[str]) -> frozenset[str]:
    """The keys the steps called ``names`` write, in ``spec`` or its bodies."""
    return frozenset(key for s in _all_steps(spec) if s.name in names
                     for key in s.keys_written)


@attrs.frozen
class Analysis:
    """What the static front end read from one file: its workflows, and the findings of
    reading it (SPX901, SPX902)."""

    path: str
    workflows: tuple[StaticWorkflow, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


def analyse(path: str, source: Source, loader: Loader) -> Analysis:
    """Read the workflows of the module at ``path``; never raises for what it holds."""
    if source.problem is not None:
        return Analysis(path, (), (source.problem,))
    if source.text is None or source.tree is None:
        return Analysis(path)
    module = loader.load(path, source.text, source.tree)
    if module is None:  # pragma: no cover - load() with a tree always succeeds
        return Analysis(path)
    try:
        workflows, found = analyse_module(module)
    except RecursionError:
        return Analysis(path, (), (unreadable(path, _TOO_DEEP),))
    return Analysis(path, tuple(workflows), tuple(found))


def analyse_file(path: str, loader: Loader | None = None,
                 data: bytes | str | None = None) -> Analysis:
    """Read the workflows of the file at ``path`` (or of ``data``, shown as ``path``)."""
    with paused_gc():
        return analyse(path, load_source(path, data, only_dsl=True), loader or Loader())


def lint_parsed(path: str, source: Source, loader: Loader) -> list[Diagnostic]:
    """Every finding for the module at ``path`` (before selection and ``# noqa``)."""
    if source.text is not None and has_file_noqa(source.text):
        return []
    analysis = analyse(path, source, loader)
    found = list(analysis.diagnostics)
    try:
        for workflow in analysis.workflows:
            found.extend(check_workflow(workflow))
    except RecursionError:
        return [unreadable(path, _TOO_DEEP)]
    return found


def lint_file(path: str, loader: Loader, data: bytes | str | None = None, *,
              only_dsl: bool = True) -> list[Diagnostic]:
    """Every finding for the file at ``path`` (or ``data``, shown as ``path``)."""
    return lint_parsed(path, load_source(path, data, only_dsl=only_dsl), loader)


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
        return _Run(enabled).run(list(discover(paths, exclude, root)))


class _Run:
    """One run over a list of files."""

    def __init__(self, enabled: Callable[[str], bool] | None) -> None:
        self.enabled = enabled
        self.loader = Loader()
        self.suppressions = Suppressions(self.loader.cached)
        self.reported: dict[tuple[object, ...], Diagnostic] = {}
        self.suppressed = 0
        self.internal: list[str] = []

    def run(self, files: list[str]) -> LintResult:
        deferred: list[str] = []
        dsl_modules: list[str] = []
        for file in files:
            data = read_bytes(file)
            if isinstance(data, bytes) and not mentions_dsl(data):
                deferred.append(file)
                continue
            if isinstance(data, bytes):
                dsl_modules.append(file)
            self._lint(file, data)
        importing = _imports_any(_module_names(dsl_modules))
        if importing is not None:
            for file in deferred:  # a module that imports one of the tree that uses the DSL
                data = read_bytes(file)
                if isinstance(data, bytes) and importing.search(data):
                    self._lint(file, data)
        ordered = sorted(self.reported.values(), key=Diagnostic.sort_key)
        return LintResult(tuple(ordered), tuple(files), self.suppressed,
                          tuple(self.internal))

    def _lint(self, file: str, data: bytes | Diagnostic) -> None:
        try:
            read = self.loader.cached(file)  # parsed already, for a module importing it
            if isinstance(data, Diagnostic):
                found = [data]
            elif read is not None:
                found = lint_parsed(file, Source(read.text, read.tree), self.loader)
            else:
                found = lint_file(file, self.loader, data, only_dsl=False)
        except RecursionError:
            found = [unreadable(file, _TOO_DEEP)]
        except Exception as error:  # a bug in spectra-lint: report it, check the rest
            self.internal.append(f"{file}: {type(error).__name__}: {error}")
            return
        for diagnostic in found:
            if self.enabled is not None and not self.enabled(diagnostic.code):
                continue
            if self.suppressions.suppressed(diagnostic):
                self.suppressed += 1
                continue
            loc = diagnostic.location
            key = (diagnostic.code, diagnostic.message,
                   *((loc.file, loc.line, loc.column) if loc else ()))
            self.reported.setdefault(key, diagnostic)


def _module_names(paths: Iterable[str]) -> set[str]:
    """The names modules at ``paths`` are imported by (a package by its folder)."""
    names = set()
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem == "__init__":
            stem = os.path.basename(os.path.dirname(os.path.abspath(path)))
        if stem.isidentifier() and stem != DSL_PACKAGE:
            names.add(stem)
    return names


def _imports_any(names: set[str]) -> re.Pattern[bytes] | None:
    """An expression finding an import statement that names one of ``names``."""
    if not names:
        return None
    alternatives = b"|".join(re.escape(name.encode()) for name in sorted(names))
    return re.compile(rb"(?m)^[ \t]*(?:from|import)[ \t][^\n]*\b(?:" + alternatives + rb")\b")


def lint_source(source: bytes | str, path: str = "<source>") -> tuple[Diagnostic, ...]:
    """Lint one module given as text (imports of steps are still read from disk), with
    ``# noqa`` applied; findings sorted."""
    with paused_gc():
        loader = Loader()
        suppressions = Suppressions(loader.cached)
        found = [d for d in lint_file(path, loader, source)
                 if not suppressions.suppressed(d)]
    return tuple(sorted(found, key=Diagnostic.sort_key))
