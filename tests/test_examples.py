"""Every example runs, on a mock clock where timing matters, with user-visible results.

Times are virtual (``MockClock(autojump_threshold=0)``) and the examples' delays are
binary fractions, so every time below is compared exactly.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from examples import (
    fan_out_enrichment,
    llm_branch_comparison,
    multi_check_validation,
    parallel_analysis,
    ticket_router,
)
from spectra_dsl import RunResult, events

ROOT = Path(__file__).resolve().parent.parent


def run_virtual(
    plan_run: Callable[..., Any], inputs: dict[str, Any], **options: Any
) -> RunResult:
    """Run ``plan.run`` on a fresh mock clock that jumps whenever every task sleeps."""
    result: RunResult = trio.run(
        lambda: plan_run(inputs, **options),
        clock=trio.testing.MockClock(autojump_threshold=0),
    )
    return result


def relative(result: RunResult) -> dict[str, tuple[float, float]]:
    """Each step's (start, end), in seconds from the start of the run."""
    return {
        name: (start - result.started, end - result.started)
        for name, (start, end) in result.intervals().items()
    }


def started_count(result: RunResult, step: str) -> int:
    return sum(
        1 for e in result.events_of(events.StepStarted)
        if isinstance(e, events.StepStarted) and e.step == step
    )


# -- parallel analysis -------------------------------------------------------------


def test_parallel_analysis_branches_overlap_and_merge_waits_for_both() -> None:
    plan = parallel_analysis.wf.compile()
    assert plan.diagnostics == ()
    result = run_virtual(plan.run, {"url": "https://example.org/a"})
    assert result["merge"] == {
        "sentiment": 1.0,
        "entities": ["Ada Lovelace", "Charles Babbage", "Analytical Engine"],
    }
    assert relative(result) == {
        "fetch": (0.0, 0.125),
        "sentiment": (0.125, 0.375),
        "entities": (0.125, 0.625),
        "merge": (0.625, 0.6875),  # fetch + the slower branch (entities) + merge
    }
    assert result.duration == 0.6875
    assert result.ran_together("sentiment") == ["entities"]
    assert result.ran_together("merge") == []
    [join] = [e for e in result.events_of(events.JoinReleased)
              if isinstance(e, events.JoinReleased)]
    assert (join.step, join.join, join.pending) == ("merge", "all", ())
    assert sorted(join.arrived) == ["entities", "sentiment"]
    assert started_count(result, "merge") == 1


def test_parallel_analysis_timeline_lines() -> None:
    plan = parallel_analysis.wf.compile()
    result = run_virtual(plan.run, {"url": "https://example.org/a"})
    assert result.timeline(width=20).splitlines() == [
        "fetch     |████                |  0.00s ->  0.12s",
        "sentiment |   ████████         |  0.12s ->  0.38s  ran together with: entities",
        "entities  |   ███████████████  |  0.12s ->  0.62s  ran together with: sentiment",
        "merge     |                  ██|  0.62s ->  0.69s  joined after: sentiment, entities",
    ]


def test_parallel_analysis_steps_stay_callable() -> None:
    score = trio.run(
        parallel_analysis.sentiment, "a brilliant and inspiring day",
        clock=trio.testing.MockClock(autojump_threshold=0),
    )
    assert score == 1.0


def test_parallel_analysis_script_prints_result_and_timeline() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "parallel_analysis.py")],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "merge: {'sentiment': 1.0, 'entities': "
        "['Ada Lovelace', 'Charles Babbage', 'Analytical Engine']}"
    )
    assert lines[1] == "timeline:"
    names = [line.split()[0] for line in lines[2:6]]
    assert names == ["fetch", "sentiment", "entities", "merge"]
    assert lines[3].endswith("ran together with: entities")
    assert lines[4].endswith("ran together with: sentiment")
    assert lines[5].endswith("joined after: sentiment, entities")
    assert lines[6].startswith("total: ")


