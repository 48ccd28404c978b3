"""Every diagnostic code: a workflow that triggers it, and the fixed one that does not.

Each test builds a tiny workflow inside the test, so the steps' ``def`` lines are here
and the locations can be checked too.  The docs half checks that every code is
documented in ``docs/diagnostics.md`` with a bad and a fixed example.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from compiler import CODES, Diagnostic, Severity
from spectra_dsl import (
    CompileError,
    InputError,
    Join,
    Workflow,
    last_write_wins,
    reducers,
    step,
)


def found(wf: Workflow, code: str) -> list[Diagnostic]:
    """The findings of one code."""
    return [d for d in wf.check() if d.code == code]


def only(wf: Workflow, code: str) -> Diagnostic:
    """The one finding of ``code``; fails if there are none or several."""
    matches = found(wf, code)
    assert len(matches) == 1, wf.check()
    return matches[0]


def clean(wf: Workflow) -> None:
    """No finding at all, and the workflow compiles."""
    assert wf.check() == ()
    assert wf.compile().diagnostics == ()


def compile_error(wf: Workflow) -> CompileError:
    with pytest.raises(CompileError) as info:
        wf.compile()
    return info.value


def def_line(fn: Any) -> int:
    """The line of ``fn``'s ``def`` (below its decorators)."""
    lines, first = inspect.getsourcelines(fn)
    starts = ("def ", "async def ")
    offset = next(i for i, text in enumerate(lines) if text.lstrip().startswith(starts))
    return first + offset


# -- SPX001: invalid step definitions ---------------------------------------------


def test_spx001_duplicate_names() -> None:
    async def fetch(url: str) -> str:
        return url

    @step(name="fetch")
    async def fetch_again(url: str) -> str:
        return url

    wf = Workflow("w", steps=[fetch, fetch_again])
    error = compile_error(wf)
    [d] = error.errors
    assert d.code == "SPX001"
    assert d.steps == ("fetch",)
    assert "two steps are named 'fetch'" in d.message
    assert "rename one, or give it name=" in d.message
    assert d.location is not None and d.location.line == def_line(fetch_again)

    fixed = Workflow("w", steps=[fetch, step(name="fetch_mirror")(fetch_again)])
    assert found(fixed, "SPX001") == []


def test_spx001_var_positional() -> None:
    async def join_words(*words: str) -> str:
        return " ".join(words)

    d = only(Workflow("w", steps=[join_words]), "SPX001")
    assert d.steps == ("join_words",)
    assert "'words'" in d.message and "*args" in d.message and "name each input" in d.message

    async def join_words_fixed(words: list[str]) -> str:
        return " ".join(words)

    clean(Workflow("w", steps=[join_words_fixed]))


def test_spx001_var_keyword() -> None:
    async def report(**fields: str) -> str:
        return str(fields)

    d = only(Workflow("w", steps=[report]), "SPX001")
    assert d.steps == ("report",)
    assert "**kwargs" in d.message and "name each input" in d.message

    async def report_fixed(title: str, body: str) -> str:
        return title + body

    clean(Workflow("w", steps=[report_fixed]))


def test_spx001_positional_only() -> None:
    async def shout(text: str, /) -> str:
        return text.upper()

    d = only(Workflow("w", steps=[shout]), "SPX001")
    assert "positional-only" in d.message and "remove the '/'" in d.message

    async def shout_fixed(text: str) -> str:
        return text.upper()

    clean(Workflow("w", steps=[shout_fixed]))


def test_spx001_class_marked_as_step() -> None:
    @step
    class Fetcher:
        def __init__(self, url: str) -> None:
            self.url = url

    d = only(Workflow("w", steps=[Fetcher]), "SPX001")
    assert d.steps == ("Fetcher",)
    assert "is a class" in d.message and "mark a function" in d.message
    assert d.location is not None and d.location.file == __file__

    @step
    async def fetcher(url: str) -> str:
        return url

    clean(Workflow("w", steps=[fetcher]))


