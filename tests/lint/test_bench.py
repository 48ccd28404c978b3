"""bench/bench_lint.py runs and reports every figure (its speed is never asserted here:
timings belong in docs/performance.md)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_lint.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_lint", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finite(figures: dict[str, float]) -> bool:
    return all(math.isfinite(value) and value > 0 for value in figures.values())


def test_in_process_figures(bench: ModuleType) -> None:
    assert _finite(bench.bench_tree(20, 1))
    assert _finite(bench.bench_big_file(bench.big_dag_source(50), "dag", 1))


def test_whole_process_figures(bench: ModuleType, tmp_path: Path) -> None:
    versus = bench.bench_process_vs_parse(bench.chain_source(50), 1)
    assert set(versus) >= {"cpu_ratio", "wall_ratio", "lint_peak_mib", "parse_peak_mib"}
    assert _finite(versus)
    (tmp_path / "plain.py").write_text("x = 1\n")
    (tmp_path / "flow.py").write_text(bench.chain_source(5))
    site = bench.bench_site_packages(1, root=str(tmp_path))
    assert site["files"] == 2 and _finite(site)
