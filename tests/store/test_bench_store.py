"""The store benchmark runs end to end and reports every figure (its speed is never
asserted here: timings belong in the report, not in tests)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_store.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["machine"]) >= {"nproc", "python", "sqlite"}
    figures = out["figures"]
    for label in ("single_normal", "group_normal"):
        assert set(figures[label]) >= {"store_us", "bare_us", "ratio"}
    assert set(figures["memory"]) >= {"single_us", "group_us"}
    for group in figures.values():
        for value in group.values():
            assert math.isfinite(value) and value > 0


def test_text_report_names_each_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in ("one record per commit", "1,000-record group commit", "bare",
                  "MemoryStore", "300 µs budget"):
        assert words in out
