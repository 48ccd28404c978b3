"""The one parity helper: spectra-lint (source text) against ``Workflow.check()`` (live
functions), compared finding by finding.

A fact is ``(code, steps, line, column, file name, key, message)``: everything a user
reads in a finding but the folder the file is in.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

from compiler import Diagnostic
from compiler.lint import lint_paths
from compiler.lint._engine import analyse_file, check_workflow
from compiler.lint._loader import Loader
from spectra_dsl import Workflow

Fact = tuple[str, tuple[str, ...], int | None, int | None, str | None, str | None, str]


def fact(d: Diagnostic) -> Fact:
    """What a user reads in ``d``, but the folder of its file."""
    location = d.location
    return (d.code, tuple(d.steps), location.line if location else None,
            location.column if location else None,
            Path(location.file).name if location else None, d.key, d.message)


def facts(found: Iterable[Diagnostic]) -> list[Fact]:
    """The facts of ``found``, sorted."""
    return sorted(fact(d) for d in found)


def codes(found: Iterable[Fact]) -> set[str]:
    """The codes among facts."""
    return {f[0] for f in found}


def write_modules(root: Path, files: dict[str, str]) -> None:
    """Write each ``relative path: source`` under ``root`` (dedented)."""
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")


def static_findings(path: str | Path) -> dict[str, list[Diagnostic]]:
    """Workflow name -> the linter's findings for it (the reading findings under "")."""
    result = analyse_file(str(path), Loader())
    found: dict[str, list[Diagnostic]] = {"": list(result.diagnostics)}
    for workflow in result.workflows:
        found[workflow.spec.name] = check_workflow(workflow)
    return found


def live_workflows(root: Path, module: str, tops: Iterable[str] = ()) -> list[Workflow]:
    """The workflows module ``module`` under ``root`` binds, imported for real (and
    forgotten afterwards, with the modules named ``tops``)."""
    forget = {module.split(".")[0], *tops}
    sys.path.insert(0, str(root))
    try:
        namespace = vars(importlib.import_module(module))
        return list({id(v): v for v in namespace.values() if isinstance(v, Workflow)}.values())
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] in forget]:
            del sys.modules[name]


def both(root: Path, module: str, source: str,
         extra: dict[str, str] | None = None) -> tuple[list[Fact], list[Fact]]:
    """(live findings of every workflow in ``module``, lint findings of its file)."""
    write_modules(root, {f"{module}.py": source, **(extra or {})})
    tops = {name.split("/")[0].removesuffix(".py") for name in (extra or {})}
    live = [d for wf in live_workflows(root, module, tops) for d in wf.check()]
    linted = lint_paths([str(root / f"{module}.py")]).diagnostics
    return facts(live), facts(linted)


def assert_parity(root: Path, module: str, source: str,
                  extra: dict[str, str] | None = None) -> list[Fact]:
    """Both front ends find the same; returns those facts."""
    live, linted = both(root, module, source, extra)
    assert linted == live
    return live
