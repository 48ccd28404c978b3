"""The control-flow examples run, on a mock clock, with exact user-visible results.

Times are virtual (``MockClock(autojump_threshold=0)``) and the examples' delays are
binary fractions, so every time below is compared exactly: which steps ran and which
were skipped (and why), the pass a loop ended at, and the waits between retries.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.testing

from examples import draft_critique_revise, flaky_enrichment, support_ticket_router
from spectra_dsl import (
    LoopLimitExceeded,
    Repeat,
    Retry,
    RunResult,
    StepFailed,
    StepTimeout,
    Workflow,
    events,
    match,
)
from tests.helpers import run_virtual


def mock_run(fn: Callable[[], Any]) -> Any:
    """``trio.run(fn)`` on a fresh mock clock that jumps whenever every task sleeps."""
    return trio.run(fn, clock=trio.testing.MockClock(autojump_threshold=0))


def relative(result: RunResult) -> dict[str, tuple[float, float]]:
    """Each top-level step's (start, end), in seconds from the start of the run."""
    return {
        name: (start - result.started, end - result.started)
        for name, (start, end) in result.intervals().items()
    }


def skips(result: RunResult) -> dict[str, tuple[float, str]]:
    """Each skipped top-level step: (time from the start, reason)."""
    return {
        e.step: (e.time - result.started, e.reason)
        for e in result.events_of(events.StepSkipped) if not e.scope
    }


def started(result: RunResult, step: str, scope: tuple[str, ...] = ()) -> int:
    return sum(1 for e in result.events_of(events.StepStarted)
               if e.step == step and e.scope == scope)


GUARD = "its when= guard does not hold"

# -- support-ticket router -----------------------------------------------------------

URGENT, NORMAL = support_ticket_router.TICKETS


def test_router_compiles_clean_although_two_steps_write_response() -> None:
    # escalate and draft_answer both write 'response' with no reducer: they depend on
    # different values of 'route', so they are exclusive and never race (no SPX201).
    assert support_ticket_router.wf.check() == ()


def test_router_urgent_ticket_pages_and_escalates() -> None:
    result = run_virtual(support_ticket_router.wf, {"ticket": URGENT})
    assert result["route"] == "urgent"
    assert result["notify"] == (
        "to ada@example.org [urgent]: Ada is on it: we will update you within the hour"
    )
    assert relative(result) == {
        "classify": (0.0, 0.0625),
        "page_on_call": (0.0625, 0.1875),
        "escalate": (0.1875, 0.25),
        "notify": (0.25, 0.28125),
    }
    assert skips(result) == {"draft_answer": (0.0625, GUARD)}
    [join] = result.events_of(events.JoinReleased)
    assert (join.step, join.join, join.pending) == ("notify", "all", ())
    assert sorted(join.arrived) == ["classify", "escalate"]
    assert join.skipped == ("draft_answer",)
    assert started(result, "notify") == 1


def test_router_normal_ticket_skips_the_whole_urgent_path() -> None:
    result = run_virtual(support_ticket_router.wf, {"ticket": NORMAL})
    assert result["route"] == "normal"
    assert result["notify"] == (
        "to alan@example.org [normal]: thanks, see the help centre page on billing"
    )
    assert relative(result) == {
        "classify": (0.0, 0.0625),
        "draft_answer": (0.0625, 0.3125),
        "notify": (0.3125, 0.34375),
    }
    # page_on_call by its guard; escalate by dead-path elimination, at the same moment.
    assert skips(result) == {
        "page_on_call": (0.0625, GUARD),
        "escalate": (0.0625, "required input 'page_on_call' was never written: every "
                             "step that writes it was skipped"),
    }
    assert "page_on_call" not in result and "escalate" not in result
    [join] = result.events_of(events.JoinReleased)
    assert join.step == "notify" and join.pending == ()
    assert sorted(join.arrived) == ["classify", "draft_answer"]
    assert join.skipped == ("escalate",)
    assert started(result, "notify") == 1


# -- draft, critique, revise -----------------------------------------------------------

FINAL = "# Why trio [summary] [evidence] [conclusion]"
PASS = 0.15625  # critique + revise + review


