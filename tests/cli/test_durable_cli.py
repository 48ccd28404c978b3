"""``spectra run --store``, ``spectra runs`` and ``spectra resume`` on durable runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import spectra

#: Fails in `check` until the file `fixed` exists; every call of `fetch` is logged.
FLAKY = '''
from pathlib import Path

from spectra_dsl import Workflow

wf = Workflow("flaky")


@wf.step
async def fetch(order: str) -> str:
    with open("calls.log", "a") as log:
        log.write("fetch\\n")
    return f"order {order}"


@wf.step
async def check(fetch: str) -> str:
    if not Path("fixed").exists():
        raise RuntimeError("the service is down")
    return fetch + " checked"
'''

ASKING = '''
from spectra_dsl import Ask, Workflow

wf = Workflow("asking")


@wf.step
async def draft(topic: str) -> str:
    return f"a post about {topic}"


@wf.step(ask=True)
async def approval(draft: str) -> Ask[bool]:
    return Ask({"draft": draft, "question": "Publish?"})


@wf.step
async def publish(draft: str, approval: bool) -> str:
    return ("published: " if approval else "dropped: ") + draft
'''


@pytest.fixture
def here(tmp_path: Path) -> Path:
    (tmp_path / "flaky.py").write_text(FLAKY, encoding="utf-8")
    (tmp_path / "asking.py").write_text(ASKING, encoding="utf-8")
    return tmp_path


def test_a_failed_run_is_resumed_without_running_its_recorded_steps(here: Path) -> None:
    failed = spectra(here, "run", "flaky:wf", "-i", "order=o-1", "--store", "runs.sqlite",
                     "--run-id", "o-1")
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-2:] == [
        "spectra: step 'check' failed: RuntimeError: the service is down",
        "spectra: run id o-1: resume it with spectra resume o-1 flaky:wf --store runs.sqlite",
    ]
    listed = spectra(here, "runs", "--store", "runs.sqlite")
    assert listed.stdout.splitlines()[1].split()[:3] == ["o-1", "flaky", "failed"]

    (here / "fixed").touch()
    resumed = spectra(here, "resume", "o-1", "flaky:wf", "--store", "runs.sqlite", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["check"] == "order o-1 checked"
    assert (here / "calls.log").read_text() == "fetch\n"  # recorded: not run again
    listed = spectra(here, "runs", "--store", "runs.sqlite")
    assert listed.stdout.splitlines()[1].split()[:3] == ["o-1", "flaky", "finished"]


def test_an_ask_waits_with_exit_3_and_is_answered_by_resume(here: Path) -> None:
    waiting = spectra(here, "run", "asking:wf", "-i", "topic=trio", "--store", "s.sqlite",
                      "--run-id", "post-1")
    assert waiting.returncode == 3, waiting.stderr
    assert "step 'approval' asks:" in waiting.stderr and "Publish?" in waiting.stderr
    assert ("spectra resume post-1 asking:wf --store s.sqlite --answer approval=VALUE"
            in waiting.stderr)
    answered = spectra(here, "resume", "post-1", "asking:wf", "--store", "s.sqlite",
                       "--answer", "approval=true", "--json")
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["publish"] == "published: a post about trio"


def test_resume_names_what_is_wrong(here: Path) -> None:
    spectra(here, "run", "asking:wf", "-i", "topic=x", "--store", "s.sqlite", "--run-id", "r")
    other = spectra(here, "resume", "r", "flaky:wf", "--store", "s.sqlite")
    assert other.returncode == 2
    assert "run 'r' is of workflow 'asking', not 'flaky'" in other.stderr
    unknown = spectra(here, "resume", "nope", "asking:wf", "--store", "s.sqlite")
    assert unknown.returncode == 2 and "has no run 'nope' (its runs: r;" in unknown.stderr
    stray = spectra(here, "resume", "r", "asking:wf", "--store", "s.sqlite",
                    "--answer", "draft=1")
    assert stray.returncode == 2 and "'draft'" in stray.stderr
    assert "Traceback" not in other.stderr + unknown.stderr + stray.stderr


def test_resume_reruns_steps_and_says_what_changed_in_the_code(here: Path) -> None:
    (here / "fixed").touch()
    done = spectra(here, "run", "flaky:wf", "-i", "order=o-2", "--store", "runs.sqlite",
                   "--run-id", "o-2")
    assert done.returncode == 0, done.stderr
    listed = spectra(here, "runs")  # runs.sqlite, when no --store is given
    assert listed.stdout.splitlines()[1].split()[:3] == ["o-2", "flaky", "finished"]
    again = spectra(here, "resume", "o-2", "flaky:wf", "--rerun", "fetch", "--json")
    assert again.returncode == 0, again.stderr
    assert (here / "calls.log").read_text() == "fetch\nfetch\n"  # run again, as asked

    flaky = here / "flaky.py"
    flaky.write_text(flaky.read_text().replace('" checked"', '" verified"'))
    refused = spectra(here, "resume", "o-2", "flaky:wf")
    assert refused.returncode == 1
    assert refused.stderr.startswith("spectra: error: ") and "check" in refused.stderr
    assert "Traceback" not in refused.stderr
    rerun = spectra(here, "resume", "o-2", "flaky:wf", "--on-code-change", "rerun",
                    "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["check"] == "order o-2 verified"
