"""spectra-lint benchmarks: files per second over a generated tree, and one huge workflow.

Run it with ``python bench/bench_lint.py`` (``--quick`` for a smoke run, ``--json`` for
machine-readable figures).  Everything is measured in one process, on this machine:

1. files per second over a tree of generated workflow modules (1,000 by default, each a
   workflow of 5 to 20 steps with fan-outs, ``Join.ALL`` fan-ins, shared keys with
   reducers and one forgotten join in every tenth file), end to end as the command line
   does it: discovery, reading, parsing, the static front end, every compiler pass and
   ``# noqa`` handling;
2. one file holding a 10,000-step workflow (a random DAG, every fan-in joined), split
   into parsing plus the static front end and the compiler passes; and a 10,000-step
   chain.

And as whole processes (``subprocess``; CPU time, wall time and peak memory of each
child from ``os.wait4``), side by side in the same run:

3. ``python -m compiler.lint`` on the 10,000-step file against a process that only
   reads and ``ast.parse``-s it, run in turn, the ratio taken pair by pair;
4. ``python -m compiler.lint`` over this interpreter's site-packages (thousands of
   modules, almost none using spectra_dsl): files per second and peak memory.

The figures in docs/performance.md (section "spectra-lint") come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from compiler import compile_workflow
from compiler.lint import lint_paths
from compiler.lint._engine import analyse_file
from compiler.lint._loader import Loader


def module_source(seed: int, steps: int) -> str:
    """A workflow module of ``steps`` steps: a source, a fan-out of branches (some also
    writing the shared key 'log', folded by a reducer), a ``Join.ALL`` fan-in and a tail
    chain; every tenth seed forgets the join."""
    rng = random.Random(seed)
    branches = rng.randint(2, max(2, steps // 2))
    lines = [
        '"""Generated workflow module."""',
        "",
        "from spectra_dsl import Join, Workflow, reducers",
        "",
        f"wf = Workflow('flow-{seed}', reducers={{'log': reducers.append}})",
        "",
        "",
        "@wf.step",
        "async def source(seed: int) -> int:",
        "    return seed",
    ]
    for b in range(branches):
        if b % 2 == 0:
            decorator, returns = f"@wf.step(writes=('b{b}', 'log'))", "dict[str, int]"
        else:
            decorator, returns = "@wf.step", "int"
        lines += ["", "", decorator, f"async def b{b}(source: int) -> {returns}:",
                  "    return 0"]
    join = "@wf.step" if seed % 10 == 0 else "@wf.step(join=Join.ALL)"
    params = ", ".join(f"b{b}: int" for b in range(branches))
    lines += ["", "", join, f"async def joined({params}) -> int:", "    return 1"]
    previous = "joined"
    for t in range(max(0, steps - branches - 2)):
        lines += ["", "", "@wf.step", f"async def t{t}({previous}: int) -> int:",
                  "    return 1"]
        previous = f"t{t}"
    return "\n".join(lines) + "\n"


def big_dag_source(steps: int, seed: int = 7) -> str:
    """One workflow of ``steps`` steps: a random DAG, each step reading up to 3 earlier
    ones from a window behind it, every fan-in joined with Join.ALL."""
    rng = random.Random(seed)
    lines = ["from spectra_dsl import Join, Workflow", "", "wf = Workflow('big')"]
    for i in range(steps):
        window = range(max(0, i - 50), i)
        deps = sorted(rng.sample(window, k=min(len(window), rng.choice((1, 2, 3))))) if i \
            else []
        params = ", ".join(f"s{d}: int" for d in deps) or "seed: int"
        decorator = "@wf.step(join=Join.ALL)" if len(deps) > 1 else "@wf.step"
        lines += [decorator, f"async def s{i}({params}) -> int: ..."]
    return "\n".join(lines) + "\n"


def chain_source(steps: int) -> str:
    """One workflow of ``steps`` steps in a single chain."""
    lines = ["from spectra_dsl import Workflow", "", "wf = Workflow('chain')",
             "@wf.step", "async def s0(seed: int) -> int: ..."]
    for i in range(1, steps):
        lines += ["@wf.step", f"async def s{i}(s{i - 1}: int) -> int: ..."]
    return "\n".join(lines) + "\n"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs of ``fn`` (seconds) and its last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_tree(files: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as root:
        rng = random.Random(1)
        total_steps = 0
        for index in range(files):
            folder = os.path.join(root, f"pkg{index // 100}")
            os.makedirs(folder, exist_ok=True)
            steps = rng.randint(5, 20)
            total_steps += steps
            with open(os.path.join(folder, f"flow_{index}.py"), "w") as handle:
                handle.write(module_source(index, steps))
        seconds, result = best_of(repeat, lambda: lint_paths([root]))
        assert len(result.files) == files
        expected = len([i for i in range(files) if i % 10 == 0])
        assert len(result.diagnostics) == expected, result.diagnostics[:3]
        assert {d.code for d in result.diagnostics} == {"SPX101"}
    return {"files": files, "steps": total_steps, "seconds": seconds,
            "files_per_second": files / seconds}


def bench_big_file(source: str, name: str, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, f"{name}.py")
        with open(path, "w") as handle:
            handle.write(source)
        front, result = best_of(repeat, lambda: analyse_file(path, Loader()))
        (workflow,) = result.workflows
        passes, compilation = best_of(repeat, lambda: compile_workflow(workflow.spec))
        assert compilation.graph is not None, compilation.diagnostics[:3]
        total, linted = best_of(repeat, lambda: lint_paths([path]))
        assert linted.errors == ()
        return {"steps": len(workflow.spec.steps), "lines": source.count("\n"),
                "front_end_seconds": front, "passes_seconds": passes,
                "total_seconds": total}


#: The floor a whole lint process is compared with: a process that reads and parses.
PARSE_ONLY = "import ast, sys; ast.parse(open(sys.argv[1], 'rb').read())"
LINT = (sys.executable, "-m", "compiler.lint", "--isolated", "--exit-zero")
_CHECKED = re.compile(r"\((\d+) files? checked")


#: Runs a command and prints its wall time and resource usage as JSON.  It is started
#: first, small (``-S``), so that the measured command's peak memory is its own: a child
#: counts the memory of the process it was spawned from as its own peak.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"wall": time.perf_counter() - start, "status": status,
                  "cpu": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}))
"""


