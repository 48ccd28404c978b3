"""The spectra command's benchmark runs end to end and reports every figure (its speed
is never asserted: see docs/performance.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_cli.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cli", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--quick", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {
        "elements", "events", "on_event_list_append_us", "on_event_progress_us",
        "frame_ms", "import_spectra_dsl_s", "spectra_graph_s",
    }
    assert all(value > 0 for value in figures.values())
