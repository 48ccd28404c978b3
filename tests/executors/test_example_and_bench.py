"""examples/cpu_map.py and bench/bench_executors.py run end to end (speed is never
asserted here: the figures belong in docs/performance.md)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

from examples import cpu_map
from spectra_dsl.executors import DaskExecutor, ProcessExecutor, ThreadExecutor

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_executors.py"


def test_the_three_executors_count_the_same_primes(
    processes: ProcessExecutor, client: Any
) -> None:
    results = cpu_map.compare(
        {"threads": ThreadExecutor(), "processes": processes, "dask": DaskExecutor(client)},
        {"limit": 20_000, "pieces": 8},
    )
    assert {label: found for label, (_, found) in results.items()} == {
        "threads": 2262, "processes": 2262, "dask": 2262}
    assert all(seconds > 0 for seconds, _ in results.values())


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_executors", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_reports_every_figure(processes: ProcessExecutor, client: Any) -> None:
    bench = _load()
    figures = bench.collect(quick=True, client=client, processes=processes)
    assert set(figures["cpu_map"]) == {"threads_s", "processes_s", "dask_s",
                                       "processes_speedup", "dask_speedup"}
    assert set(figures["per_call"]) == {"threads_us", "processes_us", "dask_us",
                                        "trio_parallel_us", "dask_batch_us"}
    for group in figures.values():
        for value in group.values():
            assert math.isfinite(value) and value > 0
    assert "overhead per call" in bench.report(figures)