def test_loop_ends_at_the_third_pass() -> None:
    result = run_virtual(draft_critique_revise.wf, {"topic": "Why trio"})
    assert result["final"] == FINAL
    assert result["approved"] is True
    assert relative(result) == {
        "write_draft": (0.0, 0.0625),
        "refine": (0.0625, 0.0625 + 3 * PASS),
    }
    passes = result.events_of(events.LoopIteration)
    assert [(e.step, e.iteration, e.time - result.started) for e in passes] == [
        ("refine", 1, 0.0625), ("refine", 2, 0.21875), ("refine", 3, 0.375),
    ]
    # Each pass's events are nested under the loop step and carry the pass number.
    for n in (1, 2, 3):
        scope = (f"refine#{n}",)
        assert [e.step for e in result.events_of(events.StepFinished) if e.scope == scope] \
            == ["critique", "revise", "review"]
    assert started(result, "critique", ("refine#4",)) == 0


def test_loop_carries_the_revision_into_the_next_pass() -> None:
    drafts: list[str] = []

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.StepStarted) and event.step == "critique":
            drafts.append(event.scope[0])

    result = run_virtual(draft_critique_revise.wf, {"topic": "T"}, on_event=on_event)
    assert drafts == ["refine#1", "refine#2", "refine#3"]
    assert result["final"] == "# T [summary] [evidence] [conclusion]"
    assert result["draft"] == "# T"  # the outer key is the first draft, unchanged


def _bounded(limit: int, on_limit: Any = "raise") -> Workflow:
    """The example's body and first step under a tighter loop bound."""
    wf = Workflow("tight", steps=[draft_critique_revise.write_draft])
    wf.add(draft_critique_revise.one_pass, name="refine", writes={"revised": "final"},
           repeat=Repeat(until=match(approved=True), max_iterations=limit,
                         carry={"revised": "draft"}, on_limit=on_limit))
    return wf


def test_loop_hitting_its_bound_raises_loop_limit_exceeded() -> None:
    with pytest.raises(LoopLimitExceeded) as info:
        run_virtual(_bounded(2), {"topic": "T"})
    error = info.value
    assert isinstance(error, StepFailed)
    assert (error.step, error.iterations) == ("refine", 2)
    assert error.last_state["revised"] == "# T [summary] [evidence]"
    assert error.last_state["approved"] is False
    assert "loop 'refine' ran 2 passes" in str(error)


def test_loop_with_on_limit_stop_keeps_the_last_pass() -> None:
    result = run_virtual(_bounded(2, "stop"), {"topic": "T"})
    assert result["final"] == "# T [summary] [evidence]"
    assert [e.iteration for e in result.events_of(events.LoopIteration)] == [1, 2]


# -- flaky enrichment ------------------------------------------------------------------

SERVICE = flaky_enrichment.SERVICE
T0 = 0.03125  # normalize
CALL = 0.0625  # one answered or failed call


def test_flaky_service_fails_twice_then_answers_after_the_backoff_waits() -> None:
    SERVICE.reset()  # ConnectionError, then a hang, then an answer
    result = run_virtual(flaky_enrichment.wf, {"email": "Ada@Example.org"})
    assert result["score"] == 50
    assert result["enrich"]["name"] == "Example Org"
    # try 1 fails after one call; wait 0.125; try 2 hangs until its 0.25 s timeout;
    # wait 0.25; try 3 answers.
    assert SERVICE.calls == [T0, T0 + CALL + 0.125, T0 + CALL + 0.125 + 0.25 + 0.25]
    assert SERVICE.calls == [0.03125, 0.21875, 0.71875]
    assert relative(result) == {
        "normalize": (0.0, 0.03125),
        "enrich": (0.03125, 0.78125),
        "score": (0.78125, 0.8125),
    }
    retries = [(e.attempt, e.delay, type(e.error), e.time)
               for e in result.events_of(events.RetryAttempt)]
    assert retries == [(2, 0.125, ConnectionError, 0.09375),
                       (3, 0.25, StepTimeout, 0.46875)]
    timeouts = [(e.step, e.attempt, e.timeout, e.time)
                for e in result.events_of(events.StepTimedOut)]
    assert timeouts == [("enrich", 2, 0.25, 0.46875)]
    assert started(result, "enrich") == 1  # retries are inside one step run


def test_an_exception_not_in_on_is_not_retried() -> None:
    SERVICE.reset("bad")
    with pytest.raises(StepFailed) as info:
        run_virtual(flaky_enrichment.wf, {"email": "ada@example.org"})
    assert info.value.step == "enrich"
    assert isinstance(info.value.__cause__, ValueError)
    assert SERVICE.calls == [T0]


