"""The durable-run benchmark runs end to end and reports every figure (its speed is
never asserted here: timings belong in docs/performance.md)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_durable.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_durable", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["figures"]) == {"chain", "fan_out"}
    for group in out["figures"].values():
        assert set(group) == {"no_store_us", "store_us", "extra_us", "ratio", "ratio_best",
                              "memory_us"}
        assert all(math.isfinite(v) for v in group.values())
        assert group["no_store_us"] > 0 and group["store_us"] > 0


def test_text_report_names_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "chain" in out and "fan_out" in out and "target" in out
