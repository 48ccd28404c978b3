"""Parity: spectra-lint (source text) and ``Workflow.check()`` (live functions) find the
same mistakes, with the same codes, steps and lines, for every example and fixture."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compiler import StepSpec, WorkflowSpec
from compiler.lint._engine import analyse_file
from compiler.lint._loader import Loader
from spectra_dsl import Workflow

from .parity import facts, static_findings

HERE = Path(__file__).parents[1]
ROOTS = [HERE.parent / "examples", HERE / "fixtures"]
#: Modules that cannot be imported, or whose findings only the linter can have (SPX90x).
STATIC_ONLY = {"syntax_error.py", "not_followed.py"}


def _modules() -> Iterator[tuple[Path, str]]:
    for root in ROOTS:
        for path in sorted(root.rglob("*.py")):
            if path.name in STATIC_ONLY or path.name == "__init__.py":
                continue
            yield path, ".".join(path.relative_to(path.parents[len(_package_parts(path))])
                                 .with_suffix("").parts)


def _package_parts(path: Path) -> list[str]:
    parts = []
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.append(folder.name)
        folder = folder.parent
    return parts


def _import(path: Path, name: str) -> dict[str, object]:
    root = str(path.parents[len(_package_parts(path))])
    sys.path.insert(0, root)
    try:
        module = importlib.import_module(name)
        return dict(vars(module))
    finally:
        sys.path.remove(root)
        for loaded in [m for m in sys.modules if m == name or m.startswith(name.split(".")[0]
                                                                            + ".")]:
            sys.modules.pop(loaded, None)
        sys.modules.pop(name.split(".")[0], None)


MODULES = list(_modules())


def test_there_is_something_to_compare() -> None:
    assert len(MODULES) >= 10


@pytest.mark.parametrize(("path", "name"), MODULES, ids=[n for _, n in MODULES])
def test_lint_and_check_agree(path: Path, name: str) -> None:
    namespace = _import(path, name)
    live = {wf.name: wf for wf in namespace.values() if isinstance(wf, Workflow)}
    for factory in _factories(namespace, name):
        built = factory()
        assert isinstance(built, Workflow)
        live[built.name] = built
    static = static_findings(path)
    reading = static.pop("")
    assert [d for d in reading if d.code == "SPX901"] == []
    assert [d for d in reading if d.code == "SPX902"
            and "is built inside function" not in d.message] == []
    assert set(static) == set(live)
    for workflow_name, wf in live.items():
        assert facts(static[workflow_name]) == facts(wf.check()), workflow_name


def _factories(namespace: dict[str, object], module: str) -> list[Callable[[], object]]:
    """Functions of the module named ``build*`` that take no arguments: the workflow
    factories the linter reads too."""
    found: list[Callable[[], object]] = []
    for key, value in namespace.items():
        if (key.startswith("build") and inspect.isfunction(value)
                and value.__module__ == module
                and not any(p.default is p.empty for p in
                            inspect.signature(value).parameters.values())):
            found.append(value)
    return found


def test_the_same_spec_from_both_front_ends() -> None:
    """Beyond findings: the IR itself agrees on the design example, field by field."""
    path = HERE / "fixtures" / "lint" / "clean_parallel.py"
    (wf,) = [v for v in _import(path, "clean_parallel").values() if isinstance(v, Workflow)]
    live = wf.spec()
    (static,) = analyse_file(str(path), Loader()).workflows
    assert static.spec.name == live.name
    assert static.spec.inputs == live.inputs
    for mine, theirs in zip(static.spec.steps, live.steps, strict=True):
        assert (mine.name, mine.params, mine.writes, mine.join, mine.kind, mine.returns) == (
            theirs.name, theirs.params, theirs.writes, theirs.join, theirs.kind,
            theirs.returns)
        assert mine.location is not None and theirs.location is not None
        assert (mine.location.line, mine.location.column) == (
            theirs.location.line, theirs.location.column)


#: The StepSpec fields of the map options and guards, compared on every module.
MAP_FIELDS = ("map", "concurrency", "after", "guard")


def _steps(spec: WorkflowSpec) -> list[StepSpec]:
    found: list[StepSpec] = []
    for step in spec.steps:
        found.append(step)
        if step.body is not None:
            found.extend(_steps(step.body))
    return found


@pytest.mark.parametrize(("path", "name"), MODULES, ids=[n for _, n in MODULES])
def test_map_options_and_guards_read_alike(path: Path, name: str) -> None:
    """map=, concurrency=, after= and guards (value sets, ~match) of every example and
    fixture: the same IR from source as from the live functions."""
    namespace = _import(path, name)
    live = {wf.name: wf.spec() for wf in namespace.values() if isinstance(wf, Workflow)}
    for factory in _factories(namespace, name):
        built = factory()
        assert isinstance(built, Workflow)
        live[built.name] = built.spec()
    static = {w.spec.name: w.spec for w in analyse_file(str(path), Loader()).workflows}
    for workflow_name, spec in live.items():
        mine, theirs = _steps(static[workflow_name]), _steps(spec)
        assert [s.name for s in mine] == [s.name for s in theirs]
        for ours, runtime in zip(mine, theirs, strict=True):
            for field in MAP_FIELDS:
                assert getattr(ours, field) == getattr(runtime, field), (ours.name, field)