# -- fan-out enrichment ------------------------------------------------------------


def test_fan_out_enrichment_respects_the_limit_and_folds_in_plan_order() -> None:
    plan = fan_out_enrichment.wf.compile()
    result = run_virtual(plan.run, {"customer_id": "c-42"})
    assert result.peak_concurrency == 2
    # geo and credit take the two slots; social waits for geo's, and finishes before
    # credit, yet the merge reducer folds the writes in plan order.
    assert relative(result) == {
        "load_customer": (0.0, 0.125),
        "geo": (0.125, 0.375),
        "credit": (0.125, 0.625),
        "social": (0.375, 0.5),
        "profile": (0.625, 0.6875),
    }
    assert list(result["enrichment"]) == ["region", "city", "credit_score", "handle"]
    assert result["profile"] == {
        "id": "c-42", "name": "Grace Hopper", "city": "Arlington",
        "email": "grace@example.org", "region": "US-VA", "credit_score": 780,
        "handle": "@grace",
    }


def test_fan_out_enrichment_with_a_higher_limit_runs_every_enricher_at_once() -> None:
    plan = fan_out_enrichment.wf.compile()
    result = run_virtual(plan.run, {"customer_id": "c-42"}, max_concurrency=3)
    assert result.peak_concurrency == 3
    assert relative(result)["social"] == (0.125, 0.25)
    assert list(result["enrichment"]) == ["region", "city", "credit_score", "handle"]


# -- multi-check validation --------------------------------------------------------

GOOD = {"address": "1 Main St", "card": "valid", "total": 120, "items": ["keyboard"]}
BAD = {"address": "", "card": "expired", "total": 20_000, "items": ["keyboard", "mouse"]}


def test_multi_check_validation_accepts_a_good_order() -> None:
    result = run_virtual(multi_check_validation.wf.compile().run, {"order": GOOD})
    assert result["decision"] == {"accepted": True, "reasons": []}


@pytest.mark.parametrize("limit", [None, 1, 2])
def test_multi_check_validation_reasons_come_in_plan_order(limit: int | None) -> None:
    plan = multi_check_validation.wf.compile()
    result = run_virtual(plan.run, {"order": BAD}, max_concurrency=limit)
    # check_fraud finishes before check_payment and check_stock last, but the reasons
    # follow the order the checks are declared in, whatever the timing or the limit.
    assert result["decision"] == {
        "accepted": False,
        "reasons": [
            "no shipping address", "card declined", "total over the fraud limit",
            "'mouse' is out of stock",
        ],
    }
    assert started_count(result, "decision") == 1


# -- LLM branch comparison ---------------------------------------------------------


def test_llm_branch_comparison_any_takes_the_first_answer_all_waits() -> None:
    result = run_virtual(llm_branch_comparison.wf.compile().run, {"prompt": "Why?"})
    spans = relative(result)
    assert spans["fastest"] == (0.125, 0.125)  # released by the small model
    assert spans["best"] == (0.5, 0.5)  # after the large model
    assert result["fastest"] == "Why: because"
    assert result["best"] == "Why: because, because, because"
    assert started_count(result, "fastest") == 1  # later answers never rerun it
    released = {
        e.step: e for e in result.events_of(events.JoinReleased)
        if isinstance(e, events.JoinReleased)
    }
    assert released["fastest"].join == "any"
    assert released["fastest"].arrived == ("small_model",)
    assert sorted(released["fastest"].pending) == ["large_model", "medium_model"]
    assert released["best"].pending == ()
    # Later answers are still written to state.
    assert result["large_model"] == "Why: because, because, because"


# -- every main() runs (with the stand-in delays scaled down) ------------------------


