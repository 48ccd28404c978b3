"""The live display of ``spectra run`` (its model and its drawing, and on a real
pseudo-terminal), and ``spectra runs`` on a store."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import trio
from hypothesis import given, settings

from spectra_dsl import Workflow
from spectra_dsl import events as ev
from spectra_dsl._cli_progress import Progress, render
from spectra_dsl.store import SqliteStore
from tests.cli.test_cli import MAPPED, _env, spectra
from tests.helpers import run_virtual
from tests.strategies import RandomDag, Recorder, build, limits, random_dags


def mapped_workflow() -> Workflow:
    wf = Workflow("mapped")

    @wf.step
    async def items(n: int) -> list[int]:
        return list(range(n))

    @wf.step(map="items")
    async def square(items: int) -> int:
        await trio.sleep(1 + items)
        return items * items

    @wf.step
    async def total(square: list[int]) -> int:
        return sum(square)

    return wf


def test_progress_counts_steps_and_a_mapped_steps_calls() -> None:
    wf = mapped_workflow()
    progress = Progress("mapped", wf.compile().names)
    seen: list[tuple[float, str, list[int] | None]] = []

    def on_event(event: ev.Event) -> None:
        progress(event)
        done = progress.maps.get("square")
        seen.append((event.time, progress.summary(), None if done is None else list(done)))

    run_virtual(wf, {"n": 3}, on_event=on_event)
    # After the first call (1 s) and the second (2 s), the bar has 1/3 then 2/3.
    at = {time: (summary, done) for time, summary, done in seen}
    assert at[1.0] == ("1/3 done, 1 running, 1 waiting", [1, 3])
    assert at[2.0] == ("1/3 done, 1 running, 1 waiting", [2, 3])
    assert seen[-1][1:] == ("3/3 done, 0 running, 0 waiting", [3, 3])
    assert progress.elapsed == 3.0


def test_progress_names_skipped_and_failed_steps() -> None:
    progress = Progress("w", ["a", "b", "c"])
    progress(ev.StepStarted(0.0, "a", 1))
    progress(ev.StepSkipped(0.0, "b", "guard"))
    progress(ev.StepError(1.0, "a", ValueError("x")))
    progress(ev.StepStarted(1.0, "inner", 1, scope=("a",)))  # a sub-workflow's: not counted
    assert progress.summary() == "0/3 done, 0 running, 1 waiting, 1 skipped, 1 failed"
    assert progress.named("failed") == ["a"]


def test_the_display_draws_counts_running_steps_and_a_bar_per_mapped_step() -> None:
    from rich.console import Console

    progress = Progress("mapped", ["items", "square", "total"])
    progress(ev.StepFinished(0.0, "items", 0.0))
    progress(ev.MapStarted(0.0, "square", 4))
    progress(ev.StepFinished(1.0, "square", 1.0, item=0))
    console = Console(record=True, width=80, force_terminal=True, color_system=None)
    console.print(render(progress, 1.25))
    text = console.export_text()
    assert "spectra mapped  1/3 done, 1 running, 1 waiting  1.2s" in text
    assert "running: square" in text
    assert "square" in text.splitlines()[2] and text.splitlines()[2].endswith("1/4")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_terminal_the_live_display_shows_then_clears(tmp_path: Path) -> None:
    import pty
    import subprocess

    (tmp_path / "mapped.py").write_text(MAPPED, encoding="utf-8")
    leader, follower = pty.openpty()
    env = _env() | {"COLUMNS": "100", "TERM": "xterm"}
    with subprocess.Popen(
        [sys.executable, "-m", "spectra_dsl._cli", "run", "mapped:wf", "-i", "n=60",
         "-j", "2"], cwd=tmp_path, stdout=follower, stderr=follower, env=env,
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed: the process ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(leader)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    drawn = b"".join(chunks).decode("utf-8", "replace")
    assert process.returncode == 0, shown
    assert "spectra" in shown and "running: square" in shown  # the live display
    assert "\x1b[" in drawn  # drawn with terminal codes
    assert "total: 70210" in shown  # then the state, printed after it


def test_runs_lists_a_stores_runs_as_a_table(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    times = iter([1_000_000.0, 1_000_000.0, 1_000_060.0, 1_000_060.0, 1_000_120.0])
    with SqliteStore.open(path, clock=lambda: next(times)) as store:
        store.create_run("o-1", workflow="orders", inputs={"id": 1})
        store.commit("o-1", status="finished")
        store.create_run("o-2", workflow="orders", inputs={"id": 2})
    done = spectra(tmp_path, "runs", "--store", "runs.sqlite")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["run", "id", "workflow", "status", "updated"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["o-1", "orders", "finished"], ["o-2", "orders", "running"],
    ]
    assert len(lines[1].split()) == 5  # the date and the time it was updated


def test_runs_of_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    done = spectra(tmp_path, "runs", "--store", "nowhere.sqlite")
    assert done.returncode == 2
    assert done.stderr == "spectra: error: no store file 'nowhere.sqlite'\n"
    assert not (tmp_path / "nowhere.sqlite").exists()  # not created by asking



def test_progress_counts_restored_steps_as_done_and_names_asks() -> None:
    from spectra_dsl._durable_events import StepAsked, StepRestored

    progress = Progress("w", ["a", "b", "c", "d"])
    progress(StepRestored(0.0, "a"))
    progress(StepAsked(0.0, "b", {"question": "ok?"}))
    progress(StepRestored(0.0, "c", status="asked"))  # restored, still not answered
    assert progress.summary() == "1/4 done, 0 running, 1 waiting, 2 asked"


@settings(max_examples=40, deadline=None)
@given(random_dags(max_steps=10), limits())
def test_progress_agrees_with_the_events_on_random_dags(
    dag: RandomDag, limit: int | None
) -> None:
    """At every event the counts add up to the steps, the steps running are those
    started and not finished, never more than the limit; at the end every step is
    done."""
    wf = build(dag, Recorder())
    plan = wf.compile()
    progress = Progress("random", plan.names)
    running: set[str] = set()

    def on_event(event: ev.Event) -> None:
        progress(event)
        if isinstance(event, ev.StepStarted):
            running.add(event.step)
        elif isinstance(event, ev.StepFinished):
            running.discard(event.step)
        counts = [progress.count(s) for s in ("done", "running", "waiting")]
        assert sum(counts) == len(plan.names)
        assert set(progress.named("running")) == running
        assert limit is None or len(running) <= limit

    run_virtual(wf, max_concurrency=limit, on_event=on_event)
    assert progress.summary() == f"{len(plan.names)}/{len(plan.names)} done, 0 running, 0 waiting"


def test_the_display_shows_at_most_eight_bars_those_under_way_first() -> None:
    from rich.console import Console

    steps = [f"m{i}" for i in range(12)]
    progress = Progress("wide", steps)
    for i, step in enumerate(steps):
        progress(ev.MapStarted(0.0, step, 2))
        for item in range(2 if i < 6 else 1):  # m0..m5 done, m6..m11 under way
            progress(ev.StepFinished(0.0, step, 0.0, item=item))
    console = Console(record=True, width=80, force_terminal=True, color_system=None)
    console.print(render(progress, 0.0))
    lines = console.export_text().splitlines()
    bars = [line.split()[0] for line in lines if line.rstrip().endswith("/2")]
    assert bars == ["m6", "m7", "m8", "m9", "m10", "m11", "m5", "m4"]
    assert lines[-1] == "... and 4 more mapped steps"
