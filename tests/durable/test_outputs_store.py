"""outputs= with store=: a durable run of the part of a workflow some outputs need; the
store remembers the outputs, and a resume (with the whole workflow's plan) runs that
same part again from its records."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectra_dsl import StepFailed, Workflow
from spectra_dsl.store import MemoryStore, SqliteStore, Store
from tests.helpers import virtual


class Log:
    calls: list[str] = []  # noqa: RUF012 - reset by each test
    failing: set[str] = set()  # noqa: RUF012


def report() -> Workflow:
    wf = Workflow("report")

    @wf.step
    async def fetch(url: str) -> str:
        Log.calls.append("fetch")
        return f"<{url}>"

    @wf.step
    async def digest(fetch: str) -> str:
        Log.calls.append("digest")
        if "digest" in Log.failing:
            raise ConnectionError("the summarizer timed out")
        return fetch.upper()

    @wf.step
    async def thumbnail(fetch: str, size: int) -> str:  # not needed for the digest
        Log.calls.append("thumbnail")
        return f"{fetch}@{size}"

    return wf


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    Log.calls, Log.failing = [], set()
    if request.param == "memory":
        return MemoryStore()
    return SqliteStore(tmp_path / "runs.sqlite")


def test_a_durable_run_of_some_outputs_runs_and_records_only_their_part(
        store: Store) -> None:
    plan = report().compile()
    bare = virtual(lambda: plan.run({"url": "u"}, outputs=("digest",)))
    Log.calls.clear()
    stored = virtual(lambda: plan.run({"url": "u"}, outputs=("digest",), store=store,
                                      run_id="r"))
    assert dict(stored) == dict(bare) and stored["digest"] == "<U>"
    assert Log.calls == ["fetch", "digest"]  # no size= needed, thumbnail never ran
    assert [r.step for r in store.steps("r")] == ["fetch", "digest"]
    assert store.run("r").outputs == ("digest",)


def test_a_resume_runs_the_same_part_from_its_records(store: Store) -> None:
    plan = report().compile()
    Log.failing.add("digest")
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"url": "u"}, outputs="digest", store=store, run_id="r"))
    Log.failing.clear()
    Log.calls.clear()
    resumed = virtual(lambda: plan.resume("r", store=store))  # the whole plan, as usual
    assert resumed.status == "finished" and resumed["digest"] == "<U>"
    assert Log.calls == ["digest"]  # fetch restored, thumbnail not part of the run
    with pytest.raises(ValueError, match=r"as run for outputs 'digest'.*'thumbnail'"):
        virtual(lambda: plan.resume("r", store=store, rerun=("thumbnail",)))


def test_the_outputs_of_a_run_survive_reopening_the_store(tmp_path: Path) -> None:
    Log.calls, Log.failing = [], set()
    path = tmp_path / "runs.sqlite"
    plan = report().compile()
    plan.run_sync({"url": "u"}, outputs=["digest", "fetch"], store=path, run_id="r")
    with SqliteStore(path) as again:
        assert again.run("r").outputs == ("digest", "fetch")
    assert plan.resume_sync("r", store=path)["digest"] == "<U>"


def test_a_store_takes_one_output_name_as_a_plain_string(store: Store) -> None:
    assert store.create_run("r", workflow="w", outputs="digest").outputs == ("digest",)
    assert store.run("r").outputs == ("digest",)