def run_process(argv: Sequence[str]) -> dict[str, float | str]:
    """Run ``argv`` to its end: wall and CPU seconds, peak memory (MiB) and stderr."""
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *argv],
                          capture_output=True, text=True, check=True)
    usage = json.loads(done.stdout)
    code = os.waitstatus_to_exitcode(usage["status"])
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}: {done.stderr}")
    per_mib = 2 ** 20 if sys.platform == "darwin" else 2 ** 10  # ru_maxrss: bytes or KiB
    return {"wall": usage["wall"], "cpu": usage["cpu"],
            "peak_mib": usage["maxrss"] / per_mib, "stderr": done.stderr}


def bench_process_vs_parse(source: str, repeat: int) -> dict[str, float]:
    """spectra-lint on one file as a whole process, against parse-only, in turn."""
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "big.py")
        with open(path, "w") as handle:
            handle.write(source)
        lint_argv, parse_argv = [*LINT, "-q", path], [sys.executable, "-c", PARSE_ONLY, path]
        run_process(lint_argv)  # warm the file system cache and the .pyc files
        run_process(parse_argv)
        lint_runs, parse_runs = [], []
        for _ in range(repeat):
            lint_runs.append(run_process(lint_argv))
            parse_runs.append(run_process(parse_argv))
    figures: dict[str, float] = {}
    for measure in ("cpu", "wall"):
        lint_values = [float(r[measure]) for r in lint_runs]
        parse_values = [float(r[measure]) for r in parse_runs]
        figures[f"lint_{measure}_seconds"] = statistics.median(lint_values)
        figures[f"parse_{measure}_seconds"] = statistics.median(parse_values)
        figures[f"{measure}_ratio"] = statistics.median(
            a / b for a, b in zip(lint_values, parse_values, strict=True))
    figures["lint_peak_mib"] = max(float(r["peak_mib"]) for r in lint_runs)
    figures["parse_peak_mib"] = max(float(r["peak_mib"]) for r in parse_runs)
    return figures


def bench_site_packages(repeat: int, root: str | None = None) -> dict[str, float]:
    """spectra-lint over a real tree of third-party modules, as a whole process."""
    tree = root or sysconfig.get_paths()["purelib"]
    argv = [*LINT, tree]
    run_process(argv)  # warm the file system cache
    runs = [run_process(argv) for _ in range(repeat)]
    found = _CHECKED.search(str(runs[0]["stderr"]))
    files = int(found.group(1)) if found else 0
    wall = statistics.median(float(r["wall"]) for r in runs)
    cpu = statistics.median(float(r["cpu"]) for r in runs)
    return {"files": files, "wall_seconds": wall, "cpu_seconds": cpu,
            "files_per_second": files / wall, "files_per_cpu_second": files / cpu,
            "peak_mib": max(float(r["peak_mib"]) for r in runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    args = parser.parse_args(argv)
    files, steps, repeat = (200, 2_000, 1) if args.quick else (1_000, 10_000, 3)
    figures = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count() or 1,
        "tree": bench_tree(files, repeat),
        "big_dag": bench_big_file(big_dag_source(steps), "big_dag", repeat),
        "chain": bench_big_file(chain_source(steps), "chain", repeat),
        "process_vs_parse": bench_process_vs_parse(big_dag_source(steps),
                                                   3 if args.quick else 7),
        "site_packages": bench_site_packages(1 if args.quick else 5),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    tree = figures["tree"]
    assert isinstance(tree, dict)
    print(f"Python {figures['python']} on {figures['platform']} ({figures['cpus']} CPUs)")
    print(f"tree: {tree['files']:,} files ({tree['steps']:,} steps) in "
          f"{tree['seconds']:.2f} s = {tree['files_per_second']:,.0f} files/s")
    for label in ("big_dag", "chain"):
        big = figures[label]
        assert isinstance(big, dict)
        print(f"{label}: {big['steps']:,} steps, {big['lines']:,} lines: front end "
              f"{big['front_end_seconds']:.3f} s + passes {big['passes_seconds']:.3f} s; "
              f"spectra-lint end to end {big['total_seconds']:.3f} s")
    versus = figures["process_vs_parse"]
    assert isinstance(versus, dict)
    print(f"whole process on the {steps:,}-step file: spectra-lint "
          f"{versus['lint_cpu_seconds']:.3f} s CPU ({versus['lint_wall_seconds']:.3f} s wall, "
          f"{versus['lint_peak_mib']:.0f} MiB) vs parse only {versus['parse_cpu_seconds']:.3f} s "
          f"CPU ({versus['parse_wall_seconds']:.3f} s wall, {versus['parse_peak_mib']:.0f} MiB)"
          f": {versus['cpu_ratio']:.2f}x CPU, {versus['wall_ratio']:.2f}x wall")
    site = figures["site_packages"]
    assert isinstance(site, dict)
    print(f"site-packages: {site['files']:,} files in {site['wall_seconds']:.2f} s wall "
          f"({site['cpu_seconds']:.2f} s CPU) = {site['files_per_second']:,.0f} files/s "
          f"({site['files_per_cpu_second']:,.0f} per CPU second), peak "
          f"{site['peak_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
