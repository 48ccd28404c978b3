"""The compile benchmark runs end to end and reports every figure (its speed is never
asserted here: timings belong in docs/performance.md, not in tests)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_compile.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_compile", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--quick", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["figures"]
    assert set(figures["random_dag"]) >= {"compile_ms", "graphlib_ms", "ratio", "passes_ms"}
    assert set(figures["memory"]) >= {"chain_mib", "fan_out_mib", "ratio"}
    assert figures["nesting"]
    for group in figures.values():
        for value in group.values():
            assert math.isfinite(value) and value > 0


def test_text_report_names_each_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in ("graphlib", "Workflow.compile()", "peak memory", "nested"):
        assert words in out
