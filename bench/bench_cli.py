"""The ``spectra`` command's costs, side by side in one run.

Run it with ``python bench/bench_cli.py`` (``--quick`` for a smoke run, ``--json`` for
machine-readable figures).  Measured in one process (and its subprocesses), on this
machine, best of several, interleaved:

1. the live display's model as a run's ``on_event``: one run of a step mapped over
   10,000 trivial elements with ``on_event=Progress(...)`` against
   ``on_event=list.append`` (the cheapest callback), per event;
2. drawing one frame of the display (rich, to a string) for a run with 20 mapped
   steps, the cost paid ten times a second while a run is shown on a terminal;
3. the command's start: ``spectra graph`` of the main example in a fresh process,
   against ``python -c "import spectra_dsl"`` (what any program using the library pays).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spectra_dsl import Plan, Workflow, events
from spectra_dsl._cli_progress import Progress, render

ROOT = Path(__file__).resolve().parent.parent


def mapped_plan(count: int) -> Plan:
    """A list of ``count`` numbers, then a step mapped over it."""
    wf = Workflow("bench_cli")

    @wf.step
    async def numbers() -> list[int]:
        return list(range(count))

    @wf.step(map="numbers")
    async def bumped(numbers: int) -> int:
        return numbers + 1

    return wf.compile()


def best(measure: Callable[[], float], repeat: int) -> float:
    return min(measure() for _ in range(repeat))


def per_event(plan: Plan, count: int, repeat: int) -> dict[str, float]:
    """Seconds per event of a run with each callback (interleaved, best of ``repeat``)."""
    seen: list[events.Event] = []
    n_events = len(plan.run_sync({}).events)
    times: dict[str, list[float]] = {"list.append": [], "Progress": []}
    for _ in range(repeat):
        for name in times:
            seen.clear()
            callback: Any = (seen.append if name == "list.append"
                             else Progress("bench_cli", plan.names))
            start = time.perf_counter()
            plan.run_sync({}, on_event=callback)
            times[name].append(time.perf_counter() - start)
    return {name: min(t) / n_events for name, t in times.items()} | {"events": n_events}


def frame(repeat: int) -> float:
    """Seconds to draw one frame of a display with 20 mapped steps under way."""
    from rich.console import Console

    steps = [f"step{i}" for i in range(40)]
    progress = Progress("bench_cli", steps)
    for i, step in enumerate(steps[:20]):
        progress(events.MapStarted(0.0, step, 1000))
        for item in range(i * 40):
            progress(events.StepFinished(0.0, step, 0.0, item=item))
    console = Console(file=io.StringIO(), force_terminal=True, width=100)

    def once() -> float:
        start = time.perf_counter()
        for _ in range(20):
            console.print(render(progress, 1.0))
        return (time.perf_counter() - start) / 20

    return best(once, repeat)


def process(argv: list[str], repeat: int) -> float:
    def once() -> float:
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start

    return best(once, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    count, repeat = (500, 2) if args.quick else (10_000, 5)
    costs = per_event(mapped_plan(count), count, repeat)
    figures = {
        "elements": count,
        "events": costs["events"],
        "on_event_list_append_us": costs["list.append"] * 1e6,
        "on_event_progress_us": costs["Progress"] * 1e6,
        "frame_ms": frame(repeat) * 1e3,
        "import_spectra_dsl_s": process([sys.executable, "-c", "import spectra_dsl"], repeat),
        "spectra_graph_s": process([sys.executable, "-m", "spectra_dsl._cli", "graph",
                                    "examples.parallel_analysis:wf"], repeat),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"per event, {figures['events']} events ({count} mapped elements): "
          f"on_event=list.append {figures['on_event_list_append_us']:.1f} µs, "
          f"Progress {figures['on_event_progress_us']:.1f} µs "
          f"({figures['on_event_progress_us'] / figures['on_event_list_append_us']:.2f}x)")
    print(f"one frame of the live display (20 mapped steps): {figures['frame_ms']:.2f} ms")
    print(f"a fresh process: import spectra_dsl {figures['import_spectra_dsl_s']:.2f} s, "
          f"spectra graph {figures['spectra_graph_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
