"""The runner benchmark runs end to end and reports every figure (its speed is never
asserted here: timings belong in docs/performance.md, not in tests)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_runner.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_runner", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["machine"]) >= {"nproc", "python"}
    figures = out["figures"]
    for label in ("overhead_chain", "overhead_fan_out_join", "overhead_fan_out_exits"):
        assert set(figures[label]) >= {"runner_us", "floor_us", "ratio"}
    for label in ("makespan_uneven_diamond", "makespan_random_dag", "makespan_limit_4"):
        assert set(figures[label]) >= {"makespan_ms", "bound_ms", "ratio"}
    for group in figures.values():
        for value in group.values():
            assert math.isfinite(value) and value > 0


def test_text_report_names_each_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in ("chain", "fan_out_join", "fan_out_exits", "uneven diamond",
                  "max_concurrency=4", "floor"):
        assert words in out
