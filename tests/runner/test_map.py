"""Mapped steps: one call per element of a run-time list, on a mock clock (exact times)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from spectra_dsl import Join, Retry, StepFailed, Workflow, events, reducers
from tests.helpers import run_virtual


def _lister(wf: Workflow, values: list[int]) -> None:
    @wf.step
    async def numbers() -> list[int]:
        return list(values)


def test_one_call_per_element_and_the_list_in_element_order() -> None:
    wf = Workflow("m")
    _lister(wf, [3, 1, 2])

    @wf.step(map="numbers")
    async def doubled(numbers: int, factor: int) -> int:
        await trio.sleep(numbers)  # the last element finishes first
        return numbers * factor

    @wf.step
    async def total(doubled: list[int]) -> int:
        return sum(doubled)

    result = run_virtual(wf, {"factor": 10})
    assert result["doubled"] == [30, 10, 20] and result["total"] == 60
    assert result.duration == 3 and result.peak_concurrency == 3
    started = result.events_of(events.MapStarted)
    assert [(e.step, e.count, e.time) for e in started] == [("doubled", 3, 0.0)]
    finished = [(e.item, e.time, e.value) for e in result.events_of(events.StepFinished)
                if e.step == "doubled"]
    assert finished == [(1, 1.0, 10), (2, 2.0, 20), (0, 3.0, 30), (None, 3.0, [30, 10, 20])]
    (done,) = result.events_of(events.MapFinished)
    assert (done.step, done.count, done.duration, done.time) == ("doubled", 3, 3.0, 3.0)
    spans = result.intervals()
    assert spans["doubled"] == (0.0, 3.0) and spans["doubled[1]"] == (0.0, 1.0)
    assert result.ran_together("doubled[0]") == ["doubled", "doubled[1]", "doubled[2]"]


def test_no_element_means_no_call_and_the_run_goes_on() -> None:
    wf = Workflow("m")
    _lister(wf, [])
    calls: list[int] = []

    @wf.step(map="numbers")
    async def doubled(numbers: int) -> int:
        calls.append(numbers)
        return numbers

    @wf.step
    async def total(doubled: list[int]) -> int:
        return len(doubled)

    result = run_virtual(wf)
    assert calls == [] and result["doubled"] == [] and result["total"] == 0
    assert [e.count for e in result.events_of(events.MapStarted)] == [0]


def test_zip_binds_elements_pairwise_and_other_parameters_stay_the_same() -> None:
    wf = Workflow("m")

    @wf.step
    async def names() -> list[str]:
        return ["a", "b"]

    @wf.step
    async def ages() -> tuple[int, ...]:
        return (1, 2)

    @wf.step(map=("names", "ages"), join=Join.ALL)
    async def pair(names: str, ages: int, sep: str) -> str:
        return f"{names}{sep}{ages}"

    assert run_virtual(wf, {"sep": "="})["pair"] == ["a=1", "b=2"]


def test_zipped_lists_of_different_lengths_fail_the_step_before_any_call() -> None:
    wf = Workflow("m")
    calls: list[str] = []

    @wf.step
    async def names() -> list[str]:
        return ["a", "b", "c"]

    @wf.step
    async def ages() -> list[int]:
        return [1, 2]

    @wf.step(map=("names", "ages"), join=Join.ALL)
    async def pair(names: str, ages: int) -> str:
        calls.append(names)
        return names

    with pytest.raises(StepFailed) as caught:
        run_virtual(wf)
    assert caught.value.step == "pair" and caught.value.item is None and calls == []
    message = str(caught.value)
    assert "'names' has 3" in message and "'ages' has 2" in message


def test_a_value_that_is_no_list_fails_the_step_naming_it() -> None:
    wf = Workflow("m")

    @wf.step
    async def numbers() -> int:
        return 5

    @wf.step(map="numbers")
    async def doubled(numbers: int) -> int:
        return numbers

    with pytest.raises(StepFailed, match=r"step 'doubled' maps over 'numbers'.*int"):
        run_virtual(wf)


def test_concurrency_caps_the_step_and_a_waiting_element_holds_no_run_slot() -> None:
    wf = Workflow("m")
    _lister(wf, [1, 1, 1, 1])

    @wf.step(map="numbers", concurrency=2)
    async def slow(numbers: int) -> int:
        await trio.sleep(numbers)
        return numbers

    @wf.step
    async def side() -> int:
        await trio.sleep(1)
        return 0

    @wf.step
    async def other(side: int) -> int:
        await trio.sleep(1)
        return 0

    result = run_virtual(wf, max_concurrency=3)
    spans = result.intervals()
    assert result["slow"] == [1, 1, 1, 1] and result.duration == 2
    # Under a limit of 3 the cap of 2 leaves a slot for the other branch all along.
    assert spans["side"] == (0.0, 1.0) and spans["other"] == (1.0, 2.0)
    assert [spans[f"slow[{i}]"] for i in range(4)] == [(0, 1), (0, 1), (1, 2), (1, 2)]


def test_elements_start_as_slots_free_up_under_the_run_limit() -> None:
    wf = Workflow("m")
    _lister(wf, list(range(10)))
    running = 0
    most = 0

    @wf.step(map="numbers")
    async def work(numbers: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await trio.sleep(1)
        running -= 1
        return numbers

    result = run_virtual(wf, max_concurrency=4)
    assert result["work"] == list(range(10)) and most == 4 and result.duration == 3


def test_retry_and_timeout_apply_to_each_call_not_to_the_wait_for_a_slot() -> None:
    wf = Workflow("m")
    _lister(wf, [0, 1, 2])
    attempts: dict[int, int] = {}

    @wf.step(map="numbers", retry=Retry(attempts=2, backoff=0.5), timeout=1.5)
    async def flaky(numbers: int) -> int:
        attempts[numbers] = attempts.get(numbers, 0) + 1
        await trio.sleep(1)
        if numbers == 1 and attempts[numbers] == 1:
            raise ConnectionError("once")
        return numbers

    result = run_virtual(wf, max_concurrency=1)
    assert result["flaky"] == [0, 1, 2] and attempts == {0: 1, 1: 2, 2: 1}
    (retry,) = result.events_of(events.RetryAttempt)
    assert (retry.step, retry.item, retry.attempt, retry.time) == ("flaky", 1, 2, 2.0)
    # Element 2 waited 3.5 s for the one slot: no timeout, the wait is no attempt.
    assert result.duration == 4.5 and not result.events_of(events.StepTimedOut)


def test_a_timed_out_call_is_named_by_its_element() -> None:
    wf = Workflow("m")
    _lister(wf, [1, 5])

    @wf.step(map="numbers", timeout=2)
    async def slow(numbers: int) -> int:
        await trio.sleep(numbers)
        return numbers

    with pytest.raises(StepFailed) as caught:
        run_virtual(wf)
    assert caught.value.item == 1 and "element 1" in str(caught.value)


def test_a_failing_element_fails_the_step_and_cancels_the_other_calls() -> None:
    wf = Workflow("m")
    _lister(wf, [1, 2, 3])
    log: list[events.Event] = []

    @wf.step(map="numbers")
    async def work(numbers: int) -> int:
        await trio.sleep(numbers)
        if numbers == 2:
            raise ValueError("bad element")
        return numbers

    with pytest.raises(StepFailed) as caught:
        run_virtual(wf, on_event=log.append)
    error = caught.value
    assert error.step == "work" and error.item == 1
    assert str(error).startswith("step 'work' failed on element 1: ValueError: bad element")
    assert isinstance(error.__cause__, ValueError)
    cancelled = [(e.step, e.item, e.time) for e in log if isinstance(e, events.StepCancelled)]
    assert cancelled == [("work", 2, 2.0)]
    assert not [e for e in log if isinstance(e, events.MapFinished)]


def test_a_reducer_folds_the_whole_list_once() -> None:
    wf = Workflow("m")
    _lister(wf, [1, 2])

    @wf.step(map="numbers", writes="found")
    async def first(numbers: int) -> int:
        return numbers

    @wf.step(writes="found")
    async def second() -> list[int]:
        return [9]

    wf.reducer("found", reducers.extend)

    @wf.step(join=Join.ALL)
    async def report(found: list[int]) -> int:
        return len(found)

    result = run_virtual(wf)
    assert sorted(result["found"]) == [1, 2, 9] and result["report"] == 3
    writes = [e for e in result.events_of(events.StateWritten) if e.step == "first"]
    assert len(writes) == 1 and writes[0].reducer == "extend"


def test_a_guard_on_a_mapped_step_is_evaluated_once() -> None:
    wf = Workflow("m")
    _lister(wf, [1, 2, 3])
    seen: list[bool] = []

    def wanted(enabled: bool) -> bool:
        seen.append(enabled)
        return enabled

    @wf.step(map="numbers", when=wanted)
    async def work(numbers: int) -> int:
        return numbers

    assert run_virtual(wf, {"enabled": True})["work"] == [1, 2, 3] and seen == [True]
    seen.clear()
    off = run_virtual(wf, {"enabled": False})
    assert "work" not in off and seen == [False]


def _per_document() -> Workflow:
    sub = Workflow("per_doc")

    @sub.step
    async def text(docs: str) -> str:
        await trio.sleep(len(docs))
        return docs.upper()

    @sub.step
    async def score(text: str) -> int:
        return len(text)

    return sub


def test_a_mapped_sub_workflow_runs_once_per_element() -> None:
    wf = Workflow("m")

    @wf.step
    async def docs() -> list[str]:
        return ["abc", "a", "ab"]

    wf.add(_per_document(), name="each", map="docs", writes=("score", "text"))

    @wf.step
    async def best(score: list[int], text: list[str]) -> str:
        return text[score.index(max(score))]

    result = run_virtual(wf, max_concurrency=2)
    assert result["score"] == [3, 1, 2] and result["text"] == ["ABC", "A", "AB"]
    assert result["best"] == "ABC" and result.duration == 3
    scopes = {e.scope for e in result.events_of(events.StepFinished) if e.scope}
    assert scopes == {("each[0]",), ("each[1]",), ("each[2]",)}


def test_a_mapped_sub_workflow_without_writes_gives_the_list_of_final_states() -> None:
    wf = Workflow("m")

    @wf.step
    async def docs() -> list[str]:
        return ["ab", "a"]

    wf.add(_per_document(), name="each", map="docs")
    states = run_virtual(wf)["each"]
    assert [s["score"] for s in states] == [2, 1] and states[1]["docs"] == "a"


def _pipeline(up: dict[int, float], down: dict[int, float], fail_at: int | None = None
              ) -> Workflow:
    wf = Workflow("m")
    _lister(wf, sorted(up))

    @wf.step(map="numbers")
    async def fetch(numbers: int) -> int:
        await trio.sleep(up[numbers])
        if numbers == fail_at:
            raise RuntimeError("fetch failed")
        return numbers * 10

    @wf.step(map="fetch")
    async def parse(fetch: int, suffix: str) -> str:
        await trio.sleep(down[fetch // 10])
        return f"{fetch}{suffix}"

    @wf.step
    async def joined(parse: list[str]) -> str:
        return ",".join(parse)

    return wf


def test_a_step_mapped_over_a_mapped_step_is_pipelined_elementwise() -> None:
    # With a barrier: fetch ends at 3, parse[0] then takes 3 more: 6.  Pipelined,
    # parse[0] starts at 1 (when fetch[0] returned) and ends at 4 with parse[1].
    wf = _pipeline(up={0: 1, 1: 3}, down={0: 3, 1: 1})
    result = run_virtual(wf, {"suffix": "!"})
    assert result["parse"] == ["0!", "10!"] and result["joined"] == "0!,10!"
    assert result.duration == 4
    spans = result.intervals()
    assert spans["parse[0]"] == (1.0, 4.0) and spans["parse[1]"] == (3.0, 4.0)
    # parse's map opens with fetch's (its count is known then); its calls follow.
    assert spans["fetch"] == (0.0, 3.0) and spans["parse"] == (0.0, 4.0)
    writes = [e.step for e in result.events_of(events.StateWritten)]
    assert writes == ["numbers", "fetch", "parse", "joined"]


def test_pipelining_waits_for_the_other_upstreams() -> None:
    wf = Workflow("m")
    _lister(wf, [0, 1])

    @wf.step(map="numbers")
    async def fetch(numbers: int) -> int:
        await trio.sleep(1 + 2 * numbers)
        return numbers

    @wf.step
    async def config() -> str:
        await trio.sleep(2)
        return "!"

    @wf.step(map="fetch", join=Join.ALL)
    async def parse(fetch: int, config: str) -> str:
        await trio.sleep(1)
        return f"{fetch}{config}"

    result = run_virtual(wf)
    spans = result.intervals()
    assert result["parse"] == ["0!", "1!"]
    assert spans["parse[0]"] == (2.0, 3.0) and spans["parse[1]"] == (3.0, 4.0)


def test_a_failing_upstream_element_starts_no_more_downstream_calls() -> None:
    wf = _pipeline(up={0: 1, 1: 2, 2: 5}, down={0: 5, 1: 5, 2: 5}, fail_at=1)
    log: list[events.Event] = []
    with pytest.raises(StepFailed) as caught:
        run_virtual(wf, {"suffix": "!"}, on_event=log.append)
    assert caught.value.step == "fetch" and caught.value.item == 1
    started = [e.item for e in log if isinstance(e, events.StepStarted) and e.step == "parse"]
    assert started == [0]


def test_plain_def_steps_map_in_worker_threads() -> None:
    wf = Workflow("m")
    _lister(wf, [1, 2, 3])

    @wf.step(map="numbers")
    def squared(numbers: int) -> int:
        return numbers * numbers

    # (threads and a mock clock that jumps do not mix: real time, no sleep)
    assert wf.compile().run_sync(max_concurrency=2)["squared"] == [1, 4, 9]


def test_a_long_list_under_a_limit_never_holds_more_tasks_than_the_limit() -> None:
    class Tasks(trio.abc.Instrument):
        def __init__(self) -> None:
            self.alive = self.peak = 0

        def task_spawned(self, task: trio.lowlevel.Task) -> None:
            self.alive += 1
            self.peak = max(self.peak, self.alive)

        def task_exited(self, task: trio.lowlevel.Task) -> None:
            self.alive -= 1

    wf = Workflow("m")
    _lister(wf, list(range(2000)))

    @wf.step(map="numbers")
    async def work(numbers: int) -> int:
        await trio.sleep(1)
        return numbers

    tasks = Tasks()
    plan = wf.compile()
    result = trio.run(lambda: plan.run(max_concurrency=8), instruments=[tasks],
                      clock=trio.testing.MockClock(autojump_threshold=0))
    assert result["work"] == list(range(2000)) and result.duration == 250
    assert tasks.peak <= 8 + 4  # the calls, plus trio's and the run's own few tasks


def test_cancelling_the_run_cancels_the_calls_in_flight_and_starts_no_more() -> None:
    wf = Workflow("m")
    _lister(wf, [0, 1, 2, 3])
    started: list[int] = []

    @wf.step(map="numbers")
    async def work(numbers: int) -> int:
        started.append(numbers)
        await trio.sleep(10)
        return numbers

    log: list[events.Event] = []
    plan = wf.compile()

    async def main() -> None:
        with trio.move_on_after(5):
            await plan.run(max_concurrency=2, on_event=log.append)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert sorted(started) == [0, 1]
    cancelled = sorted(e.item for e in log if isinstance(e, events.StepCancelled)
                       if e.item is not None)
    assert cancelled == [0, 1]


def test_three_mapped_steps_pipeline_through_and_a_reducer_folds_the_last_once() -> None:
    wf = Workflow("m")
    _lister(wf, [0, 1, 2])

    @wf.step(map="numbers")
    async def a(numbers: int) -> int:
        await trio.sleep(3 - numbers)
        return numbers

    @wf.step(map="a")
    async def b(a: int) -> int:
        await trio.sleep(1)
        return a * 10

    @wf.step(map="b", writes="out")
    async def c(b: int) -> int:
        await trio.sleep(1)
        return b + 1

    wf.reducer("out", reducers.extend)

    result = run_virtual(wf)
    assert result["b"] == [0, 10, 20] and result["out"] == [1, 11, 21]
    spans = result.intervals()
    assert spans["c[2]"] == (2.0, 3.0) and spans["c[0]"] == (4.0, 5.0)
    assert result.duration == 5  # c[2] ended at 3, before a finished: no barrier
    writes = [e for e in result.events_of(events.StateWritten) if e.step == "c"]
    assert len(writes) == 1


def test_a_step_maps_over_an_input_and_inside_a_sub_workflow() -> None:
    body = Workflow("body")

    @body.step(map="urls", concurrency=1)
    async def fetched(urls: str) -> str:
        await trio.sleep(1)
        return urls + "!"

    wf = Workflow("outer")

    @wf.step(map="urls")
    async def direct(urls: str) -> str:
        await trio.sleep(1)
        return urls

    wf.add(body, name="inner", writes=("fetched",))
    result = run_virtual(wf, {"urls": ("a", "b")}, max_concurrency=4)
    assert result["direct"] == ["a", "b"] and result["fetched"] == ["a!", "b!"]
    assert result.duration == 2
    inner = [(e.item, e.time) for e in result.events_of(events.StepFinished)
             if e.scope == ("inner",) and e.step == "fetched"]
    assert inner == [(0, 1.0), (1, 2.0), (None, 2.0)]


def test_a_sub_workflow_maps_over_two_zipped_inputs_and_a_failing_run_names_its_item(
) -> None:
    sub = Workflow("pair")

    @sub.step
    async def joined(left: str, right: int) -> str:
        if right < 0:
            raise ValueError("negative")
        return left * right

    wf = Workflow("m")

    @wf.step
    async def left(words: list[str]) -> list[str]:
        return words

    @wf.step
    async def right(left: list[str], sign: int) -> list[int]:
        return [sign * (i + 2) for i in range(len(left))]

    wf.add(sub, name="pairs", map=("left", "right"), writes=("joined",))
    assert run_virtual(wf, {"words": ["a", "b"], "sign": 1})["joined"] == ["aa", "bbb"]
    with pytest.raises(StepFailed) as caught:
        run_virtual(wf, {"words": ["a"], "sign": -1})
    assert caught.value.step == "pairs" and caught.value.item == 0


def test_step_finished_carries_what_an_unmapped_step_returned() -> None:
    wf = Workflow("m")

    @wf.step(writes=("a", "b"))
    async def both() -> dict[str, int]:
        return {"a": 1, "b": 2}

    result = run_virtual(wf)
    (finished,) = result.events_of(events.StepFinished)
    assert finished.value == {"a": 1, "b": 2} and finished.item is None


def test_mapping_over_a_key_never_written_says_what_to_do() -> None:
    wf = Workflow("m")

    @wf.step(when=lambda go: go)
    async def numbers(go: bool) -> list[int]:
        return [1]

    @wf.step(map="numbers")
    async def each(numbers: int = 0) -> int:
        return numbers

    with pytest.raises(StepFailed, match="drop the default of 'numbers'"):
        run_virtual(wf, {"go": False})
