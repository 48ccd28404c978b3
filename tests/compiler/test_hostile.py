"""Compiler defects found by hostile testing, and the messages users read: one
regression test each."""

from __future__ import annotations

import functools
import warnings

import pytest
import trio

from compiler import Diagnostic
from spectra_dsl import CompileError, Join, SpectraWarning, Workflow, match, step


def codes(wf: Workflow) -> list[str]:
    return [d.code for d in wf.check()]


def only(wf: Workflow, code: str) -> Diagnostic:
    (finding,) = [d for d in wf.check() if d.code == code]
    return finding


# -- a cycle is reported, not its consequences ------------------------------------------


def test_a_cycle_is_reported_without_a_forgotten_join_about_its_steps() -> None:
    wf = Workflow("cycle")

    @wf.step
    async def src(x: int) -> int:
        return x

    @wf.step
    async def a(src: int, c: int) -> int:
        return 1

    @wf.step
    async def b(a: int) -> int:
        return 1

    @wf.step
    async def c(b: int) -> int:
        return 1

    assert codes(wf) == ["SPX002"]
    assert "a -> b -> c -> a" in only(wf, "SPX002").message


def test_a_cycle_is_reported_without_racing_writers_about_its_steps() -> None:
    wf = Workflow("cycle")

    @wf.step
    async def a(c: int) -> int:
        return 1

    @wf.step(writes="k")
    async def b(a: int) -> int:
        return 1

    @wf.step
    async def c(k: int) -> int:
        return 1

    @wf.step(writes="k")
    async def d() -> int:
        return 1

    assert codes(wf) == ["SPX002"]


def test_findings_outside_the_cycle_are_still_reported() -> None:
    wf = Workflow("cycle")

    @wf.step
    async def a(b: int) -> int:
        return 1

    @wf.step
    async def b(a: int) -> int:
        return 1

    @wf.step(writes="k")
    async def p() -> int:
        return 1

    @wf.step(writes="k")
    async def q() -> int:
        return 1

    assert sorted(codes(wf)) == ["SPX002", "SPX201"]


# -- the near miss of a step name applies to one- and two-letter names ------------------


def test_a_parameter_named_like_a_one_letter_step_that_writes_another_key_is_a_near_miss(
) -> None:
    wf = Workflow("langgraph-style")

    @wf.step(writes="messages")
    async def a() -> list[str]:
        return []

    @wf.step
    async def b(a: list[str]) -> int:
        return len(a)

    finding = only(wf, "SPX003")
    assert finding.steps == ("b",) and finding.key == "a"
    assert "'a' is a step that writes 'messages'" in finding.message


def test_the_edit_distance_rule_stays_off_for_two_letter_names() -> None:
    wf = Workflow("short")

    @wf.step
    async def ab() -> int:
        return 1

    @wf.step
    async def use(ac: int, ab: int) -> int:
        return ac + ab

    assert codes(wf) == []


# -- Python keywords are no step names and no keys --------------------------------------


def test_a_keyword_as_a_step_name_is_an_invalid_step() -> None:
    async def klass() -> int:
        return 1

    wf = Workflow("keywords", steps=[step(name="class")(klass)])
    finding = only(wf, "SPX001")
    assert finding.message == (
        "step 'class': step name 'class' is a Python keyword, so no parameter can be named "
        "after it to read it; give the step another name with name=, such as name='class_'"
    )
    with pytest.raises(CompileError):
        wf.compile()


def test_a_keyword_as_a_written_key_is_an_invalid_step() -> None:
    wf = Workflow("keywords")

    @wf.step(writes="for")
    async def loop() -> int:
        return 1

    assert "writes= key 'for' is a Python keyword" in only(wf, "SPX001").message


def test_soft_keywords_are_fine_names() -> None:
    wf = Workflow("soft")

    @wf.step(writes="match")
    async def case() -> int:
        return 1

    @wf.step
    async def use(match: int) -> int:
        return match

    assert codes(wf) == []


# -- functools.partial steps --------------------------------------------------------------


def scale(value: int, factor: int) -> int:
    return value * factor


async def scale_async(value: int, factor: int) -> int:
    await trio.lowlevel.checkpoint()
    return value * factor


def test_a_partial_of_a_plain_function_runs_in_a_thread_like_any_def_step() -> None:
    wf = Workflow("partials", steps=[
        step(name="doubled")(functools.partial(scale, factor=2)),
        step(name="tripled")(functools.partial(scale_async, factor=3)),
    ])
    assert codes(wf) == []
    result = wf.compile().run_sync({"value": 5})  # real time: a thread takes real time
    assert (result["doubled"], result["tripled"]) == (10, 15)


def test_a_partial_is_located_at_its_functions_def() -> None:
    wf = Workflow("partials", steps=[step(name="doubled")(functools.partial(scale, factor=2))])
    location = wf.spec().steps[0].location
    assert location is not None and location.file == __file__
    assert location.line == scale.__code__.co_firstlineno


def test_a_partial_of_a_class_is_still_refused() -> None:
    class Thing:
        pass

    wf = Workflow("partials", steps=[step(name="thing")(functools.partial(Thing))])
    assert codes(wf) == ["SPX001"]


# -- compile warnings go through Python's warnings ----------------------------------------


def needless_join() -> Workflow:
    wf = Workflow("warned")

    @wf.step
    async def fetch() -> int:
        return 1

    @wf.step(join=Join.ALL)
    async def parse(fetch: int) -> int:
        return fetch

    return wf


def test_each_compile_warning_is_issued_as_a_spectra_warning_at_the_compile_call() -> None:
    wf = needless_join()
    with pytest.warns(SpectraWarning, match="SPX103") as caught:
        plan = wf.compile()
    (warning,) = caught
    assert warning.filename == __file__
    assert isinstance(warning.message, SpectraWarning)
    assert warning.message.diagnostic == plan.diagnostics[0]


def test_error_filter_makes_compile_warnings_fatal() -> None:
    wf = needless_join()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpectraWarning)
        with pytest.raises(SpectraWarning, match="step 'parse' has join='all'"):
            wf.compile()


def test_a_workflow_without_findings_warns_nothing() -> None:
    wf = Workflow("clean")

    @wf.step
    async def fetch() -> int:
        return 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wf.compile()


# -- messages ---------------------------------------------------------------------------


def test_racing_guarded_writers_are_told_their_guards_are_not_provably_exclusive() -> None:
    wf = Workflow("guards")

    @wf.step(writes="out", when=lambda kind: kind == "a")
    async def first() -> int:
        return 1

    @wf.step(writes="out", when=lambda kind: kind == "b")
    async def second() -> int:
        return 2

    message = only(wf, "SPX201").message
    assert "both are guarded, but their guards cannot be proven exclusive" in message
    assert "match(" in message


def test_match_guards_on_different_values_do_not_race() -> None:
    wf = Workflow("guards")

    @wf.step(writes="out", when=match(kind="a"))
    async def first() -> int:
        return 1

    @wf.step(writes="out", when=match(kind="b"))
    async def second() -> int:
        return 2

    assert codes(wf) == []


def test_a_needless_join_says_which_upstream_already_runs_before_the_other() -> None:
    wf = Workflow("chain")

    @wf.step
    async def a() -> int:
        return 1

    @wf.step
    async def b(a: int) -> int:
        return a

    @wf.step(join=Join.ALL)
    async def c(a: int, b: int) -> int:
        return a + b

    assert only(wf, "SPX103").message == (
        "step 'c' has join='all' but is no fan-in: its upstreams are one branch ('a' "
        "already runs before 'b'), so there is nothing to join; remove join="
    )