def test_every_try_failing_raises_step_failed_after_every_wait() -> None:
    SERVICE.reset("fail", "fail", "fail", "fail")
    with pytest.raises(StepFailed) as info:
        run_virtual(flaky_enrichment.wf, {"email": "ada@example.org"})
    assert isinstance(info.value.__cause__, ConnectionError)
    # waits 0.125, 0.25, 0.5 (backoff * factor ** (n - 1)), one call each between
    assert SERVICE.calls == [0.03125, 0.21875, 0.53125, 1.09375]


def test_a_timeout_on_the_last_try_is_the_failure() -> None:
    SERVICE.reset("hang", "hang", "hang", "hang")
    log: list[events.Event] = []
    with pytest.raises(StepFailed) as info:
        run_virtual(flaky_enrichment.wf, {"email": "ada@example.org"}, on_event=log.append)
    error = info.value
    assert error.step == "enrich"
    assert isinstance(error.__cause__, StepTimeout)
    assert str(error) == ("step 'enrich' failed: StepTimeout: step 'enrich' attempt 4 "
                          "took longer than its timeout of 0.25 s")
    assert [e.attempt for e in log if isinstance(e, events.StepTimedOut)] == [1, 2, 3, 4]
    assert SERVICE.calls == [0.03125, 0.40625, 0.90625, 1.65625]


def test_a_cancelled_run_is_never_retried() -> None:
    SERVICE.reset("hang")
    log: list[events.Event] = []
    plan = flaky_enrichment.wf.compile()

    async def cancel_early() -> float:
        with trio.move_on_after(0.125):  # while try 1 hangs, before its timeout
            await plan.run({"email": "ada@example.org"}, on_event=log.append)
        await trio.sleep(10)  # nothing may wake up later
        return trio.current_time()

    assert mock_run(cancel_early) == 10.125
    assert SERVICE.calls == [T0]
    kinds = {type(e) for e in log}
    assert events.RetryAttempt not in kinds and events.StepTimedOut not in kinds
    assert [e.step for e in log if isinstance(e, events.StepCancelled)] == ["enrich"]


# -- every main() runs (on the mock clock) -----------------------------------------------


def _on_mock_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = trio.run
    monkeypatch.setattr(trio, "run", lambda fn, *args, **kw: real_run(
        fn, *args, clock=trio.testing.MockClock(autojump_threshold=0), **kw))


def test_router_main_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _on_mock_clock(monkeypatch)
    support_ticket_router.main()
    assert capsys.readouterr().out.splitlines() == [
        "to ada@example.org [urgent]: Ada is on it: we will update you within the hour",
        f"  skipped draft_answer: {GUARD}",
        "to alan@example.org [normal]: thanks, see the help centre page on billing",
        f"  skipped page_on_call: {GUARD}",
        "  skipped escalate: required input 'page_on_call' was never written: every step "
        "that writes it was skipped",
    ]


def test_loop_main_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _on_mock_clock(monkeypatch)
    draft_critique_revise.main()
    assert capsys.readouterr().out.splitlines() == [
        f"final: {FINAL}", "approved after pass 3 of at most 5",
    ]


def test_flaky_main_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _on_mock_clock(monkeypatch)
    flaky_enrichment.main()
    assert capsys.readouterr().out.splitlines() == [
        "score: 50 (Example Org)",
        "  attempt 2 in 0.125 s (after ConnectionError)",
        "  attempt 2 timed out after 0.25 s",
        "  attempt 3 in 0.25 s (after StepTimeout)",
    ]


# -- regressions ------------------------------------------------------------------------


def test_a_retry_after_an_abandoned_sync_attempt_calls_the_function_again() -> None:
    second_call = threading.Event()
    calls: list[int] = []
    wf = Workflow("abandoned")

    @wf.step(timeout=1, retry=Retry(attempts=2, backoff=1.0))
    def blocking(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            second_call.wait(timeout=0.5)  # stuck until the retry has started
        else:
            second_call.set()
        return x

    plan = wf.compile()
    with contextlib.suppress(StepFailed):  # on the mock clock a thread may "time out"
        mock_run(lambda: plan.run({"x": 1}, max_concurrency=1))
    assert second_call.wait(timeout=0.5), "the retry never called the step"


def test_a_negative_jitter_is_spx403() -> None:
    wf = Workflow("jittery")

    @wf.step(retry=Retry(attempts=3, backoff=1.0, jitter=-5.0))
    async def fetch(url: str) -> str:
        return url

    assert [d.code for d in wf.check()] == ["SPX403"]
