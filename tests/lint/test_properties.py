"""Property tests: spectra-lint never raises on any source, and on every module that
imports it agrees with ``Workflow.check()`` finding by finding."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.lint import lint_source
from spectra_dsl import Workflow
from tests.strategies import WorkflowSource, workflow_sources

from .map_strategies import map_sources
from .parity import facts, static_findings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_sources())
def test_lint_and_compile_agree(source: WorkflowSource) -> None:
    _agree(source)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(map_sources())
def test_lint_and_compile_agree_on_maps_routes_and_order(source: WorkflowSource) -> None:
    """map=, concurrency=, after=, value-set and negated guards, mapped sub-workflows."""
    _agree(source)


def _agree(source: WorkflowSource) -> None:
    """Lint never raises on ``source``; on a valid one it finds what compile() finds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random_flow.py"
        path.write_text(source.text, encoding="utf-8")
        lint = [d for found in static_findings(path).values() for d in found]  # never raises
        if not source.valid or any(d.code == "SPX901" for d in lint):
            return
        spec = importlib.util.spec_from_file_location("random_flow", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop("random_flow", None)
        live = [d for v in vars(module).values() if isinstance(v, Workflow)
                for d in v.check()]
        assert facts(lint) == facts(live)
        compiled = not any(d.is_error for d in live)
        assert compiled == (not any(d.is_error for d in lint))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_lint_never_raises_on_arbitrary_input(data: str | bytes) -> None:
    lint_source(data, "anything.py")


@settings(max_examples=100, deadline=None)
@given(workflow_sources(), st.data())
def test_lint_never_raises_on_mangled_workflows(source: WorkflowSource,
                                                data: st.DataObject) -> None:
    text = source.text
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for mangled in (text[:start] + text[end:], text[start:end], text.replace("\n", " ", 3)):
        for finding in lint_source(mangled, "mangled.py"):
            assert finding.location is not None and finding.location.line >= 1
