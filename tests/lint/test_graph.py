"""spectra-lint --graph mermaid|dot: the plan's drawing, from source alone."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings

from compiler.lint._cli import main
from compiler.lint._graph import draw_paths
from spectra_dsl import CompileError, Workflow
from tests.compiler.test_draw import check_mermaid, dot_labels
from tests.strategies import WorkflowSource, workflow_sources

from .map_strategies import map_sources

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "__init__.py")
# syntax_error.py is the one fixture that cannot be imported (nothing to draw).
FIXTURES = sorted(p for p in (ROOT / "tests" / "fixtures" / "lint").glob("*.py")
                  if p.name != "syntax_error.py")


def _import(path: Path) -> ModuleType:
    name = f"_drawn_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _plans(module: ModuleType) -> dict[str, list[tuple[str, str]]]:
    """Each workflow of ``module`` that compiles: its name and its two drawings."""
    found: dict[str, list[tuple[str, str]]] = {}
    seen: set[int] = set()
    for value in vars(module).values():
        if not isinstance(value, Workflow) or id(value) in seen:
            continue
        seen.add(id(value))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plan = value.compile()
        except CompileError:
            continue
        found.setdefault(value.name, []).append((plan.to_mermaid(), plan.to_dot()))
    return found


@pytest.mark.parametrize("path", EXAMPLES + FIXTURES, ids=lambda p: p.name)
def test_lint_draws_what_the_plan_draws(path: Path) -> None:
    module = _import(path)
    plans = _plans(module)
    if path in EXAMPLES:
        assert plans, "every example has a workflow that compiles"
    mermaid = draw_paths([str(path)], "mermaid").drawings
    dot = draw_paths([str(path)], "dot").drawings
    for name, drawings in plans.items():
        for text_mermaid, text_dot in drawings:
            assert (name, text_mermaid) in mermaid, f"{name}: lint draws it otherwise"
            assert (name, text_dot) in dot, f"{name}: lint draws it otherwise"
            check_mermaid(text_mermaid)
            dot_labels(text_dot)


def test_the_command_prints_the_drawing(capsys: pytest.CaptureFixture[str]) -> None:
    from examples.parallel_analysis import wf

    path = str(ROOT / "examples" / "parallel_analysis.py")
    assert main(["--graph", "mermaid", path]) == 0
    assert capsys.readouterr().out == wf.compile().to_mermaid()
    assert main(["--graph", "dot", "--workflow", "parallel-analysis", path]) == 0
    assert capsys.readouterr().out == wf.compile().to_dot()


def test_the_docs_show_the_main_example_as_drawn() -> None:
    from examples.parallel_analysis import wf

    page = (ROOT / "docs" / "observe.md").read_text(encoding="utf-8")
    block = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == wf.compile().to_mermaid()


def test_several_workflows_one_after_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "examples" / "draft_critique_revise.py")
    assert main(["--graph", "mermaid", path]) == 0
    out = capsys.readouterr().out
    parts = out.split("\nflowchart TB\n")
    assert len(parts) == 2
    assert main(["--graph", "mermaid", "--workflow", "one-pass", path]) == 0
    assert capsys.readouterr().out == parts[0]


def test_an_unknown_workflow_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "examples" / "parallel_analysis.py")
    assert main(["--graph", "mermaid", "--workflow", "nope", path]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no workflow named 'nope' found in" in captured.err


def test_a_workflow_with_errors_is_not_drawn(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from spectra_dsl import Workflow\n"
        "wf = Workflow('forgot')\n"
        "@wf.step\nasync def a() -> int:\n    return 1\n"
        "@wf.step\nasync def b() -> int:\n    return 2\n"
        "@wf.step\nasync def c(a: int, b: int) -> int:\n    return a + b\n",
        encoding="utf-8",
    )
    assert main(["--graph", "dot", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "workflow 'forgot'" in captured.err and "has errors, so it is not drawn" in captured.err
    assert f"run spectra-lint {bad}" in captured.err


def test_the_drawing_goes_to_the_output_file(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from examples.fan_out_enrichment import wf

    out = tmp_path / "graph.dot"
    path = str(ROOT / "examples" / "fan_out_enrichment.py")
    assert main(["--graph", "dot", path, "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text(encoding="utf-8") == wf.compile().to_dot()


def test_a_missing_file_is_no_drawing(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--graph", "mermaid", str(tmp_path / "missing.py")]) == 1
    assert "cannot read" in capsys.readouterr().err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_sources())
def test_random_workflows_are_drawn_alike(source: WorkflowSource) -> None:
    _alike(source)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(map_sources())
def test_random_maps_routes_and_orders_are_drawn_alike(source: WorkflowSource) -> None:
    _alike(source)


def _alike(source: WorkflowSource) -> None:
    """Whatever compiles is drawn the same from source as from the live plan."""
    if not source.valid:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random_flow.py"
        path.write_text(source.text, encoding="utf-8")
        module = _import(path)
        if module is None:
            return
        drawn = draw_paths([str(path)], "mermaid").drawings
        for name, drawings in _plans(module).items():
            for text, _ in drawings:
                assert (name, text) in drawn
                check_mermaid(text)
