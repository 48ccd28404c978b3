"""Real processes, a real SQLite file, SIGKILL: a run killed after any commit (or in
the middle of one) resumes in a fresh process to the state of an uninterrupted run,
and no step whose record was committed ran twice."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl.store import SqliteStore, call_key
from tests.durable._worker import KillingStore
from tests.durable.flow import build

WORKER = str(Path(__file__).with_name("_worker.py"))
ROOT = str(Path(__file__).resolve().parents[2])


def reference() -> tuple[int, dict[str, Any]]:
    """How many commits an uninterrupted run makes, and its final ``end``."""
    store = KillingStore(":memory:")
    plan = build().compile()
    result = trio.run(lambda: plan.run({"seed": 1}, store=store, run_id="ref"),
                      clock=trio.testing.MockClock(autojump_threshold=0))
    store.close()
    return store.commits, result["end"]


def worker(*args: str, side: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPECTRA_SIDE_FILE": str(side)}
    return subprocess.run([sys.executable, WORKER, *args], env=env, cwd=ROOT, text=True,
                          capture_output=True, input=stdin, timeout=120, check=False)


def kill_and_resume(tmp: Path, how: str, n: int) -> tuple[set[str], collections.Counter[str],
                                                          dict[str, Any], str]:
    """Run killed by ``how`` at commit ``n``, then resumed: (the call keys recorded
    before the kill, real calls by key, the resumed run's output, the run's status
    after the kill)."""
    path = tmp / f"{how}-{n}.sqlite"
    side = tmp / f"{how}-{n}.calls"
    killed = worker("run", str(path), "r", how, str(n), side=side)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with SqliteStore(path) as store:
        status = store.run("r").status
        recorded = {call_key("r", rec.scope, rec.step, rec.item)
                    for rec in store.steps("r") if rec.status == "finished"}
    resumed = worker("resume", str(path), "r", side=side)
    assert resumed.returncode == 0, resumed.stderr
    calls = collections.Counter(side.read_text().split())
    return recorded, calls, json.loads(resumed.stdout.splitlines()[-1]), status


def check(recorded: set[str], calls: collections.Counter[str], output: dict[str, Any],
          end: dict[str, Any]) -> None:
    assert output == {"status": "finished", "end": end}
    # A recorded step (each element of a recorded mapped step) was called exactly once;
    # a recorded sub-workflow step calls nothing itself (its steps have their records).
    twice = {key: count for key, count in calls.items() if count != 1
             and any(key == done or key.startswith(done + "[") for done in recorded)}
    assert not twice, f"recorded steps called more than once: {twice}"
    assert recorded <= set(calls) | {"r/loop"} | {k.split("[")[0] for k in calls}


def test_a_run_killed_after_any_of_its_commits_resumes_to_the_same_state(
        tmp_path: Path) -> None:
    total, end = reference()
    assert total >= 10  # root, 4 instants of branches, join, loop passes, map, end, status

    def one(n: int) -> tuple[int, Any]:
        return n, kill_and_resume(tmp_path, "--kill-after", n)

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(one, range(1, total + 1)))
    for n, (recorded, calls, output, status) in outcomes:
        check(recorded, calls, output, end)
        assert status == ("finished" if n == total else "running")
    # The kill fell everywhere: from nothing recorded but the root to everything.
    sizes = [len(recorded) for _, (recorded, _, _, _) in outcomes]
    assert sizes == sorted(sizes) and sizes[0] == 1 and sizes[-1] == sizes[-2]


@pytest.mark.parametrize("n", [6])
def test_a_run_killed_in_the_middle_of_a_commit_loses_that_commit_whole(
        tmp_path: Path, n: int) -> None:
    _, end = reference()
    after = kill_and_resume(tmp_path, "--kill-after", n - 1) if n > 1 else None
    recorded, calls, output, _ = kill_and_resume(tmp_path, "--kill-mid", n)
    check(recorded, calls, output, end)
    if after is not None:  # nothing of the commit being written when killed is kept
        assert recorded == after[0]


def test_two_processes_resuming_one_run_one_proceeds_the_other_is_told_who(
        tmp_path: Path) -> None:
    _, end = reference()
    path = tmp_path / "two.sqlite"
    side = tmp_path / "two.calls"
    worker("run", str(path), "r", "--kill-after", "2", side=side)
    env = {**os.environ, "SPECTRA_SIDE_FILE": str(side)}
    first = subprocess.Popen([sys.executable, WORKER, "resume", str(path), "r", "--block"],
                             env=env, cwd=ROOT, text=True, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline().strip() == "blocked"
        second = worker("resume", str(path), "r", side=side)
        assert second.returncode == 0, second.stderr
        refusal = second.stdout.strip()
        assert refusal.startswith("ResumeError: run 'r' is owned by pid")
        assert f"pid {first.pid} on host" in refusal
        out, err = first.communicate("go\n", timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"status": "finished", "end": end}