@pytest.mark.parametrize(
    ("module", "delays", "expected"),
    [
        (parallel_analysis, parallel_analysis.DELAYS, "merge: {'sentiment': 1.0"),
        (fan_out_enrichment, fan_out_enrichment.DELAYS, "profile: {'id': 'c-42'"),
        (multi_check_validation, multi_check_validation.DELAYS,
         "{'accepted': True, 'reasons': []}"),
        (llm_branch_comparison, llm_branch_comparison.LATENCIES, "fastest (after"),
    ],
)
def test_main_prints(
    module: Any, delays: dict[str, float], expected: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in list(delays.items()):
        monkeypatch.setitem(delays, key, value / 100)
    module.main()
    assert capsys.readouterr().out.startswith(expected)


# -- ticket router (routes with an "otherwise" route, an ordering-only edge) ---------


@pytest.mark.parametrize(("severity", "route", "queue"), [
    ("critical", "escalate", "URGENT: page on-call"),
    ("Blocker ", "escalate", "URGENT: page on-call"),
    ("normal", "process", "NORMAL: standard queue"),
    ("low", "backlog", "BACKLOG: low priority"),
    ("", "backlog", "BACKLOG: low priority"),
])
def test_ticket_router_takes_exactly_one_route(severity: str, route: str, queue: str) -> None:
    plan = ticket_router.wf.compile()
    assert plan.diagnostics == ()  # three writers of 'queue', no reducer, no SPX201
    result = run_virtual(plan.run, {"severity_given": severity, "title": "T"})
    assert result["queue"] == queue
    assert result["notify"] == f"routed to [{queue}]: 'T'"
    skipped = {e.step for e in result.events_of(events.StepSkipped)}
    assert skipped == {"escalate", "process", "backlog"} - {route}
    assert started_count(result, "notify") == 1


def test_ticket_router_releases_the_claim_after_the_customer_is_told() -> None:
    result = run_virtual(ticket_router.wf.compile().run,
                         {"severity_given": "critical", "title": "Pool exhausted"})
    assert relative(result) == {
        "classify": (0.0, 0.0625),
        "escalate": (0.0625, 0.1875),
        "notify": (0.1875, 0.25),
        "release_claim": (0.25, 0.28125),  # after=("notify",): it reads nothing of it
    }
    assert result["release_claim"] == "released 'Pool exhausted'"


def test_ticket_router_main_prints_each_route(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in list(ticket_router.DELAYS.items()):
        monkeypatch.setitem(ticket_router.DELAYS, key, value / 100)
    ticket_router.main([])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("critical: routed to [URGENT: page on-call]: "
                      "'Database connection pool exhausted'")
    assert out[1] == "  skipped: process, backlog"
    assert out[4].startswith("low: routed to [BACKLOG: low priority]")
    ticket_router.main(["minor", "Typo"])
    assert capsys.readouterr().out.startswith("minor: routed to [BACKLOG: low priority]: 'Typo'")


def test_map_reduce_calls_overlap_two_by_two_and_documents_map_a_sub_workflow() -> None:
    from examples import map_reduce

    result = run_virtual(map_reduce.jokes.compile().run, {"topic": "farm"})
    assert len(result["joke"]) == 5 and result["joke"][0].startswith("Why did the farm cats")
    assert result["best"] == max(result["joke"], key=len)
    assert map_reduce.timeline(result)[1:4] == [
        "  joke[0]    0.12s ->  0.38s  ran together with: joke[1]",
        "  joke[1]    0.12s ->  0.38s  ran together with: joke[0]",
        "  joke[2]    0.38s ->  0.62s  ran together with: joke[3]",
    ]
    assert result.duration == 0.9375
    found = run_virtual(map_reduce.documents.compile().run, {"query": "trio"},
                        max_concurrency=4)
    assert found["score"] == [0.917, 0.458, 0.306]
    assert found["pick"] == "the text of trio-1.txt"
    scopes = {e.scope for e in found.events_of(events.StepFinished) if e.scope}
    assert scopes == {("each[0]",), ("each[1]",), ("each[2]",)}