def test_spx001_async_generator() -> None:
    @step
    async def chunks(text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word

    d = only(Workflow("w", steps=[chunks]), "SPX001")
    assert "async generator" in d.message and "return a list" in d.message

    @step
    async def chunks_fixed(text: str) -> list[str]:
        return text.split()

    clean(Workflow("w", steps=[chunks_fixed]))


def test_spx001_empty_writes() -> None:
    @step(writes=())
    async def log(text: str) -> None:
        pass

    d = only(Workflow("w", steps=[log]), "SPX001")
    assert "writes=()" in d.message and "leave writes= out" in d.message

    @step
    async def log_fixed(text: str) -> None:
        pass

    clean(Workflow("w", steps=[log_fixed]))


def test_spx001_writes_not_an_identifier() -> None:
    @step(writes="word count")
    async def count(text: str) -> int:
        return len(text.split())

    d = only(Workflow("w", steps=[count]), "SPX001")
    assert "'word count' is not a Python identifier" in d.message
    assert "use a key like 'word_count'" in d.message

    @step(writes="word_count")
    async def count_fixed(text: str) -> int:
        return len(text.split())

    clean(Workflow("w", steps=[count_fixed]))


def test_spx001_writes_a_key_twice() -> None:
    @step(writes=("low", "low"))
    async def bounds(text: str) -> dict[str, int]:
        return {"low": 0}

    d = only(Workflow("w", steps=[bounds]), "SPX001")
    assert d.key == "low" and "list each key once" in d.message


def test_spx001_unknown_join_value() -> None:
    first: Any = "first"  # not a join rule (mypy would reject the literal itself)

    async def a(x: int) -> int:
        return x

    async def b(x: int) -> int:
        return x

    @step(join=first)
    async def pick(a: int, b: int) -> int:
        return a + b

    d = only(Workflow("w", steps=[a, b, pick]), "SPX001")
    assert d.steps == ("pick",)
    assert "join='first'" in d.message and "Join.ALL" in d.message and "Join.ANY" in d.message

    @step(join="all")  # the string values are accepted too
    async def pick_fixed(a: int, b: int) -> int:
        return a + b

    clean(Workflow("w", steps=[a, b, pick_fixed]))


# -- SPX002: cycles -----------------------------------------------------------------


def test_spx002_cycle_lists_its_path_and_points_to_repeat() -> None:
    async def draft(review: str) -> str:
        return review

    async def review(draft: str) -> str:
        return draft

    error = compile_error(Workflow("w", steps=[draft, review]))
    [d] = error.errors
    assert d.code == "SPX002"
    assert set(d.steps) == {"draft", "review"}
    assert "draft -> review -> draft" in d.message or "review -> draft -> review" in d.message
    assert "Repeat" in d.message

    async def draft_fixed(topic: str) -> str:
        return topic

    async def review_fixed(draft_fixed: str) -> str:
        return draft_fixed

    clean(Workflow("w", steps=[draft_fixed, review_fixed]))


def test_spx002_step_reading_the_key_it_writes() -> None:
    @step(writes="total")
    async def bump(total: int) -> int:
        return total + 1

    d = only(Workflow("w", steps=[bump]), "SPX002")
    assert d.steps == ("bump",)
    assert "reads a key it writes itself ('total')" in d.message
    assert "its own key" in d.message and "Repeat" in d.message

    @step(writes="new_total")
    async def bump_fixed(total: int) -> int:
        return total + 1

    clean(Workflow("w", steps=[bump_fixed]))


def test_spx002_reports_every_cycle() -> None:
    async def a(b: int) -> int:
        return b

    async def b(a: int) -> int:
        return a

    async def c(d: int) -> int:
        return d

    async def d(c: int) -> int:
        return c

    cycles = found(Workflow("w", steps=[a, b, c, d]), "SPX002")
    assert sorted(sorted(x.steps) for x in cycles) == [["a", "b"], ["c", "d"]]


# -- SPX003: near-miss inputs -------------------------------------------------------


async def fetch(url: str) -> str:
    return url


async def sentiment(fetch: str) -> float:
    return 0.5


def test_spx003_typo_of_a_step_name_is_a_warning() -> None:
    async def entities(fech: str) -> list[str]:
        return [fech]

    wf = Workflow("w", steps=[fetch, entities])
    d = only(wf, "SPX003")
    assert d.severity is Severity.WARNING
    assert d.steps == ("entities",) and d.key == "fech"
    assert "near miss of 'fetch'" in d.message and "fix the typo" in d.message
    plan = wf.compile()  # a warning does not stop compilation
    assert [x.code for x in plan.diagnostics] == ["SPX003"]

    async def entities_fixed(fetch: str) -> list[str]:
        return [fetch]

    clean(Workflow("w", steps=[fetch, entities_fixed]))


def test_spx003_long_names_allow_two_edits() -> None:
    async def verdict(sentimnet: float) -> str:  # 9 characters, 2 edits from 'sentiment'
        return str(sentimnet)

    d = only(Workflow("w", steps=[fetch, sentiment, verdict]), "SPX003")
    assert "near miss of 'sentiment'" in d.message


def test_spx003_eight_characters_allow_one_edit_only() -> None:
    async def entities(fetch: str) -> list[str]:
        return [fetch]

    async def summary(entitise: str) -> str:  # 8 characters, 2 edits: an input
        return entitise

    assert found(Workflow("w", steps=[fetch, entities, summary]), "SPX003") == []


def test_spx003_never_for_names_of_one_or_two_characters() -> None:
    async def ab(url: str) -> str:
        return url

    async def use(ac: str, x: int) -> str:
        return ac * x

    async def y(url: str) -> int:
        return 1

    assert found(Workflow("w", steps=[ab, use, y]), "SPX003") == []


def test_spx003_never_for_an_underscore_prefix_or_suffix() -> None:
    async def user(user_id: str) -> dict[str, str]:  # user_id beside step user
        return {"id": user_id}

    async def response(prompt: str) -> str:
        return prompt

    async def compare(response: str, response_2: str) -> bool:  # 2 edits, 10 chars
        return response == response_2

    assert found(Workflow("w", steps=[user, response, compare]), "SPX003") == []

    async def compare_typo(response: str, responses: str) -> bool:  # 1 edit: warned
        return response == responses

    d = only(Workflow("w", steps=[response, compare_typo]), "SPX003")
    assert d.key == "responses"


def test_spx003_step_name_that_writes_another_key() -> None:
    @step(writes="total")
    async def score(text: str) -> int:
        return len(text)

    async def report(score: int) -> str:
        return str(score)

    d = only(Workflow("w", steps=[score, report]), "SPX003")
    assert d.steps == ("report",) and d.key == "score"
    assert "'score' is a step that writes 'total'" in d.message
    assert "read 'total' instead" in d.message

    async def report_fixed(total: int) -> str:
        return str(total)

    clean(Workflow("w", steps=[score, report_fixed]))


def test_spx003_not_reported_when_inputs_are_declared() -> None:
    async def entities(fech: str) -> list[str]:
        return [fech]

    wf = Workflow("w", steps=[fetch, entities], inputs=("url", "fech"))
    assert found(wf, "SPX003") == []


# -- SPX004: unknown names with declared inputs ----------------------------------------


def test_spx004_unknown_name_when_inputs_are_declared() -> None:
    async def entities(fech: str) -> list[str]:
        return [fech]

    wf = Workflow("w", steps=[fetch, entities], inputs=("url",))
    error = compile_error(wf)
    [d] = error.errors
    assert d.code == "SPX004"
    assert d.steps == ("entities",) and d.key == "fech"
    assert "did you mean 'fetch'?" in d.message and "add 'fech' to inputs=" in d.message

    async def entities_fixed(fetch: str) -> list[str]:
        return [fetch]

    clean(Workflow("w", steps=[fetch, entities_fixed], inputs=("url",)))


# -- SPX101, SPX102, SPX103: joins ------------------------------------------------------


async def entities(fetch: str) -> list[str]:
    return [fetch]


def test_spx101_forgotten_join() -> None:
    async def merge(sentiment: float, entities: list[str]) -> str:
        return f"{sentiment} {entities}"

    error = compile_error(Workflow("w", steps=[fetch, sentiment, entities, merge]))
    [d] = error.errors
    assert d.code == "SPX101"
    assert d.steps == ("merge", "sentiment", "entities")
    assert "join=Join.ALL" in d.message and "join=Join.ANY" in d.message
    assert d.location is not None
    assert (d.location.file, d.location.line, d.location.column) == (__file__, def_line(merge), 5)

    @step(join=Join.ALL)
    async def merge_fixed(sentiment: float, entities: list[str]) -> str:
        return f"{sentiment} {entities}"

    clean(Workflow("w", steps=[fetch, sentiment, entities, merge_fixed]))


def test_spx101_upstreams_on_one_chain_are_no_fan_in() -> None:
    async def summary(fetch: str, sentiment: float) -> str:  # sentiment follows fetch
        return fetch

    clean(Workflow("w", steps=[fetch, sentiment, summary]))


def test_spx101_fan_in_through_a_shared_key() -> None:
    @step(writes="tags")
    async def tag_a(url: str) -> list[str]:
        return ["a"]

    @step(writes="tags")
    async def tag_b(url: str) -> list[str]:
        return ["b"]

    async def publish(tags: list[str]) -> str:
        return ",".join(tags)

    wf = Workflow("w", steps=[tag_a, tag_b, publish], reducers={"tags": reducers.extend})
    d = only(wf, "SPX101")
    assert d.steps == ("publish", "tag_a", "tag_b")


def test_spx102_any_join_parameter_without_default() -> None:
    @step(join=Join.ANY)
    async def first(sentiment: float, entities: list[str] | None = None) -> str:
        return str(sentiment)

    d = only(Workflow("w", steps=[fetch, sentiment, entities, first]), "SPX102")
    assert d.severity is Severity.ERROR
    assert d.steps == ("first", "sentiment") and d.key == "sentiment"
    assert "give the parameter a default" in d.message and "Join.ALL" in d.message

    @step(join=Join.ANY)
    async def first_fixed(
        fetch: str,  # a common source: always there, no default needed
        sentiment: float | None = None,
        entities: list[str] | None = None,
    ) -> str:
        return str(sentiment if sentiment is not None else entities)

    clean(Workflow("w", steps=[fetch, sentiment, entities, first_fixed]))


def test_spx103_join_on_a_step_that_is_no_fan_in() -> None:
    @step(join=Join.ALL)
    async def summary(sentiment: float) -> str:
        return str(sentiment)

    wf = Workflow("w", steps=[fetch, sentiment, summary])
    d = only(wf, "SPX103")
    assert d.severity is Severity.WARNING
    assert d.steps == ("summary",)
    assert "no fan-in" in d.message and "'sentiment'" in d.message
    assert "remove join=" in d.message
    assert [x.code for x in wf.compile().diagnostics] == ["SPX103"]

    async def summary_fixed(sentiment: float) -> str:
        return str(sentiment)

    clean(Workflow("w", steps=[fetch, sentiment, summary_fixed]))


# -- SPX201, SPX202: state writes ---------------------------------------------------------


def test_spx201_concurrent_writers_without_a_reducer() -> None:
    @step(writes="tags")
    async def tag_a(url: str) -> list[str]:
        return ["a"]

    @step(writes="tags")
    async def tag_b(url: str) -> list[str]:
        return ["b"]

    wf = Workflow("w", steps=[tag_a, tag_b])
    error = compile_error(wf)
    [d] = error.errors
    assert d.code == "SPX201"
    assert set(d.steps) == {"tag_a", "tag_b"} and d.key == "tags"
    assert "wf.reducer('tags', ...)" in d.message and "last_write_wins" in d.message

    fixed = Workflow("w", steps=[tag_a, tag_b], reducers={"tags": reducers.extend})
    clean(fixed)
    assert fixed.compile().run_sync({"url": "u"})["tags"] == ["a", "b"]

    explicit = Workflow("w", steps=[tag_a, tag_b], reducers={"tags": last_write_wins})
    clean(explicit)
    assert explicit.compile().run_sync({"url": "u"})["tags"] == ["b"]  # plan order


def test_spx201_writers_ordered_by_the_graph_overwrite_in_order() -> None:
    @step(writes=("status", "draft"))
    async def write_draft(topic: str) -> dict[str, str]:
        return {"status": "drafted", "draft": topic}

    @step(writes="status")
    async def approve(draft: str) -> str:
        return "approved"

    wf = Workflow("w", steps=[write_draft, approve])
    clean(wf)
    assert wf.compile().run_sync({"topic": "t"})["status"] == "approved"


def test_spx202_reducer_for_a_key_no_step_writes() -> None:
    async def tag(url: str) -> list[str]:
        return ["a"]

    wf = Workflow("w", steps=[tag], reducers={"tags": reducers.extend})
    d = only(wf, "SPX202")
    assert d.severity is Severity.WARNING
    assert d.key == "tags" and "no step writes it" in d.message
    assert "remove the reducer" in d.message
    assert [x.code for x in wf.compile().diagnostics] == ["SPX202"]

    clean(Workflow("w", steps=[tag]))


# -- SPX301: annotations ----------------------------------------------------------------


def test_spx301_return_annotation_does_not_fit_parameter() -> None:
    async def count(text: str) -> int:
        return len(text)

    async def shout(count: str) -> str:
        return count.upper()

    d = only(Workflow("w", steps=[count, shout]), "SPX301")
    assert d.severity is Severity.WARNING
    assert d.steps == ("shout",) and d.key == "count"
    assert "returns int" in d.message and "fix one of the two annotations" in d.message

    async def shout_fixed(count: int) -> str:
        return str(count)

    clean(Workflow("w", steps=[count, shout_fixed]))


def test_spx301_reader_of_a_reduced_key_is_compared_with_the_reducer_or_not_at_all() -> None:
    @step(writes="total")
    async def part_a(x: int) -> int:
        return x

    @step(writes="total")
    async def part_b(x: int) -> int:
        return x

    @step(join=Join.ALL)
    async def report(total: list[int]) -> str:  # the reducer's result is not known
        return str(total)

    wf = Workflow("w", steps=[part_a, part_b, report], reducers={"total": reducers.add})
    assert found(wf, "SPX301") == []


# -- every error at once; warnings on the plan; locations -------------------------------


def test_compile_error_lists_every_error_at_once() -> None:
    async def merge(sentiment: float, entities: list[str]) -> str:  # SPX101
        return ""

    @step(writes="tags")
    async def tag_a(url: str) -> list[str]:
        return []

    @step(writes="tags")
    async def tag_b(url: str) -> list[str]:  # SPX201 with tag_a
        return []

    async def loop_a(loop_b: int) -> int:  # SPX002 with loop_b
        return loop_b

    async def loop_b(loop_a: int) -> int:
        return loop_a

    async def shout(text: str, /) -> str:  # SPX001
        return text

    @step(join=Join.ALL)
    async def needless(fetch: str) -> str:  # SPX103, a warning
        return fetch

    wf = Workflow(
        "many", steps=[fetch, sentiment, entities, merge, tag_a, tag_b, loop_a, loop_b,
                       shout, needless],
    )
    error = compile_error(wf)
    assert sorted(d.code for d in error.errors) == ["SPX001", "SPX002", "SPX101", "SPX201"]
    assert [d.code for d in error.diagnostics if not d.is_error] == ["SPX103"]
    message = str(error)
    assert message.startswith("workflow 'many' has 4 errors:")
    for d in error.diagnostics:
        assert d.code in message
        assert d.location is not None and str(d.location) in message
        assert d.workflow == "many"


def test_diagnostics_carry_the_def_line_not_the_decorator() -> None:
    @step(
        join=Join.ALL,
    )
    async def summary(sentiment: float) -> str:
        return str(sentiment)

    d = only(Workflow("w", steps=[fetch, sentiment, summary]), "SPX103")
    assert d.location is not None
    assert d.location.file == __file__
    assert d.location.line == def_line(summary)
    assert d.location.column == 5  # the def is indented inside this test
    assert str(d).startswith(f"{__file__}:{def_line(summary)}:5: SPX103 ")


@step(name="fetch")
async def fetch_copy(url: str) -> str:
    return url


def test_module_level_steps_are_at_column_one() -> None:
    d = only(Workflow("w", steps=[fetch, fetch_copy]), "SPX001")
    assert d.location is not None
    assert (d.location.file, d.location.line, d.location.column) == (
        __file__, def_line(fetch_copy), 1
    )


def test_every_code_has_a_name_and_a_severity() -> None:
    for code, info in CODES.items():
        assert info.code == code
        assert info.name and info.name == info.name.lower() and " " not in info.name
        assert info.severity in (Severity.ERROR, Severity.WARNING)


# -- the documentation ------------------------------------------------------------------
#
# Every code block of the docs runs in tests/test_docs.py; here, the diagnostics
# reference documents every code.

ROOT = Path(__file__).resolve().parents[2]


def sections(path: Path) -> dict[str, str]:
    """``## SPXnnn name`` sections of a page, by code."""
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"^## (SPX\d{3}) ", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_is_documented_with_a_bad_and_a_fixed_example(code: str) -> None:
    documented = sections(ROOT / "docs" / "diagnostics.md")
    assert code in documented, f"docs/diagnostics.md has no '## {code} ...' section"
    section = documented[code]
    assert section.startswith(CODES[code].name + "\n"), "the heading names the code"
    for label in ("**Bad**", "**Fixed**"):
        assert re.search(re.escape(label) + r"\s*\n\s*```\w+\n", section), (
            f"{code}: no {label} code block"
        )
    severity = "**Error" if CODES[code].severity is Severity.ERROR else "**Warning"
    assert severity in section
    assert f"| {code} | {CODES[code].name} | {CODES[code].severity} |" in (
        ROOT / "docs" / "diagnostics.md"
    ).read_text(encoding="utf-8")


def test_documented_codes_exist() -> None:
    assert set(sections(ROOT / "docs" / "diagnostics.md")) <= set(CODES)


def test_bad_examples_trigger_their_code() -> None:
    """Each runnable **Bad** block of diagnostics.md asserts its own code: check it
    names the code of its section, so a copy-paste slip cannot pass unnoticed."""
    for code, section in sections(ROOT / "docs" / "diagnostics.md").items():
        bad = section.split("**Bad**", 1)[1].split("**Fixed**", 1)[0]
        if "```python\n# not runnable" in bad or "```text" in bad:
            continue
        assert f'"{code}"' in bad, f"{code}: the bad example does not check its code"


# -- regressions ------------------------------------------------------------------------


def test_bare_workflow_step_keeps_the_options_of_an_earlier_step_mark() -> None:
    wf = Workflow("w", steps=[fetch, sentiment, entities])

    @wf.step
    @step(join=Join.ALL)
    async def merge(sentiment: float, entities: list[str]) -> str:
        return f"{sentiment} {entities}"

    assert wf.check() == ()


def test_input_error_for_a_step_output_passed_as_input_says_what_it_is() -> None:
    plan = Workflow("w", steps=[fetch, sentiment]).compile()
    with pytest.raises(InputError) as info:
        plan.run_sync({"url": "u", "fetch": "<html/>"})
    message = str(info.value)
    assert "no step reads it" not in message  # step 'sentiment' reads it
    assert "step 'fetch' writes it" in message


def test_a_non_function_step_is_reported_once_and_a_lambda_is_told_to_take_a_name() -> None:
    (d,) = Workflow("w", steps=["fetch"]).check()  # type: ignore[list-item]
    assert d.code == "SPX001"
    assert d.message == "step 'fetch' is not a function; @step marks a def or async def function"
    (d,) = Workflow("w", steps=[lambda text: text]).check()
    assert "give the step a name with name=" in d.message
